#include "locality/dataset_catalog.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

namespace locus::locality {
namespace {

using nlohmann::json;

constexpr std::string_view kDatasetScheme = "dataset:";

// TOML is turned into the JSON document the same catalog would be, so both formats go through
// one validator and refuse the same mistakes with the same words.
json tomlToJson(const toml::node& node) {
  if (const toml::table* t = node.as_table()) {
    json out = json::object();
    for (const auto& [key, value] : *t) out[std::string(key.str())] = tomlToJson(value);
    return out;
  }
  if (const toml::array* a = node.as_array()) {
    json out = json::array();
    for (const auto& e : *a) out.push_back(tomlToJson(e));
    return out;
  }
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return i->get();
  if (const auto* f = node.as_floating_point()) return f->get();
  if (const auto* b = node.as_boolean()) return b->get();
  // A date or a time: no catalog key takes one, so the validator's type error is what the
  // author needs to read.
  return "(a TOML date/time)";
}

// Refuses keys outside `known`: "host" for "hosts" would otherwise drop the block's locality
// without a word.
Status checkKeys(const json& object, std::initializer_list<std::string_view> known,
                 const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return invalidArgument(where + ": unknown key '" + key + "' (known: " + list + ")");
    }
  }
  return {};
}

// A non-negative integer (JSON unsigned, or a TOML integer, which is signed).
bool asUint(const json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

Result<std::vector<std::string>> readStrings(const json& v, const std::string& where,
                                             const char* key) {
  const std::string err = where + ": '" + key + "' must be an array of non-empty strings";
  if (!v.is_array()) return invalidArgument(err);
  std::vector<std::string> out;
  for (const json& e : v) {
    if (!e.is_string() || e.get_ref<const std::string&>().empty()) return invalidArgument(err);
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<BlockLocation> readBlock(const json& b, const std::string& where) {
  if (!b.is_object()) return invalidArgument(where + ": must be a table/object");
  if (Status s = checkKeys(b, {"offset", "length", "hosts", "racks"}, where); !s.ok())
    return s.error();
  BlockLocation block;
  if (!b.contains("offset") || !asUint(b["offset"], block.offset))
    return invalidArgument(where + ": 'offset' must be a non-negative integer");
  if (!b.contains("length") || !asUint(b["length"], block.length) || block.length == 0)
    return invalidArgument(where + ": 'length' must be a positive integer");
  if (block.offset + block.length < block.offset)
    return invalidArgument(where + ": offset + length overflows");
  if (!b.contains("hosts")) return invalidArgument(where + ": no 'hosts'");
  auto hosts = readStrings(b["hosts"], where, "hosts");
  if (!hosts.ok()) return hosts.error();
  if (hosts->empty())
    return invalidArgument(where + ": 'hosts' is empty; every block needs at least one host");
  std::set<std::string> seen;
  for (const auto& h : *hosts)
    if (!seen.insert(h).second) return invalidArgument(where + ": host '" + h + "' listed twice");
  block.hosts = std::move(*hosts);
  if (b.contains("racks")) {
    auto racks = readStrings(b["racks"], where, "racks");
    if (!racks.ok()) return racks.error();
    if (racks->size() != block.hosts.size())
      return invalidArgument(where + ": 'racks' must name one rack per host (" +
                             std::to_string(block.hosts.size()) + "), got " +
                             std::to_string(racks->size()));
    block.racks = std::move(*racks);
  }
  return block;
}

std::string describeBlock(const BlockLocation& b) {
  return "the block at offset " + std::to_string(b.offset) + " (length " +
         std::to_string(b.length) + ")";
}

Result<InputFile> readFile(const json& f, const std::string& where_dataset, size_t index) {
  std::string where = where_dataset + ": file #" + std::to_string(index + 1);
  if (!f.is_object()) return invalidArgument(where + ": must be a table/object");
  if (Status s = checkKeys(f, {"path", "size", "blocks"}, where); !s.ok()) return s.error();
  if (!f.contains("path") || !f["path"].is_string() ||
      f["path"].get_ref<const std::string&>().empty())
    return invalidArgument(where + ": 'path' must be a non-empty string");
  InputFile file;
  file.path = f["path"].get<std::string>();
  where = where_dataset + ": file '" + file.path + "'";
  const bool has_size = f.contains("size");
  if (has_size && !asUint(f["size"], file.size))
    return invalidArgument(where + ": 'size' must be a non-negative integer (bytes)");
  const json* blocks = f.contains("blocks") ? &f["blocks"] : nullptr;
  if (blocks && !blocks->is_array())
    return invalidArgument(where + ": 'blocks' must be an array of tables/objects");
  if (blocks) {
    for (size_t i = 0; i < blocks->size(); ++i) {
      auto b = readBlock((*blocks)[i], where + ": block #" + std::to_string(i + 1));
      if (!b.ok()) return b.error();
      file.blocks.push_back(std::move(*b));
    }
  }
  // A non-empty file without blocks has no location: it would be scheduled as if it were
  // nowhere, which is what a forgotten [[...blocks]] table looks like.
  if (file.blocks.empty() && !(has_size && file.size == 0))
    return invalidArgument(where + ": no blocks (only an empty file, size = 0, may have none)");
  std::sort(file.blocks.begin(), file.blocks.end(),
            [](const BlockLocation& a, const BlockLocation& b) { return a.offset < b.offset; });
  uint64_t end = 0;
  for (size_t i = 0; i < file.blocks.size(); ++i) {
    const BlockLocation& b = file.blocks[i];
    if (i > 0 && b.offset < end)
      return invalidArgument(where + ": " + describeBlock(b) + " overlaps " +
                             describeBlock(file.blocks[i - 1]));
    end = b.offset + b.length;
  }
  // Without a size the file ends where its last block does; that is the sum of the lengths
  // when the blocks tile the file, and still right when they leave a gap.
  if (!has_size) file.size = end;
  if (end > file.size)
    return invalidArgument(where + ": " + describeBlock(file.blocks.back()) + " ends at " +
                           std::to_string(end) + ", past the file's size " +
                           std::to_string(file.size));
  return file;
}

}  // namespace

Result<DatasetCatalog> DatasetCatalog::parse(std::string_view text, CatalogFormat format,
                                             const std::string& origin) {
  json doc;
  if (format == CatalogFormat::kToml) {
    try {
      doc = tomlToJson(toml::parse(text, origin));
    } catch (const toml::parse_error& e) {
      return invalidArgument(origin + ":" + std::to_string(e.source().begin.line) + ": " +
                             std::string(e.description()));
    }
  } else {
    // Both parsers throw; caught here, so nothing escapes parse(). json::exception, not only
    // parse_error: a number too large for a double ("1e999") is an out_of_range (406) thrown
    // by the parser, which escaped and terminated the process (found by fuzz_dataset_catalog;
    // tests/fuzz/regressions/dataset_catalog/).
    try {
      doc = json::parse(text);
    } catch (const json::exception& e) {
      return invalidArgument(origin + ": not valid JSON: " + e.what());
    }
  }
  if (!doc.is_object()) return invalidArgument(origin + ": must be a table/object");
  if (Status s = checkKeys(doc, {"datasets"}, origin); !s.ok()) return s.error();
  if (!doc.contains("datasets") || !doc["datasets"].is_object())
    return invalidArgument(origin + ": no 'datasets' table/object");

  DatasetCatalog catalog;
  catalog.origin_ = origin;
  for (const auto& [name, dataset] : doc["datasets"].items()) {
    const std::string where = origin + ": dataset '" + name + "'";
    if (name.empty()) return invalidArgument(origin + ": a dataset needs a non-empty name");
    if (!dataset.is_object()) return invalidArgument(where + ": must be a table/object");
    if (Status s = checkKeys(dataset, {"files"}, where); !s.ok()) return s.error();
    if (!dataset.contains("files") || !dataset["files"].is_array() || dataset["files"].empty())
      return invalidArgument(where + ": needs a non-empty 'files' array");
    std::vector<InputFile> files;
    std::set<std::string> paths;
    for (size_t i = 0; i < dataset["files"].size(); ++i) {
      auto file = readFile(dataset["files"][i], where, i);
      if (!file.ok()) return file.error();
      if (!paths.insert(file->path).second)
        return invalidArgument(where + ": file '" + file->path + "' listed twice");
      files.push_back(std::move(*file));
    }
    std::sort(files.begin(), files.end(),
              [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
    catalog.datasets_.emplace(name, std::move(files));
  }
  return catalog;
}

Result<DatasetCatalog> DatasetCatalog::load(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  CatalogFormat format;
  if (ext == ".json") {
    format = CatalogFormat::kJson;
  } else if (ext == ".toml") {
    format = CatalogFormat::kToml;
  } else {
    return invalidArgument("dataset catalog " + path + ": expected a .json or .toml file");
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return notFound("dataset catalog " + path + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return permissionDenied("dataset catalog " + path + ": cannot be opened for reading");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), format, path);
}

Result<std::vector<InputFile>> DatasetCatalog::locate(const std::string& name) {
  std::string_view key = name;
  if (key.rfind(kDatasetScheme, 0) == 0) key.remove_prefix(kDatasetScheme.size());
  auto it = datasets_.find(std::string(key));
  if (it == datasets_.end())
    return notFound("dataset:" + std::string(key) + ": not in the catalog " + origin_);
  return it->second;
}

std::vector<std::string> DatasetCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& [name, files] : datasets_) out.push_back(name);
  return out;
}

}  // namespace locus::locality
