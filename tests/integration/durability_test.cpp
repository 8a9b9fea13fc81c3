// The controller is SIGKILLed while jobs run and while they are being submitted, and restarted
// with the same arguments: every acknowledged job must end COMPLETED, each run exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {
namespace fs = std::filesystem;

size_t countMarkers(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("marker-", 0) == 0) ++n;
  return n;
}

TEST(Durability, ControllerKilledWhileJobsRunAndArrive) {
  TestCluster cluster({.nodes = 2});
  ASSERT_TRUE(cluster.startController());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(cluster.startNode(i));
  ASSERT_TRUE(cluster.waitNodesUp(2, std::chrono::seconds(20)));

  // Each run appends one line to its own marker file: two lines would mean it ran twice.
  const std::string script = "echo run >> " + cluster.workDir() + "/marker-$LOCUS_JOB_ID; sleep 0.3";
  std::mutex mu;
  std::set<uint64_t> acknowledged;  // guarded by mu
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  std::thread submitter([&] {
    while (!stop) {
      auto id = cluster.submit({"--wrap", script});
      if (id) {
        std::lock_guard lock(mu);
        EXPECT_TRUE(acknowledged.insert(*id).second) << "job id " << *id << " handed out twice";
      } else {
        ++refused;  // the controller was down: not acknowledged, so nothing is promised
      }
    }
  });
  // Joined on every path: a failed assertion must not leave the thread running (std::terminate
  // would skip the cluster's cleanup and leak its daemons).
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } joiner{stop, submitter};
  auto acked = [&] {
    std::lock_guard lock(mu);
    return acknowledged.size();
  };

  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    size_t before = acked();
    ASSERT_TRUE(waitUntil([&] { return acked() >= before + 15; }, std::chrono::seconds(60)));
    // Kill while some jobs are running.
    ASSERT_TRUE(waitUntil([&] { return !cluster.jobs("RUNNING").empty(); }, std::chrono::seconds(30)));
    cluster.killController();
    // Let jobs finish while the controller is away: their exits must not be lost.
    size_t markers = countMarkers(cluster.workDir());
    waitUntil([&] { return countMarkers(cluster.workDir()) > markers; }, std::chrono::seconds(3));
    ASSERT_TRUE(cluster.startController());
    ASSERT_TRUE(cluster.waitNodesUp(2, std::chrono::seconds(20)));
  }
  size_t before = acked();
  ASSERT_TRUE(waitUntil([&] { return acked() >= before + 10; }, std::chrono::seconds(60)));
  stop = true;
  submitter.join();
  std::lock_guard final_lock(mu);

  std::vector<uint64_t> ids(acknowledged.begin(), acknowledged.end());
  ASSERT_TRUE(cluster.waitTerminal(ids, std::chrono::seconds(180)));
  auto all = cluster.jobs("all");
  std::map<uint64_t, nlohmann::json> by_id;
  for (const auto& j : all) by_id[j["id"].get<uint64_t>()] = j;
  for (uint64_t id : ids) {
    SCOPED_TRACE("job " + std::to_string(id));
    ASSERT_TRUE(by_id.count(id)) << "acknowledged job lost";
    EXPECT_EQ(by_id[id]["state"], "COMPLETED");
    EXPECT_EQ(readFile(cluster.workDir() + "/marker-" + std::to_string(id)), "run\n");
  }
  // A submit whose reply was lost in a kill is retried by the CLI with the same submit token
  // and answered with the job it made: no job is stored without being acknowledged.
  for (const auto& [id, j] : by_id) {
    EXPECT_TRUE(acknowledged.count(id)) << "job " << id << " stored but never acknowledged";
    std::string marker = readFile(cluster.workDir() + "/marker-" + std::to_string(id));
    EXPECT_TRUE(marker.empty() || marker == "run\n") << "job " << id << " ran more than once";
  }
  RecordProperty("acknowledged", static_cast<int>(ids.size()));
  RecordProperty("refused_while_down", refused.load());
}

// `locus submit` while the controller is down waits for it (LOCUS_SUBMIT_RETRY_S), says so
// once, and makes the job once; with no patience it fails at once.
TEST(Durability, ASubmitWhileTheControllerIsDownWaitsForIt) {
  TestCluster cluster({.nodes = 1});
  ASSERT_TRUE(cluster.startAll());
  cluster.killController();
  const std::string marker = cluster.workDir() + "/waited";
  BackgroundCommand submit(
      {binDir() + "/locus", "--controller", cluster.address(), "submit", "--parsable", "--wrap",
       "echo run >> " + marker},
      {{"LOCUS_MUNGE_SOCKET", cluster.mungeSocket()}, {"LOCUS_SUBMIT_RETRY_S", "60"}}, cluster.workDir());
  ASSERT_TRUE(waitUntil([&] { return submit.errSoFar().find("trying again for up to 60 s") != std::string::npos; },
                        std::chrono::seconds(20)))
      << submit.errSoFar();
  EXPECT_NE(submit.errSoFar().find("cannot reach the controller at " + cluster.address()), std::string::npos)
      << submit.errSoFar();
  ASSERT_TRUE(cluster.startController());
  auto done = submit.wait(std::chrono::seconds(30));
  ASSERT_TRUE(done) << "the submit did not end once the controller was back";
  ASSERT_EQ(done->exit_code, 0) << done->err;
  const uint64_t id = std::stoull(done->out);
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  ASSERT_TRUE(cluster.waitTerminal({id}, std::chrono::seconds(30)));
  EXPECT_EQ(cluster.job(id)["state"], "COMPLETED");
  EXPECT_EQ(readFile(marker), "run\n");
  EXPECT_EQ(cluster.jobs("all").size(), 1u);
  // The message said once, not once per attempt.
  const std::string err = done->err;
  EXPECT_EQ(err.find("trying again"), err.rfind("trying again")) << err;

  // No patience: the old behaviour, an error at once.
  cluster.killController();
  auto refused = runCommand({binDir() + "/locus", "--controller", cluster.address(), "submit", "--wrap", "true"},
                            {{"LOCUS_MUNGE_SOCKET", cluster.mungeSocket()}, {"LOCUS_SUBMIT_RETRY_S", "0"}},
                            cluster.workDir());
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("submit failed: cannot reach the controller"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("trying again"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace locus::testing
