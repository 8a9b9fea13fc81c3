#pragma once
// The JSON answers of a WebHDFS NameNode, turned into structs. Pure (no I/O), so what a
// NameNode or a proxy may send can be tested and fuzzed without one; WebHdfsLocator
// (webhdfs_client.hpp) asks, these read.
//
//   GETFILESTATUS          {"FileStatus":{"type":"FILE","length":300,"pathSuffix":"",...}}
//   LISTSTATUS             {"FileStatuses":{"FileStatus":[{"type":"DIRECTORY",
//                           "pathSuffix":"2026-11","length":0,...}, ...]}}
//   GETFILEBLOCKLOCATIONS  {"BlockLocations":{"BlockLocation":[{"offset":0,"length":128,
//                           "hosts":["dn1"],"names":["10.0.0.5:9866"],
//                           "topologyPaths":["/rack1/10.0.0.5:9866"],"corrupt":false}, ...]}}
//   an error (4xx, 5xx)    {"RemoteException":{"exception":"FileNotFoundException",
//                           "javaClassName":"java.io.FileNotFoundException","message":"..."}}
//
// Errors are kInvalidArgument and say what is wrong with the answer ("no 'FileStatus' object",
// "BlockLocation[2]: no 'length'", "not JSON: '<html>...'"); the caller says which request it
// answered. Unknown members are ignored, as newer Hadoop versions add some.
//
// Thread-safety: stateless; any function may be called from any thread.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "locality/block_locator.hpp"

namespace locus::locality::webhdfs {

struct FileStatus {
  std::string type;  // "FILE", "DIRECTORY", "SYMLINK", ...; never empty
  uint64_t length = 0;
  std::string suffix;  // the entry's name in LISTSTATUS, "" in GETFILESTATUS
};

// The answer to GETFILESTATUS.
Result<FileStatus> parseFileStatus(std::string_view body);

// The answer to LISTSTATUS, entries in the answer's order. Every entry's pathSuffix is one
// name (not empty, no '/', not "." or ".."), so that appending it to the directory stays inside.
Result<std::vector<FileStatus>> parseListStatus(std::string_view body);

// The answer to GETFILEBLOCKLOCATIONS, sorted by offset. Offsets and lengths are non-negative
// integers; "names" and "topologyPaths" (racks: the path before its last component) are kept
// only when they have one entry per host. An answer without the BlockLocation array (an empty
// file, on some versions) has no blocks.
Result<std::vector<BlockLocation>> parseBlockLocations(std::string_view body);

// An error answer in one readable line (at most ~300 characters, no newlines).
struct RemoteFailure {
  // The RemoteException's exception (else its javaClassName), "" when the body is not one.
  std::string exception;
  // "FileNotFoundException: File does not exist: /foo"; the body's start when it is something
  // else (a proxy's HTML page); "(empty body)".
  std::string text;
};
RemoteFailure describeFailure(std::string_view body);

}  // namespace locus::locality::webhdfs
