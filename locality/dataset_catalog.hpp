#pragma once
// Block locations for stores that cannot be asked (a parallel file system with node-local
// burst buffers, data staged by hand onto node disks): an administrator describes each dataset
// in a file, JSON or TOML, and jobs name the dataset.
//
//   [datasets.climate]
//   [[datasets.climate.files]]
//   path = "/data/climate/a.h5"
//   size = 300                          # optional: the end of the last block
//   [[datasets.climate.files.blocks]]
//   offset = 0
//   length = 128
//   hosts = ["n1", "n2", "n3"]
//   racks = ["/r1", "/r1", "/r2"]       # optional, one per host
//
// or {"datasets": {"climate": {"files": [{"path": ..., "size": ..., "blocks": [...]}]}}}.
//
// Thread-safety: immutable after load/parse; locate() may be called from any thread.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "locality/block_locator.hpp"

namespace locus::locality {

enum class CatalogFormat { kJson, kToml };

class DatasetCatalog : public BlockLocator {
 public:
  // Reads `path`; the format follows the extension (.json or .toml). Errors: kNotFound (no such
  // file), kInvalidArgument (other extension, or anything parse() refuses).
  static Result<DatasetCatalog> load(const std::string& path);

  // Parses and validates a whole catalog; `origin` names it in messages (and in locate()'s
  // kNotFound). Refused (kInvalidArgument, the message names origin, dataset and file): syntax
  // errors; unknown keys (a typo like "host" would otherwise silently lose locality); a missing
  // or negative offset/length; a zero-length block; a block with no host or a host listed
  // twice; racks not one per host; blocks that overlap or end past the file's size; a file or
  // dataset with nothing in it; a path twice in one dataset. A file without "size" gets the end
  // of its last block. Blocks come out sorted by offset, files by path.
  static Result<DatasetCatalog> parse(std::string_view text, CatalogFormat format,
                                      const std::string& origin);

  // `name` is a dataset name, optionally written "dataset:NAME". Errors: kNotFound
  // "dataset:NAME: not in the catalog ORIGIN".
  Result<std::vector<InputFile>> locate(const std::string& name) override;

  std::vector<std::string> names() const;  // sorted
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
  std::map<std::string, std::vector<InputFile>> datasets_;
};

}  // namespace locus::locality
