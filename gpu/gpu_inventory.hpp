#pragma once
// Folding what NVML reports into the GPUs hwloc discovered, and the links between GPUs.
#include <cstdint>
#include <functional>
#include <vector>

#include "common/topology.hpp"
#include "gpu/nvml.hpp"

namespace locus::gpu {

// Adds NVML's view to `gpus` (hwloc's): a GPU with the same PCI bus id gains NVML's model name,
// UUID and memory where hwloc had none; an NVML GPU hwloc did not report (hwloc built without
// its NVML/CUDA plugins sees only a PCI device) is added as "nvml<i>" with the NUMA domain
// `numa_of` gives it. NVLink links are rebuilt from NVML when any GPU reports one: GPUs wired
// directly are linked with their link count; GPUs that reach NVSwitches are all linked to each
// other. Afterwards `gpus` is in PCI bus id order with index = position (CUDA_DEVICE_ORDER=
// PCI_BUS_ID numbering), and at most 64 GPUs, the scheduler's mask width.
void mergeNvmlGpus(std::vector<GpuInfo>& gpus, const std::vector<NvmlGpu>& nvml,
                   const std::function<int32_t(const NvmlGpu&)>& numa_of);

// Sorts by PCI bus id (devices without one last, in their given order), renumbers `index`, and
// remaps the peers of `links` to the new numbering.
void renumberGpus(std::vector<GpuInfo>& gpus);

// Bandwidth of one NVLink lane in MB/s when a source counts links rather than bandwidth
// (NVLink 2/3: 25 GB/s per direction per link).
constexpr uint64_t kNvlinkLinkMbps = 25000;

}  // namespace locus::gpu
