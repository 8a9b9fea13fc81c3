#include "common/topology.hpp"

#include <algorithm>

namespace locus {

uint32_t NodeTopology::coreCount() const {
  uint32_t n = 0;
  for (const auto& domain : numa) n += static_cast<uint32_t>(domain.cores.size());
  return n;
}

uint32_t NodeTopology::puCount() const {
  uint32_t n = 0;
  for (const auto& domain : numa) {
    for (const auto& core : domain.cores) n += static_cast<uint32_t>(core.pus.size());
  }
  return n;
}

// Runs of consecutive ids collapse to "first-last"; a run of two stays a range ("10-11"), as the
// kernel writes it. Example: {11, 0, 3, 1, 2, 8, 10, 3} -> sorted unique {0,1,2,3,8,10,11}
// -> "0-3,8,10-11".
std::string formatCpuList(std::vector<uint32_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(ids[i]);
    if (j > i) {
      out += '-';
      out += std::to_string(ids[j]);
    }
    i = j + 1;
  }
  return out;
}

}  // namespace locus
