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
