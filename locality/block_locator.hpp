#pragma once
// Where the bytes of a job's input live: the files of an input path and, for each block of each
// file, the hosts that hold a replica. The scheduler turns these into splits (splits.hpp) and
// prefers nodes that hold the data; the hosts are named as the *store* names them, and
// HostMapper (host_map.hpp) turns them into Locus node names.
//
// Two providers: WebHdfsLocator (an HDFS NameNode's REST API) and DatasetCatalog (a file that
// describes block stores without such an API).
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace locus::locality {

struct BlockLocation {
  uint64_t offset = 0;             // bytes from the start of the file
  uint64_t length = 0;             // bytes
  std::vector<std::string> hosts;  // replica hosts as the store names them (HDFS "hosts")
  // "ip:port" per replica when known (HDFS "names"): either empty or one per host, same order.
  std::vector<std::string> names;
  // Rack per replica when known (HDFS topologyPaths "/rack/host:port" -> "/rack"): either empty
  // or one per host, same order.
  std::vector<std::string> racks;
  // The store reports every replica of this block as corrupt (HDFS "corrupt"). Kept, not
  // dropped: reading it will fail, and the job should see that rather than a silently shorter
  // input.
  bool corrupt = false;
};

struct InputFile {
  std::string path;
  uint64_t size = 0;                  // bytes
  std::vector<BlockLocation> blocks;  // sorted by offset, non-overlapping
};

class BlockLocator {
 public:
  virtual ~BlockLocator() = default;
  // The files under `path` (a file, or a directory expanded recursively to every file in it,
  // sorted by path) with their blocks. What `path` means is the implementation's (an HDFS path,
  // a dataset name). Errors: kNotFound (no such path), kPermissionDenied, kUnavailable (the
  // store did not answer), kInvalidArgument (a malformed path), kInternal (the store answered
  // nonsense). Thread-safe: implementations may be called from several threads at once.
  virtual Result<std::vector<InputFile>> locate(const std::string& path) = 0;
};

}  // namespace locus::locality
