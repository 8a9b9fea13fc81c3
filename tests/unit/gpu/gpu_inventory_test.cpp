#include "gpu/gpu_inventory.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gpu/gpu_test_support.hpp"

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace locus::gpu {
namespace {

using gpu::testing::describe;
using gpu::testing::ScopedEnv;

// Builders: gpu(...) is a GpuInfo as hwloc reports it, nvml(...) an NvmlGpu as probeNvml does.
struct GpuBuilder {
  GpuInfo g;
  GpuBuilder& name(std::string v) {
    g.name = std::move(v);
    return *this;
  }
  GpuBuilder& uuid(std::string v) {
    g.uuid = std::move(v);
    return *this;
  }
  GpuBuilder& bus(std::string v) {
    g.pci_bus_id = std::move(v);
    return *this;
  }
  GpuBuilder& memory(uint64_t mb) {
    g.memory_mb = mb;
    return *this;
  }
  GpuBuilder& numa(int32_t n) {
    g.numa = n;
    return *this;
  }
  GpuBuilder& pcieSwitch(int32_t s) {
    g.pcie_switch = s;
    return *this;
  }
  GpuBuilder& link(uint32_t peer, uint64_t mbps) {
    g.links.push_back({peer, mbps});
    return *this;
  }
  operator GpuInfo() const { return g; }  // NOLINT: builders convert implicitly
};
GpuBuilder gpu(uint32_t index, std::string os_name) {
  GpuBuilder b;
  b.g.index = index;
  b.g.os_name = std::move(os_name);
  return b;
}

struct NvmlBuilder {
  NvmlGpu n;
  NvmlBuilder& name(std::string v) {
    n.name = std::move(v);
    return *this;
  }
  NvmlBuilder& uuid(std::string v) {
    n.uuid = std::move(v);
    return *this;
  }
  NvmlBuilder& memory(uint64_t mb) {
    n.memory_mb = mb;
    return *this;
  }
  NvmlBuilder& peer(std::string bus) {
    n.nvlink_peer_bus_ids.push_back(std::move(bus));
    return *this;
  }
  NvmlBuilder& switchLinks(uint32_t links) {
    n.nvswitch_links = links;
    return *this;
  }
  operator NvmlGpu() const { return n; }  // NOLINT
};
NvmlBuilder nvml(uint32_t nvml_index, std::string bus) {
  NvmlBuilder b;
  b.n.nvml_index = nvml_index;
  b.n.pci_bus_id = std::move(bus);
  return b;
}


// numa_of for the tests: a domain nobody else uses, to see where the value came from.
constexpr int32_t kNumaFromCallback = 7;
int32_t numaOf(const NvmlGpu&) { return kNumaFromCallback; }

TEST(RenumberGpusTest, SortsByBusIdAndRemapsPeers) {
  struct Case {
    std::string name;
    std::vector<GpuInfo> gpus;
    std::vector<GpuInfo> want;
  };
  const std::vector<Case> cases = {
      {"empty", {}, {}},
      {"already in order",
       {gpu(0, "a").bus("0000:3b:00.0").link(1, 100), gpu(1, "b").bus("0000:5e:00.0").link(0, 100)},
       {gpu(0, "a").bus("0000:3b:00.0").link(1, 100),
        gpu(1, "b").bus("0000:5e:00.0").link(0, 100)}},
      // Old order a b c d e; new order c(3b:00.0) e(3b:00.1) a(81) then b and d without a bus id
      // in their given order. Old peers 0 1 2 3 4 become 2 3 0 4 1.
      {"bus order, no bus id last",
       {gpu(0, "a").bus("0000:81:00.0").link(2, 100), gpu(1, "b").link(3, 300),
        gpu(2, "c").bus("0000:3b:00.0").link(0, 100).link(4, 200), gpu(3, "d").link(1, 300),
        gpu(4, "e").bus("0000:3b:00.1").link(2, 200)},
       {gpu(0, "c").bus("0000:3b:00.0").link(1, 200).link(2, 100),
        gpu(1, "e").bus("0000:3b:00.1").link(0, 200), gpu(2, "a").bus("0000:81:00.0").link(0, 100),
        gpu(3, "b").link(4, 300), gpu(4, "d").link(3, 300)}},
      {"pci domain sorts first",
       {gpu(0, "a").bus("0001:00:00.0"), gpu(1, "b").bus("0000:ff:00.0")},
       {gpu(0, "b").bus("0000:ff:00.0"), gpu(1, "a").bus("0001:00:00.0")}},
      // Everything but index and link peers travels with the GPU.
      {"other fields kept",
       {gpu(0, "cuda1").name("B").uuid("GPU-b").bus("0000:b7:00.0").memory(2).numa(1).pcieSwitch(9),
        gpu(1, "cuda0")
            .name("A")
            .uuid("GPU-a")
            .bus("0000:34:00.0")
            .memory(1)
            .numa(0)
            .pcieSwitch(3)},
       {gpu(0, "cuda0").name("A").uuid("GPU-a").bus("0000:34:00.0").memory(1).numa(0).pcieSwitch(3),
        gpu(1, "cuda1")
            .name("B")
            .uuid("GPU-b")
            .bus("0000:b7:00.0")
            .memory(2)
            .numa(1)
            .pcieSwitch(9)}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<GpuInfo> gpus = c.gpus;
    renumberGpus(gpus);
    EXPECT_EQ(describe(gpus), describe(c.want));
  }
}

TEST(MergeNvmlGpusTest, Table) {
  const uint64_t L = kNvlinkLinkMbps;  // 25000 MB/s per NVLink
  struct Case {
    std::string name;
    std::vector<GpuInfo> hwloc;
    std::vector<NvmlGpu> nvml;
    std::vector<GpuInfo> want;
  };
  const std::vector<Case> cases = {
      // hwloc without its NVML plugin: the PCI database's chip name, no UUID, no memory.
      {"same bus id fills name, uuid and memory",
       {gpu(0, "opencl0d0")
            .name("GV100GL [Tesla V100 SXM2 16GB]")
            .bus("0000:3b:00.0")
            .numa(1)
            .pcieSwitch(4)},
       {nvml(0, "0000:3b:00.0").name("Tesla V100-SXM2-16GB").uuid("GPU-aa").memory(16160)},
       {gpu(0, "opencl0d0")
            .name("Tesla V100-SXM2-16GB")
            .uuid("GPU-aa")
            .bus("0000:3b:00.0")
            .memory(16160)
            .numa(1)
            .pcieSwitch(4)}},
      {"uuid and memory hwloc has are kept",
       {gpu(0, "cuda0")
            .name("Tesla V100-SXM2-16GB")
            .uuid("GPU-hw")
            .bus("0000:3b:00.0")
            .memory(16384)
            .numa(0)},
       {nvml(0, "0000:3b:00.0").name("Tesla V100-SXM2-16GB").uuid("GPU-nv").memory(16160)},
       {gpu(0, "cuda0")
            .name("Tesla V100-SXM2-16GB")
            .uuid("GPU-hw")
            .bus("0000:3b:00.0")
            .memory(16384)
            .numa(0)}},
      // NVML's first GPU is unknown to hwloc; it sorts first by bus id.
      {"gpu unknown to hwloc is added",
       {gpu(0, "cuda0").name("NVIDIA A2").bus("0000:81:00.0").numa(1)},
       {nvml(0, "0000:3b:00.0").name("NVIDIA A100").uuid("GPU-new").memory(40536),
        nvml(1, "0000:81:00.0").name("NVIDIA A2").uuid("GPU-old").memory(15000)},
       {gpu(0, "nvml0")
            .name("NVIDIA A100")
            .uuid("GPU-new")
            .bus("0000:3b:00.0")
            .memory(40536)
            .numa(kNumaFromCallback),
        gpu(1, "cuda0")
            .name("NVIDIA A2")
            .uuid("GPU-old")
            .bus("0000:81:00.0")
            .memory(15000)
            .numa(1)}},
      // No hwloc GPU has a bus id: nothing can match, every NVML GPU is added.
      {"hwloc gpu without bus id never matches",
       {gpu(0, "rsmi0").name("Instinct MI100")},
       {nvml(3, "0000:3b:00.0").name("NVIDIA A2")},
       {gpu(0, "nvml3").name("NVIDIA A2").bus("0000:3b:00.0").numa(kNumaFromCallback),
        gpu(1, "rsmi0").name("Instinct MI100")}},
      {"no nvml gpus: hwloc's, renumbered",
       {gpu(0, "cuda1").bus("0000:b7:00.0"), gpu(1, "cuda0").bus("0000:34:00.0")},
       {},
       {gpu(0, "cuda0").bus("0000:34:00.0"), gpu(1, "cuda1").bus("0000:b7:00.0")}},
      // NVML lists C(86) A(3b) B(5e); A-B has two links, B-C one. Per GPU: A {B: 2 links},
      // B {A: 2, C: 1}, C {B: 1}; a link to a bus that is no GPU of the list is ignored.
      {"direct links counted per link",
       {},
       {nvml(0, "0000:86:00.0").peer("0000:5e:00.0"),
        nvml(1, "0000:3b:00.0").peer("0000:5e:00.0").peer("0000:5e:00.0"),
        nvml(2, "0000:5e:00.0")
            .peer("0000:3b:00.0")
            .peer("0000:86:00.0")
            .peer("0000:3b:00.0")
            .peer("0000:ee:00.0")},
       {gpu(0, "nvml1").bus("0000:3b:00.0").numa(kNumaFromCallback).link(1, 2 * L),
        gpu(1, "nvml2").bus("0000:5e:00.0").numa(kNumaFromCallback).link(0, 2 * L).link(2, L),
        gpu(2, "nvml0").bus("0000:86:00.0").numa(kNumaFromCallback).link(1, L)}},
      // A, B, C reach NVSwitches over 6, 6 and 12 links, D over none. Every pair of switch GPUs
      // is linked at the slower GPU's switch bandwidth: min(6, 12) x 25000 = 150000.
      {"nvswitch gpus all linked",
       {},
       {nvml(0, "0000:34:00.0").switchLinks(6), nvml(1, "0000:36:00.0").switchLinks(6),
        nvml(2, "0000:39:00.0").switchLinks(12), nvml(3, "0000:3b:00.0")},
       {gpu(0, "nvml0").bus("0000:34:00.0").numa(kNumaFromCallback).link(1, 6 * L).link(2, 6 * L),
        gpu(1, "nvml1").bus("0000:36:00.0").numa(kNumaFromCallback).link(0, 6 * L).link(2, 6 * L),
        gpu(2, "nvml2").bus("0000:39:00.0").numa(kNumaFromCallback).link(0, 6 * L).link(1, 6 * L),
        gpu(3, "nvml3").bus("0000:3b:00.0").numa(kNumaFromCallback)}},
      // A direct link and a switch path between the same pair add up: 25000 + min(2, 1) x 25000.
      {"direct link plus switch",
       {},
       {nvml(0, "0000:06:00.0").peer("0000:14:00.0").switchLinks(2),
        nvml(1, "0000:14:00.0").peer("0000:06:00.0").switchLinks(1)},
       {gpu(0, "nvml0").bus("0000:06:00.0").numa(kNumaFromCallback).link(1, 2 * L),
        gpu(1, "nvml1").bus("0000:14:00.0").numa(kNumaFromCallback).link(0, 2 * L)}},
      // hwloc's NVLinkBandwidth links stay when NVML reports no link at all.
      {"links untouched when nvml reports none",
       {gpu(0, "nvml0").bus("0000:34:00.0").numa(0).link(1, 150000),
        gpu(1, "nvml1").bus("0000:36:00.0").numa(0).link(0, 150000)},
       {nvml(0, "0000:34:00.0").name("V100"), nvml(1, "0000:36:00.0").name("V100")},
       {gpu(0, "nvml0").name("V100").bus("0000:34:00.0").numa(0).link(1, 150000),
        gpu(1, "nvml1").name("V100").bus("0000:36:00.0").numa(0).link(0, 150000)}},
      {"nvml links replace hwloc's",
       {gpu(0, "nvml0").bus("0000:34:00.0").numa(0).link(1, 99),
        gpu(1, "nvml1").bus("0000:36:00.0").numa(0).link(0, 99)},
       {nvml(0, "0000:34:00.0").switchLinks(1), nvml(1, "0000:36:00.0").switchLinks(1)},
       {gpu(0, "nvml0").bus("0000:34:00.0").numa(0).link(1, L),
        gpu(1, "nvml1").bus("0000:36:00.0").numa(0).link(0, L)}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<GpuInfo> gpus = c.hwloc;
    mergeNvmlGpus(gpus, c.nvml, numaOf);
    EXPECT_EQ(describe(gpus), describe(c.want));
  }
}

TEST(MergeNvmlGpusTest, NumaOfIsAskedOnlyForGpusHwlocLacks) {
  std::vector<GpuInfo> gpus = {gpu(0, "cuda0").bus("0000:81:00.0").numa(1)};
  std::vector<std::string> asked;
  mergeNvmlGpus(gpus, {nvml(0, "0000:3b:00.0"), nvml(1, "0000:81:00.0"), nvml(2, "0000:86:00.0")},
                [&](const NvmlGpu& n) {
                  asked.push_back(n.pci_bus_id);
                  return n.pci_bus_id == "0000:3b:00.0" ? 0 : 1;
                });
  EXPECT_EQ(asked, (std::vector<std::string>{"0000:3b:00.0", "0000:86:00.0"}));
  ASSERT_EQ(gpus.size(), 3u);
  EXPECT_EQ(gpus[0].numa, 0);
  EXPECT_EQ(gpus[1].numa, 1);  // hwloc's
  EXPECT_EQ(gpus[2].numa, 1);
}

TEST(MergeNvmlGpusTest, AtMost64GpusAndNoLinkToADroppedOne) {
  struct Case {
    std::string name;
    size_t hwloc_gpus, nvml_gpus;
  };
  // 70 GPUs, all on NVSwitches: the first 64 by bus id stay, each linked to the 63 others.
  const std::vector<Case> cases = {
      {"all from nvml", 0, 70},
      {"half from hwloc", 35, 70},
      {"exactly 64", 0, 64},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<GpuInfo> gpus;
    std::vector<NvmlGpu> found;
    for (size_t i = 0; i < c.nvml_gpus; ++i) {
      char bus[32];
      std::snprintf(bus, sizeof bus, "0000:%02zx:00.0", i + 1);
      if (i < c.hwloc_gpus)
        gpus.push_back(gpu(static_cast<uint32_t>(i), "cuda" + std::to_string(i)).bus(bus));
      found.push_back(nvml(static_cast<uint32_t>(i), bus).switchLinks(6));
    }
    mergeNvmlGpus(gpus, found, numaOf);
    ASSERT_EQ(gpus.size(), 64u);
    for (uint32_t i = 0; i < gpus.size(); ++i) {
      SCOPED_TRACE("GPU " + std::to_string(i));
      char bus[32];
      std::snprintf(bus, sizeof bus, "0000:%02x:00.0", i + 1);
      EXPECT_EQ(gpus[i].index, i);
      EXPECT_EQ(gpus[i].pci_bus_id, bus);
      ASSERT_EQ(gpus[i].links.size(), 63u);
      for (const GpuLink& l : gpus[i].links) {
        EXPECT_LT(l.peer, 64u);
        EXPECT_NE(l.peer, i);
        EXPECT_EQ(l.bandwidth_mbps, 6 * kNvlinkLinkMbps);
      }
    }
  }
}

}  // namespace
}  // namespace locus::gpu
