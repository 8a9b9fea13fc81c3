#include "gpu/nvml.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>

namespace locus::gpu {
namespace {

// The few NVML declarations used, as nvml.h states them (ABI-stable since NVML 10; the _v2/_v3
// entry points are the ones current drivers export).
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr unsigned kNvmlMaxLinks = 18;  // NVML_NVLINK_MAX_LINKS (Hopper: 18)
constexpr int kNvlinkDeviceSwitch = 2;  // NVML_NVLINK_DEVICE_TYPE_SWITCH
constexpr unsigned kNameBuffer = 96;    // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kUuidBuffer = 96;    // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned kAffinityWords = 16; // 1,024 CPUs of affinity mask

struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlPciInfo_t {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
};
struct nvmlUtilization_t {
  unsigned int gpu, memory;  // percent of the last sample period
};

struct Api {
  nvmlReturn_t (*init)();
  nvmlReturn_t (*shutdown)();
  const char* (*errorString)(nvmlReturn_t);
  nvmlReturn_t (*count)(unsigned*);
  nvmlReturn_t (*handle)(unsigned, nvmlDevice_t*);
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned);
  nvmlReturn_t (*uuid)(nvmlDevice_t, char*, unsigned);
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*);
  nvmlReturn_t (*pci)(nvmlDevice_t, nvmlPciInfo_t*);
  // Optional: absent in old drivers, or on GPUs without NVLink the calls fail per link.
  nvmlReturn_t (*linkState)(nvmlDevice_t, unsigned, int*);
  nvmlReturn_t (*linkRemotePci)(nvmlDevice_t, unsigned, nvmlPciInfo_t*);
  nvmlReturn_t (*linkRemoteType)(nvmlDevice_t, unsigned, int*);
  nvmlReturn_t (*cpuAffinity)(nvmlDevice_t, unsigned, unsigned long*);
};

struct DlCloser {
  void operator()(void* h) const { dlclose(h); }
};

template <typename F>
bool bind(void* lib, const char* symbol, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, symbol));
  return fn != nullptr;
}

}  // namespace

std::string normalizePciBusId(const std::string& bus_id) {
  unsigned domain = 0, bus = 0, device = 0, function = 0;
  if (std::sscanf(bus_id.c_str(), "%x:%x:%x.%x", &domain, &bus, &device, &function) != 4)
    return bus_id;
  char out[32];
  std::snprintf(out, sizeof out, "%04x:%02x:%02x.%x", domain & 0xffff, bus, device, function);
  return out;
}

Result<std::vector<NvmlGpu>> probeNvml(const std::string& library) {
  std::unique_ptr<void, DlCloser> lib(dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!lib) {
    const char* why = dlerror();
    return unavailable("NVML not loaded (" + library + "): " + (why ? why : "unknown error"));
  }
  Api api{};
  void* h = lib.get();
  if (!bind(h, "nvmlInit_v2", api.init) || !bind(h, "nvmlShutdown", api.shutdown) ||
      !bind(h, "nvmlErrorString", api.errorString) ||
      !bind(h, "nvmlDeviceGetCount_v2", api.count) ||
      !bind(h, "nvmlDeviceGetHandleByIndex_v2", api.handle) ||
      !bind(h, "nvmlDeviceGetName", api.name) || !bind(h, "nvmlDeviceGetUUID", api.uuid) ||
      !bind(h, "nvmlDeviceGetMemoryInfo", api.memory) ||
      !bind(h, "nvmlDeviceGetPciInfo_v3", api.pci)) {
    return unavailable(library + " lacks an NVML entry point Locus needs (driver too old?)");
  }
  bind(h, "nvmlDeviceGetNvLinkState", api.linkState);
  bind(h, "nvmlDeviceGetNvLinkRemotePciInfo_v2", api.linkRemotePci);
  bind(h, "nvmlDeviceGetNvLinkRemoteDeviceType", api.linkRemoteType);
  bind(h, "nvmlDeviceGetCpuAffinity", api.cpuAffinity);

  if (nvmlReturn_t rc = api.init(); rc != kNvmlSuccess)
    return unavailable(std::string("nvmlInit: ") + api.errorString(rc));
  // Shut down on every path out, before the library is unloaded.
  struct Shutdown {
    Api& api;
    ~Shutdown() { api.shutdown(); }
  } shutdown{api};
  auto failed = [&](const char* call, unsigned index, nvmlReturn_t rc) {
    return internalError(std::string(call) + " (GPU " + std::to_string(index) +
                         "): " + api.errorString(rc));
  };

  unsigned count = 0;
  if (nvmlReturn_t rc = api.count(&count); rc != kNvmlSuccess)
    return internalError(std::string("nvmlDeviceGetCount: ") + api.errorString(rc));
  std::vector<NvmlGpu> out;
  for (unsigned i = 0; i < count; ++i) {
    nvmlDevice_t dev = nullptr;
    if (nvmlReturn_t rc = api.handle(i, &dev); rc != kNvmlSuccess)
      return failed("nvmlDeviceGetHandleByIndex", i, rc);
    NvmlGpu g;
    g.nvml_index = i;
    char text[std::max(kNameBuffer, kUuidBuffer)] = {};
    if (nvmlReturn_t rc = api.name(dev, text, kNameBuffer); rc != kNvmlSuccess)
      return failed("nvmlDeviceGetName", i, rc);
    g.name = text;
    // A GPU in a bad state may refuse some queries; it is still a GPU the node has.
    if (api.uuid(dev, text, kUuidBuffer) == kNvmlSuccess) g.uuid = text;
    nvmlMemory_t mem{};
    if (api.memory(dev, &mem) == kNvmlSuccess) g.memory_mb = mem.total / (1024 * 1024);
    nvmlPciInfo_t pci{};
    if (nvmlReturn_t rc = api.pci(dev, &pci); rc != kNvmlSuccess)
      return failed("nvmlDeviceGetPciInfo", i, rc);
    g.pci_bus_id = normalizePciBusId(pci.busId);
    for (unsigned link = 0; api.linkState && api.linkRemotePci && link < kNvmlMaxLinks; ++link) {
      int active = 0;
      if (api.linkState(dev, link, &active) != kNvmlSuccess || !active) continue;
      int type = -1;
      if (api.linkRemoteType && api.linkRemoteType(dev, link, &type) == kNvmlSuccess &&
          type == kNvlinkDeviceSwitch) {
        ++g.nvswitch_links;
        continue;
      }
      nvmlPciInfo_t remote{};
      if (api.linkRemotePci(dev, link, &remote) != kNvmlSuccess) continue;
      g.nvlink_peer_bus_ids.push_back(normalizePciBusId(remote.busId));
    }
    unsigned long mask[kAffinityWords] = {};
    if (api.cpuAffinity && api.cpuAffinity(dev, kAffinityWords, mask) == kNvmlSuccess) {
      constexpr unsigned kBits = sizeof(unsigned long) * 8;
      for (unsigned w = 0; w < kAffinityWords; ++w)
        for (unsigned b = 0; b < kBits; ++b)
          if (mask[w] >> b & 1UL) g.cpu_affinity.push_back(w * kBits + b);
    }
    out.push_back(std::move(g));
  }
  // Without the device-type call (old drivers) a link whose far end is no GPU of this node
  // ends at an NVSwitch.
  for (NvmlGpu& g : out) {
    auto is_gpu = [&](const std::string& bus) {
      return std::any_of(out.begin(), out.end(), [&](const NvmlGpu& o) { return o.pci_bus_id == bus; });
    };
    auto stray = std::stable_partition(g.nvlink_peer_bus_ids.begin(), g.nvlink_peer_bus_ids.end(), is_gpu);
    g.nvswitch_links += static_cast<uint32_t>(g.nvlink_peer_bus_ids.end() - stray);
    g.nvlink_peer_bus_ids.erase(stray, g.nvlink_peer_bus_ids.end());
  }
  return out;
}

struct NvmlUsageReader::Impl {
  std::unique_ptr<void, DlCloser> lib;
  nvmlReturn_t (*shutdown)() = nullptr;
  const char* (*errorString)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*utilization)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  std::map<std::string, nvmlDevice_t> by_bus_id;  // normalized PCI bus id -> device
};

NvmlUsageReader::NvmlUsageReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NvmlUsageReader::~NvmlUsageReader() {
  if (impl_ && impl_->shutdown) impl_->shutdown();
}

Result<std::unique_ptr<NvmlUsageReader>> NvmlUsageReader::open(const std::string& library) {
  auto impl = std::make_unique<Impl>();
  impl->lib.reset(dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!impl->lib) {
    const char* why = dlerror();
    return unavailable("NVML not loaded (" + library + "): " + (why ? why : "unknown error"));
  }
  void* h = impl->lib.get();
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*count)(unsigned*) = nullptr;
  nvmlReturn_t (*handle)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*pci)(nvmlDevice_t, nvmlPciInfo_t*) = nullptr;
  if (!bind(h, "nvmlInit_v2", init) || !bind(h, "nvmlShutdown", impl->shutdown) ||
      !bind(h, "nvmlErrorString", impl->errorString) || !bind(h, "nvmlDeviceGetCount_v2", count) ||
      !bind(h, "nvmlDeviceGetHandleByIndex_v2", handle) || !bind(h, "nvmlDeviceGetPciInfo_v3", pci) ||
      !bind(h, "nvmlDeviceGetUtilizationRates", impl->utilization) ||
      !bind(h, "nvmlDeviceGetMemoryInfo", impl->memory)) {
    return unavailable(library + " lacks an NVML entry point Locus needs (driver too old?)");
  }
  if (nvmlReturn_t rc = init(); rc != kNvmlSuccess) {
    impl->shutdown = nullptr;  // nothing to shut down
    return unavailable(std::string("nvmlInit: ") + impl->errorString(rc));
  }
  std::unique_ptr<NvmlUsageReader> reader(new NvmlUsageReader(std::move(impl)));
  Impl& i = *reader->impl_;
  unsigned n = 0;
  if (nvmlReturn_t rc = count(&n); rc != kNvmlSuccess)
    return internalError(std::string("nvmlDeviceGetCount: ") + i.errorString(rc));
  for (unsigned d = 0; d < n; ++d) {
    nvmlDevice_t dev = nullptr;
    nvmlPciInfo_t info{};
    if (handle(d, &dev) != kNvmlSuccess || pci(dev, &info) != kNvmlSuccess) continue;
    i.by_bus_id[normalizePciBusId(info.busId)] = dev;
  }
  return reader;
}

Result<NvmlUsageReader::Usage> NvmlUsageReader::read(const std::vector<std::string>& pci_bus_ids) {
  Usage out;
  unsigned found = 0;
  for (const std::string& bus : pci_bus_ids) {
    auto it = impl_->by_bus_id.find(normalizePciBusId(bus));
    if (it == impl_->by_bus_id.end()) continue;
    nvmlUtilization_t util{};
    nvmlMemory_t mem{};
    if (nvmlReturn_t rc = impl_->utilization(it->second, &util); rc != kNvmlSuccess)
      return internalError("nvmlDeviceGetUtilizationRates (" + bus + "): " + impl_->errorString(rc));
    if (nvmlReturn_t rc = impl_->memory(it->second, &mem); rc != kNvmlSuccess)
      return internalError("nvmlDeviceGetMemoryInfo (" + bus + "): " + impl_->errorString(rc));
    out.util_percent += util.gpu;
    out.mem_used_mb += static_cast<double>(mem.used) / (1024.0 * 1024.0);
    ++found;
  }
  if (found == 0) return notFound("none of the GPUs is an NVML device");
  out.util_percent /= found;
  return out;
}

}  // namespace locus::gpu
