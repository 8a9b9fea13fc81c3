#pragma once
// Input splits: the units of work a dataflow job's input is cut into, each with the hosts that
// hold its bytes, so that a task can be placed where its data is.
//
//   block: one split per block (a 1 GiB file in 128 MiB blocks is 8 tasks) — MapReduce's
//          default, for inputs any task can read from any offset (text, records);
//   file:  one split per file — for formats that a task must read whole (HDF5, compressed
//          archives); its hosts are those holding the most of the file.
//
// Pure functions over plain values: no I/O, safe from any thread.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "locality/block_locator.hpp"

namespace locus::locality {

enum class SplitMode { kBlock, kFile };

// "block" or "file"; anything else is std::nullopt.
std::optional<SplitMode> parseSplitMode(std::string_view text);

struct InputSplit {
  std::string path;
  uint64_t offset = 0;             // bytes
  uint64_t length = 0;             // bytes
  std::vector<std::string> hosts;  // preferred hosts, best first (store names, not node names)
  std::vector<std::string> racks;  // the distinct racks of `hosts` where known, in hosts' order
};

// Most hosts a file split prefers: as many as HDFS's default replication, and beyond that the
// extra hosts hold little of the file.
constexpr size_t kMaxFileSplitHosts = 3;

// Files in the given order. kBlock: one split per block of non-zero length, hosts = the
// block's replicas in the store's order. kFile: one split per file (an empty one included:
// processing a file is the task even when it has no bytes), offset 0, length = size, hosts =
// the hosts holding the most bytes of the file, by bytes descending then name, at most
// kMaxFileSplitHosts.
std::vector<InputSplit> makeSplits(const std::vector<InputFile>& files, SplitMode mode);

// Bytes of the whole input each host holds (a host holding two replicas of one block counts it
// once). For placing a job that is not split: the node holding most of the input is the best.
std::map<std::string, uint64_t> bytesByHost(const std::vector<InputFile>& files);

}  // namespace locus::locality
