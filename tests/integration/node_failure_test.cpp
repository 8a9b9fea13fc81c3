// A node daemon that dies is marked DOWN after the node timeout; its jobs end NODE_FAIL, or go
// back to PENDING with attempt + 1 when submitted with --requeue, and run again later.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

std::string nodeState(const TestCluster& cluster, const std::string& name) {
  auto r = cluster.locus({"nodes", "--json"});
  if (r.exit_code != 0) return "";
  auto parsed = nlohmann::json::parse(r.out);
  for (const auto& n : parsed["nodes"])
    if (n["name"] == name) return n["state"];
  return "";
}

TEST(NodeFailure, JobsOnADeadNodeFailOrRequeue) {
  TestCluster cluster({.nodes = 2});  // node_timeout_s = 3 in the test config
  ASSERT_TRUE(cluster.startAll());

  // Both span the two nodes, so losing n2 hits both.
  auto plain = cluster.submit({"-N", "2", "-n", "2", "--wrap", "sleep 300"});
  auto requeued = cluster.submit({"-N", "2", "-n", "2", "--requeue", "--wrap",
                                  "echo attempt=$LOCUS_RESTART_COUNT; [ \"$LOCUS_RESTART_COUNT\" != 0 ] || sleep 300"});
  ASSERT_TRUE(plain && requeued);
  ASSERT_TRUE(waitUntil([&] { return cluster.jobs("RUNNING").size() == 2; }, std::chrono::seconds(20)));

  cluster.killNode(1);
  ASSERT_TRUE(waitUntil([&] { return nodeState(cluster, "n2") == "DOWN"; }, std::chrono::seconds(20)));
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*plain)["state"] == "NODE_FAIL"; }, std::chrono::seconds(10)));
  auto j = cluster.job(*requeued);
  EXPECT_EQ(j["state"], "PENDING");  // needs two nodes, only one is up
  EXPECT_EQ(j["attempt"], 1);
  // The surviving node was told to kill the scripts and got its cores back.
  ASSERT_TRUE(waitUntil(
      [&] {
        auto parsed = nlohmann::json::parse(cluster.locus({"nodes", "--json"}).out);
        for (const auto& n : parsed["nodes"])
          if (n["name"] == "n1") return n["cpus_alloc"] == 0;
        return false;
      },
      std::chrono::seconds(10)));

  // n2 comes back: the requeued job runs its second attempt and completes.
  ASSERT_TRUE(cluster.startNode(1));
  ASSERT_TRUE(cluster.waitTerminal({*requeued}, std::chrono::seconds(60)));
  j = cluster.job(*requeued);
  EXPECT_EQ(j["state"], "COMPLETED");
  EXPECT_EQ(j["attempt"], 1);
  EXPECT_NE(readFile(j["stdout"]).find("attempt=1"), std::string::npos);
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// A process that exists and is not a zombie.
bool processRuns(pid_t pid) {
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  return !stat.empty() && stat.find(") Z") == std::string::npos;
}

// Batch tasks run under their own supervisors (nodedaemon/supervised_task.hpp): a node daemon
// killed outright, or stopped with SIGQUIT, and started again on the same state directory adopts
// its running tasks, enforces their time limits, and reports the exits of those that ended while
// it was away. The controller sees a restarted daemon that still runs them: nothing is requeued.
TEST(NodeFailure, ARestartedDaemonAdoptsItsTasksAndReportsTheirExits) {
  TestCluster cluster({.nodes = 1});
  ASSERT_TRUE(cluster.startAll());
  const std::string work = cluster.workDir();
  // a: runs through both restarts, exits 3 when told; b: ends while the daemon is away;
  // c: its time limit (6 s) passes after the restarts.
  auto a = cluster.submit({"--wrap", "echo $$ > a.pid; while [ ! -e go-a ]; do sleep 0.05; done; exit 3"});
  auto b = cluster.submit({"--wrap", "while [ ! -e go-b ]; do sleep 0.05; done; echo b-done"});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(waitUntil([&] { return cluster.jobs("RUNNING").size() == 2 && !readFile(work + "/a.pid").empty(); },
                        std::chrono::seconds(20)));
  const pid_t a_pid = std::stoi(readFile(work + "/a.pid"));

  cluster.killNode(0);  // SIGKILL
  EXPECT_TRUE(processRuns(a_pid)) << "the task died with its daemon";
  std::ofstream(work + "/go-b").close();
  // b ends and its supervisor records it, with no daemon to tell.
  const std::string b_spec = cluster.dir() + "/nodes/n1/jobs/" + std::to_string(*b) + ".0.spec";
  ASSERT_TRUE(waitUntil([&] { return readFile(b_spec).find("\nended wait_status=") != std::string::npos; },
                        std::chrono::seconds(10)));

  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitTerminal({*b}, std::chrono::seconds(20)));
  auto jb = cluster.job(*b);
  EXPECT_EQ(jb["state"], "COMPLETED") << jb.dump();
  EXPECT_EQ(jb["exit_code"], 0);
  EXPECT_EQ(jb["attempt"], 0);
  EXPECT_NE(readFile(jb["stdout"]).find("b-done"), std::string::npos);
  auto ja = cluster.job(*a);
  EXPECT_EQ(ja["state"], "RUNNING") << ja.dump();
  EXPECT_EQ(ja["attempt"], 0);
  EXPECT_TRUE(processRuns(a_pid));

  // A job started after the first restart, then a gentle restart (SIGQUIT: "leave the tasks").
  auto c = cluster.submit({"-t", "0:06", "--wrap", "sleep 300"});
  ASSERT_TRUE(c);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*c)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  cluster.signalNode(0, SIGQUIT);
  ASSERT_TRUE(cluster.waitNodeExit(0, std::chrono::seconds(20)));
  EXPECT_TRUE(processRuns(a_pid));
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));

  // The successor enforces c's time limit, counted from c's start.
  ASSERT_TRUE(cluster.waitTerminal({*c}, std::chrono::seconds(30)));
  auto jc = cluster.job(*c);
  EXPECT_EQ(jc["state"], "TIMEOUT") << jc.dump();
  EXPECT_EQ(jc["attempt"], 0);

  // And reports a's exit when it comes.
  EXPECT_EQ(cluster.job(*a)["state"], "RUNNING");
  std::ofstream(work + "/go-a").close();
  ASSERT_TRUE(cluster.waitTerminal({*a}, std::chrono::seconds(20)));
  ja = cluster.job(*a);
  EXPECT_EQ(ja["state"], "FAILED") << ja.dump();
  EXPECT_EQ(ja["exit_code"], 3);
  EXPECT_EQ(ja["attempt"], 0);
  EXPECT_FALSE(processRuns(a_pid));
}

// A node daemon stopped with SIGTERM kills its tasks (a node taken out of service), and that kill
// is not the jobs' end: the restarted daemon does not have them, so the controller requeues the
// --requeue job (attempt 1 completes) rather than failing it with signal 9.
TEST(NodeFailure, ADaemonStoppedWithSigtermHasItsRequeueJobRunAgain) {
  TestCluster cluster({.nodes = 1});
  ASSERT_TRUE(cluster.startAll());
  const std::string attempts = cluster.workDir() + "/attempts";
  auto id = cluster.submit({"--requeue", "--wrap",
                            "echo $LOCUS_RESTART_COUNT >> " + attempts + "; [ \"$LOCUS_RESTART_COUNT\" != 0 ] || sleep 300"});
  ASSERT_TRUE(id);
  ASSERT_TRUE(waitUntil([&] { return readFile(attempts) == "0\n"; }, std::chrono::seconds(20)));
  cluster.signalNode(0, SIGTERM);
  ASSERT_TRUE(cluster.waitNodeExit(0, std::chrono::seconds(20)));
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitTerminal({*id}, std::chrono::seconds(30)));
  auto j = cluster.job(*id);
  EXPECT_EQ(j["state"], "COMPLETED") << j.dump();
  EXPECT_EQ(j["attempt"], 1);
  EXPECT_EQ(readFile(attempts), "0\n1\n");
}

// A node daemon killed outright together with a task's supervisor: the task died with its
// supervisor (PR_SET_PDEATHSIG), its background process lives on; the restarted daemon kills
// that leftover, and the controller (a new daemon without the task) requeues the --requeue job.
TEST(NodeFailure, ADaemonKilledWithASupervisorLeavesNothingAndTheJobIsRequeued) {
  TestCluster cluster({.nodes = 1});
  ASSERT_TRUE(cluster.startAll());
  const std::string pidfile = cluster.workDir() + "/child-$LOCUS_JOB_ATTEMPT.pid";
  auto id = cluster.submit({"--requeue", "--wrap", "sleep 300 & echo $! > " + pidfile + "; wait"});
  ASSERT_TRUE(id);
  const std::string first_child = cluster.workDir() + "/child-0.pid";
  ASSERT_TRUE(waitUntil([&] { return !readFile(first_child).empty(); }, std::chrono::seconds(20)));
  pid_t child = std::stoi(readFile(first_child));
  ASSERT_EQ(kill(child, 0), 0);
  // The supervisor's pid, from the "started supervisor=PID task=PID" it appended to the spec.
  const std::string state = readFile(cluster.dir() + "/nodes/n1/jobs/" + std::to_string(*id) + ".0.spec");
  ASSERT_NE(state.find("supervisor="), std::string::npos) << state;
  const pid_t supervisor = std::stoi(state.substr(state.find("supervisor=") + 11));

  cluster.killNode(0);
  ASSERT_EQ(kill(supervisor, SIGKILL), 0);
  EXPECT_TRUE(processRuns(child)) << "the background process outlives the script's supervisor";
  ASSERT_TRUE(cluster.startNode(0));
  // The leftover child of attempt 0 is gone (a zombie until init reaps it counts as gone).
  ASSERT_TRUE(waitUntil([&] { return !processRuns(child); }, std::chrono::seconds(10)));
  // Attempt 1 runs.
  ASSERT_TRUE(waitUntil([&] { return !readFile(cluster.workDir() + "/child-1.pid").empty(); },
                        std::chrono::seconds(20)));
  auto j = cluster.job(*id);
  EXPECT_EQ(j["attempt"], 1);
  EXPECT_EQ(j["state"], "RUNNING");
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*id)}).exit_code, 0);
  ASSERT_TRUE(cluster.waitTerminal({*id}, std::chrono::seconds(20)));
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// A node daemon that hangs (SIGSTOP) past the node timeout is marked DOWN and its --requeue job
// runs again elsewhere. The hung daemon cannot stop its task, but the task's supervisor sees the
// daemon silent and kills it a little before the controller gives up on the node: attempt 0 is
// gone before attempt 1 starts. When the daemon wakes it reports that stale end (ignored) and
// the controller fences it by attempt number; the new attempt runs on, alone.
TEST(NodeFailure, AHungNodesTaskIsKilledBeforeItsJobRunsElsewhere) {
  TestCluster cluster({.nodes = 2});
  ASSERT_TRUE(cluster.startAll());
  auto id = cluster.submit({"--requeue", "--wrap", "echo $$ > pid.$LOCUS_RESTART_COUNT; exec sleep 300"});
  ASSERT_TRUE(id);
  const std::string pid0_file = cluster.workDir() + "/pid.0", pid1_file = cluster.workDir() + "/pid.1";
  ASSERT_TRUE(waitUntil([&] { return !readFile(pid0_file).empty(); }, std::chrono::seconds(20)));
  const pid_t first = std::stoi(readFile(pid0_file));
  const std::string node = cluster.job(*id)["nodes"][0];
  const int hung = node == "n1" ? 0 : 1;

  cluster.signalNode(hung, SIGSTOP);
  ASSERT_TRUE(waitUntil([&] { return nodeState(cluster, node) == "DOWN"; }, std::chrono::seconds(20)));
  ASSERT_TRUE(waitUntil([&] { return !readFile(pid1_file).empty(); }, std::chrono::seconds(20)));
  const pid_t second = std::stoi(readFile(pid1_file));
  auto j = cluster.job(*id);
  EXPECT_EQ(j["attempt"], 1);
  EXPECT_EQ(j["state"], "RUNNING");
  EXPECT_NE(j["nodes"][0], node);
  EXPECT_FALSE(processRuns(first)) << "attempt 0 (pid " << first << ") still ran when attempt 1 started";

  cluster.signalNode(hung, SIGCONT);
  EXPECT_TRUE(waitUntil([&] { return nodeState(cluster, node) == "UP"; }, std::chrono::seconds(20)));
  EXPECT_TRUE(processRuns(second));
  j = cluster.job(*id);
  EXPECT_EQ(j["state"], "RUNNING");
  EXPECT_EQ(j["attempt"], 1);
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*id)}).exit_code, 0);
}

}  // namespace
}  // namespace locus::testing
