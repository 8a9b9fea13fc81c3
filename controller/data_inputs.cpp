#include "controller/data_inputs.hpp"

#include <algorithm>

#include "locality/dataset_catalog.hpp"
#include "locality/webhdfs_client.hpp"

namespace locus::controller {

Result<std::unique_ptr<DataInputs>> DataInputs::create(const LocalityConfig& config) {
  std::unique_ptr<DataInputs> d(new DataInputs(config));
  if (!config.catalog.empty()) {
    auto catalog = locality::DatasetCatalog::load(config.catalog);
    if (!catalog.ok()) return Error{catalog.error().code, "[locality] catalog: " + catalog.error().message};
    d->catalog_ = std::make_unique<locality::DatasetCatalog>(std::move(*catalog));
  }
  if (!config.hdfs_namenode.empty()) {
    // Checked now so a typo stops the controller at start, not every submit later.
    auto nn = d->namenode(config.hdfs_namenode);
    if (!nn.ok()) return Error{nn.error().code, "[locality.hdfs] namenode: " + nn.error().message};
  }
  return d;
}

DataInputs::DataInputs(LocalityConfig config) : config_(std::move(config)) {}
DataInputs::~DataInputs() = default;

Result<locality::WebHdfsLocator*> DataInputs::namenode(const std::string& base) {
  std::lock_guard lock(mu_);
  auto& slot = namenodes_[base];
  if (!slot) {
    locality::WebHdfsOptions options;
    options.namenode = base;
    options.timeout_ms = static_cast<int>(config_.hdfs_timeout_ms);
    options.cache_ttl_s = static_cast<int>(config_.hdfs_cache_s);
    options.user = config_.hdfs_user;
    auto created = locality::WebHdfsLocator::create(options);
    if (!created.ok()) {
      namenodes_.erase(base);
      return created.error();
    }
    slot = std::move(*created);
  }
  return slot.get();
}

Result<ResolvedInput> DataInputs::resolve(const std::string& uri) {
  ResolvedInput out;
  out.uri = uri;
  auto prefixed = [&](const Error& e) { return Error{e.code, "--input " + uri + ": " + e.message}; };
  if (uri.rfind("hdfs://", 0) == 0) {
    if (uri.rfind("hdfs:///", 0) != 0)
      return invalidArgument("--input " + uri +
                             ": hdfs://HOST/... names the NameNode's RPC port; Locus reads block "
                             "locations over WebHDFS: write hdfs:///PATH (the [locality.hdfs] "
                             "namenode) or webhdfs://HOST:HTTP_PORT/PATH");
    if (config_.hdfs_namenode.empty())
      return invalidArgument("--input " + uri +
                             ": no NameNode configured (set [locality.hdfs] namenode in locus.toml, "
                             "or write webhdfs://HOST:PORT/PATH)");
    auto nn = namenode(config_.hdfs_namenode);
    if (!nn.ok()) return prefixed(nn.error());
    auto files = (*nn)->locate(uri.substr(std::string_view("hdfs://").size()));
    if (!files.ok()) return files.error();  // its message names the path already
    out.source = "hdfs " + (*nn)->namenode();
    out.files = std::move(*files);
    return out;
  }
  if (uri.rfind("webhdfs://", 0) == 0) {
    const std::string rest = uri.substr(std::string_view("webhdfs://").size());
    const size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string::npos)
      return invalidArgument("--input " + uri + ": expected webhdfs://HOST:PORT/PATH");
    auto nn = namenode("http://" + rest.substr(0, slash));
    if (!nn.ok()) return prefixed(nn.error());
    auto files = (*nn)->locate(rest.substr(slash));
    if (!files.ok()) return prefixed(files.error());
    out.source = "hdfs " + (*nn)->namenode();
    out.files = std::move(*files);
    return out;
  }
  if (uri.rfind("dataset:", 0) == 0) {
    const std::string name = uri.substr(std::string_view("dataset:").size());
    if (name.empty()) return invalidArgument("--input " + uri + ": the dataset name is empty");
    if (catalog_) {
      auto files = catalog_->locate(name);
      if (files.ok()) {
        out.source = "catalog " + catalog_->origin();
        out.files = std::move(*files);
        return out;
      }
      if (files.error().code != ErrorCode::kNotFound) return prefixed(files.error());
    }
    // Staged on nodes: one block, the whole dataset, on every node that reports it.
    locality::InputFile file;
    locality::BlockLocation block;
    {
      std::lock_guard lock(mu_);
      for (const auto& [node, datasets] : node_datasets_)
        for (const NodeDataset& d : datasets) {
          if (d.name != name) continue;
          if (file.path.empty()) file.path = d.path;
          file.size = std::max(file.size, d.bytes);
          block.hosts.push_back(node);
        }
    }
    if (block.hosts.empty())
      return notFound("--input " + uri + ": no such dataset" +
                      (catalog_ ? " in the catalog " + catalog_->origin() + " or" : "") +
                      " on any node (a node reports the datasets in its [locality] cache_dirs)");
    block.length = file.size;
    file.blocks.push_back(std::move(block));
    out.source = "node-local";
    out.files.push_back(std::move(file));
    return out;
  }
  return invalidArgument("--input " + uri + ": not a data input (hdfs:///PATH, webhdfs://HOST:PORT/PATH, dataset:NAME)");
}

void DataInputs::setNodeDatasets(const std::string& node, std::vector<NodeDataset> datasets) {
  std::lock_guard lock(mu_);
  if (datasets.empty()) node_datasets_.erase(node);
  else node_datasets_[node] = std::move(datasets);
}

namespace {

std::vector<std::string> nodesOf(const std::vector<std::string>& hosts, const std::vector<std::string>& names,
                                 const locality::HostMapper& mapper, std::set<std::string>& unmapped) {
  std::vector<std::string> nodes;
  for (size_t i = 0; i < hosts.size(); ++i) {
    auto node = mapper.map(hosts[i], i < names.size() ? names[i] : std::string());
    if (!node) {
      unmapped.insert(hosts[i]);
      continue;
    }
    if (std::find(nodes.begin(), nodes.end(), *node) == nodes.end()) nodes.push_back(*node);
  }
  return nodes;
}

}  // namespace

std::vector<InputBlock> mapBlocks(const ResolvedInput& input, const locality::HostMapper& mapper,
                                  std::set<std::string>& unmapped) {
  std::vector<InputBlock> out;
  for (const locality::InputFile& f : input.files)
    for (const locality::BlockLocation& b : f.blocks)
      out.push_back({f.path, b.offset, b.length, b.hosts, nodesOf(b.hosts, b.names, mapper, unmapped)});
  return out;
}

std::vector<InputBlock> mapSplits(const ResolvedInput& input, locality::SplitMode mode,
                                  const locality::HostMapper& mapper, std::set<std::string>& unmapped) {
  std::vector<InputBlock> out;
  for (const locality::InputSplit& s : locality::makeSplits(input.files, mode))
    out.push_back({s.path, s.offset, s.length, s.hosts, nodesOf(s.hosts, {}, mapper, unmapped)});
  return out;
}

}  // namespace locus::controller
