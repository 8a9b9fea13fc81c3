// [controller] min_job_age_s (Slurm's MinJobAge): finished jobs leave the controller's memory,
// so it follows the live queue rather than the whole history, and stay in the store, where
// `locus show`, `locus queue --state all`, `locus acct`, `locus wait` and `locus cancel` still
// find them, across a controller restart too.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

using std::chrono::seconds;

TEST(Retention, FinishedJobsLeaveMemoryAndStayInTheStore) {
  TestCluster cluster({.nodes = 1, .config = "min_job_age_s = 1\n"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, seconds(20)));
  auto done = cluster.submit({"--wrap", "echo kept"});
  auto live = cluster.submit({"--wrap", "sleep 300"});
  ASSERT_TRUE(done && live);
  ASSERT_TRUE(cluster.waitTerminal({*done}, seconds(30)));
  EXPECT_FALSE(cluster.job(*done).contains("archived"));  // still in memory just after its end

  // Purged (the controller looks every 5 s): read back from the store, as it ended.
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*done).value("archived", false); }, seconds(20)));
  nlohmann::json j = cluster.job(*done);
  EXPECT_EQ(j["state"], "COMPLETED");
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(readFile(j["stdout"].get<std::string>()), "kept\n");
  // The running job is not purged.
  EXPECT_FALSE(cluster.job(*live).contains("archived"));
  EXPECT_EQ(cluster.job(*live)["state"], "RUNNING");

  // History and accounting still have it; waiting for it returns at once; cancel says it ended.
  bool listed = false;
  for (const auto& row : cluster.jobs("all"))
    if (row["id"] == *done) listed = row["state"] == "COMPLETED" && row["archived"] == true;
  EXPECT_TRUE(listed);
  auto acct = cluster.locus({"acct", "--json"});
  ASSERT_EQ(acct.exit_code, 0) << acct.err;
  EXPECT_NE(acct.out.find("\"job_id\": " + std::to_string(*done)), std::string::npos) << acct.out;
  auto wait = cluster.locus({"wait", "--timeout", "5", std::to_string(*done)});
  EXPECT_EQ(wait.exit_code, 0) << wait.out << wait.err;
  auto cancel = cluster.locus({"cancel", std::to_string(*done)});
  EXPECT_NE(cancel.err.find("has already finished"), std::string::npos) << cancel.err;
  // A dependency on it is decided by how it ended: afterok holds; afternotok never will, and
  // its job is cancelled as for any dependency that cannot hold (kill_invalid_depend).
  auto after_ok = cluster.submit({"--dependency", "afterok:" + std::to_string(*done), "--wrap", "true"});
  auto after_not_ok = cluster.submit({"--dependency", "afternotok:" + std::to_string(*done), "--wrap", "true"});
  ASSERT_TRUE(after_ok && after_not_ok);
  ASSERT_TRUE(cluster.waitTerminal({*after_ok}, seconds(30)));
  EXPECT_EQ(cluster.job(*after_ok)["state"], "COMPLETED");
  ASSERT_TRUE(cluster.waitTerminal({*after_not_ok}, seconds(30)));
  EXPECT_EQ(cluster.job(*after_not_ok)["state"], "CANCELLED");
  EXPECT_EQ(cluster.job(*after_not_ok)["reason"], "DependencyNeverSatisfied");

  // A restart loads it no more into memory, and job ids go on after it.
  cluster.killController();
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.waitNodesUp(1, seconds(20)));
  EXPECT_EQ(cluster.job(*done)["archived"], true);
  auto next = cluster.submit({"--wrap", "true"});
  ASSERT_TRUE(next);
  EXPECT_GT(*next, *live);
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*live)}).exit_code, 0);
}

}  // namespace
}  // namespace locus::testing
