// locus events: the exact state sequence of each job as `locus events --json` streams it, the
// stream carrying on across a SIGKILLed and restarted controller with no event lost or repeated
// (ids contiguous), filters, `locus wait` through the restart, and a resume from an id the
// controller no longer keeps.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

// The complete lines of NDJSON output, parsed (a line still being written is left out).
std::vector<nlohmann::json> eventsIn(const std::string& out) {
  std::vector<nlohmann::json> events;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1)
    events.push_back(nlohmann::json::parse(out.substr(start, nl - start)));
  return events;
}

// "kind OLD->NEW" for each event of `job`, in order.
std::vector<std::string> historyOf(const std::vector<nlohmann::json>& events, uint64_t job) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e["job_id"].is_null() || e["job_id"].get<uint64_t>() != job) continue;
    std::string old = e["old_state"].is_null() ? "" : e["old_state"].get<std::string>();
    out.push_back(e["kind"].get<std::string>() + " " + old + "->" +
                  e["new_state"].get<std::string>());
  }
  return out;
}

bool hasEvent(const BackgroundCommand& events, uint64_t job, const std::string& kind) {
  for (const auto& e : eventsIn(events.outSoFar()))
    if (!e["job_id"].is_null() && e["job_id"].get<uint64_t>() == job && e["kind"] == kind)
      return true;
  return false;
}

// `locus events ARGS...` in the background, against the cluster.
std::unique_ptr<BackgroundCommand> follow(const TestCluster& cluster,
                                          std::vector<std::string> args) {
  std::vector<std::string> argv{binDir() + "/locus", "--controller", cluster.address(), "events"};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<BackgroundCommand>(argv, std::map<std::string, std::string>{},
                                             cluster.workDir());
}

// Ctrl-C: a follower ends with status 0.
CommandResult interrupt(BackgroundCommand& command) {
  command.signal(SIGINT);
  auto r = command.wait(std::chrono::seconds(10));
  return r ? *r : CommandResult{};
}

using History = std::vector<std::string>;

TEST(Events, EachJobsSequenceAndNothingLostOrRepeatedAcrossARestart) {
  TestCluster cluster({.nodes = 2});
  ASSERT_TRUE(cluster.startController());
  // From the first event on, nodes included: every id the controller hands out must show up.
  auto all = follow(cluster, {"--json", "--nodes", "--after", "0"});
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(cluster.startNode(i));
  ASSERT_TRUE(cluster.waitNodesUp(2, std::chrono::seconds(20)));

  auto completes = cluster.submit({"--wrap", "true"});
  auto fails = cluster.submit({"--wrap", "exit 3"});
  auto times_out = cluster.submit({"-t", "0:01", "--wrap", "sleep 60"});
  auto held = cluster.submit({"-H", "--wrap", "true"});
  auto array = cluster.submit({"--array", "1-2", "--wrap", "true"});
  auto running = cluster.submit({"--wrap", "sleep 300"});
  auto requeued = cluster.submit({"--wrap", "[ \"$LOCUS_RESTART_COUNT\" != 0 ] || sleep 300"});
  ASSERT_TRUE(completes && fails && times_out && held && array && running && requeued);
  // Each change is acted on once the stream has shown the state it changes.
  ASSERT_TRUE(
      waitUntil([&] { return hasEvent(*all, *held, "submitted"); }, std::chrono::seconds(30)));
  ASSERT_EQ(cluster.locus({"release", std::to_string(*held)}).exit_code, 0);
  ASSERT_TRUE(
      waitUntil([&] { return hasEvent(*all, *held, "completed"); }, std::chrono::seconds(30)));
  // Released while it waits for a dependency that has not ended, held again, then cancelled.
  auto later = cluster.submit({"-H", "-d", "afterok:" + std::to_string(*running), "--wrap", "true"});
  ASSERT_TRUE(later);
  ASSERT_EQ(cluster.locus({"release", std::to_string(*later)}).exit_code, 0);
  ASSERT_EQ(cluster.locus({"hold", std::to_string(*later)}).exit_code, 0);
  ASSERT_EQ(cluster.locus({"cancel", std::to_string(*later)}).exit_code, 0);
  ASSERT_TRUE(
      waitUntil([&] { return hasEvent(*all, *running, "started"); }, std::chrono::seconds(30)));
  ASSERT_EQ(cluster.locus({"cancel", std::to_string(*running)}).exit_code, 0);
  ASSERT_TRUE(
      waitUntil([&] { return hasEvent(*all, *requeued, "started"); }, std::chrono::seconds(30)));
  ASSERT_EQ(cluster.locus({"requeue", std::to_string(*requeued)}).exit_code, 0);
  const std::vector<uint64_t> before_restart{*completes, *fails,   *times_out, *held,    *later,
                                             *array,     *array + 1, *running,   *requeued};
  ASSERT_TRUE(cluster.waitTerminal(before_restart, std::chrono::seconds(60)));

  // A job that ends while the controller is away: its end is an event of the next controller.
  const std::string gate = cluster.workDir() + "/gate";
  auto across = cluster.submit({"--wrap", "while [ ! -e " + gate + " ]; do sleep 0.05; done"});
  ASSERT_TRUE(across);
  ASSERT_TRUE(
      waitUntil([&] { return hasEvent(*all, *across, "started"); }, std::chrono::seconds(30)));
  // A `locus wait` on it and on a job ended long ago: printing that one's end says the wait has
  // its stream (a wait that never reached the controller fails instead of retrying).
  std::vector<std::string> wait_argv{
      binDir() + "/locus", "--controller", cluster.address(),          "wait",
      "--timeout",         "120",          std::to_string(*completes), std::to_string(*across)};
  BackgroundCommand waiter(wait_argv, {}, cluster.workDir());
  const std::string completes_line =
      "job " + std::to_string(*completes) + " COMPLETED exit_code=0\n";
  ASSERT_TRUE(
      waitUntil([&] { return waiter.outSoFar() == completes_line; }, std::chrono::seconds(30)))
      << waiter.errSoFar();
  const size_t seen_before_kill = eventsIn(all->outSoFar()).size();
  cluster.killController();
  std::ofstream(gate).put('\n');
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.waitNodesUp(2, std::chrono::seconds(20)));
  auto after = cluster.submit({"--wrap", "true"});
  ASSERT_TRUE(after);
  ASSERT_TRUE(waitUntil(
      [&] { return hasEvent(*all, *after, "completed") && hasEvent(*all, *across, "completed"); },
      std::chrono::seconds(60)));

  // `locus wait` was there all along, through the restart.
  auto waited = waiter.wait(std::chrono::seconds(30));
  ASSERT_TRUE(waited);
  EXPECT_EQ(waited->exit_code, 0) << waited->err;
  EXPECT_EQ(waited->out,
            completes_line + "job " + std::to_string(*across) + " COMPLETED exit_code=0\n");

  auto done = interrupt(*all);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.err.find("reconnecting"), std::string::npos) << done.err;
  const auto events = eventsIn(done.out);
  ASSERT_GT(events.size(), seen_before_kill);

  // Every id once, none missing: 1, 2, 3, ... whatever happened to the controller.
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE(events[i].dump());
    ASSERT_EQ(events[i]["id"].get<uint64_t>(), i + 1);
    for (const char* key :
         {"id", "time", "kind", "job_id", "node", "user", "old_state", "new_state", "reason"})
      EXPECT_TRUE(events[i].contains(key)) << key;
  }

  EXPECT_EQ(
      historyOf(events, *completes),
      (History{"submitted ->PENDING", "started PENDING->RUNNING", "completed RUNNING->COMPLETED"}));
  EXPECT_EQ(historyOf(events, *later),
            (History{"submitted ->PENDING", "released PENDING->PENDING", "held PENDING->PENDING",
                     "cancelled PENDING->CANCELLED"}));
  EXPECT_EQ(historyOf(events, *fails),
            (History{"submitted ->PENDING", "started PENDING->RUNNING", "failed RUNNING->FAILED"}));
  EXPECT_EQ(
      historyOf(events, *times_out),
      (History{"submitted ->PENDING", "started PENDING->RUNNING", "timeout RUNNING->TIMEOUT"}));
  EXPECT_EQ(historyOf(events, *held),
            (History{"submitted ->PENDING", "released PENDING->PENDING", "started PENDING->RUNNING",
                     "completed RUNNING->COMPLETED"}));
  for (uint64_t task : {*array, *array + 1})
    EXPECT_EQ(historyOf(events, task), (History{"submitted ->PENDING", "started PENDING->RUNNING",
                                                "completed RUNNING->COMPLETED"}));
  EXPECT_EQ(historyOf(events, *running), (History{"submitted ->PENDING", "started PENDING->RUNNING",
                                                  "cancelled RUNNING->CANCELLED"}));
  EXPECT_EQ(historyOf(events, *requeued),
            (History{"submitted ->PENDING", "started PENDING->RUNNING", "requeued RUNNING->PENDING",
                     "started PENDING->RUNNING", "completed RUNNING->COMPLETED"}));
  EXPECT_EQ(historyOf(events, *across), (History{"submitted ->PENDING", "started PENDING->RUNNING",
                                                 "completed RUNNING->COMPLETED"}));
  EXPECT_EQ(historyOf(events, *after), (History{"submitted ->PENDING", "started PENDING->RUNNING",
                                                "completed RUNNING->COMPLETED"}));

  // Details: exit codes once ended, the reason, the node a job started on, the user.
  for (const auto& e : events) {
    if (e["job_id"].is_null()) continue;
    SCOPED_TRACE(e.dump());
    EXPECT_FALSE(e["user"].is_null());
    if (e["kind"] == "started") EXPECT_TRUE(e["node"] == "n1" || e["node"] == "n2");
    if (e["kind"] == "failed") {
      EXPECT_EQ(e["exit_code"], 3);
      EXPECT_EQ(e["reason"], "NonZeroExitCode");
    }
    if (e["kind"] == "completed") EXPECT_EQ(e["exit_code"], 0);
    if (e["kind"] == "timeout") EXPECT_EQ(e["reason"], "TimeLimit");
    if (e["kind"] == "submitted") EXPECT_TRUE(e["exit_code"].is_null());
  }

  // Nodes: each came UP when it registered, and again (reconnected) for the new controller.
  std::map<std::string, History> nodes;
  for (const auto& e : events)
    if (e["job_id"].is_null())
      nodes[e["node"].get<std::string>()].push_back(
          e["kind"].get<std::string>() + " " + e["old_state"].get<std::string>() + "->" +
          e["new_state"].get<std::string>() + " " + e["reason"].get<std::string>());
  for (const std::string node : {"n1", "n2"})
    EXPECT_EQ(nodes[node],
              (History{"node_up UNKNOWN->UP Registered", "node_up UNKNOWN->UP Reconnected"}))
        << node;

  // Replayed from the restarted controller's store, the log is the same, and filters hold.
  auto replay = follow(cluster, {"--json", "--nodes", "--after", "0"});
  ASSERT_TRUE(waitUntil([&] { return eventsIn(replay->outSoFar()).size() >= events.size(); },
                        std::chrono::seconds(20)));
  auto replayed = eventsIn(interrupt(*replay).out);
  ASSERT_EQ(replayed.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(replayed[i], events[i]);

  // --job ARRAY: its tasks' events only (six of them).
  auto one = follow(cluster, {"--json", "--job", std::to_string(*array), "--after", "0"});
  ASSERT_TRUE(
      waitUntil([&] { return eventsIn(one->outSoFar()).size() >= 6; }, std::chrono::seconds(20)));
  // --user: no job here is nobody's; the node events (asked for) come through alone.
  auto nobody = follow(cluster, {"--json", "--nodes", "--user", "nobody-at-all", "--after", "0"});
  ASSERT_TRUE(waitUntil([&] { return eventsIn(nobody->outSoFar()).size() >= 4; },
                        std::chrono::seconds(20)));
  auto task_events = eventsIn(interrupt(*one).out);
  EXPECT_EQ(task_events.size(), 6u);
  for (const auto& e : task_events)
    EXPECT_TRUE(e["job_id"] == *array || e["job_id"] == *array + 1) << e.dump();
  auto node_events = eventsIn(interrupt(*nobody).out);
  EXPECT_EQ(node_events.size(), 4u);
  for (const auto& e : node_events) EXPECT_TRUE(e["job_id"].is_null()) << e.dump();
}

// Five events kept in the store, two of them in memory: a reader resuming after 8 gets 9-11
// from the store's rows and 12-13 from memory, through the real WatchEvents stream.
TEST(Events, ResumingFromAnIdNoLongerKeptIsRefused) {
  TestCluster cluster({.nodes = 1, .config = "events_kept = 5\nevents_in_memory = 2\n"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  std::vector<uint64_t> ids;
  for (int i = 0; i < 4; ++i) {
    auto id = cluster.submit({"--wrap", "true"});
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  ASSERT_TRUE(cluster.waitTerminal(ids, std::chrono::seconds(30)));  // 1 node + 12 job events

  // From the beginning: refused, saying where what is kept begins.
  const std::string kGone = "locus: events before 9 are no longer kept\n";
  auto old = cluster.locus({"events", "--after", "0"});
  EXPECT_EQ(old.exit_code, 1);
  EXPECT_EQ(old.err, kGone);
  EXPECT_EQ(cluster.locus({"events", "--after", "7"}).err, kGone);
  // From just before it: the five kept, the oldest first, in text.
  auto kept = follow(cluster, {"--nodes", "--after", "8"});
  ASSERT_TRUE(waitUntil(
      [&] {
        const std::string out = kept->outSoFar();
        return std::count(out.begin(), out.end(), '\n') >= 5;
      },
      std::chrono::seconds(20)));
  auto text = interrupt(*kept);
  EXPECT_EQ(text.exit_code, 0);
  std::istringstream lines(text.out);
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) all.push_back(line);
  ASSERT_EQ(all.size(), 5u) << text.out;
  // "TIME  ID  KIND  job N  OLD -> NEW  DETAILS": a job's end is the last event, 13.
  EXPECT_NE(all.front().find("       9  "), std::string::npos) << all.front();
  EXPECT_NE(all.back().find("      13  completed     job "), std::string::npos) << all.back();
  EXPECT_NE(all.back().find("RUNNING -> COMPLETED"), std::string::npos) << all.back();
  EXPECT_NE(all.back().find("exit_code=0"), std::string::npos) << all.back();

  // The store keeps as many: a restarted controller gives the same answer, one event on (the
  // node's reconnection, 14).
  cluster.killController();
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  auto restarted = cluster.locus({"events", "--after", "8"});
  EXPECT_EQ(restarted.exit_code, 1);
  EXPECT_EQ(restarted.err, "locus: events before 10 are no longer kept\n");
  // An id beyond the newest (a client of another cluster's controller) is refused too.
  auto future = cluster.locus({"events", "--after", "1000"});
  EXPECT_EQ(future.exit_code, 1);
  EXPECT_NE(future.err.find("newer than the newest event"), std::string::npos) << future.err;
}

}  // namespace
}  // namespace locus::testing
