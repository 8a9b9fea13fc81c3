#include "nodedaemon/discovery.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gpu/gpu_test_support.hpp"
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/topology.hpp"

namespace locus::nodedaemon {
namespace {

using gpu::testing::describe;
using gpu::testing::ScopedEnv;

std::string dataFile(const std::string& name) { return std::string(LOCUS_TEST_DATA) + "/" + name; }

NodeTopology mustDiscover(const DiscoveryOptions& options) {
  auto r = discoverTopology(options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : NodeTopology{};
}

DiscoveryOptions xmlOptions(const std::string& path) {
  DiscoveryOptions o;
  o.xml_path = path;
  return o;
}

DiscoveryOptions syntheticOptions(const std::string& description) {
  DiscoveryOptions o;
  o.synthetic = description;
  return o;
}

NodeTopology fromXml(const std::string& name) { return mustDiscover(xmlOptions(dataFile(name))); }

std::vector<uint32_t> numaOsIndices(const NodeTopology& t) {
  std::vector<uint32_t> out;
  for (const auto& d : t.numa) out.push_back(d.os_index);
  return out;
}

std::vector<size_t> coresPerDomain(const NodeTopology& t) {
  std::vector<size_t> out;
  for (const auto& d : t.numa) out.push_back(d.cores.size());
  return out;
}

// A small hwloc 2 XML written by the test, for shapes the fixtures lack.
class TempXml {
 public:
  explicit TempXml(const std::string& body) {
    char tmpl[] = "/tmp/locus_discovery_XXXXXX";
    int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    if (fd >= 0) close(fd);
    path_ = tmpl;
    std::ofstream(path_) << body;
  }
  ~TempXml() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr const char* kXmlHead =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n"
    "<topology version=\"2.0\">\n"
    " <object type=\"Machine\" os_index=\"0\" cpuset=\"0x00000003\" complete_cpuset=\"0x00000003\""
    " allowed_cpuset=\"0x00000003\" nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\""
    " allowed_nodeset=\"0x00000001\" gp_index=\"1\">\n"
    "  <object type=\"Package\" os_index=\"0\" cpuset=\"0x00000003\" complete_cpuset=\"0x00000003\""
    " nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" gp_index=\"2\">\n"
    "   <object type=\"NUMANode\" os_index=\"0\" cpuset=\"0x00000003\""
    " complete_cpuset=\"0x00000003\" nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\""
    " gp_index=\"3\" local_memory=\"2147483648\"/>\n";

constexpr const char* kXmlPus =
    "   <object type=\"PU\" os_index=\"0\" cpuset=\"0x00000001\" complete_cpuset=\"0x00000001\""
    " nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" gp_index=\"5\"/>\n"
    "   <object type=\"PU\" os_index=\"1\" cpuset=\"0x00000002\" complete_cpuset=\"0x00000002\""
    " nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" gp_index=\"6\"/>\n";

constexpr const char* kXmlTail = "  </object>\n </object>\n</topology>\n";

// One V100 seen by three backends at 0000:81:00.0, and an AMD card seen by rocm-smi only at the
// lower bus id 0000:41:00.0, so it must come first.
constexpr const char* kXmlGpus =
    "   <object type=\"Bridge\" gp_index=\"10\" bridge_type=\"0-1\" depth=\"0\""
    " bridge_pci=\"0000:[00-ff]\">\n"
    "    <object type=\"PCIDev\" gp_index=\"11\" pci_busid=\"0000:81:00.0\""
    " pci_type=\"0302 [10de:1db8] [0000:0000] a1\" pci_link_speed=\"0.000000\">\n"
    "     <info name=\"PCIDevice\" value=\"GV100GL\"/>\n"
    "     <object type=\"OSDev\" gp_index=\"12\" name=\"opencl0d0\" subtype=\"OpenCL\""
    " osdev_type=\"5\">\n"
    "      <info name=\"GPUModel\" value=\"Tesla V100 (OpenCL)\"/>\n"
    "      <info name=\"OpenCLGlobalMemorySize\" value=\"1048576\"/>\n"
    "     </object>\n"
    "     <object type=\"OSDev\" gp_index=\"13\" name=\"cuda0\" subtype=\"CUDA\""
    " osdev_type=\"5\">\n"
    "      <info name=\"GPUModel\" value=\"Tesla V100-SXM2-16GB\"/>\n"
    "      <info name=\"CUDAGlobalMemorySize\" value=\"16777216\"/>\n"
    "     </object>\n"
    "     <object type=\"OSDev\" gp_index=\"14\" name=\"nvml0\" osdev_type=\"1\">\n"
    "      <info name=\"GPUModel\" value=\"Tesla V100-SXM2-16GB\"/>\n"
    "      <info name=\"NVIDIAUUID\" value=\"GPU-1234\"/>\n"
    "     </object>\n"
    "     <object type=\"OSDev\" gp_index=\"15\" name=\"card1\" osdev_type=\"1\"/>\n"
    "    </object>\n"
    "    <object type=\"PCIDev\" gp_index=\"16\" pci_busid=\"0000:41:00.0\""
    " pci_type=\"0300 [1002:738c] [0000:0000] 00\" pci_link_speed=\"0.000000\">\n"
    "     <info name=\"PCIDevice\" value=\"Arcturus GL-XL [Instinct MI100]\"/>\n"
    "     <object type=\"OSDev\" gp_index=\"17\" name=\"rsmi0\" osdev_type=\"1\"/>\n"
    "    </object>\n"
    "   </object>\n";

std::string xmlWithCores() {
  return std::string(kXmlHead) +
         "   <object type=\"Core\" os_index=\"0\" cpuset=\"0x00000003\""
         " complete_cpuset=\"0x00000003\" nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\""
         " gp_index=\"4\">\n" +
         kXmlPus + "   </object>\n" + kXmlGpus + kXmlTail;
}

// --- counts of the fixtures, as `lstopo-no-graphics -i FILE` shows them ---

struct XmlCase {
  std::string name;
  std::string file;
  uint32_t packages;
  std::vector<uint32_t> numa_os;  // topology.numa order is hwloc's logical order
  std::vector<size_t> cores_per_domain;
  uint32_t pus;
  size_t gpus;
  bool has_distances;
  std::string cpu_model;
};

TEST(DiscoveryTest, XmlFixturesMatchLstopo) {
  const std::vector<XmlCase> cases = {
      // DGX-2 export restricted to 4 cores (PUs 0,1 and 24,25); 16 V100 behind NVML.
      {"dgx2",
       "nvidiaDGX2.xml",
       2,
       {0, 1},
       {2, 2},
       4,
       16,
       true,
       "Intel(R) Xeon(R) Platinum 8174 CPU @ 3.10GHz"},
      // cuda0 (K40m) at 84:00.0 and opencl0d1 (AMD) at 84:00.1; "card0" is no compute backend.
      {"wholeio",
       "32em64t-2n8c2t-pci-wholeio.xml",
       2,
       {0, 1},
       {8, 8},
       32,
       2,
       true,
       "Intel(R) Xeon(R) CPU E5-2650 0 @ 2.00GHz"},
      // Three NVIDIA PCI devices but no CUDA/NVML OS devices: no GPU we can hand out.
      {"no_gpu_backend", "24em64t-2n6c2t-pci.xml", 2, {0, 1}, {6, 6}, 24, 0, true, ""},
      // Made by make_gpu_node_xml.py: 2 x 32 cores of 1 PU, 4 A4000 seen by cuda and nvml.
      {"gpu_node",
       "gpu-node-2x32c-4gpu.xml",
       2,
       {0, 1},
       {32, 32},
       64,
       4,
       false,
       "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"},
      // NUMA logical order differs from OS order: L#0 is P#1, L#3 is P#5.
      {"amd_distances",
       "16amd64-4distances.xml",
       8,
       {1, 0, 2, 5, 4, 3, 6, 7},
       {2, 2, 2, 2, 2, 2, 2, 2},
       16,
       0,
       true,
       "Dual Core AMD Opteron(tm) Processor 865"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    NodeTopology t = fromXml(c.file);
    EXPECT_EQ(t.packages, c.packages);
    EXPECT_EQ(numaOsIndices(t), c.numa_os);
    EXPECT_EQ(coresPerDomain(t), c.cores_per_domain);
    EXPECT_EQ(t.puCount(), c.pus);
    EXPECT_EQ(t.gpus.size(), c.gpus);
    EXPECT_EQ(!t.numa_distances.empty(), c.has_distances);
    EXPECT_EQ(t.cpu_model, c.cpu_model);
    // Logical core ids are 0..n-1, each exactly once, ascending across domains.
    uint32_t next = 0;
    for (const auto& d : t.numa) {
      for (const auto& core : d.cores) EXPECT_EQ(core.id, next++);
    }
    EXPECT_EQ(next, t.coreCount());
  }
}

TEST(DiscoveryTest, MemoryAndPusFromXml) {
  NodeTopology dgx = fromXml("nvidiaDGX2.xml");
  ASSERT_EQ(dgx.numa.size(), 2u);
  // local_memory 791244484 KB and 792712816 KB, floored to MB.
  EXPECT_EQ(dgx.numa[0].mem_mb, 772699u);
  EXPECT_EQ(dgx.numa[1].mem_mb, 774133u);
  EXPECT_EQ(dgx.mem_mb, 772699u + 774133u);
  ASSERT_EQ(dgx.numa[1].cores.size(), 2u);
  EXPECT_EQ(dgx.numa[1].cores[0].id, 2u);
  EXPECT_EQ(dgx.numa[1].cores[0].pus, (std::vector<uint32_t>{24}));
  EXPECT_EQ(dgx.numa[1].cores[1].pus, (std::vector<uint32_t>{25}));

  NodeTopology wio = fromXml("32em64t-2n8c2t-pci-wholeio.xml");
  ASSERT_EQ(wio.numa.size(), 2u);
  // Hyperthreads of core 0 are PU 0 and PU 16; core 8 (first of package 1) has 8 and 24.
  EXPECT_EQ(wio.numa[0].cores[0].pus, (std::vector<uint32_t>{0, 16}));
  EXPECT_EQ(wio.numa[1].cores[0].id, 8u);
  EXPECT_EQ(wio.numa[1].cores[0].pus, (std::vector<uint32_t>{8, 24}));
  EXPECT_EQ(wio.numa[0].mem_mb, 32739u);  // 33525560 KB
  EXPECT_EQ(wio.numa[1].mem_mb, 32768u);  // 33554432 KB
}

TEST(DiscoveryTest, Dgx2GpusSplitAcrossNumaByPciLocality) {
  NodeTopology t = fromXml("nvidiaDGX2.xml");
  ASSERT_EQ(t.gpus.size(), 16u);
  // lstopo: nvml0-7 (PCI 34:00.0 .. 5e:00.0) below NUMANode P#0, nvml8-15 (b7:00.0 .. e7:00.0)
  // below NUMANode P#1. Bus order equals nvml order here.
  const std::vector<std::string> buses = {"34", "36", "39", "3b", "57", "59", "5c", "5e",
                                          "b7", "b9", "bc", "be", "e0", "e2", "e5", "e7"};
  int per_domain[2] = {0, 0};
  for (uint32_t i = 0; i < t.gpus.size(); ++i) {
    const GpuInfo& g = t.gpus[i];
    SCOPED_TRACE(g.os_name);
    EXPECT_EQ(g.index, i);
    EXPECT_EQ(g.os_name, "nvml" + std::to_string(i));
    EXPECT_EQ(g.name, "Tesla V100-SXM3-32GB-H");
    EXPECT_EQ(g.pci_bus_id, "0000:" + buses[i] + ":00.0");
    EXPECT_EQ(g.uuid.rfind("GPU-", 0), 0u);
    EXPECT_EQ(g.memory_mb, 0u);  // NVML export carries no memory size
    ASSERT_GE(g.numa, 0);
    ASSERT_LT(g.numa, 2);
    EXPECT_EQ(g.numa, i < 8 ? 0 : 1);
    ++per_domain[g.numa];
  }
  EXPECT_EQ(per_domain[0], 8);
  EXPECT_EQ(per_domain[1], 8);
  EXPECT_EQ(t.gpus[0].uuid, "GPU-d3977428-7a30-086b-2e20-5c1eeed647c6");
}

TEST(DiscoveryTest, WholeIoGpus) {
  NodeTopology t = fromXml("32em64t-2n8c2t-pci-wholeio.xml");
  ASSERT_EQ(t.gpus.size(), 2u);
  struct Want {
    std::string os_name, name, bus;
    uint64_t memory_mb;
  };
  const std::vector<Want> want = {
      {"cuda0", "Tesla K40m", "0000:84:00.0", 11519},                             // 11796032 KB
      {"opencl0d1", "AMD Radeon R9 200 / HD 7900 Series", "0000:84:00.1", 3015},  // 3087360 KB
  };
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(want[i].os_name);
    EXPECT_EQ(t.gpus[i].index, i);
    EXPECT_EQ(t.gpus[i].os_name, want[i].os_name);
    EXPECT_EQ(t.gpus[i].name, want[i].name);
    EXPECT_EQ(t.gpus[i].pci_bus_id, want[i].bus);
    EXPECT_EQ(t.gpus[i].memory_mb, want[i].memory_mb);
    EXPECT_EQ(t.gpus[i].uuid, "");
    EXPECT_EQ(t.gpus[i].numa, 1);  // both behind root port 80:03.0 of package 1
  }
}

TEST(DiscoveryTest, BackendsOfOnePciDeviceAreOneGpu) {
  TempXml xml(xmlWithCores());
  NodeTopology t = mustDiscover(xmlOptions(xml.path()));
  ASSERT_EQ(t.gpus.size(), 2u);
  // rsmi0 at 41:00.0 sorts before the V100 at 81:00.0; it has no GPUModel: PCI device name.
  EXPECT_EQ(t.gpus[0].os_name, "rsmi0");
  EXPECT_EQ(t.gpus[0].name, "Arcturus GL-XL [Instinct MI100]");
  EXPECT_EQ(t.gpus[0].pci_bus_id, "0000:41:00.0");
  EXPECT_EQ(t.gpus[0].memory_mb, 0u);
  // opencl0d0, cuda0 and nvml0 are the same card: NVML's name, NVML's uuid, CUDA's memory.
  EXPECT_EQ(t.gpus[1].index, 1u);
  EXPECT_EQ(t.gpus[1].os_name, "nvml0");
  EXPECT_EQ(t.gpus[1].name, "Tesla V100-SXM2-16GB");
  EXPECT_EQ(t.gpus[1].uuid, "GPU-1234");
  EXPECT_EQ(t.gpus[1].memory_mb, 16384u);
  EXPECT_EQ(t.gpus[1].pci_bus_id, "0000:81:00.0");
  for (const auto& g : t.gpus) EXPECT_EQ(g.numa, 0);
  EXPECT_EQ(t.mem_mb, 2048u);
  EXPECT_EQ(t.coreCount(), 1u);
  EXPECT_EQ(t.puCount(), 2u);
}

TEST(DiscoveryTest, PusWithoutCoresAreCores) {
  TempXml xml(std::string(kXmlHead) + kXmlPus + kXmlTail);
  NodeTopology t = mustDiscover(xmlOptions(xml.path()));
  ASSERT_EQ(t.numa.size(), 1u);
  ASSERT_EQ(t.coreCount(), 2u);
  EXPECT_EQ(t.numa[0].cores[0].id, 0u);
  EXPECT_EQ(t.numa[0].cores[0].pus, (std::vector<uint32_t>{0}));
  EXPECT_EQ(t.numa[0].cores[1].pus, (std::vector<uint32_t>{1}));
  EXPECT_TRUE(t.gpus.empty());
}

TEST(DiscoveryTest, NumaLatencyInTopologyOrder) {
  // lstopo --distances: DGX-2 10/21; the 8-socket Opteron 10 on the diagonal, 20 elsewhere.
  NodeTopology dgx = fromXml("nvidiaDGX2.xml");
  EXPECT_EQ(dgx.numa_distances, (std::vector<std::vector<uint32_t>>{{10, 21}, {21, 10}}));

  NodeTopology t = fromXml("16amd64-4distances.xml");
  ASSERT_EQ(t.numa_distances.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    ASSERT_EQ(t.numa_distances[i].size(), 8u);
    for (size_t j = 0; j < 8; ++j) EXPECT_EQ(t.numa_distances[i][j], i == j ? 10u : 20u);
  }
}

TEST(DiscoveryTest, Synthetic) {
  // hwloc puts each NUMA node in a Group below the package: 2 x 2 domains of 4 cores x 2 PUs,
  // 1 GB each.
  NodeTopology t = mustDiscover(syntheticOptions("pack:2 numa:2 core:4 pu:2"));
  EXPECT_EQ(t.packages, 2u);
  EXPECT_EQ(coresPerDomain(t), (std::vector<size_t>{4, 4, 4, 4}));
  EXPECT_EQ(numaOsIndices(t), (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(t.coreCount(), 16u);
  EXPECT_EQ(t.puCount(), 32u);
  for (const auto& d : t.numa) EXPECT_EQ(d.mem_mb, 1024u);
  EXPECT_EQ(t.mem_mb, 4096u);
  EXPECT_TRUE(t.gpus.empty());
  EXPECT_EQ(t.numa[1].cores[0].id, 4u);
  EXPECT_EQ(t.numa[1].cores[0].pus, (std::vector<uint32_t>{8, 9}));
}

TEST(DiscoveryTest, RealMachine) {
  NodeTopology t = mustDiscover({});
  EXPECT_GE(t.coreCount(), 1u);
  EXPECT_GE(t.puCount(), t.coreCount());
  EXPECT_FALSE(t.numa.empty());
  EXPECT_GE(hostPuCount(), 1u);
  EXPECT_LE(t.puCount(), hostPuCount());
  for (const auto& g : t.gpus) EXPECT_FALSE(g.os_name.empty());
}

TEST(DiscoveryTest, ErrorsAreInvalidArgumentNamingTheInput) {
  struct Case {
    std::string name;
    DiscoveryOptions options;
    std::vector<std::string> message_has;
  };
  const std::string v3 = dataFile("64intel64-heteromem.xml");
  const std::string missing = dataFile("no-such-topology.xml");
  DiscoveryOptions both = xmlOptions(v3);
  both.synthetic = "pack:2";
  const std::vector<Case> cases = {
      {"hwloc 3 xml", xmlOptions(v3), {v3, "version 3"}},
      {"missing file", xmlOptions(missing), {missing, "No such file"}},
      {"directory", xmlOptions(LOCUS_TEST_DATA), {LOCUS_TEST_DATA}},
      {"bad synthetic", syntheticOptions("pack:2 bogus:3"), {"pack:2 bogus:3"}},
      {"zero arity", syntheticOptions("pack:0"), {"pack:0"}},
      {"both", both, {"not both"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = discoverTopology(c.options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    for (const auto& s : c.message_has) {
      EXPECT_NE(r.error().message.find(s), std::string::npos) << r.error().message;
    }
  }
}

// --- host binding ---

TEST(DiscoveryTest, HostCpusForCoresMapsModuloHostPus) {
  // 32em64t: core c has PUs {c, c+16} for c < 16.
  NodeTopology t = fromXml("32em64t-2n8c2t-pci-wholeio.xml");
  struct Case {
    std::string name;
    std::vector<uint32_t> cores;
    uint32_t host_pus;
    std::vector<uint32_t> want;
  };
  const std::vector<Case> cases = {
      {"host as big", {0, 1}, 32, {0, 1, 16, 17}},
      {"host bigger", {9}, 64, {9, 25}},
      {"fold on 16", {0, 1}, 16, {0, 1}},      // 16 % 16 = 0, 17 % 16 = 1
      {"fold on 2", {0, 1, 2, 3}, 2, {0, 1}},  // every PU is 0 or 1 mod 2
      {"single pu host", {5, 12}, 1, {0}},
      {"order and dups", {3, 1, 3}, 32, {1, 3, 17, 19}},
      {"unknown core skipped", {0, 99}, 32, {0, 16}},
      {"none", {}, 32, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(hostCpusForCores(t, c.cores, c.host_pus), c.want);
  }
}

// --- GPU links, PCIe switches and NVML ---


TEST(DiscoveryTest, Dgx2NvlinksThroughNvswitches) {
  NodeTopology t = fromXml("nvidiaDGX2.xml");
  ASSERT_EQ(t.gpus.size(), 16u);
  // NVLinkBandwidth in the XML: 16 GPU OS devices and 12 NVSwitch PCI devices, no GPU-GPU entry.
  // Each GPU row has 6 non-zero entries of 25000 MB/s, all to NVSwitches (nvml0-7 to the six at
  // 61-67:00.0, nvml8-15 to the six at c1-c7:00.0): 6 x 25000 = 150000 MB/s of switch bandwidth
  // per GPU. Every GPU thus reaches the 15 others at min(150000, 150000) = 150000 MB/s.
  constexpr uint64_t kSwitchMbps = 6 * 25000;
  for (const GpuInfo& g : t.gpus) {
    SCOPED_TRACE(g.os_name);
    ASSERT_EQ(g.links.size(), 15u);
    std::vector<uint32_t> peers;
    for (const GpuLink& l : g.links) {
      peers.push_back(l.peer);
      EXPECT_EQ(l.bandwidth_mbps, kSwitchMbps);
    }
    std::vector<uint32_t> want;  // every other GPU, ascending
    for (uint32_t p = 0; p < 16; ++p)
      if (p != g.index) want.push_back(p);
    EXPECT_EQ(peers, want);
  }
}

TEST(DiscoveryTest, PcieSwitchOfGpus) {
  struct Case {
    std::string name;
    std::string file;
    // GPUs by index that share a top PCIe switch; GPUs of different groups do not.
    std::vector<std::vector<uint32_t>> groups;
  };
  const std::vector<Case> cases = {
      // lstopo: host bridge -> root port 2b:00.0 -> switch upstream port 2c:00.0 above nvml0-3;
      // 4e:00.0 -> 4f:00.0 above nvml4-7; ae:00.0 -> af:00.0 above nvml8-11; d7:00.0 -> d8:00.0
      // above nvml12-15. (nvml0-1 and nvml2-3 sit behind further switches below 2c:00.0.)
      {"dgx2", "nvidiaDGX2.xml", {{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}}},
      // Root port 10:00.0 -> switch 11:00.0 above 13:00.0 and 14:00.0; 90:00.0 -> 91:00.0 above
      // 93:00.0 and 94:00.0.
      {"gpu node", "gpu-node-2x32c-4gpu.xml", {{0, 1}, {2, 3}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    NodeTopology t = fromXml(c.file);
    size_t gpus = 0;
    std::set<int32_t> seen;
    for (const auto& group : c.groups) {
      gpus += group.size();
      ASSERT_LT(group.front(), t.gpus.size());
      const int32_t sw = t.gpus[group.front()].pcie_switch;
      EXPECT_GE(sw, 0);
      EXPECT_TRUE(seen.insert(sw).second) << "switch " << sw << " shared by two groups";
      for (uint32_t i : group) {
        ASSERT_LT(i, t.gpus.size());
        EXPECT_EQ(t.gpus[i].pcie_switch, sw) << t.gpus[i].os_name;
      }
    }
    EXPECT_EQ(t.gpus.size(), gpus);
  }
}

TEST(DiscoveryTest, GpuNodeFixture) {
  NodeTopology t = fromXml("gpu-node-2x32c-4gpu.xml");
  EXPECT_EQ(t.coreCount(), 64u);
  ASSERT_EQ(t.numa.size(), 2u);
  ASSERT_EQ(t.gpus.size(), 4u);
  const std::vector<std::string> buses = {"0000:13:00.0", "0000:14:00.0", "0000:93:00.0",
                                          "0000:94:00.0"};
  const std::vector<int32_t> numa = {0, 0, 1, 1};
  for (uint32_t i = 0; i < 4; ++i) {
    const GpuInfo& g = t.gpus[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(g.index, i);
    EXPECT_EQ(g.os_name, "nvml" + std::to_string(i));  // NVML preferred over cuda<i>
    EXPECT_EQ(g.name, "NVIDIA RTX A4000");
    EXPECT_EQ(g.memory_mb, 16384u);  // CUDAGlobalMemorySize 16777216 KB
    EXPECT_EQ(g.uuid, "GPU-00000000-0000-4000-8000-00000000000" + std::to_string(i));
    EXPECT_EQ(g.pci_bus_id, buses[i]);
    EXPECT_EQ(g.numa, numa[i]);
    EXPECT_TRUE(g.links.empty());  // the A4000 has no NVLink, the XML no NVLinkBandwidth
  }
  EXPECT_EQ(t.gpus[0].pcie_switch, t.gpus[1].pcie_switch);
  EXPECT_EQ(t.gpus[2].pcie_switch, t.gpus[3].pcie_switch);
  EXPECT_NE(t.gpus[0].pcie_switch, t.gpus[2].pcie_switch);
}


TEST(DiscoveryTest, NvmlMergedIntoEmulatedMachine) {
  // LOCUS_FAKE_NVML is tests/unit/gpu/fake_nvml.c, a test double for the driver's NVML (no NVIDIA
  // driver runs here). It reports three GPUs: 06:00.0 and 14:00.0 are NVIDIA PCI devices of the
  // XML below NUMA nodes P#0 and P#1 (hwloc reports no GPU for them, no CUDA/NVML OS devices);
  // 9a:00.0 is not in the XML and NVML puts it near the odd PUs, which are NUMA node P#1's.
  // The first two share one direct link and reach NVSwitches over 2 and 1 links:
  // 25000 + min(2, 1) x 25000 = 50000 MB/s.
  const std::vector<std::string> with_fake = {
      "0 nvml0 name=NVIDIA A100-SXM4-40GB uuid=GPU-fa4e0000-0000-4000-8000-000000000000"
      " bus=0000:06:00.0 mem=40536 numa=0 switch=-1 links=[1:50000]",
      "1 nvml1 name=NVIDIA A100-SXM4-40GB uuid=GPU-fa4e0000-0000-4000-8000-000000000001"
      " bus=0000:14:00.0 mem=40536 numa=1 switch=-1 links=[0:50000]",
      "2 nvml2 name=NVIDIA A2 uuid= bus=0000:9a:00.0 mem=16384 numa=1 switch=-1 links=[]",
  };
  struct Case {
    std::string name;
    std::string nvml_library;
    const char* fail;  // FAKE_NVML_FAIL
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"fake nvml", LOCUS_FAKE_NVML, nullptr, with_fake},
      {"never", "none", nullptr, {}},
      // An emulated machine's GPUs are not this host's: no NVML unless a library is named.
      {"default", "", nullptr, {}},
      {"missing library", dataFile("no-such-libnvidia-ml.so.1"), nullptr, {}},
      // NVML failing after init: GPUs as hwloc sees them (none here), not a discovery error.
      {"nvml call fails", LOCUS_FAKE_NVML, "nvmlDeviceGetName", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ScopedEnv fail("FAKE_NVML_FAIL", c.fail);
    DiscoveryOptions o = xmlOptions(dataFile("24em64t-2n6c2t-pci.xml"));
    o.nvml_library = c.nvml_library;
    NodeTopology t = mustDiscover(o);
    EXPECT_EQ(describe(t.gpus), c.want);
    // NVML changes the GPUs only.
    EXPECT_EQ(coresPerDomain(t), (std::vector<size_t>{6, 6}));
    EXPECT_EQ(t.puCount(), 24u);
  }
}

// 65 GPUs (PCI 01:00.0 .. 41:00.0), NVLinked in pairs (0-1, 2-3, ..., 62-63) and every one of the
// first 64 also to the 65th, which sorts last by bus id and is dropped by the 64-GPU cap.
std::string xml65Gpus() {
  constexpr int kGpus = 65;
  std::ostringstream os;
  os << kXmlHead << kXmlPus
     << "   <object type=\"Bridge\" gp_index=\"10\" bridge_type=\"0-1\" depth=\"0\""
        " bridge_pci=\"0000:[01-41]\">\n";
  for (int i = 0; i < kGpus; ++i) {
    char bus[16];
    std::snprintf(bus, sizeof bus, "%02x", i + 1);
    os << "    <object type=\"PCIDev\" gp_index=\"" << 1000 + 2 * i << "\" pci_busid=\"0000:" << bus
       << ":00.0\" pci_type=\"0302 [10de:1db8] [0000:0000] a1\" pci_link_speed=\"0.000000\">\n"
       << "     <object type=\"OSDev\" gp_index=\"" << 1001 + 2 * i << "\" name=\"nvml" << i
       << "\" osdev_type=\"1\"/>\n"
       << "    </object>\n";
  }
  os << "   </object>\n  </object>\n </object>\n";
  std::string indexes, values;
  for (int i = 0; i < kGpus; ++i) indexes += "OSDev:" + std::to_string(1001 + 2 * i) + " ";
  for (int i = 0; i < kGpus; ++i) {
    for (int j = 0; j < kGpus; ++j) {
      const bool pair = i != j && i / 2 == j / 2 && i < 64 && j < 64;
      const bool last = i != j && (i == kGpus - 1 || j == kGpus - 1);
      values += pair || last ? "25000 " : "0 ";
    }
  }
  os << " <distances2hetero nbobjs=\"" << kGpus << "\" kind=\"25\" name=\"NVLinkBandwidth\">\n"
     << "  <indexes length=\"" << indexes.size() << "\">" << indexes << "</indexes>\n"
     << "  <u64values length=\"" << values.size() << "\">" << values << "</u64values>\n"
     << " </distances2hetero>\n</topology>\n";
  return os.str();
}

TEST(DiscoveryTest, AtMost64GpusAndNoLinkToADroppedOne) {
  TempXml xml(xml65Gpus());
  NodeTopology t = mustDiscover(xmlOptions(xml.path()));
  ASSERT_EQ(t.gpus.size(), 64u);
  for (uint32_t i = 0; i < t.gpus.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(t.gpus[i].os_name, "nvml" + std::to_string(i));
    // Only the pair link is left: the link to nvml64 went with it.
    ASSERT_EQ(t.gpus[i].links.size(), 1u);
    EXPECT_EQ(t.gpus[i].links[0].peer, i ^ 1u);
    EXPECT_EQ(t.gpus[i].links[0].bandwidth_mbps, 25000u);
  }
}

// --- host memory binding ---

TEST(DiscoveryTest, HostNumaNodesNonEmptyAscending) {
  const std::vector<uint32_t> nodes = hostNumaNodes();
  ASSERT_FALSE(nodes.empty());
  for (size_t i = 1; i < nodes.size(); ++i) EXPECT_LT(nodes[i - 1], nodes[i]);
}

TEST(DiscoveryTest, HostMemsForNumaMapsModuloHostNodes) {
  // 16amd64: domains (positions in topology.numa) 0..7 are NUMA nodes P#1 0 2 5 4 3 6 7.
  NodeTopology t = fromXml("16amd64-4distances.xml");
  ASSERT_EQ(numaOsIndices(t), (std::vector<uint32_t>{1, 0, 2, 5, 4, 3, 6, 7}));
  struct Case {
    std::string name;
    std::vector<uint32_t> domains;
    std::vector<uint32_t> host_nodes;
    std::vector<uint32_t> want;
  };
  const std::vector<Case> cases = {
      {"host as big", {0, 3}, {0, 1, 2, 3, 4, 5, 6, 7}, {1, 5}},
      {"fold on 2", {0}, {0, 1}, {1}},                     // P#1 % 2 = 1
      {"fold on 2, other", {1}, {0, 1}, {0}},              // P#0 % 2 = 0
      {"fold on 4", {3, 4}, {0, 1, 2, 3}, {0, 1}},         // P#5 % 4 = 1, P#4 % 4 = 0
      {"through the host's ids", {0, 1}, {2, 5}, {2, 5}},  // P#1 -> host_nodes[1] = 5
      {"sorted unique", {7, 6, 7, 2}, {0, 1}, {0, 1}},     // P#7 P#6 P#7 P#2 -> 1 0 1 0
      {"single host node", {0, 5, 7}, {3}, {3}},
      {"out of range skipped", {8, 99}, {0, 1}, {}},
      {"out of range among valid", {99, 1}, {0, 1}, {0}},
      {"none", {}, {0, 1}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(hostMemsForNuma(t, c.domains, c.host_nodes), c.want);
  }
}

// --- cpu list format ---

TEST(TopologyTest, FormatCpuList) {
  struct Case {
    std::string name;
    std::vector<uint32_t> ids;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"empty", {}, ""},
      {"single", {7}, "7"},
      {"range", {0, 1, 2, 3}, "0-3"},
      {"pair is a range", {10, 11}, "10-11"},
      {"mixed", {0, 1, 2, 3, 8, 10, 11}, "0-3,8,10-11"},
      {"unsorted with duplicates", {11, 0, 3, 1, 2, 8, 10, 3, 0}, "0-3,8,10-11"},
      {"singles", {1, 3, 5}, "1,3,5"},
      {"large ids", {4294967294u, 4294967295u}, "4294967294-4294967295"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(formatCpuList(c.ids), c.want);
  }
}

TEST(TopologyTest, Counts) {
  NodeTopology t;
  EXPECT_EQ(t.coreCount(), 0u);
  EXPECT_EQ(t.puCount(), 0u);
  t.numa.push_back({.os_index = 0, .mem_mb = 1, .cores = {{0, {0, 1}}, {1, {2, 3}}}});
  t.numa.push_back({.os_index = 1, .mem_mb = 1, .cores = {{2, {4}}}});
  EXPECT_EQ(t.coreCount(), 3u);
  EXPECT_EQ(t.puCount(), 5u);
}

}  // namespace
}  // namespace locus::nodedaemon
