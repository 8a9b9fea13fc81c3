// The live controller runs the same EASY backfill as the simulator: a blocked job gets a
// reservation at the time limit of what holds its cores, and a later job starts now only if it
// ends before that reservation.
#include <gtest/gtest.h>

#include <ctime>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

int64_t parseRfc3339(const std::string& text) {
  std::tm tm{};
  strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return timegm(&tm);
}

TEST(LiveBackfill, ShortJobsFillTheHoleButDoNotDelayTheReservation) {
  TestCluster cluster({.nodes = 1});  // one node of 8 cores
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));

  auto big_running = cluster.submit({"-c", "6", "-t", "10:00", "--wrap", "sleep 600"});
  ASSERT_TRUE(big_running);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*big_running)["state"] == "RUNNING"; },
                        std::chrono::seconds(20)));
  // Needs the whole node: reserved for when the 10-minute limit of the first job is up.
  auto blocked = cluster.submit({"-c", "8", "-t", "10:00", "--wrap", "true"});
  // Fits the 2 free cores but would run past the reservation: must wait.
  auto too_long = cluster.submit({"-c", "2", "-t", "20:00", "--wrap", "sleep 600"});
  // Fits the 2 free cores and ends before the reservation: backfilled now.
  auto short_one = cluster.submit({"-c", "2", "-t", "5:00", "--wrap", "sleep 600"});
  ASSERT_TRUE(blocked && too_long && short_one);

  ASSERT_TRUE(waitUntil([&] { return cluster.job(*short_one)["state"] == "RUNNING"; },
                        std::chrono::seconds(20)));
  auto running = cluster.job(*big_running);
  auto reserved = cluster.job(*blocked);
  EXPECT_EQ(reserved["state"], "PENDING");
  EXPECT_EQ(reserved["reason"], "Resources");
  // Planned for exactly when the first job's 10-minute limit is up.
  ASSERT_TRUE(reserved["expected_start_time"].is_string()) << reserved.dump();
  EXPECT_EQ(parseRfc3339(reserved["expected_start_time"]), parseRfc3339(running["start_time"]) + 600);
  auto why = cluster.locus({"why", std::to_string(*blocked)});
  EXPECT_EQ(why.exit_code, 0);
  EXPECT_NE(why.out.find("PENDING (Resources)"), std::string::npos) << why.out;
  EXPECT_NE(why.out.find("expected start: " + reserved["expected_start_time"].get<std::string>()),
            std::string::npos)
      << why.out;
  EXPECT_EQ(cluster.job(*too_long)["state"], "PENDING");
  EXPECT_TRUE(cluster.job(*too_long)["expected_start_time"].is_null());

  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*big_running), std::to_string(*blocked),
                           std::to_string(*too_long), std::to_string(*short_one)})
                .exit_code,
            0);
  ASSERT_TRUE(cluster.waitTerminal({*big_running, *blocked, *too_long, *short_one}, std::chrono::seconds(30)));
}

// easy-predict (EASY++): the user's last two jobs ran about a second, so the controller plans
// their next jobs at that, not at their 10-minute limits. A 6-core job then runs well past its
// prediction: its planned end is corrected (pushed later), never used to kill it. The whole-node
// job is reserved at that planned end, and a 2-core job with an 11-minute limit is backfilled
// because it is predicted to end first. Plain EASY (the control) plans with the limits: the
// 2-core job would run past the reservation at the 6-core job's limit, so it waits.
void predictionScenario(const std::string& policy, bool expect_backfill) {
  SCOPED_TRACE(policy);
  TestCluster cluster({.nodes = 1, .config = "[scheduler]\npolicy = \"" + policy + "\"\n"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));

  std::vector<uint64_t> history;
  for (int i = 0; i < 2; ++i) {
    auto id = cluster.submit({"-c", "1", "-t", "10:00", "--wrap", "sleep 1"});
    ASSERT_TRUE(id);
    history.push_back(*id);
    ASSERT_TRUE(cluster.waitTerminal({*id}, std::chrono::seconds(20)));  // one after the other
  }
  auto long_one = cluster.submit({"-c", "6", "-t", "10:00", "--wrap", "sleep 600"});
  ASSERT_TRUE(long_one);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*long_one)["state"] == "RUNNING"; },
                        std::chrono::seconds(20)));
  auto whole_node = cluster.submit({"-c", "8", "-t", "10:00", "--wrap", "true"});
  // 11 minutes: past the reservation at the long job's limit even if both start in one second.
  auto candidate = cluster.submit({"-c", "2", "-t", "11:00", "--wrap", "sleep 600"});
  ASSERT_TRUE(whole_node && candidate);

  if (expect_backfill) {
    ASSERT_TRUE(waitUntil([&] { return cluster.job(*candidate)["state"] == "RUNNING"; },
                          std::chrono::seconds(20)))
        << cluster.job(*candidate).dump();
    // Reserved at the long job's corrected planned end: well before its limit.
    ASSERT_TRUE(waitUntil([&] { return cluster.job(*whole_node)["expected_start_time"].is_string(); },
                          std::chrono::seconds(10)));
    const int64_t planned = parseRfc3339(cluster.job(*whole_node)["expected_start_time"]);
    EXPECT_LT(planned, parseRfc3339(cluster.job(*long_one)["start_time"]) + 600)
        << cluster.job(*long_one).dump() << "\n" << cluster.job(*whole_node).dump() << "\n"
        << cluster.job(*candidate).dump();
    EXPECT_EQ(cluster.job(*long_one)["state"], "RUNNING") << "a short prediction never kills";
  } else {
    // Decided on (a pass saw it), and left waiting behind the reservation at the limit.
    ASSERT_TRUE(waitUntil([&] { return cluster.job(*whole_node)["expected_start_time"].is_string() &&
                                       cluster.job(*candidate)["reason"] == "Resources"; },
                          std::chrono::seconds(20)));
    EXPECT_EQ(parseRfc3339(cluster.job(*whole_node)["expected_start_time"]),
              parseRfc3339(cluster.job(*long_one)["start_time"]) + 600);
    EXPECT_EQ(cluster.job(*candidate)["state"], "PENDING");
  }
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*long_one), std::to_string(*whole_node),
                           std::to_string(*candidate)})
                .exit_code,
            0);
  ASSERT_TRUE(cluster.waitTerminal({*long_one, *whole_node, *candidate}, std::chrono::seconds(30)));
}

TEST(LiveBackfill, EasyPredictBackfillsOnRecentRunTimesAndPlainEasyDoesNot) {
  predictionScenario("easy-predict", true);
  predictionScenario("easy", false);
}

}  // namespace
}  // namespace locus::testing
