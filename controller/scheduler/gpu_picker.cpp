#include "controller/scheduler/gpu_picker.hpp"

#include <bit>
#include <cstddef>

namespace locus::scheduler {

uint64_t pickGpuSet(uint64_t free, const std::vector<int32_t>& numa,
                    const std::vector<uint64_t>& links, const std::vector<uint32_t>& preferred,
                    uint32_t k) {
  // Candidates in preference order: GPUs of preferred[0], preferred[1], ..., then the others.
  std::vector<uint32_t> order;
  for (uint32_t d : preferred) {
    for (size_t g = 0; g < numa.size(); ++g)
      if ((free >> g & 1) && numa[g] == static_cast<int32_t>(d)) order.push_back(static_cast<uint32_t>(g));
  }
  for (size_t g = 0; g < numa.size(); ++g) {
    if (!(free >> g & 1)) continue;
    bool seen = false;
    for (uint32_t d : preferred) seen = seen || numa[g] == static_cast<int32_t>(d);
    if (!seen) order.push_back(static_cast<uint32_t>(g));
  }
  uint64_t fallback = 0;
  for (size_t i = 0; i < order.size() && std::popcount(fallback) < static_cast<int>(k); ++i)
    fallback |= uint64_t{1} << order[i];
  if (k < 2) return fallback;
  // A clique grown greedily from each seed, in preference order: the first complete one wins.
  for (uint32_t seed : order) {
    uint64_t set = uint64_t{1} << seed;
    uint64_t common = seed < links.size() ? links[seed] : 0;
    for (uint32_t g : order) {
      if (std::popcount(set) == static_cast<int>(k)) break;
      if (g == seed || !(common >> g & 1)) continue;
      set |= uint64_t{1} << g;
      common &= g < links.size() ? links[g] : 0;
    }
    if (std::popcount(set) == static_cast<int>(k)) return set;
  }
  return fallback;
}

}  // namespace locus::scheduler
