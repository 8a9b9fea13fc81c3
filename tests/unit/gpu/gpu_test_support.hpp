#pragma once
// Helpers shared by the GPU and discovery tests.
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/topology.hpp"

namespace locus::gpu::testing {

// Sets (or, with nullptr, unsets) an environment variable for one scope: the fake NVML
// (tests/unit/gpu/fake_nvml.c) reads its knobs from the environment.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// Every field of a GPU on one line, so a failure shows which field of which GPU differs.
inline std::string describe(const GpuInfo& g) {
  std::ostringstream os;
  os << g.index << " " << g.os_name << " name=" << g.name << " uuid=" << g.uuid
     << " bus=" << g.pci_bus_id << " mem=" << g.memory_mb << " numa=" << g.numa
     << " switch=" << g.pcie_switch << " links=[";
  for (size_t i = 0; i < g.links.size(); ++i)
    os << (i ? " " : "") << g.links[i].peer << ":" << g.links[i].bandwidth_mbps;
  os << "]";
  return os.str();
}
inline std::vector<std::string> describe(const std::vector<GpuInfo>& gpus) {
  std::vector<std::string> out;
  for (const GpuInfo& g : gpus) out.push_back(describe(g));
  return out;
}

}  // namespace locus::gpu::testing
