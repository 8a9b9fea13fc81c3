// The simulator: a hand-computed golden scenario (tests/data/sim_golden.swf, the schedules are
// worked out in its header), the command's outputs and errors, and on a real trace that EASY
// beats FCFS.
#include "sim/simulator.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/simulate_command.hpp"

namespace locus::sim {
namespace {

using scheduler::Policy;

const std::string kGolden = std::string(LOCUS_TEST_DATA) + "/sim_golden.swf";
const std::string kKth = std::string(LOCUS_SHARED_DIR) + "/data/swf/KTH-SP2-1996-2.1-cln.swf.gz";

SimResult run(const std::string& path, Policy policy, size_t limit = 0) {
  auto trace = readSwf(path);
  EXPECT_TRUE(trace.ok());
  SimConfig c;
  c.policy = policy;
  c.limit = limit;
  auto r = simulate(*trace, c);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return *r;
}

std::vector<int64_t> starts(const SimResult& r) {
  std::vector<int64_t> s;
  for (const SimJob& j : r.schedule) s.push_back(j.start);
  return s;
}

TEST(Simulator, GoldenScenario) {
  struct Case {
    Policy policy;
    std::vector<int64_t> starts;
    double wait_mean;
  };
  const std::vector<Case> cases = {
      {Policy::kEasy, {0, 100, 20, 150, 150, 150}, 70.0},
      {Policy::kConservative, {0, 100, 20, 150, 150, 150}, 70.0},
      {Policy::kFcfs, {0, 100, 150, 150, 150, 180}, 580.0 / 6},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(scheduler::policyName(c.policy)));
    const SimResult r = run(kGolden, c.policy);
    EXPECT_EQ(r.nodes, 4u);
    EXPECT_EQ(r.cores_per_node, 1u);
    EXPECT_EQ(r.jobs, 6u);
    EXPECT_EQ(r.skipped, 2u);
    EXPECT_EQ(r.skipped_too_big, 1u);
    EXPECT_EQ(starts(r), c.starts);
    EXPECT_NEAR(r.wait_mean_s, c.wait_mean, 1e-9);
    // Job 6 asked for 40 s and ran 500: killed at 40.
    EXPECT_EQ(r.schedule[5].end - r.schedule[5].start, 40);
    // Last end: job 4 at 350. Core-seconds 3*100 + 4*50 + 80 + 200 + 2*30 + 40 = 880.
    EXPECT_EQ(r.makespan_s, 350);
    EXPECT_NEAR(r.utilization, 880.0 / (4 * 350), 1e-12);
  }
  // EASY bounded slowdowns: 1, (90+50)/50, 1, (120+200)/200, (110+30)/30, (100+40)/40.
  const SimResult easy = run(kGolden, Policy::kEasy);
  EXPECT_NEAR(easy.bsld_mean, (1 + 2.8 + 1 + 1.6 + 140.0 / 30 + 3.5) / 6, 1e-9);
  // Waits sorted: 0 0 90 100 110 120 -> median (upper) 100, p95 120.
  EXPECT_EQ(easy.wait_median_s, 100);
  EXPECT_EQ(easy.wait_p95_s, 120);
}

TEST(Simulator, ClusterFromFlagsOrHeader) {
  auto trace = readSwf(kGolden);
  ASSERT_TRUE(trace.ok());
  SimConfig c;
  c.nodes = 2;
  c.cores_per_node = 2;
  auto r = simulate(*trace, c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->nodes, 2u);
  EXPECT_EQ(r->jobs, 6u);  // 4 cores in all again: the same jobs fit

  SwfTrace bare = *trace;
  bare.max_nodes = bare.max_procs = 0;
  auto no_size = simulate(bare, SimConfig{});
  ASSERT_FALSE(no_size.ok());
  EXPECT_NE(no_size.error().message.find("--nodes"), std::string::npos);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/locus-sim-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SimulateCommand, WritesJsonWithExactlyTheKeysAndTheJobsCsv) {
  TempDir dir;
  const std::string json = dir.file("out.json"), csv = dir.file("jobs.csv");
  testing::internal::CaptureStdout();
  const int rc =
      runSimulate({"--trace", kGolden, "--policy", "fcfs", "--json", json, "--jobs-csv", csv});
  const std::string out = testing::internal::GetCapturedStdout();
  ASSERT_EQ(rc, 0);
  EXPECT_NE(out.find("utilization"), std::string::npos);
  const auto j = nlohmann::json::parse(slurp(json));
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"bsld_mean", "decisions_per_s", "jobs", "makespan_s",
                                            "skipped", "utilization", "wait_mean_s",
                                            "wait_median_s", "wait_p95_s", "wall_s"}));
  EXPECT_EQ(j["jobs"], 6);
  EXPECT_EQ(j["skipped"], 2);
  EXPECT_EQ(j["makespan_s"], 350);
  EXPECT_EQ(slurp(csv),
            "id,submit,start,end,procs\n"
            "1,0,0,100,3\n2,10,100,150,4\n3,20,150,230,1\n4,30,150,350,1\n5,40,150,180,2\n"
            "6,50,180,220,1\n");
}

TEST(SimulateCommand, BadInputIsOneLineAndNonZero) {
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no trace", {}, "locus: no trace given"},
      {"unknown policy", {"--trace", kGolden, "--policy", "sjf"}, "locus: unknown policy 'sjf'"},
      {"missing value", {"--trace"}, "locus: --trace needs a value"},
      {"bad number", {"--trace", kGolden, "--limit", "-3"}, "locus: --limit needs a positive"},
      {"nodes without cores", {"--trace", kGolden, "--nodes", "4"}, "locus: give both"},
      {"unknown flag", {"--trace", kGolden, "--speed", "9"}, "locus: unknown option --speed"},
      {"missing file", {"--trace", "/nonexistent.swf"}, "locus: cannot open trace"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    testing::internal::CaptureStderr();
    const int rc = runSimulate(c.args);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(rc, 0);
    EXPECT_EQ(err.rfind(c.message, 0), 0u) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

// One SWF line: job, submit, run, processors, requested time, user (the rest unknown).
std::string swfLine(int id, int submit, int run, int procs, int req, int user) {
  std::ostringstream o;
  o << id << ' ' << submit << " -1 " << run << ' ' << procs << " -1 -1 " << procs << ' ' << req
    << " -1 1 " << user << " -1 -1 -1 -1 -1 -1\n";
  return o.str();
}

SimResult runText(const std::string& text, Policy policy) {
  SwfTrace trace;
  parseSwf(text, trace);
  EXPECT_EQ(trace.malformed, 0u);
  SimConfig c;
  c.policy = policy;
  auto r = simulate(trace, c);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return *r;
}

// One node of 4 cores. User 1 teaches the predictor that its jobs run 10 s (jobs 1 and 2, all
// 4 cores, limit 1000). Job 3 (user 2, 2 cores, runs 100 of its 100) starts at 40; job 4 (user 2,
// 4 cores, 50 s) is reserved when job 3 ends, at 140. Job 5 (user 1, 2 cores, runs 10, limit
// 1000) arrives at 42:
//   easy          plans job 5 by its limit, [42, 1042): it would delay job 4, so it waits for
//                 job 4 to end: starts at 190.
//   easy-predict  plans it at 10 s (its user's last two), [42, 52): backfilled at once.
TEST(Simulator, EasyPredictBackfillsWhatPredictionsSayEndsInTime) {
  const std::string text = "; MaxNodes: 1\n; MaxProcs: 4\n" + swfLine(1, 0, 10, 4, 1000, 1) +
                           swfLine(2, 20, 10, 4, 1000, 1) + swfLine(3, 40, 100, 2, 100, 2) +
                           swfLine(4, 41, 50, 4, 50, 2) + swfLine(5, 42, 10, 2, 1000, 1);
  EXPECT_EQ(starts(runText(text, Policy::kEasy)), (std::vector<int64_t>{0, 20, 40, 140, 190}));
  EXPECT_EQ(starts(runText(text, Policy::kEasyPredict)),
            (std::vector<int64_t>{0, 20, 40, 140, 42}));
}

// A prediction that proves short pushes the reservation back; nothing is killed for it. Jobs 1
// and 2 as above. Job 3 (user 1, 2 cores, runs 100, limit 1000) starts at 40, predicted 10 s.
// Job 4 (user 2, 4 cores, 50 s) arrives at 41 and is reserved at job 3's planned end, 50. Job 5
// (user 3, 2 cores, 20 s, no history: planned by its limit) arrives at 42: [42, 62) would delay
// the reservation at 50, so it waits. At 50 job 3 still runs: planned to end at 40 + 10 + 60 =
// 110, the reservation moves to 110, and job 5 is backfilled at 50 (ends 70). At 110: planned
// 40 + 10 + 300 = 350. Job 3 ends at 140 (all 100 s run), and job 4 starts then.
// Plain EASY plans job 3 to 1040 and backfills job 5 at 42.
TEST(Simulator, EasyPredictCorrectsAShortPredictionByPushingTheReservationBack) {
  const std::string text = "; MaxNodes: 1\n; MaxProcs: 4\n" + swfLine(1, 0, 10, 4, 1000, 1) +
                           swfLine(2, 20, 10, 4, 1000, 1) + swfLine(3, 40, 100, 2, 1000, 1) +
                           swfLine(4, 41, 50, 4, 50, 2) + swfLine(5, 42, 20, 2, 20, 3);
  const SimResult predicted = runText(text, Policy::kEasyPredict);
  EXPECT_EQ(starts(predicted), (std::vector<int64_t>{0, 20, 40, 140, 50}));
  EXPECT_EQ(predicted.schedule[2].end, 140) << "job 3 ran its whole 100 s";
  EXPECT_EQ(starts(runText(text, Policy::kEasy)), (std::vector<int64_t>{0, 20, 40, 140, 42}));
}

TEST(Simulator, KthEasyBeatsFcfsAndFcfsKeepsOrder) {
  if (!std::filesystem::exists(kKth)) GTEST_SKIP() << kKth << " not present";
  const SimResult fcfs = run(kKth, Policy::kFcfs, 5000);
  const SimResult easy = run(kKth, Policy::kEasy, 5000);
  EXPECT_EQ(fcfs.jobs, easy.jobs);
  EXPECT_LT(easy.wait_mean_s, fcfs.wait_mean_s / 2) << "EASY should beat FCFS by a wide margin";
  EXPECT_LT(easy.bsld_mean, fcfs.bsld_mean);
  // FCFS: start order is queue (submit) order.
  for (size_t i = 1; i < fcfs.schedule.size(); ++i) {
    ASSERT_LE(fcfs.schedule[i - 1].start, fcfs.schedule[i].start) << "job " << fcfs.schedule[i].id;
  }
  // Nobody starts before arriving, and no two runs exceed the machine (checked by the core's
  // own accounting: a double allocation would abort).
  for (const SimJob& j : easy.schedule) ASSERT_GE(j.start, j.submit);
}

}  // namespace
}  // namespace locus::sim
