// Topology-aware placement end to end: node daemons emulating a GPU node (hwloc XML) run real
// jobs; each job reports its CPU binding, its NUMA memory binding and the GPUs it can see, and
// the test checks them against the allocation the controller recorded. Also: GPU and feature
// requests refused at submit, GPUs held and released, and a task over its --mem ending
// OUT_OF_MEMORY through the node's cgroup.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "common/topology.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

const std::string kGpuNodeXml = std::string(LOCUS_TEST_DATA) + "/gpu-node-2x32c-4gpu.xml";
const std::string kDgx2Xml = std::string(LOCUS_TEST_DATA) + "/nvidiaDGX2.xml";

// The job script: its binding and GPUs, one "key=value" per line.
const std::string kReport =
    "grep -E '^(Cpus|Mems)_allowed_list' /proc/self/status; "
    "echo \"cuda=${CUDA_VISIBLE_DEVICES-unset}\"; echo \"order=${CUDA_DEVICE_ORDER-unset}\"; "
    "echo \"policy=$(head -1 /proc/self/numa_maps | cut -d' ' -f2)\"";

std::string field(const std::string& output, const std::string& key) {
  auto pos = output.find(key);
  if (pos == std::string::npos) return "<missing " + key + ">";
  auto start = output.find_first_not_of(" \t", pos + key.size());
  return output.substr(start, output.find('\n', start) - start);
}

std::string joinIds(const nlohmann::json& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + std::to_string(id.get<uint32_t>());
  return out;
}

// This host's NUMA nodes as the daemons see them (they share the test's cpuset).
std::vector<uint32_t> hostNumaNodes() {
  auto nodes = parseCpuList(field(readFile("/proc/self/status"), "Mems_allowed_list:"));
  return nodes && !nodes->empty() ? *nodes : std::vector<uint32_t>{0};
}

nlohmann::json nodeJson(const TestCluster& cluster, const std::string& name) {
  auto nodes = nlohmann::json::parse(cluster.locus({"nodes", "--json"}).out);
  for (const auto& n : nodes["nodes"])
    if (n["name"] == name) return n;
  return {};
}

class GpuCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.startController());
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(cluster_.startNode(i));
    ASSERT_TRUE(cluster_.waitNodesUp(2, std::chrono::seconds(20)));
  }
  TestCluster cluster_{{.nodes = 2,
                        .topology_xml = kGpuNodeXml,
                        .config = "[[node]]\nnames = \"n[1-2]\"\nfeatures = [\"ib\"]\n"}};
};

TEST_F(GpuCluster, NodesReportGpusFeaturesAndLimits) {
  nlohmann::json n = nodeJson(cluster_, "n1");
  ASSERT_FALSE(n.is_null());
  ASSERT_EQ(n["gpus"].size(), 4u);
  for (uint32_t g = 0; g < 4; ++g) {
    SCOPED_TRACE("gpu " + std::to_string(g));
    const auto& gpu = n["gpus"][g];
    EXPECT_EQ(gpu["index"], g);
    EXPECT_EQ(gpu["name"], "NVIDIA RTX A4000");
    EXPECT_EQ(gpu["uuid"], "GPU-00000000-0000-4000-8000-00000000000" + std::to_string(g));
    EXPECT_EQ(gpu["memory_mb"], 16384);
    EXPECT_EQ(gpu["numa"], g / 2);  // two behind each package's PCIe switch
    EXPECT_TRUE(gpu["links"].is_array());
  }
  EXPECT_EQ(n["gpus"][0]["pcie_switch"], n["gpus"][1]["pcie_switch"]);
  EXPECT_NE(n["gpus"][0]["pcie_switch"], n["gpus"][2]["pcie_switch"]);
  EXPECT_GE(n["gpus"][0]["pcie_switch"].get<int>(), 0);
  // Configured "ib" beside what discovery implies.
  EXPECT_EQ(n["features"], nlohmann::json({"a4000", "gpu", "ib", "intel", "nvidia_rtx_a4000"}));
  EXPECT_FALSE(n["limits"].get<std::string>().empty());
}

TEST_F(GpuCluster, JobsSeeExactlyTheirCoresMemoryNodesAndGpus) {
  struct Case {
    std::string name;
    std::vector<std::string> args;
    size_t gpus;  // on the first node
  };
  const std::vector<Case> cases = {
      {"two GPUs with four cores", {"-c", "4", "--gpus", "2"}, 2},
      {"one GPU, Slurm gres form", {"--gres", "gpu:1"}, 1},
      {"a GPU per task", {"-n", "2", "--gpus-per-task", "1"}, 2},
      {"typed request", {"--gpus", "nvidia_rtx_a4000:3"}, 3},
      {"no GPUs: none visible", {"-c", "2"}, 0},
      {"memory unbound", {"--mem-bind", "none", "--gpus", "1"}, 1},
      {"two nodes, two GPUs each", {"-N", "2", "--gpus-per-node", "2"}, 2},
  };
  std::vector<std::pair<uint64_t, const Case*>> ids;
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--wrap", kReport});
    auto id = cluster_.submit(args);
    ASSERT_TRUE(id) << c.name;
    ids.emplace_back(*id, &c);
  }
  std::vector<uint64_t> all;
  for (const auto& [id, c] : ids) all.push_back(id);
  ASSERT_TRUE(cluster_.waitTerminal(all, std::chrono::seconds(60)));

  const long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
  const std::vector<uint32_t> host_nodes = hostNumaNodes();
  const nlohmann::json node = nodeJson(cluster_, "n1");
  const bool cpuset_cgroup = node["limits"].get<std::string>().find("cpuset") != std::string::npos;
  for (const auto& [id, c] : ids) {
    SCOPED_TRACE(c->name);
    nlohmann::json j = cluster_.job(id);
    ASSERT_EQ(j["state"], "COMPLETED") << j.dump();
    std::string out = readFile(j["stdout"].get<std::string>());
    const nlohmann::json& a = j["allocation"][0];
    ASSERT_EQ(a["gpus"].size(), c->gpus) << j.dump();
    // CPUs: the allocated cores of the emulated node (core i is PU i there) on this host's CPUs.
    std::vector<uint32_t> cpus;
    for (uint32_t core : a["cores"]) cpus.push_back(core % host_cpus);
    EXPECT_EQ(field(out, "Cpus_allowed_list:"), formatCpuList(cpus)) << out;
    // NUMA: the cores' domains, each domain's GPUs among them, memory bound to the same.
    std::set<uint32_t> domains(a["numa"].begin(), a["numa"].end());
    for (uint32_t core : a["cores"]) EXPECT_TRUE(domains.count(core / 32)) << "core " << core;
    // As many GPUs local to the cores as those domains have (2 each); a 3-GPU job on one core
    // gets a remote third.
    size_t local = 0;
    for (uint32_t g : a["gpus"]) local += domains.count(g / 2);
    EXPECT_EQ(local, std::min(c->gpus, 2 * domains.size())) << j.dump();
    std::vector<uint32_t> mems;
    for (uint32_t d : domains) mems.push_back(host_nodes[d % host_nodes.size()]);
    const std::string mem_list = formatCpuList(mems);
    const bool bound = c->name != "memory unbound";
    EXPECT_EQ(field(out, "policy="), bound ? "bind:" + mem_list : "default") << out;
    if (cpuset_cgroup) EXPECT_EQ(field(out, "Mems_allowed_list:"), mem_list) << out;
    // GPUs: exactly the allocated ones, numbered as CUDA numbers them in PCI order.
    EXPECT_EQ(field(out, "cuda="), joinIds(a["gpus"])) << out;
    EXPECT_EQ(field(out, "order="), "PCI_BUS_ID");
    if (j["allocation"].size() > 1) EXPECT_EQ(j["allocation"][1]["gpus"].size(), c->gpus);
  }
  // Everything released.
  for (const char* name : {"n1", "n2"}) {
    nlohmann::json n = nodeJson(cluster_, name);
    EXPECT_EQ(n["gpus_alloc"], 0) << name;
    EXPECT_EQ(n["cpus_alloc"], 0) << name;
  }
}

TEST_F(GpuCluster, GpusAreHeldWhileRunningAndWaitedFor) {
  auto first = cluster_.submit({"--gpus", "4", "--wrap", "sleep 300"});
  auto second = cluster_.submit({"--gpus", "4", "--wrap", "sleep 300"});
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(waitUntil([&] { return cluster_.jobs("RUNNING").size() == 2; }, std::chrono::seconds(20)));
  // Both nodes' GPUs are taken: a fifth GPU waits, though 120 cores are free.
  auto third = cluster_.submit({"--gpus", "1", "--wrap", "echo $CUDA_VISIBLE_DEVICES"});
  ASSERT_TRUE(third);
  EXPECT_TRUE(waitUntil([&] { return cluster_.job(*third)["reason"] == "Resources"; },
                        std::chrono::seconds(10)))
      << cluster_.job(*third).dump();
  EXPECT_EQ(cluster_.job(*third)["state"], "PENDING");
  EXPECT_EQ(nodeJson(cluster_, "n1")["gpus_alloc"], 4);
  EXPECT_EQ(nodeJson(cluster_, "n2")["gpus_alloc"], 4);
  auto tree = cluster_.locus({"nodes", "--topology"});
  EXPECT_NE(tree.out.find("cores 126/128 free  nodes 2/2 up  gpus 0/8 free"), std::string::npos) << tree.out;
  EXPECT_NE(tree.out.find("UP 63/64 cores free, 0/4 GPUs free"), std::string::npos) << tree.out;
  ASSERT_EQ(cluster_.locus({"cancel", std::to_string(*first)}).exit_code, 0);
  ASSERT_TRUE(cluster_.waitTerminal({*third}, std::chrono::seconds(30)));
  nlohmann::json j = cluster_.job(*third);
  EXPECT_EQ(j["state"], "COMPLETED");
  EXPECT_EQ(j["nodes"][0], cluster_.job(*first)["nodes"][0]);  // the freed node
  cluster_.locus({"cancel", std::to_string(*second)});
}

TEST_F(GpuCluster, ImpossibleRequestsAreRefusedAtSubmit) {
  struct Case {
    std::vector<std::string> args;
    std::string error;  // substring of stderr
  };
  const std::vector<Case> cases = {
      {{"--gpus-per-node", "5"}, "5 GPUs per node"},
      {{"--gpus", "v100:1"}, "v100"},
      {{"--constraint", "nvme"}, "nvme"},
      {{"--constraint", "ib&"}, "constraint"},
      {{"--gpus", "3", "-N", "2"}, "spread evenly"},
      {{"--gpu-bind", "map_gpu:0"}, "--gpu-bind"},
      {{"--mem-bind", "rank"}, "--mem-bind"},
      {{"--switches", "0"}, "--switches"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{"submit"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), {"--wrap", "true"});
    SCOPED_TRACE(args[1] + " " + args[2]);
    auto r = cluster_.locus(args);
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
  }
  EXPECT_EQ(cluster_.jobs("all").size(), 0u);  // nothing stored
  // The feature request that some node meets runs.
  auto ok = cluster_.submit({"--constraint", "(ib|nvme)&a4000", "--wrap", "true"});
  ASSERT_TRUE(ok);
  ASSERT_TRUE(cluster_.waitTerminal({*ok}, std::chrono::seconds(20)));
  EXPECT_EQ(cluster_.job(*ok)["state"], "COMPLETED");
}

TEST_F(GpuCluster, TaskOverItsMemoryEndsOutOfMemory) {
  const std::string limits = nodeJson(cluster_, "n1")["limits"];
  if (limits.rfind("cgroup", 0) != 0) GTEST_SKIP() << "no cgroups on this machine: " << limits;
  // 400 MB written into a string under a 64 MB limit: the kernel kills python3.
  auto id = cluster_.submit({"--mem", "64M", "--wrap", "python3 -c \"s = 'x' * (400 << 20)\"; echo after=$?"});
  auto fits = cluster_.submit({"--mem", "256M", "--wrap", "python3 -c \"s = 'x' * (16 << 20)\""});
  ASSERT_TRUE(id && fits);
  ASSERT_TRUE(cluster_.waitTerminal({*id, *fits}, std::chrono::seconds(60)));
  nlohmann::json j = cluster_.job(*id);
  EXPECT_EQ(j["state"], "OUT_OF_MEMORY") << j.dump();
  EXPECT_EQ(j["reason"], "OutOfMemory");
  EXPECT_NE(readFile(j["stdout"].get<std::string>()).find("after=137"), std::string::npos);
  EXPECT_EQ(cluster_.job(*fits)["state"], "COMPLETED");
}

// The DGX-2 export: 16 V100s on 2 sockets, all NVLinked through NVSwitches. A 2-GPU job on one
// core gets two GPUs of that core's socket, and the node reports the links.
TEST(Dgx2Cluster, GpusComeFromTheCoresSocketAndAreNvlinked) {
  TestCluster cluster({.nodes = 1, .topology_xml = kDgx2Xml});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  nlohmann::json n = nodeJson(cluster, "n1");
  ASSERT_EQ(n["gpus"].size(), 16u);
  for (const auto& g : n["gpus"]) EXPECT_EQ(g["links"].size(), 15u) << g.dump();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 4; ++i) {
    auto id = cluster.submit({"--gpus", "2", "--wrap", kReport});
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  ASSERT_TRUE(cluster.waitTerminal(ids, std::chrono::seconds(60)));
  for (uint64_t id : ids) {
    nlohmann::json j = cluster.job(id);
    ASSERT_EQ(j["state"], "COMPLETED");
    const auto& a = j["allocation"][0];
    ASSERT_EQ(a["gpus"].size(), 2u);
    ASSERT_EQ(a["numa"].size(), 1u);
    for (uint32_t g : a["gpus"]) EXPECT_EQ(n["gpus"][g]["numa"], a["numa"][0]);
    EXPECT_EQ(field(readFile(j["stdout"].get<std::string>()), "cuda="), joinIds(a["gpus"]));
  }
}

}  // namespace
}  // namespace locus::testing
