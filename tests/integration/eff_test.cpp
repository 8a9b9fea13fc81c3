// `locus eff JOBID` (like seff): CPU and memory efficiency of an ended job from what its node
// measured, checked against a job whose use is known (100 MB touched, one core spun for 1.5 s
// out of the 2 it holds).
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

// The value after "KEY: " on its line of `text`, "" if absent.
std::string line(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l.rfind(key + ": ", 0) == 0) return l.substr(key.size() + 2);
  return "";
}

TEST(Eff, ReportsTheCpuAndMemoryAJobUsedAgainstWhatItAskedFor) {
  TestCluster cluster({.nodes = 1, .topology = "pack:1 numa:1 core:2 pu:1"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  const std::string work =
      "python3 -c \"import time\nx = bytearray(100 << 20)\nx[::4096] = b'1' * len(x[::4096])\n"
      "t = time.time()\nwhile time.time() - t < 1.5: pass\"";
  auto id = cluster.submit({"-c", "2", "--mem", "400M", "--wrap", work});
  ASSERT_TRUE(id);
  // While it waits or runs, there is nothing to report yet.
  auto early = cluster.locus({"eff", std::to_string(*id)});
  EXPECT_EQ(early.exit_code, 0) << early.err;
  EXPECT_NE(early.out.find("Efficiency is reported once the job has ended."), std::string::npos) << early.out;
  ASSERT_TRUE(cluster.waitTerminal({*id}, std::chrono::seconds(30)));
  auto r = cluster.locus({"eff", std::to_string(*id)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(line(r.out, "State"), "COMPLETED (exit code 0)") << r.out;
  EXPECT_EQ(line(r.out, "Cores per node"), "2") << r.out;
  // 1.5 s of one core spun: at least 1 s, and the efficiency is that over 2 cores x the wall time.
  const double cpu = cluster.job(*id)["cpu_time_s"].get<double>();
  EXPECT_GE(cpu, 1.3) << r.out;
  EXPECT_LT(cpu, 3.0) << r.out;
  const std::string eff = line(r.out, "CPU Efficiency");
  ASSERT_FALSE(eff.empty()) << r.out;
  EXPECT_NE(eff.find("core-walltime"), std::string::npos) << r.out;
  // 100 MB touched, 400 MB asked for: 25% and a bit (the interpreter's own memory).
  const std::string mem = line(r.out, "Memory Utilized");
  ASSERT_NE(mem.find(" MB"), std::string::npos) << r.out;
  const double used = std::atof(mem.c_str());
  EXPECT_GE(used, 100.0) << r.out;
  EXPECT_LT(used, 200.0) << r.out;
  const std::string mem_eff = line(r.out, "Memory Efficiency");
  EXPECT_NE(mem_eff.find("of 400.00 MB"), std::string::npos) << r.out;
  EXPECT_NEAR(std::atof(mem_eff.c_str()), 100.0 * used / 400.0, 0.05) << r.out;
  // A job that does not exist: an error, non-zero.
  auto bad = cluster.locus({"eff", "999999"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_FALSE(bad.err.empty());
}

}  // namespace
}  // namespace locus::testing
