// QoS levels in the live controller: running-job limits per user hold jobs back with Slurm's
// reason, the QoS wall limit is the default time limit and caps requests, unknown levels are
// refused.
#include <gtest/gtest.h>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

TEST(Qos, LimitsDefaultsAndRefusals) {
  TestCluster cluster({.nodes = 1,
                       .config = "[priority]\nweight_qos = 1000\n"
                                 "[[qos]]\nname = \"normal\"\nmax_jobs_per_user = 1\nmax_wall = \"1:00:00\"\n"
                                 "[[qos]]\nname = \"high\"\npriority = 10\n"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));

  auto first = cluster.submit({"--wrap", "sleep 300"});
  auto second = cluster.submit({"--wrap", "sleep 300"});
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*first)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  // The node has 7 free cores, but the user may run one job at a time under "normal".
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*second)["reason"] == "QOSMaxJobsPerUserLimit"; },
                        std::chrono::seconds(20)));
  EXPECT_EQ(cluster.job(*second)["state"], "PENDING");
  // Jobs without --time get the QoS wall limit; longer requests are refused; so are unknown QoS.
  EXPECT_EQ(cluster.job(*first)["time_limit_s"], 3600);
  auto too_long = cluster.locus({"submit", "-t", "2:00:00", "--wrap", "true"});
  EXPECT_NE(too_long.exit_code, 0);
  EXPECT_NE(too_long.err.find("exceeds QoS normal's limit of 01:00:00"), std::string::npos) << too_long.err;
  auto unknown = cluster.locus({"submit", "--qos", "gold", "--wrap", "true"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("QoS 'gold' does not exist"), std::string::npos) << unknown.err;
  // Another level without the limit runs at once.
  auto high = cluster.submit({"--qos", "high", "--wrap", "sleep 300"});
  ASSERT_TRUE(high);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*high)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  // When the first ends, the second may run.
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*first)}).exit_code, 0);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*second)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*second), std::to_string(*high)}).exit_code, 0);
}

// GPU limits: a user may hold 2 GPUs under "normal" (the node emulates 4). A 2-GPU job runs;
// a second waits with Slurm's reason though GPUs are free; a 3-GPU job can never run there.
TEST(Qos, GpuLimitPerUser) {
  TestCluster cluster({.nodes = 1,
                       .topology_xml = std::string(LOCUS_TEST_DATA) + "/gpu-node-2x32c-4gpu.xml",
                       .config = "[[qos]]\nname = \"normal\"\nmax_gpus_per_user = 2\n"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));

  auto first = cluster.submit({"--gpus-per-node", "2", "--wrap", "sleep 300"});
  ASSERT_TRUE(first);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*first)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  auto second = cluster.submit({"--gpus-per-node", "1", "--wrap", "sleep 300"});
  auto cpu_only = cluster.submit({"--wrap", "sleep 300"});
  ASSERT_TRUE(second && cpu_only);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*second)["reason"] == "QOSMaxGRESPerUser"; },
                        std::chrono::seconds(20)))
      << cluster.job(*second).dump();
  EXPECT_EQ(cluster.job(*second)["state"], "PENDING");
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*cpu_only)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  // When the first gives its GPUs back, the second may run.
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*first)}).exit_code, 0);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*second)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*second), std::to_string(*cpu_only)}).exit_code, 0);
  ASSERT_TRUE(cluster.waitTerminal({*first, *second, *cpu_only}, std::chrono::seconds(30)));
}

}  // namespace
}  // namespace locus::testing
