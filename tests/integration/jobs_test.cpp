// 200 real jobs through a real controller and 3 node daemons: every end state, multi-node jobs,
// arrays, output files, and CPU binding checked against each job's allocation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>

#include "common/topology.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

// What each task's binding must be: allocated logical cores of the emulated node, mapped onto
// this host's CPUs modulo their count (the synthetic topology's PU i is core i).
std::string expectedCpus(const nlohmann::json& allocation_on_first_node) {
  long host = sysconf(_SC_NPROCESSORS_ONLN);
  std::vector<uint32_t> cpus;
  for (uint32_t core : allocation_on_first_node["cores"]) cpus.push_back(core % host);
  return formatCpuList(cpus);
}

std::string cpusAllowed(const std::string& output) {
  auto pos = output.find("Cpus_allowed_list:");
  if (pos == std::string::npos) return "<missing>";
  auto start = output.find_first_not_of(" \t", pos + 18);
  return output.substr(start, output.find('\n', start) - start);
}

TEST(JobsEndToEnd, TwoHundredJobsReachTheirEndStates) {
  TestCluster cluster({});
  ASSERT_TRUE(cluster.startController());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cluster.startNode(i));
  ASSERT_TRUE(cluster.waitNodesUp(3, std::chrono::seconds(20)));

  struct Expect {
    std::string state;
    int exit_code;
    std::string output;  // substring the job's stdout must contain; empty = no check
  };
  std::map<uint64_t, Expect> expected;
  const std::string bind = "; grep Cpus_allowed_list /proc/self/status";

  // 120 that complete, each printing its own marker and its binding.
  for (int i = 0; i < 120; ++i) {
    auto id = cluster.submit({"-c", std::to_string(1 + i % 3), "--wrap",
                              "echo marker-" + std::to_string(i) + bind});
    ASSERT_TRUE(id) << "submit " << i;
    expected[*id] = {"COMPLETED", 0, "marker-" + std::to_string(i)};
  }
  // 20 that fail with exit 3.
  for (int i = 0; i < 20; ++i) {
    auto id = cluster.submit({"--wrap", "echo failing; exit 3"});
    ASSERT_TRUE(id);
    expected[*id] = {"FAILED", 3, "failing"};
  }
  // 10 multi-node jobs: the script runs on the first node and sees every node.
  for (int i = 0; i < 10; ++i) {
    auto id = cluster.submit({"-N", "2", "-n", "4", "--wrap", "echo nodes=$LOCUS_NODELIST n=$LOCUS_NNODES" + bind});
    ASSERT_TRUE(id);
    expected[*id] = {"COMPLETED", 0, "n=2"};
  }
  // 10 that run past a 1-second limit.
  std::vector<uint64_t> timeouts;
  for (int i = 0; i < 10; ++i) {
    auto id = cluster.submit({"-t", "0:01", "--wrap", "sleep 60"});
    ASSERT_TRUE(id);
    expected[*id] = {"TIMEOUT", -2, ""};
  }
  // 20 long ones, cancelled below (whether pending or running by then).
  std::vector<uint64_t> to_cancel;
  for (int i = 0; i < 20; ++i) {
    auto id = cluster.submit({"--wrap", "sleep 300"});
    ASSERT_TRUE(id);
    to_cancel.push_back(*id);
    expected[*id] = {"CANCELLED", -2, ""};
  }
  // One array of 20 tasks (20 more jobs), at most 5 running at once.
  // Every task sees the submitter's exported environment (stored once, with the first task).
  auto array = cluster.submit({"--array", "1-20%5", "--wrap",
                               "echo task=$LOCUS_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID path=$PATH."});
  ASSERT_TRUE(array);
  const std::string path = std::getenv("PATH");
  for (uint64_t k = 0; k < 20; ++k)
    expected[*array + k] = {"COMPLETED", 0,
                            "task=" + std::to_string(k + 1) + " of " + std::to_string(*array) +
                                " path=" + path + "."};
  ASSERT_EQ(expected.size(), 200u);

  std::vector<std::string> cancel_args{"cancel"};
  for (uint64_t id : to_cancel) cancel_args.push_back(std::to_string(id));
  auto cancelled = cluster.locus(cancel_args);
  EXPECT_EQ(cancelled.exit_code, 0) << cancelled.err;

  std::vector<uint64_t> all;
  for (const auto& [id, e] : expected) all.push_back(id);
  ASSERT_TRUE(cluster.waitTerminal(all, std::chrono::seconds(240)));

  auto jobs = cluster.jobs("all");
  std::map<uint64_t, nlohmann::json> by_id;
  for (const auto& j : jobs) by_id[j["id"].get<uint64_t>()] = j;
  ASSERT_EQ(by_id.size(), 200u);
  std::set<std::string> seen_outputs;
  for (const auto& [id, e] : expected) {
    SCOPED_TRACE("job " + std::to_string(id));
    const auto& j = by_id.at(id);
    EXPECT_EQ(j["state"], e.state);
    if (e.exit_code >= 0) EXPECT_EQ(j["exit_code"], e.exit_code);
    if (e.state == "TIMEOUT") EXPECT_EQ(j["reason"], "TimeLimit");
    if (e.output.empty()) continue;
    std::string out = readFile(j["stdout"].get<std::string>());
    EXPECT_NE(out.find(e.output), std::string::npos) << out;
    EXPECT_TRUE(seen_outputs.insert(j["stdout"].get<std::string>()).second) << "stdout file shared";
    if (out.find("Cpus_allowed_list") != std::string::npos) {
      ASSERT_FALSE(j["allocation"].empty());
      EXPECT_EQ(cpusAllowed(out), expectedCpus(j["allocation"][0]));
      // Cores requested were cores allocated.
      size_t cores = 0;
      for (const auto& a : j["allocation"]) cores += a["cores"].size();
      EXPECT_EQ(cores, j["ntasks"].get<size_t>() * j["cpus_per_task"].get<size_t>());
    }
  }
  // Multi-node jobs really got two distinct nodes, named in the environment.
  for (const auto& [id, e] : expected)
    if (e.output == "n=2") {
      const auto& j = by_id.at(id);
      ASSERT_EQ(j["nodes"].size(), 2u);
      EXPECT_NE(j["nodes"][0], j["nodes"][1]);
    }
  // Finished jobs are listed by their state.
  EXPECT_EQ(cluster.jobs("FAILED").size(), 20u);
  EXPECT_EQ(cluster.jobs("TIMEOUT").size(), 10u);
  EXPECT_EQ(cluster.jobs("CANCELLED,TIMEOUT").size(), 30u);
  EXPECT_EQ(cluster.jobs("PENDING,RUNNING").size(), 0u);
  // Nothing is left allocated once everything ended.
  auto nodes = nlohmann::json::parse(cluster.locus({"nodes", "--json"}).out);
  for (const auto& n : nodes["nodes"]) EXPECT_EQ(n["cpus_alloc"], 0) << n["name"];
}

}  // namespace
}  // namespace locus::testing
