#include "gpu/visible_devices.hpp"

#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace locus::gpu {

// Readable Vendor in failure messages (found by ADL).
inline void PrintTo(Vendor v, std::ostream* os) {
  switch (v) {
    case Vendor::kUnknown:
      *os << "kUnknown";
      return;
    case Vendor::kNvidia:
      *os << "kNvidia";
      return;
    case Vendor::kAmd:
      *os << "kAmd";
      return;
    case Vendor::kIntel:
      *os << "kIntel";
      return;
  }
}

namespace {

using Env = std::map<std::string, std::string>;

GpuInfo gpu(uint32_t index, std::string os_name, std::string name = "") {
  GpuInfo g;
  g.index = index;
  g.os_name = std::move(os_name);
  g.name = std::move(name);
  return g;
}

TEST(VendorOfTest, ByBackendThenByModel) {
  struct Case {
    std::string name;
    GpuInfo gpu;
    Vendor want;
  };
  const std::vector<Case> cases = {
      {"cuda backend", gpu(0, "cuda0"), Vendor::kNvidia},
      {"nvml backend", gpu(0, "nvml12"), Vendor::kNvidia},
      {"rocm smi backend", gpu(0, "rsmi1"), Vendor::kAmd},
      {"level zero backend", gpu(0, "ze0"), Vendor::kIntel},
      {"backend wins over model", gpu(0, "cuda0", "AMD Radeon Pro"), Vendor::kNvidia},
      {"opencl tesla", gpu(0, "opencl0d0", "Tesla K40m"), Vendor::kNvidia},
      {"nvidia model", gpu(0, "opencl0d0", "NVIDIA RTX A4000"), Vendor::kNvidia},
      {"geforce model", gpu(0, "", "GeForce RTX 3090"), Vendor::kNvidia},
      {"quadro model", gpu(0, "", "Quadro RTX 6000"), Vendor::kNvidia},
      {"radeon model", gpu(0, "opencl0d1", "AMD Radeon R9 200 / HD 7900 Series"), Vendor::kAmd},
      {"instinct from pci name", gpu(0, "", "Arcturus GL-XL [Instinct MI100]"), Vendor::kAmd},
      {"intel model", gpu(0, "opencl1d0", "Intel(R) Data Center GPU Max 1550"), Vendor::kIntel},
      {"other display", gpu(0, "card0", "Matrox G200eR2"), Vendor::kUnknown},
      {"nothing known", gpu(0, ""), Vendor::kUnknown},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(vendorOf(c.gpu), c.want);
  }
}

TEST(VisibleDevicesEnvironmentTest, Table) {
  const std::vector<GpuInfo> nvidia4 = {gpu(0, "cuda0"), gpu(1, "cuda1"), gpu(2, "cuda2"),
                                        gpu(3, "cuda3")};
  // The header's example: an AMD GPU at index 0, NVIDIA GPUs at 1 and 2.
  const std::vector<GpuInfo> mixed = {gpu(0, "rsmi0"), gpu(1, "cuda0"), gpu(2, "cuda1")};
  // The same node listed out of index order: ordinals still follow the indices.
  const std::vector<GpuInfo> mixed_shuffled = {gpu(2, "cuda1"), gpu(0, "rsmi0"), gpu(1, "cuda0")};
  const std::vector<GpuInfo> intel2 = {gpu(0, "ze0"), gpu(1, "ze1")};
  // Intel at 0, AMD at 1 and 3, NVIDIA at 2: every vendor variable is set.
  const std::vector<GpuInfo> three_vendors = {gpu(0, "ze0"), gpu(1, "rsmi0"), gpu(2, "nvml0"),
                                              gpu(3, "rsmi1")};

  struct Case {
    std::string name;
    std::vector<GpuInfo> gpus;
    std::vector<uint32_t> allocated;
    Env want;
  };
  const std::vector<Case> cases = {
      {"nvidia node, two gpus",
       nvidia4,
       {1, 3},
       {{"CUDA_VISIBLE_DEVICES", "1,3"},
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
        {"GPU_DEVICE_ORDINAL", "1,3"},
        {"LOCUS_JOB_GPUS", "1,3"},
        {"SLURM_JOB_GPUS", "1,3"},
        {"SLURM_STEP_GPUS", "1,3"}}},
      {"nvidia node, all gpus",
       nvidia4,
       {0, 1, 2, 3},
       {{"CUDA_VISIBLE_DEVICES", "0,1,2,3"},
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
        {"GPU_DEVICE_ORDINAL", "0,1,2,3"},
        {"LOCUS_JOB_GPUS", "0,1,2,3"},
        {"SLURM_JOB_GPUS", "0,1,2,3"},
        {"SLURM_STEP_GPUS", "0,1,2,3"}}},
      {"node without gpus", {}, {}, {}},
      {"node without gpus, gpus asked anyway", {}, {0}, {}},
      // "" hides every device of the vendor from the job.
      {"job without gpus on a gpu node",
       nvidia4,
       {},
       {{"CUDA_VISIBLE_DEVICES", ""},
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
        {"GPU_DEVICE_ORDINAL", ""},
        {"LOCUS_JOB_GPUS", ""},
        {"SLURM_JOB_GPUS", ""},
        {"SLURM_STEP_GPUS", ""}}},
      // Index 2 is the second NVIDIA GPU: CUDA device 1; no AMD GPU allocated hides them all.
      {"mixed, second nvidia",
       mixed,
       {2},
       {{"CUDA_VISIBLE_DEVICES", "1"},
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
        {"ROCR_VISIBLE_DEVICES", ""},
        {"GPU_DEVICE_ORDINAL", "1"},
        {"LOCUS_JOB_GPUS", "2"},
        {"SLURM_JOB_GPUS", "2"},
        {"SLURM_STEP_GPUS", "2"}}},
      {"mixed, amd only",
       mixed,
       {0},
       {{"CUDA_VISIBLE_DEVICES", ""},
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
        {"ROCR_VISIBLE_DEVICES", "0"},
        {"GPU_DEVICE_ORDINAL", "0"},
        {"LOCUS_JOB_GPUS", "0"},
        {"SLURM_JOB_GPUS", "0"},
        {"SLURM_STEP_GPUS", "0"}}},
      // GPU_DEVICE_ORDINAL: AMD 0, then NVIDIA 0 and 1.
      {"mixed, all",
       mixed,
       {0, 1, 2},
       {{"CUDA_VISIBLE_DEVICES", "0,1"},
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
        {"ROCR_VISIBLE_DEVICES", "0"},
        {"GPU_DEVICE_ORDINAL", "0,0,1"},
        {"LOCUS_JOB_GPUS", "0,1,2"},
        {"SLURM_JOB_GPUS", "0,1,2"},
        {"SLURM_STEP_GPUS", "0,1,2"}}},
      {"mixed, listed out of index order",
       mixed_shuffled,
       {2},
       {{"CUDA_VISIBLE_DEVICES", "1"},
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
        {"ROCR_VISIBLE_DEVICES", ""},
        {"GPU_DEVICE_ORDINAL", "1"},
        {"LOCUS_JOB_GPUS", "2"},
        {"SLURM_JOB_GPUS", "2"},
        {"SLURM_STEP_GPUS", "2"}}},
      // No NVIDIA GPU on the node: no CUDA variable at all, not even CUDA_DEVICE_ORDER.
      {"intel node",
       intel2,
       {1},
       {{"ZE_AFFINITY_MASK", "1"},
        {"GPU_DEVICE_ORDINAL", "1"},
        {"LOCUS_JOB_GPUS", "1"},
        {"SLURM_JOB_GPUS", "1"},
        {"SLURM_STEP_GPUS", "1"}}},
      // Index 3 is the second AMD GPU (ROCm 1), index 2 the only NVIDIA GPU (CUDA 0).
      {"three vendors",
       three_vendors,
       {2, 3},
       {{"CUDA_VISIBLE_DEVICES", "0"},
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
        {"ROCR_VISIBLE_DEVICES", "1"},
        {"ZE_AFFINITY_MASK", ""},
        {"GPU_DEVICE_ORDINAL", "0,1"},
        {"LOCUS_JOB_GPUS", "2,3"},
        {"SLURM_JOB_GPUS", "2,3"},
        {"SLURM_STEP_GPUS", "2,3"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(visibleDevicesEnvironment(c.gpus, c.allocated), c.want);
  }
}

}  // namespace
}  // namespace locus::gpu
