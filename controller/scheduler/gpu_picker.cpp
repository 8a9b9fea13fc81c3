#include "controller/scheduler/gpu_picker.hpp"

#include <bit>
#include <cstddef>

namespace locus::scheduler {
namespace {

// Calls of the clique search per pick. An 8-GPU node needs at most 2^8; a node with many GPUs
// and an odd link graph could need exponentially many, so past this the GPUs come in NUMA order.
constexpr uint32_t kCliqueSearchSteps = 1u << 14;

}  // namespace

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
  // An exact search rather than a clique grown greedily from each seed: growing by "the first
  // linked peer" misses cliques. Example: triangle {3, 4, 5} with links 0-3, 1-4, 2-5 as well;
  // from 3 the greedy takes 0 first (no common peer left), from 4 it takes 1, from 5 it takes 2,
  // so no seed closes the triangle and the header's "a fully connected set when one exists"
  // broke. Depth first over `order`, a GPU taken before the ones after it: the first k-set
  // found is the fully connected one whose GPUs come earliest in preference order.
  std::vector<uint64_t> after(order.size() + 1, 0);  // after[i]: GPUs order[i..]
  for (size_t i = order.size(); i-- > 0;) after[i] = after[i + 1] | uint64_t{1} << order[i];
  uint32_t steps = kCliqueSearchSteps;
  uint64_t found = 0;
  // `common`: the GPUs linked to every GPU of `set` (all of them while `set` is empty).
  auto search = [&](auto& self, size_t from, uint64_t set, uint64_t common) -> bool {
    if (std::popcount(set) == static_cast<int>(k)) {
      found = set;
      return true;
    }
    if (steps == 0) return false;
    --steps;
    // Too few linked GPUs left to complete the set.
    if (std::popcount(set) + std::popcount(common & after[from]) < static_cast<int>(k))
      return false;
    for (size_t i = from; i < order.size(); ++i) {
      const uint32_t g = order[i];
      if (!(common >> g & 1)) continue;
      const uint64_t peers = g < links.size() ? links[g] : 0;
      if (self(self, i + 1, set | uint64_t{1} << g, common & peers)) return true;
    }
    return false;
  };
  return search(search, 0, 0, ~uint64_t{0}) ? found : fallback;
}

}  // namespace locus::scheduler
