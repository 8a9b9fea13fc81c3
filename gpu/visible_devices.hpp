#pragma once
// The environment that confines a task to the GPUs it was given.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/topology.hpp"

namespace locus::gpu {

enum class Vendor { kUnknown, kNvidia, kAmd, kIntel };

// By the backend that reported the GPU (cuda*, nvml*: NVIDIA; rsmi*: AMD; ze*: Intel), else by
// the model name ("Tesla ...", "Radeon ...", "Intel(R) Data Center GPU ...").
Vendor vendorOf(const GpuInfo& gpu);

// Variables for a task that holds `allocated` (GpuInfo::index values) on a node with `gpus`:
//   CUDA_VISIBLE_DEVICES   NVIDIA ordinals of the allocated NVIDIA GPUs, with
//   CUDA_DEVICE_ORDER=PCI_BUS_ID so that the ordinals mean what they meant at discovery
//   ROCR_VISIBLE_DEVICES   AMD ordinals (ROCm numbers its GPUs in PCI order too)
//   ZE_AFFINITY_MASK       Intel Level Zero ordinals
//   GPU_DEVICE_ORDINAL     every allocated GPU's vendor ordinal (Slurm sets it for OpenCL/ROCm)
//   LOCUS_JOB_GPUS, SLURM_JOB_GPUS, SLURM_STEP_GPUS: the node-wide indices
// A vendor's ordinal is the GPU's position among that vendor's GPUs of the node, in index order:
// on a node with an AMD GPU at index 0 and NVIDIA GPUs at 1 and 2, index 2 is CUDA device 1.
// A vendor variable is set (to "" when nothing of that vendor is allocated, which hides every
// device of it) whenever the node has a GPU of that vendor; a node without GPUs gets nothing.
std::map<std::string, std::string> visibleDevicesEnvironment(const std::vector<GpuInfo>& gpus,
                                                             const std::vector<uint32_t>& allocated);

}  // namespace locus::gpu
