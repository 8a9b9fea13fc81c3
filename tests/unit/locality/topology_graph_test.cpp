#include "locality/topology_graph.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/topology.hpp"
#include "nodedaemon/discovery.hpp"

namespace locus::locality {
namespace {

// A node of `sockets` NUMA domains with `cores` cores each and `gpus` GPUs per domain.
NodeTopology machine(uint32_t sockets, uint32_t cores, uint32_t gpus_per_socket = 0) {
  NodeTopology t;
  t.packages = sockets;
  uint32_t core = 0;
  for (uint32_t s = 0; s < sockets; ++s) {
    NumaDomain d;
    d.os_index = s;
    for (uint32_t c = 0; c < cores; ++c, ++core) d.cores.push_back({core, {core}});
    t.numa.push_back(std::move(d));
    for (uint32_t g = 0; g < gpus_per_socket; ++g) {
      GpuInfo gpu;
      gpu.index = static_cast<uint32_t>(t.gpus.size());
      gpu.numa = static_cast<int32_t>(s);
      t.gpus.push_back(gpu);
    }
  }
  return t;
}

SwitchTree mustTree(const std::vector<SwitchSpec>& specs, const std::vector<std::string>& nodes) {
  auto r = buildSwitchTree(specs, nodes);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : SwitchTree{};
}

// spine1 -> leaf1 (a1-a4), leaf2 (b1-b4); spine2 -> leaf3 (c1-c4), leaf4 (d1-d2); two tops, so
// a virtual root "" above the spines; x1 is under no switch and hangs off that root.
// Node indices in addNode order: a1-a4 0-3, b1-b4 4-7, c1-c4 8-11, d1-d2 12-13, x1 14.
TopologyGraph fitCluster(bool with_x1 = false) {
  TopologyGraph g(mustTree({{"leaf1", "a[1-4]", "", 0},
                            {"leaf2", "b[1-4]", "", 0},
                            {"leaf3", "c[1-4]", "", 0},
                            {"leaf4", "d[1-2]", "", 0},
                            {"spine1", "", "leaf[1-2]", 0},
                            {"spine2", "", "leaf[3-4]", 0}},
                           {}));
  for (const char* n :
       {"a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4", "c1", "c2", "c3", "c4", "d1", "d2"}) {
    EXPECT_TRUE(g.addNode(n, machine(2, 4)).ok());
  }
  if (with_x1) {
    EXPECT_TRUE(g.addNode("x1", machine(1, 4)).ok());
  }
  return g;
}

// Free cores per node from a picture: one char per node, '.' busy (0 free), digit = free cores,
// 'F' = 8 (all free). Groups separated by spaces for readability: "FFFF FFFF FFFF FF".
std::vector<uint32_t> freeMap(const std::string& picture) {
  std::vector<uint32_t> out;
  for (char ch : picture) {
    if (ch == ' ') continue;
    out.push_back(ch == 'F' ? 8 : ch == '.' ? 0 : static_cast<uint32_t>(ch - '0'));
  }
  return out;
}

struct FitCase {
  std::string name;
  std::string free;  // freeMap picture: leaf1 leaf2 leaf3 leaf4
  uint32_t k;
  uint32_t cores_per_node;
  std::string want_switch;  // "-" = no fit
  std::vector<NodeIndex> want_nodes;
  uint32_t want_switches_used;
};

TEST(SmallestSubtreeWithFree, BestFitTable) {
  const std::vector<FitCase> cases = {
      // Every leaf holds 1; leaf4 has the fewest free nodes (2), so the big leaves stay whole.
      {"one node goes to the tightest leaf", "FFFF FFFF FFFF FF", 1, 1, "leaf4", {12}, 1},
      // leaf1 has 4 free, leaf2 exactly 2 (b3, b4): take leaf2, keep leaf1 whole.
      {"fragmentation: the leaf whose free nodes just suffice",
       "FFFF ..FF FFF. ..",
       2,
       1,
       "leaf2",
       {6, 7},
       1},
      {"best fit: exact leaf over a larger one", "FFFF .... FFF. ..", 3, 1, "leaf3", {8, 9, 10}, 1},
      // No leaf holds 6; spine2 has exactly 6 free, spine1 8: spine2, both its leaves.
      {"spanning two leaves under the tightest spine",
       "FFFF FFFF FFFF FF",
       6,
       1,
       "spine2",
       {8, 9, 10, 11, 12, 13},
       2},
      // Inside spine1: the larger leaf whole, then the remainder from leaf2.
      {"spanning: largest leaf first, then the remainder",
       "FFFF .FFF .... ..",
       5,
       1,
       "spine1",
       {0, 1, 2, 3, 5},
       2},
      // Remainder 2 after leaf1 (4): leaf2 has 3, leaf... only leaf2 in spine1; picks b-first.
      {"spanning: remainder best fit", "FFFF F.FF .... ..", 6, 1, "spine1", {0, 1, 2, 3, 4, 6}, 2},
      // No spine holds 10 (8 and 6): the root; spine1 whole, then leaf4 (2) inside spine2.
      {"more nodes than any leaf or spine",
       "FFFF FFFF FFFF FF",
       10,
       1,
       "",
       {0, 1, 2, 3, 4, 5, 6, 7, 12, 13},
       3},
      {"not enough free nodes anywhere", "FFFF .... .... ..", 5, 1, "-", {}, 0},
      {"more nodes than the cluster", "FFFF FFFF FFFF FF", 15, 1, "-", {}, 0},
      {"k = 0 asks for nothing", "FFFF FFFF FFFF FF", 0, 1, "-", {}, 0},
      // Needing 4 cores: leaf1 has 3 such nodes (a1 with 3 free does not count), leaf3 2.
      {"cores per node filters nodes", "3456 .... 1244 ..", 2, 4, "leaf3", {10, 11}, 1},
      {"cores per node: none has enough", "3456 .... 1234 ..", 1, 7, "-", {}, 0},
  };
  TopologyGraph g = fitCluster();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto free = freeMap(c.free);
    ASSERT_EQ(free.size(), g.nodeCount());
    auto fit = g.smallestSubtreeWithFree(c.k, free, c.cores_per_node);
    if (c.want_switch == "-") {
      EXPECT_FALSE(fit.has_value());
      continue;
    }
    ASSERT_TRUE(fit.has_value());
    EXPECT_EQ(g.switchTree().switches[fit->switch_index].name, c.want_switch);
    EXPECT_EQ(fit->nodes, c.want_nodes);
    EXPECT_EQ(fit->switches_used, c.want_switches_used);
  }
}

TEST(SmallestSubtreeWithFree, NodesUnderTheRootCountAtTheRoot) {
  TopologyGraph g = fitCluster(/*with_x1=*/true);
  // Only a1 and x1 free: the root is the lowest switch holding both.
  auto fit = g.smallestSubtreeWithFree(2, freeMap("F... .... .... .. F"), 1);
  ASSERT_TRUE(fit.has_value());
  EXPECT_EQ(g.switchTree().switches[fit->switch_index].name, "");
  EXPECT_EQ(fit->nodes, (std::vector<NodeIndex>{0, 14}));
  EXPECT_EQ(fit->switches_used, 2u);  // leaf1 and the root itself
}

TEST(TopologyGraph, Hops) {
  TopologyGraph g = fitCluster(/*with_x1=*/true);
  auto idx = [&](const char* n) { return *g.findNode(n); };
  struct Case {
    const char* a;
    const char* b;
    uint32_t hops;
  };
  const std::vector<Case> cases = {
      {"a1", "a1", 0},  // same node
      {"a1", "a2", 2},  // same leaf
      {"a1", "b4", 4},  // same spine
      {"a1", "d2", 6},  // through the virtual root
      {"x1", "a1", 4},  // x1 -> root is 1 link, a1 -> leaf1 -> spine1 -> root 3
      {"d1", "c3", 4},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.a) + "-" + c.b);
    EXPECT_EQ(g.hops(idx(c.a), idx(c.b)), c.hops);
    EXPECT_EQ(g.hops(idx(c.b), idx(c.a)), c.hops);
  }
}

TEST(TopologyGraph, AddNodeErrors) {
  TopologyGraph g(mustTree({}, {}));
  ASSERT_TRUE(g.addNode("n1", machine(1, 2)).ok());
  EXPECT_FALSE(g.addNode("n1", machine(1, 2)).ok());
  EXPECT_FALSE(g.addNode("empty", NodeTopology{}).ok());
  NodeTopology bad_cores = machine(2, 2);
  bad_cores.numa[1].cores[0].id = 7;
  auto r = g.addNode("bad_cores", bad_cores);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("core ids"), std::string::npos) << r.error().message;
  NodeTopology bad_gpu = machine(1, 2, 1);
  bad_gpu.gpus[0].numa = 3;
  EXPECT_FALSE(g.addNode("bad_gpu", bad_gpu).ok());
  EXPECT_EQ(g.nodeCount(), 1u);
  // A node the tree does not name hangs off the root.
  EXPECT_EQ(g.switchOf(0), g.switchTree().root);
}

TEST(TopologyGraph, DistancesAndGpuLinksWithoutHwlocData) {
  TopologyGraph g(mustTree({}, {}));
  NodeTopology t = machine(2, 4, 2);
  t.gpus.push_back({});
  t.gpus.back().index = 4;  // numa -1: locality unknown
  NodeIndex n = *g.addNode("n1", t);
  EXPECT_EQ(g.numaDistance(n, 0, 0), 10u);
  EXPECT_EQ(g.numaDistance(n, 0, 1), 20u);
  EXPECT_EQ(g.gpuLinkClass(n, 1, 1), GpuLinkClass::kSameGpu);
  EXPECT_EQ(g.gpuLinkClass(n, 0, 1), GpuLinkClass::kSameNuma);
  EXPECT_EQ(g.gpuLinkClass(n, 1, 2), GpuLinkClass::kCrossSocket);
  EXPECT_EQ(g.gpuLinkClass(n, 0, 4), GpuLinkClass::kUnknown);
  EXPECT_EQ(g.numaOfGpu(n, 4), -1);
  EXPECT_EQ(g.numaOfCore(n, 5), 1u);
  // 1 root switch + node + 2 NUMA + 8 cores + 5 GPUs; edges: all but the root have a parent.
  EXPECT_EQ(g.vertexCount(), 17u);
  EXPECT_EQ(g.edgeCount(), 16u);
  EXPECT_GT(g.memoryBytes(), 0u);
}

// --- graphs of real machines, from the hwloc XML exports, via the node daemon's discovery ---

NodeTopology fromXml(const std::string& file) {
  nodedaemon::DiscoveryOptions o;
  o.xml_path = std::string(LOCUS_TEST_DATA) + "/" + file;
  auto r = nodedaemon::discoverTopology(o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : NodeTopology{};
}

TEST(TopologyGraph, RealMachinesFromHwlocXml) {
  struct Case {
    std::string file;
    uint32_t numas, cores, gpus;
  };
  // Counts as `lstopo-no-graphics -i FILE` shows them (see the discovery test). The fifth
  // fixture, 64intel64-heteromem.xml, is hwloc XML v3, which this hwloc cannot import.
  const std::vector<Case> cases = {
      {"nvidiaDGX2.xml", 2, 4, 16},
      {"32em64t-2n8c2t-pci-wholeio.xml", 2, 16, 2},
      {"24em64t-2n6c2t-pci.xml", 2, 12, 0},
      {"16amd64-4distances.xml", 8, 16, 0},
  };
  TopologyGraph g(mustTree({{"leaf", "real[0-3]", "", 0}}, {}));
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    SCOPED_TRACE(c.file);
    NodeTopology t = fromXml(c.file);
    auto r = g.addNode("real" + std::to_string(i), t);
    ASSERT_TRUE(r.ok()) << r.error().message;
    NodeIndex n = *r;
    EXPECT_EQ(g.numaCount(n), c.numas);
    EXPECT_EQ(g.coreCount(n), c.cores);
    EXPECT_EQ(g.gpuCount(n), c.gpus);
    // The graph agrees with discovery, domain by domain.
    ASSERT_EQ(g.numaCount(n), t.numa.size());
    EXPECT_EQ(g.coreCount(n), t.coreCount());
    EXPECT_EQ(g.gpuCount(n), t.gpus.size());
    for (uint32_t d = 0; d < t.numa.size(); ++d) {
      EXPECT_EQ(g.coresInNuma(n, d), t.numa[d].cores.size());
      for (const auto& core : t.numa[d].cores) EXPECT_EQ(g.numaOfCore(n, core.id), d);
      for (uint32_t e = 0; e < t.numa.size(); ++e) {
        uint32_t want = t.numa_distances.empty() ? (d == e ? 10 : 20) : t.numa_distances[d][e];
        EXPECT_EQ(g.numaDistance(n, d, e), want);
      }
    }
    for (const auto& gpu : t.gpus) EXPECT_EQ(g.numaOfGpu(n, gpu.index), gpu.numa);
    EXPECT_EQ(g.switchTree().switches[g.switchOf(n)].name, "leaf");
  }
}

// The made-up GPU node of tests/data (make_gpu_node_xml.py): two A4000s behind each socket's
// PCIe switch, no NVLink.
TEST(TopologyGraph, GpuNodeLinkClassesFromPciePaths) {
  TopologyGraph g(mustTree({}, {}));
  NodeIndex n = *g.addNode("g", fromXml("gpu-node-2x32c-4gpu.xml"));
  ASSERT_EQ(g.gpuCount(n), 4u);
  EXPECT_EQ(g.gpuLinkClass(n, 0, 1), GpuLinkClass::kSamePcieSwitch);
  EXPECT_EQ(g.gpuLinkClass(n, 2, 3), GpuLinkClass::kSamePcieSwitch);
  EXPECT_EQ(g.gpuLinkClass(n, 1, 2), GpuLinkClass::kCrossSocket);
  EXPECT_EQ(gpuLinkClassName(GpuLinkClass::kSamePcieSwitch), "same-pcie-switch");
}

// Classes in order of closeness: NVLink beats a shared PCIe switch beats a shared socket.
TEST(TopologyGraph, GpuLinkClassTable) {
  NodeTopology t = machine(2, 2, 3);  // GPUs 0-2 on domain 0, 3-5 on domain 1
  t.gpus[0].links = {{1, 50000}};
  t.gpus[1].links = {{0, 50000}};
  t.gpus[0].pcie_switch = t.gpus[1].pcie_switch = t.gpus[2].pcie_switch = 7;
  t.gpus[3].pcie_switch = 9;
  t.gpus[4].links = {{5, 25000}, {4, 1}, {99, 1}};  // self and out-of-range peers are ignored
  TopologyGraph g(mustTree({}, {}));
  NodeIndex n = *g.addNode("n", t);
  struct Case {
    uint32_t a, b;
    GpuLinkClass want;
  };
  const Case cases[] = {
      {0, 1, GpuLinkClass::kNvlink},          {1, 0, GpuLinkClass::kNvlink},
      {0, 2, GpuLinkClass::kSamePcieSwitch},  {2, 1, GpuLinkClass::kSamePcieSwitch},
      {3, 4, GpuLinkClass::kSameNuma},        {4, 5, GpuLinkClass::kNvlink},
      {2, 3, GpuLinkClass::kCrossSocket},     {4, 4, GpuLinkClass::kSameGpu},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.a) + "-" + std::to_string(c.b));
    EXPECT_EQ(g.gpuLinkClass(n, c.a, c.b), c.want);
  }
}

TEST(TopologyGraph, Dgx2GpusHangOffTheirSocket) {
  TopologyGraph g(mustTree({}, {}));
  NodeIndex n = *g.addNode("dgx", fromXml("nvidiaDGX2.xml"));
  ASSERT_EQ(g.gpuCount(n), 16u);
  for (uint32_t gpu = 0; gpu < 16; ++gpu) {
    SCOPED_TRACE(gpu);
    EXPECT_EQ(g.numaOfGpu(n, gpu), gpu < 8 ? 0 : 1);
  }
  // All 16 reach each other over NVLink through the NVSwitches, across sockets too.
  EXPECT_EQ(g.gpuLinkClass(n, 0, 7), GpuLinkClass::kNvlink);
  EXPECT_EQ(g.gpuLinkClass(n, 8, 15), GpuLinkClass::kNvlink);
  EXPECT_EQ(g.gpuLinkClass(n, 3, 12), GpuLinkClass::kNvlink);
  EXPECT_EQ(g.gpuLinkClass(n, 5, 5), GpuLinkClass::kSameGpu);
  EXPECT_EQ(gpuLinkClassName(GpuLinkClass::kCrossSocket), "cross-socket");
  // hwloc's NUMALatency of the export (10 local, 21 remote on this machine).
  EXPECT_EQ(g.numaDistance(n, 0, 0), 10u);
  EXPECT_GT(g.numaDistance(n, 0, 1), 10u);
}

}  // namespace
}  // namespace locus::locality
