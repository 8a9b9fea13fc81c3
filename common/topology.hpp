#pragma once
// A node's hardware as its daemon discovered it (hwloc), in plain values the controller stores and
// the scheduler reads. Core ids are logical (0..cores-1 in hwloc's logical order); PU ids are the
// OS indices the kernel uses for affinity, as seen by the (possibly emulated) topology.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace locus {

struct CoreInfo {
  uint32_t id = 0;              // logical core index within the node
  std::vector<uint32_t> pus;    // OS indices of its processing units (hyperthreads)
};

// A direct or NVSwitch-routed NVLink connection from one GPU to another GPU of the same node.
struct GpuLink {
  uint32_t peer = 0;            // GpuInfo::index of the other GPU
  uint64_t bandwidth_mbps = 0;  // as hwloc's NVLinkBandwidth or NVML reports it; 0 when unknown
};

struct GpuInfo {
  uint32_t index = 0;           // 0..gpus-1 within the node, the CUDA_VISIBLE_DEVICES value
  std::string name;             // model, e.g. "Tesla V100-SXM3-32GB-H"
  std::string os_name;          // hwloc OS device name: cuda0, nvml0, opencl0d1, rsmi0, ze0
  std::string uuid;             // empty when unknown
  std::string pci_bus_id;       // "0000:3b:00.0", empty when unknown
  uint64_t memory_mb = 0;       // 0 when unknown
  int32_t numa = -1;            // index into NodeTopology::numa of its PCI locality, -1 unknown
  // Identifies the PCIe switch (the nearest PCI bridge below the host bridge) the GPU sits
  // behind: GPUs with the same value >= 0 share one. -1 when unknown or directly on the root port.
  int32_t pcie_switch = -1;
  std::vector<GpuLink> links;   // NVLink peers, ascending by peer; empty when none or unknown
};

struct NumaDomain {
  uint32_t os_index = 0;        // NUMA node number as the kernel names it
  uint64_t mem_mb = 0;
  std::vector<CoreInfo> cores;  // cores whose PUs are local to this domain
};

struct NodeTopology {
  uint32_t packages = 0;
  std::vector<NumaDomain> numa;  // never empty after discovery (a machine without NUMA has one)
  std::vector<GpuInfo> gpus;
  uint64_t mem_mb = 0;           // total of the domains
  std::string cpu_model;         // e.g. "Intel(R) Xeon(R) CPU E5-2650 0 @ 2.00GHz", may be empty
  std::vector<std::vector<uint32_t>> numa_distances;  // hwloc NUMALatency, empty when unknown

  uint32_t coreCount() const;
  uint32_t puCount() const;
};

// Labels a node gets from its hardware, besides the configured features, for --constraint and
// GPU types: for each GPU model Slurm's autodetected type name (the model lowercased, spaces to
// underscores: "tesla_v100-sxm3-32gb-h", "nvidia_rtx_a4000") and the short model ("v100",
// "a4000", "h100"); "gpu" when the node has any; the CPU vendor ("intel", "amd"). Sorted, unique.
std::vector<std::string> discoveredFeatures(const NodeTopology& topology);
// Slurm's type name and the short model of one GPU model name.
std::string gpuTypeName(const std::string& model);
std::string gpuShortModel(const std::string& model);

// "0-3,8,10-11" <-> {0,1,2,3,8,10,11}: the kernel's cpu list format (Cpus_allowed_list).
std::string formatCpuList(std::vector<uint32_t> ids);
// nullopt when the text is not such a list ("" is the empty list).
std::optional<std::vector<uint32_t>> parseCpuList(std::string_view text);

}  // namespace locus
