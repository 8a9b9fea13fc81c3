#include "gpu/gpu_inventory.hpp"

#include <algorithm>
#include <map>
#include <numeric>

namespace locus::gpu {

void renumberGpus(std::vector<GpuInfo>& gpus) {
  std::vector<size_t> order(gpus.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const std::string& x = gpus[a].pci_bus_id;
    const std::string& y = gpus[b].pci_bus_id;
    if (x.empty() != y.empty()) return y.empty();
    return x < y;
  });
  std::map<uint32_t, uint32_t> new_index;  // old index -> new
  for (uint32_t pos = 0; pos < order.size(); ++pos) new_index[gpus[order[pos]].index] = pos;
  std::vector<GpuInfo> sorted;
  sorted.reserve(gpus.size());
  for (size_t pos = 0; pos < order.size(); ++pos) {
    GpuInfo g = std::move(gpus[order[pos]]);
    g.index = static_cast<uint32_t>(pos);
    std::vector<GpuLink> links;
    for (const GpuLink& l : g.links)
      if (auto it = new_index.find(l.peer); it != new_index.end()) links.push_back({it->second, l.bandwidth_mbps});
    std::sort(links.begin(), links.end(), [](const GpuLink& a, const GpuLink& b) { return a.peer < b.peer; });
    g.links = std::move(links);
    sorted.push_back(std::move(g));
  }
  gpus = std::move(sorted);
}

void mergeNvmlGpus(std::vector<GpuInfo>& gpus, const std::vector<NvmlGpu>& nvml,
                   const std::function<int32_t(const NvmlGpu&)>& numa_of) {
  // No early return for an empty `nvml`: the contract (bus id order, index = position, at most
  // 64 GPUs) holds afterwards whatever NVML found.
  std::vector<int> position(nvml.size(), -1);  // nvml[i] -> index into gpus
  for (size_t i = 0; i < nvml.size(); ++i) {
    const NvmlGpu& n = nvml[i];
    auto it = std::find_if(gpus.begin(), gpus.end(),
                           [&](const GpuInfo& g) { return !g.pci_bus_id.empty() && g.pci_bus_id == n.pci_bus_id; });
    if (it == gpus.end()) {
      GpuInfo g;
      g.index = static_cast<uint32_t>(gpus.size());
      g.os_name = "nvml" + std::to_string(n.nvml_index);
      g.pci_bus_id = n.pci_bus_id;
      g.numa = numa_of(n);
      gpus.push_back(std::move(g));
      it = gpus.end() - 1;
    }
    // NVML's names are the driver's ("NVIDIA H100 80GB HBM3"); hwloc's PCI database may only
    // know the chip ("GH100 [H100 SXM5 80GB]").
    if (!n.name.empty()) it->name = n.name;
    if (it->uuid.empty()) it->uuid = n.uuid;
    if (it->memory_mb == 0) it->memory_mb = n.memory_mb;
    position[i] = static_cast<int>(it - gpus.begin());
  }

  bool any_links = std::any_of(nvml.begin(), nvml.end(), [](const NvmlGpu& n) {
    return n.nvswitch_links > 0 || !n.nvlink_peer_bus_ids.empty();
  });
  if (any_links) {
    std::map<std::string, int> by_bus;
    for (size_t i = 0; i < nvml.size(); ++i) by_bus[nvml[i].pci_bus_id] = position[i];
    std::vector<std::map<uint32_t, uint64_t>> bandwidth(gpus.size());  // per gpu: peer -> MB/s
    for (size_t i = 0; i < nvml.size(); ++i) {
      const size_t self = static_cast<size_t>(position[i]);
      for (const std::string& bus : nvml[i].nvlink_peer_bus_ids)
        if (auto it = by_bus.find(bus); it != by_bus.end() && static_cast<size_t>(it->second) != self)
          bandwidth[self][static_cast<uint32_t>(it->second)] += kNvlinkLinkMbps;
      if (nvml[i].nvswitch_links == 0) continue;
      // Through the switches a GPU reaches any other at the slower of the two GPUs' switch bandwidth.
      for (size_t j = 0; j < nvml.size(); ++j) {
        if (j == i || nvml[j].nvswitch_links == 0) continue;
        const uint32_t peer = static_cast<uint32_t>(position[j]);
        bandwidth[self][peer] += kNvlinkLinkMbps * std::min(nvml[i].nvswitch_links, nvml[j].nvswitch_links);
      }
    }
    for (size_t g = 0; g < gpus.size(); ++g) {
      if (bandwidth[g].empty()) continue;
      gpus[g].links.clear();
      for (const auto& [peer, mbps] : bandwidth[g]) gpus[g].links.push_back({gpus[peer].index, mbps});
    }
  }
  renumberGpus(gpus);
  if (gpus.size() > 64) {
    gpus.resize(64);
    // A link to a GPU cut off here would name an index the node does not have (70 NVSwitch GPUs
    // left each of the first 64 with links to peers 64..69).
    for (GpuInfo& g : gpus)
      std::erase_if(g.links, [](const GpuLink& l) { return l.peer >= 64; });
  }
}

}  // namespace locus::gpu
