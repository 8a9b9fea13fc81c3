#include "controller/scheduler/core_picker.hpp"

#include <algorithm>
#include <numeric>

#include "common/result.hpp"

namespace locus::scheduler {

std::vector<uint32_t> pickDomainCounts(std::span<const uint32_t> free, uint32_t need) {
  std::vector<uint32_t> take(free.size(), 0);
  if (need == 0) return take;

  std::vector<uint32_t> order(free.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return free[a] != free[b] ? free[a] > free[b] : a < b; });

  uint32_t remaining = need;
  for (size_t pos = 0; pos < order.size() && remaining > 0; ++pos) {
    const uint32_t d = order[pos];
    if (free[d] < remaining) {
      take[d] = free[d];
      remaining -= free[d];
      continue;
    }
    // Domains before `pos` are taken whole; the rest are candidates to complete the request.
    // Best fit among them: the fewest free cores that hold the remainder, then the lower index.
    uint32_t best = d;
    for (size_t later = pos + 1; later < order.size(); ++later) {
      const uint32_t c = order[later];
      if (free[c] < remaining) break;  // sorted by free cores descending
      if (free[c] < free[best] || (free[c] == free[best] && c < best)) best = c;
    }
    take[best] = remaining;
    remaining = 0;
  }
  LOCUS_CHECK(remaining == 0) << "asked for " << need << " cores, domains have only "
                              << (need - remaining);
  return take;
}

}  // namespace locus::scheduler
