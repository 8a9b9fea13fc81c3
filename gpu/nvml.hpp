#pragma once
// NVIDIA GPUs as the driver's management library (NVML) reports them. The library is loaded at
// run time with dlopen, so Locus builds without CUDA and a machine without the NVIDIA driver
// simply has no NVML GPUs.
//
// What NVML adds to hwloc's view: hwloc in Debian is built without its NVML/CUDA plugins, so on
// a real GPU node hwloc sees the GPU only as a PCI device ("3D controller"); NVML gives the model
// name, UUID, memory, NVLink peers and the CPUs near the GPU.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace locus::gpu {

struct NvmlGpu {
  uint32_t nvml_index = 0;       // NVML's own numbering (PCI bus order by default)
  std::string name;              // "NVIDIA H100 80GB HBM3"
  std::string uuid;              // "GPU-..."
  std::string pci_bus_id;        // "0000:3b:00.0": domain:bus:device.function, lowercase
  uint64_t memory_mb = 0;
  // NVLink: links whose far end is another GPU, by that GPU's PCI bus id (one entry per link,
  // so two links to one peer appear twice); `nvswitch_links` counts links that end at an
  // NVSwitch, through which every GPU with such links reaches every other.
  std::vector<std::string> nvlink_peer_bus_ids;
  uint32_t nvswitch_links = 0;
  std::vector<uint32_t> cpu_affinity;  // OS CPU ids near the GPU; empty when NVML does not say
};

// Loads `library` (by default the driver's libnvidia-ml.so.1), lists its GPUs and unloads it.
// Errors: kUnavailable when the library cannot be loaded or initialised (no NVIDIA driver, or
// no permission): callers treat that as "no NVML", not as a failure; kInternal when a call
// that every NVML has fails for a device (the message names the call and NVML's error string).
Result<std::vector<NvmlGpu>> probeNvml(const std::string& library = "libnvidia-ml.so.1");

// Live use of GPUs, for job profiles (--profile task,gpu): NVML stays loaded and initialised for
// the reader's lifetime, so a sample costs two NVML calls per GPU. Device-wide figures: NVML's
// utilization is the share of the last sample period in which a kernel ran, of any process.
// Thread-safety: one thread at a time.
class NvmlUsageReader {
 public:
  struct Usage {
    double util_percent = 0;  // mean over the GPUs asked for
    double mem_used_mb = 0;   // summed over them
  };
  // Errors: kUnavailable as for probeNvml (no driver: profiles then say gpu="unavailable").
  static Result<std::unique_ptr<NvmlUsageReader>> open(const std::string& library = "libnvidia-ml.so.1");
  ~NvmlUsageReader();  // nvmlShutdown, then the library is unloaded

  // The GPUs with these PCI bus ids (any spelling normalizePciBusId understands). Errors:
  // kNotFound when none of them is an NVML device; kInternal when NVML fails for one.
  Result<Usage> read(const std::vector<std::string>& pci_bus_ids);

  struct Impl;

 private:
  explicit NvmlUsageReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "00000000:3B:00.0" (NVML's 8-digit domain, upper case) -> "0000:3b:00.0" (hwloc's and the
// kernel's spelling), so bus ids from both sources compare equal. Unparseable: returned as is.
std::string normalizePciBusId(const std::string& bus_id);

}  // namespace locus::gpu
