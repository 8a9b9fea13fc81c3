// A test double for the NVIDIA driver's libnvidia-ml.so.1. No NVIDIA driver can run on the build
// and CI machines, so the dlopen path of locus::gpu::probeNvml is exercised against this library
// instead. It exports the entry points gpu/nvml.cpp binds, with the signatures and struct layouts
// nvml.cpp declares (which are nvml.h's), and describes three GPUs of the machine in
// tests/data/24em64t-2n6c2t-pci.xml (whose NVIDIA PCI devices have no CUDA/NVML OS devices):
//
//   NVML  bus id             in the XML           links                        CPU affinity
//   0     00000000:06:00.0   below NUMA node P#0  0: GPU 1, 1-2: NVSwitch,     PUs 0,2,..,22
//                                                 3: inactive
//   1     00000000:14:00.0   below NUMA node P#1  0: GPU 0, 1: NVSwitch,       "not supported"
//                                                 2: inactive
//   2     00000000:9A:00.0   absent               none ("not supported")       PUs 1,3,..,23, 65
//
// GPU 1 does not say its CPU affinity, so a NUMA domain found for it can only come from its PCI
// device; GPU 2 is not in the XML, so its domain can only come from its affinity. GPU 2 refuses
// the UUID query (as a GPU in a bad state may).
//
// Knobs, read on every call so one test can change them between probes:
//   FAKE_NVML_FAIL=<entry point>   that entry point returns NVML_ERROR_UNKNOWN (999), for every GPU
//   FAKE_NVML_NO_DEVICE_TYPE=1     nvmlDeviceGetNvLinkRemoteDeviceType is "not supported" (old
//                                  driver): the switch links then show their switch's PCI bus id
// Observations, written back to the environment (the library is unloaded after each probe, so
// static counters would be lost): FAKE_NVML_INITS and FAKE_NVML_SHUTDOWNS count the calls.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct FakeGpu* nvmlDevice_t;

enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_GPU_IS_LOST = 15,
  NVML_ERROR_UNKNOWN = 999,
};
enum { NVLINK_DEVICE_TYPE_GPU = 0, NVLINK_DEVICE_TYPE_SWITCH = 2 };
enum { kMaxLinks = 18 };  // NVML_NVLINK_MAX_LINKS

typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

enum LinkEnd { kNone, kInactive, kGpu, kSwitch };

struct FakeGpu {
  const char* name;
  const char* uuid;  // NULL: the query fails
  unsigned long long memory_bytes;
  unsigned bus;
  int has_nvlink;
  enum LinkEnd links[kMaxLinks];
  int link_peer[kMaxLinks];   // NVML index of the GPU at the far end of a kGpu link
  unsigned long affinity[2];  // first 128 CPUs; has_affinity 0: "not supported"
  int has_affinity;
};

// 42505273344 bytes = 40536 MiB (an A100 40GB as nvidia-smi shows it), plus 1000 bytes that the
// conversion to MB must floor away; 16 GiB for the A2.
static struct FakeGpu gpus[] = {
    {"NVIDIA A100-SXM4-40GB",
     "GPU-fa4e0000-0000-4000-8000-000000000000",
     42505273344ULL + 1000,
     0x06,
     1,
     {kGpu, kSwitch, kSwitch, kInactive},
     {1},
     {0x555555UL, 0},
     1},
    {"NVIDIA A100-SXM4-40GB",
     "GPU-fa4e0000-0000-4000-8000-000000000001",
     42505273344ULL,
     0x14,
     1,
     {kGpu, kSwitch, kInactive},
     {0},
     {0, 0},
     0},
    {"NVIDIA A2", NULL, 16ULL << 30, 0x9a, 0, {kNone}, {0}, {0xaaaaaaUL, 0x2UL}, 1},
};
static const unsigned kGpus = sizeof gpus / sizeof gpus[0];
static const unsigned kSwitchBus = 0xc1;

static int failing(const char* call) {
  const char* f = getenv("FAKE_NVML_FAIL");
  return f && strcmp(f, call) == 0;
}

static void countCall(const char* variable) {
  const char* v = getenv(variable);
  char text[16];
  snprintf(text, sizeof text, "%d", (v ? atoi(v) : 0) + 1);
  setenv(variable, text, 1);
}

static void pciInfo(unsigned bus, nvmlPciInfo_t* pci) {
  memset(pci, 0, sizeof *pci);
  pci->bus = bus;
  pci->pciDeviceId = 0x20b010de;
  // NVML's own spelling: 8-digit domain, upper-case hex.
  snprintf(pci->busId, sizeof pci->busId, "00000000:%02X:00.0", bus);
  snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "0000:%02X:00.0", bus);
}

nvmlReturn_t nvmlInit_v2(void) {
  countCall("FAKE_NVML_INITS");
  return failing("nvmlInit_v2") ? NVML_ERROR_UNKNOWN : NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void) {
  countCall("FAKE_NVML_SHUTDOWNS");
  return NVML_SUCCESS;
}

const char* nvmlErrorString(nvmlReturn_t rc) {
  switch (rc) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_INVALID_ARGUMENT:
      return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
      return "Not Supported";
    case NVML_ERROR_GPU_IS_LOST:
      return "GPU is lost";
    default:
      return "Unknown Error";
  }
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned* count) {
  if (failing("nvmlDeviceGetCount_v2")) return NVML_ERROR_UNKNOWN;
  *count = kGpus;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t* device) {
  if (failing("nvmlDeviceGetHandleByIndex_v2")) return NVML_ERROR_UNKNOWN;
  if (index >= kGpus) return NVML_ERROR_INVALID_ARGUMENT;
  *device = &gpus[index];
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned length) {
  if (failing("nvmlDeviceGetName")) return NVML_ERROR_UNKNOWN;
  snprintf(name, length, "%s", device->name);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned length) {
  if (failing("nvmlDeviceGetUUID")) return NVML_ERROR_UNKNOWN;
  if (!device->uuid) return NVML_ERROR_GPU_IS_LOST;
  snprintf(uuid, length, "%s", device->uuid);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
  if (failing("nvmlDeviceGetMemoryInfo")) return NVML_ERROR_UNKNOWN;
  memory->total = device->memory_bytes;
  memory->used = device->memory_bytes / 100;
  memory->free = memory->total - memory->used;
  return NVML_SUCCESS;
}

// Utilization (for job profiles): 10%, 50% and 90% for GPUs 0, 1 and 2.
typedef struct {
  unsigned int gpu, memory;
} nvmlUtilization_t;

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t* utilization) {
  if (failing("nvmlDeviceGetUtilizationRates")) return NVML_ERROR_UNKNOWN;
  utilization->gpu = 10 + 40 * (unsigned)(device - gpus);
  utilization->memory = 5;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* pci) {
  if (failing("nvmlDeviceGetPciInfo_v3")) return NVML_ERROR_UNKNOWN;
  pciInfo(device->bus, pci);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned link, int* is_active) {
  if (failing("nvmlDeviceGetNvLinkState")) return NVML_ERROR_UNKNOWN;
  if (!device->has_nvlink || link >= kMaxLinks || device->links[link] == kNone)
    return NVML_ERROR_NOT_SUPPORTED;
  *is_active = device->links[link] != kInactive;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t device, unsigned link,
                                                 nvmlPciInfo_t* pci) {
  if (failing("nvmlDeviceGetNvLinkRemotePciInfo_v2")) return NVML_ERROR_UNKNOWN;
  if (!device->has_nvlink || link >= kMaxLinks) return NVML_ERROR_NOT_SUPPORTED;
  switch (device->links[link]) {
    case kGpu:
      pciInfo(gpus[device->link_peer[link]].bus, pci);
      return NVML_SUCCESS;
    case kSwitch:
      pciInfo(kSwitchBus, pci);
      return NVML_SUCCESS;
    default:
      return NVML_ERROR_NOT_SUPPORTED;
  }
}

nvmlReturn_t nvmlDeviceGetNvLinkRemoteDeviceType(nvmlDevice_t device, unsigned link, int* type) {
  if (failing("nvmlDeviceGetNvLinkRemoteDeviceType") || getenv("FAKE_NVML_NO_DEVICE_TYPE"))
    return NVML_ERROR_NOT_SUPPORTED;
  if (!device->has_nvlink || link >= kMaxLinks) return NVML_ERROR_NOT_SUPPORTED;
  switch (device->links[link]) {
    case kGpu:
      *type = NVLINK_DEVICE_TYPE_GPU;
      return NVML_SUCCESS;
    case kSwitch:
      *type = NVLINK_DEVICE_TYPE_SWITCH;
      return NVML_SUCCESS;
    default:
      return NVML_ERROR_NOT_SUPPORTED;
  }
}

nvmlReturn_t nvmlDeviceGetCpuAffinity(nvmlDevice_t device, unsigned words, unsigned long* mask) {
  if (failing("nvmlDeviceGetCpuAffinity")) return NVML_ERROR_UNKNOWN;
  if (!device->has_affinity) return NVML_ERROR_NOT_SUPPORTED;
  for (unsigned w = 0; w < words; ++w) mask[w] = w < 2 ? device->affinity[w] : 0;
  return NVML_SUCCESS;
}
