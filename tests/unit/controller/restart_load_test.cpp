// What a controller rebuilds from the store at a restart without keeping the history in memory:
// the runtime predictor's view of each user (their last two runs, by when they ended).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "common/config.hpp"
#include "common/time_util.hpp"
#include "controller/controller.hpp"
#include "controller/store/store.hpp"

namespace locus::controller {
namespace {

Job ended(uint64_t id, const std::string& user, int64_t start, int64_t end) {
  Job job;
  job.id = id;
  job.user = user;
  job.spec.script = "#!/bin/sh\ntrue\n";
  job.spec.work_dir = "/tmp";
  job.state = JobState::kCompleted;
  job.exit_code = 0;
  job.start_time = start;
  job.end_time = end;
  return job;
}

TEST(ControllerRestart, PredictionsComeFromEachUsersLastTwoRunsByTheirEnd) {
  char tmpl[] = "/tmp/locus-restart-test-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  {
    auto store = Store::open(dir);
    ASSERT_TRUE(store.ok()) << store.error().message;
    // Long ago (so none stays in memory), and not in id order: job 4 ended before jobs 2 and 3.
    const int64_t t = unixNow() - 100000;
    ASSERT_TRUE((*store)->begin().ok());
    for (const Job& job : {ended(1, "alice", t, t + 100), ended(2, "alice", t + 1000, t + 1300),
                           ended(3, "alice", t + 2000, t + 2500), ended(4, "alice", t + 300, t + 500),
                           ended(5, "bob", t, t + 60), ended(6, "bob", t + 10, t + 10)})
      ASSERT_TRUE((*store)->saveJob(job).ok());
    ASSERT_TRUE((*store)->commit().ok());
  }
  Config config;
  config.state_dir = dir;
  config.min_job_age_s = 60;
  auto c = Controller::create(config);
  ASSERT_TRUE(c.ok()) << c.error().message;
  // alice's last two runs by their end are 300 s (job 2) and 500 s (job 3): (300 + 500) / 2.
  // (By id the last two would be jobs 3 and 4: 350.)
  EXPECT_EQ((*c)->predictRuntime("alice", 0), 400);
  // bob's zero-length job says nothing; his one run is the prediction.
  EXPECT_EQ((*c)->predictRuntime("bob", 0), 60);
  // Nobody's history: the limit.
  EXPECT_EQ((*c)->predictRuntime("carol", 7200), 7200);
  c->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace locus::controller
