#include "locality/splits.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace locus::locality {
namespace {

// Adds each distinct host of `block` once: a store listing a host twice for one block does not
// hold the bytes twice. An empty block adds no host: holding nothing is not holding the data.
void addBlockBytes(const BlockLocation& block, std::map<std::string, uint64_t>& bytes) {
  if (block.length == 0) return;
  std::set<std::string> seen;
  for (const auto& h : block.hosts)
    if (seen.insert(h).second) bytes[h] += block.length;
}

// The distinct racks of `hosts`, in hosts' order, from the per-replica racks of `blocks`.
std::vector<std::string> racksOf(const std::vector<std::string>& hosts,
                                 const std::vector<BlockLocation>& blocks) {
  std::map<std::string, std::string> rack_of_host;
  for (const auto& b : blocks) {
    if (b.racks.size() != b.hosts.size()) continue;  // racks unknown for this block
    for (size_t i = 0; i < b.hosts.size(); ++i) rack_of_host.emplace(b.hosts[i], b.racks[i]);
  }
  std::vector<std::string> racks;
  for (const auto& h : hosts) {
    auto it = rack_of_host.find(h);
    if (it == rack_of_host.end()) continue;
    if (std::find(racks.begin(), racks.end(), it->second) == racks.end())
      racks.push_back(it->second);
  }
  return racks;
}

}  // namespace

std::optional<SplitMode> parseSplitMode(std::string_view text) {
  if (text == "block") return SplitMode::kBlock;
  if (text == "file") return SplitMode::kFile;
  return std::nullopt;
}

std::vector<InputSplit> makeSplits(const std::vector<InputFile>& files, SplitMode mode) {
  std::vector<InputSplit> splits;
  for (const auto& file : files) {
    if (mode == SplitMode::kBlock) {
      for (const auto& block : file.blocks) {
        // A zero-length block holds nothing to process; a task for it would only cost a slot.
        if (block.length == 0) continue;
        InputSplit s{file.path, block.offset, block.length, {}, {}};
        for (const auto& h : block.hosts)
          if (std::find(s.hosts.begin(), s.hosts.end(), h) == s.hosts.end()) s.hosts.push_back(h);
        s.racks = racksOf(s.hosts, {block});
        splits.push_back(std::move(s));
      }
      continue;
    }
    std::map<std::string, uint64_t> bytes;
    for (const auto& block : file.blocks) addBlockBytes(block, bytes);
    std::vector<std::pair<std::string, uint64_t>> ranked(bytes.begin(), bytes.end());
    // Most bytes first; the name breaks ties so that the same input always prefers the same
    // hosts (stable placement, reproducible tests).
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    InputSplit s{file.path, 0, file.size, {}, {}};
    for (size_t i = 0; i < ranked.size() && i < kMaxFileSplitHosts; ++i)
      s.hosts.push_back(ranked[i].first);
    s.racks = racksOf(s.hosts, file.blocks);
    splits.push_back(std::move(s));
  }
  return splits;
}

std::map<std::string, uint64_t> bytesByHost(const std::vector<InputFile>& files) {
  std::map<std::string, uint64_t> bytes;
  for (const auto& file : files)
    for (const auto& block : file.blocks) addBlockBytes(block, bytes);
  return bytes;
}

}  // namespace locus::locality
