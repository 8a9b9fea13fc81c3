// Table tests for the node labels derived from discovered hardware (topology.hpp): Slurm's GPU
// type name, the short model, and discoveredFeatures.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/topology.hpp"

namespace locus {
namespace {

struct ModelCase {
  std::string model;
  std::string type;    // gpuTypeName
  std::string short_;  // gpuShortModel
};

TEST(GpuModelNames, Table) {
  const std::vector<ModelCase> cases = {
      {"Tesla V100-SXM3-32GB-H", "tesla_v100-sxm3-32gb-h", "v100"},
      {"NVIDIA H100 80GB HBM3", "nvidia_h100_80gb_hbm3", "h100"},
      {"AMD Instinct MI250X", "amd_instinct_mi250x", "mi250x"},
      {"NVIDIA RTX A4000", "nvidia_rtx_a4000", "a4000"},
      {"NVIDIA A100-SXM4-80GB", "nvidia_a100-sxm4-80gb", "a100"},
      {"NVIDIA A100 80GB PCIe", "nvidia_a100_80gb_pcie", "a100"},
      {"Tesla P100-PCIE-16GB", "tesla_p100-pcie-16gb", "p100"},
      {"NVIDIA GeForce RTX 3090", "nvidia_geforce_rtx_3090", "3090"},
      {"Quadro RTX 8000", "quadro_rtx_8000", "8000"},
      {"NVIDIA L40S", "nvidia_l40s", "l40s"},
      {"AMD Radeon Pro W6800", "amd_radeon_pro_w6800", "w6800"},
      {"Intel(R) Data Center GPU Max 1550", "intel(r)_data_center_gpu_max_1550", "1550"},
      // No word with a digit: no short model.
      {"NVIDIA Tesla", "nvidia_tesla", ""},
      {"", "", ""},
  };
  for (const ModelCase& c : cases) {
    SCOPED_TRACE("'" + c.model + "'");
    EXPECT_EQ(gpuTypeName(c.model), c.type);
    EXPECT_EQ(gpuShortModel(c.model), c.short_);
  }
}

GpuInfo gpu(uint32_t index, std::string name) {
  GpuInfo g;
  g.index = index;
  g.name = std::move(name);
  return g;
}

struct FeatureCase {
  std::string name;
  std::vector<GpuInfo> gpus;
  std::string cpu_model;
  std::vector<std::string> want;
};

TEST(DiscoveredFeatures, Table) {
  const std::vector<FeatureCase> cases = {
      {"nothing discovered", {}, "", {}},
      {"an Intel CPU, no GPUs", {}, "Intel(R) Xeon(R) CPU E5-2650 0 @ 2.00GHz", {"intel"}},
      {"an AMD CPU", {}, "AMD EPYC 7742 64-Core Processor", {"amd"}},
      {"an unknown CPU vendor", {}, "Neoverse-N1", {}},
      // Sorted and unique: four identical GPUs give their labels once.
      {"four V100s on an Intel host",
       {gpu(0, "Tesla V100-SXM3-32GB-H"), gpu(1, "Tesla V100-SXM3-32GB-H"),
        gpu(2, "Tesla V100-SXM3-32GB-H"), gpu(3, "Tesla V100-SXM3-32GB-H")},
       "Intel(R) Xeon(R) Platinum 8168 CPU @ 2.70GHz",
       {"gpu", "intel", "tesla_v100-sxm3-32gb-h", "v100"}},
      {"two models on one node",
       {gpu(0, "NVIDIA H100 80GB HBM3"), gpu(1, "NVIDIA RTX A4000")},
       "",
       {"a4000", "gpu", "h100", "nvidia_h100_80gb_hbm3", "nvidia_rtx_a4000"}},
      // The CPU vendor, not the GPU maker, gives "amd"/"intel".
      {"AMD GPUs on an Intel host",
       {gpu(0, "AMD Instinct MI250X")},
       "Intel(R) Xeon(R)",
       {"amd_instinct_mi250x", "gpu", "intel", "mi250x"}},
      {"a GPU without a model name is still a GPU", {gpu(0, "")}, "", {"gpu"}},
      {"a model without a short name", {gpu(0, "NVIDIA Tesla")}, "", {"gpu", "nvidia_tesla"}},
  };
  for (const FeatureCase& c : cases) {
    SCOPED_TRACE(c.name);
    NodeTopology t;
    t.gpus = c.gpus;
    t.cpu_model = c.cpu_model;
    EXPECT_EQ(discoveredFeatures(t), c.want);
  }
}

}  // namespace
}  // namespace locus
