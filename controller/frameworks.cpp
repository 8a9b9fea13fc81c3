#include "controller/frameworks.hpp"

#include <algorithm>
#include <cmath>

#include "controller/policy/fair_share.hpp"

namespace locus::controller {

Status checkFrameworkName(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return invalidArgument("framework name must be 1 to 64 characters, got " + std::to_string(name.size()));
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
      return invalidArgument("framework name '" + name + "': only letters, digits, '_', '.' and '-' are allowed");
  return {};
}

Status checkFrameworkMode(const std::string& mode) {
  if (mode.empty() || mode == "leases" || mode == "offers") return {};
  return invalidArgument("framework mode '" + mode + "' is not leases or offers");
}

Status checkFrameworkWeight(double weight) {
  if (!std::isfinite(weight) || weight < 0 || weight > 1e6)
    return invalidArgument("framework weight must be a number from 0 to 1000000");
  return {};
}

std::vector<size_t> offerOrder(const std::vector<DrfClaim>& frameworks, uint64_t cpus, uint64_t mem_mb,
                               uint64_t gpus) {
  policy::DrfSorter drf(policy::Tres{static_cast<int64_t>(cpus), static_cast<int64_t>(mem_mb),
                                     static_cast<int64_t>(gpus)});
  for (const DrfClaim& f : frameworks) {
    (void)drf.addClient(f.name, f.weight > 0 ? f.weight : 1.0);
    (void)drf.allocate(f.name, policy::Tres{static_cast<int64_t>(f.cpus), static_cast<int64_t>(f.mem_mb),
                                            static_cast<int64_t>(f.gpus)});
  }
  std::vector<size_t> order;
  for (const std::string& name : drf.order())
    for (size_t i = 0; i < frameworks.size(); ++i)
      if (frameworks[i].name == name) order.push_back(i);
  return order;
}

std::vector<uint32_t> pickTaskCores(const std::vector<uint32_t>& cores, const std::vector<FrameworkTask>& busy,
                                    uint32_t count) {
  std::vector<uint32_t> sorted = cores;
  std::sort(sorted.begin(), sorted.end());
  if (count == 0) return sorted;
  std::vector<uint32_t> out;
  for (uint32_t c : sorted) {
    const bool taken = std::any_of(busy.begin(), busy.end(), [&](const FrameworkTask& t) {
      return std::find(t.cores.begin(), t.cores.end(), c) != t.cores.end();
    });
    if (taken) continue;
    out.push_back(c);
    if (out.size() == count) return out;
  }
  return {};
}

}  // namespace locus::controller
