#include "controller/request_limits.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace locus::controller {
namespace {

JobSpec ok() {
  JobSpec s;
  s.name = "job";
  s.script = "#!/bin/sh\ntrue\n";
  s.work_dir = "/tmp";
  s.ntasks = 4;
  return s;
}

TEST(RequestLimits, ARealJobPasses) { EXPECT_TRUE(checkRequestLimits(ok()).ok()); }

TEST(RequestLimits, EachBoundNamesItsField) {
  using L = RequestLimits;
  struct Case {
    std::string want;
    std::function<void(JobSpec&)> make;
  };
  const std::vector<Case> cases = {
      {"the job script is 4 MiB, more than the limit of 4 MiB", [](JobSpec& s) { s.script.assign(L::kScriptBytes + 1, 'x'); }},
      {"the environment is", [](JobSpec& s) { s.environment["BIG"].assign(L::kEnvironmentBytes, 'x'); }},
      {"script arguments, more than", [](JobSpec& s) { s.args.assign(L::kArgs + 1, "a"); }},
      {"--job-name is 4 KiB", [](JobSpec& s) { s.name.assign(L::kTextBytes + 1, 'n'); }},
      {"--constraint is", [](JobSpec& s) { s.constraint.assign(L::kTextBytes + 1, 'c'); }},
      {"--input values, more than", [](JobSpec& s) { s.inputs.assign(L::kInputs + 1, "dataset:x"); }},
      {"--nodes 1000001 is more than", [](JobSpec& s) { s.nodes = L::kNodes + 1; }},
      {"--ntasks 4294967295 is more than", [](JobSpec& s) { s.ntasks = UINT32_MAX; }},
      {"--cpus-per-task 100001 is more than", [](JobSpec& s) { s.cpus_per_task = L::kCpusPerTask + 1; }},
      {"--time is negative", [](JobSpec& s) { s.time_limit_s = -5; }},
      {"--time is more than a century", [](JobSpec& s) { s.time_limit_s = INT64_MAX; }},
  };
  for (const Case& c : cases) {
    JobSpec s = ok();
    c.make(s);
    Status st = checkRequestLimits(s);
    ASSERT_FALSE(st.ok()) << c.want;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(st.error().message.find(c.want), std::string::npos) << st.error().message;
  }
}

TEST(RequestLimits, AtTheBoundIsAllowed) {
  JobSpec s = ok();
  s.script.assign(RequestLimits::kScriptBytes, 'x');
  s.name.assign(RequestLimits::kTextBytes, 'n');
  s.nodes = RequestLimits::kNodes;
  EXPECT_TRUE(checkRequestLimits(s).ok());
}

}  // namespace
}  // namespace locus::controller
