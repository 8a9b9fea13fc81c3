#pragma once
// A job's --input, from URI to blocks on Locus nodes (docs/locality.md). Three sources:
//   hdfs:///PATH                the NameNode of [locality.hdfs] namenode, over WebHDFS
//   webhdfs://HOST:PORT/PATH    that NameNode's WebHDFS (Hadoop's own scheme for it)
//   dataset:NAME                the [locality] catalog, else the nodes that report a staged
//                               dataset of that name in their cache directories
// resolve() asks the store (the network, with a timeout) and must run without the controller's
// lock; mapping the replica hosts to nodes (mapBlocks, mapSplits) needs the node list and runs
// under it.
//
// Thread-safety: every method may be called from any thread.
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/result.hpp"
#include "controller/job.hpp"
#include "locality/block_locator.hpp"
#include "locality/host_map.hpp"
#include "locality/splits.hpp"

namespace locus::locality {
class DatasetCatalog;
class WebHdfsLocator;
}  // namespace locus::locality

namespace locus::controller {

struct ResolvedInput {
  std::string uri;
  std::string source;                      // "hdfs http://nn:9870", "catalog FILE", "node-local"
  std::vector<locality::InputFile> files;  // replica hosts as the store names them
};

// A dataset staged on a node, as its daemon reports it.
struct NodeDataset {
  std::string name;
  std::string path;
  uint64_t bytes = 0;
};

class DataInputs {
 public:
  // Loads the catalog and checks the NameNode address. Errors: kInvalidArgument, kNotFound (a
  // catalog that does not load): the controller refuses to start rather than place blind.
  static Result<std::unique_ptr<DataInputs>> create(const LocalityConfig& config);
  ~DataInputs();

  // The files and blocks `uri` names. May block on a NameNode for up to its timeout. Errors
  // name the URI: kInvalidArgument (not a data URI; hdfs:// without a configured namenode),
  // kNotFound, kPermissionDenied, kUnavailable, kInternal (the store's answer made no sense).
  Result<ResolvedInput> resolve(const std::string& uri);

  // What a node reported staged in its cache directories (replaces its earlier report).
  void setNodeDatasets(const std::string& node, std::vector<NodeDataset> datasets);

  const std::map<std::string, std::string>& hostMap() const { return config_.hdfs_hosts; }

 private:
  explicit DataInputs(LocalityConfig config);  // in the .cpp, where the locators are complete
  Result<locality::WebHdfsLocator*> namenode(const std::string& base);

  const LocalityConfig config_;
  std::unique_ptr<locality::DatasetCatalog> catalog_;  // null without [locality] catalog
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<locality::WebHdfsLocator>> namenodes_;  // by base URL
  std::map<std::string, std::vector<NodeDataset>> node_datasets_;               // by node
};

// Blocks of the input with their replicas' nodes; hosts that map to none go to `unmapped`.
std::vector<InputBlock> mapBlocks(const ResolvedInput& input, const locality::HostMapper& mapper,
                                  std::set<std::string>& unmapped);
// The input cut into splits (a dataflow job's tasks), each with its replicas' nodes.
std::vector<InputBlock> mapSplits(const ResolvedInput& input, locality::SplitMode mode,
                                  const locality::HostMapper& mapper, std::set<std::string>& unmapped);

}  // namespace locus::controller
