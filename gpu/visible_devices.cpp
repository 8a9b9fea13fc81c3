#include "gpu/visible_devices.hpp"

#include <algorithm>
#include <cctype>

namespace locus::gpu {
namespace {

bool startsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool mentions(std::string text, std::initializer_list<const char*> words) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(words.begin(), words.end(),
                     [&](const char* w) { return text.find(w) != std::string::npos; });
}

std::string join(const std::vector<uint32_t>& ids) {
  std::string out;
  for (uint32_t id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out;
}

}  // namespace

Vendor vendorOf(const GpuInfo& gpu) {
  const std::string& os = gpu.os_name;
  if (startsWith(os, "cuda") || startsWith(os, "nvml")) return Vendor::kNvidia;
  if (startsWith(os, "rsmi")) return Vendor::kAmd;
  if (startsWith(os, "ze")) return Vendor::kIntel;
  if (mentions(gpu.name, {"nvidia", "tesla", "geforce", "quadro"})) return Vendor::kNvidia;
  if (mentions(gpu.name, {"amd", "radeon", "instinct"})) return Vendor::kAmd;
  if (mentions(gpu.name, {"intel"})) return Vendor::kIntel;
  return Vendor::kUnknown;
}

std::map<std::string, std::string> visibleDevicesEnvironment(const std::vector<GpuInfo>& gpus,
                                                             const std::vector<uint32_t>& allocated) {
  std::map<std::string, std::string> env;
  if (gpus.empty()) return env;
  struct PerVendor {
    const char* variable;
    bool present = false;
    uint32_t next_ordinal = 0;
    std::vector<uint32_t> visible;
  };
  PerVendor nvidia{"CUDA_VISIBLE_DEVICES"}, amd{"ROCR_VISIBLE_DEVICES"}, intel{"ZE_AFFINITY_MASK"};
  auto slot = [&](Vendor v) -> PerVendor* {
    switch (v) {
      case Vendor::kNvidia: return &nvidia;
      case Vendor::kAmd: return &amd;
      case Vendor::kIntel: return &intel;
      case Vendor::kUnknown: return nullptr;
    }
    return nullptr;
  };
  std::vector<uint32_t> sorted_gpus;  // allocated, as node-wide indices
  std::vector<uint32_t> ordinals;     // allocated, as vendor ordinals
  std::vector<const GpuInfo*> by_index(gpus.size());
  for (const GpuInfo& g : gpus)
    if (g.index < gpus.size()) by_index[g.index] = &g;
  for (const GpuInfo* g : by_index) {
    if (!g) continue;
    PerVendor* v = slot(vendorOf(*g));
    const uint32_t ordinal = v ? v->next_ordinal++ : g->index;
    if (v) v->present = true;
    if (std::find(allocated.begin(), allocated.end(), g->index) == allocated.end()) continue;
    sorted_gpus.push_back(g->index);
    ordinals.push_back(ordinal);
    if (v) v->visible.push_back(ordinal);
  }
  for (const PerVendor* v : {&nvidia, &amd, &intel})
    if (v->present) env[v->variable] = join(v->visible);
  if (nvidia.present) env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID";
  env["GPU_DEVICE_ORDINAL"] = join(ordinals);
  env["LOCUS_JOB_GPUS"] = join(sorted_gpus);
  env["SLURM_JOB_GPUS"] = env["LOCUS_JOB_GPUS"];
  env["SLURM_STEP_GPUS"] = env["LOCUS_JOB_GPUS"];
  return env;
}

}  // namespace locus::gpu
