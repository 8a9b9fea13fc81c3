// The job selection sacct and `locus acct` share: state words, the time syntax's Locus
// additions, the window's defaults and checks, and each filter.
#include "cli/slurm/job_filter.hpp"

#include <gtest/gtest.h>

#include "cli/slurm/slurm_fields.hpp"
#include "tests/unit/slurm/fixture.hpp"

namespace locus::slurm {
namespace {
using namespace testing;

std::vector<std::string> selected(const JobFilter& f) {
  std::vector<std::string> ids;
  for (const auto& j : jobs())
    if (jobSelected(j, f, kNow)) ids.push_back(displayJobId(j));
  return ids;
}

TEST(JobFilter, StatesAreCaseInsensitiveTakeShortCodesAndDropDuplicates) {
  struct Case {
    std::string name;
    std::vector<std::string> words;
    std::vector<std::string> want;
  } cases[] = {
      {"full names any case", {"completed", "Failed"}, {"COMPLETED", "FAILED"}},
      {"short codes",
       {"cd", "CA", "to", "oom"},
       {"COMPLETED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY"}},
      {"a state named twice is kept once", {"CD", "COMPLETED"}, {"COMPLETED"}},
      {"none", {}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = parseJobStates(c.words);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, c.want);
  }
}

TEST(JobFilter, UnknownStateNamesTheWordAndTheValidStates) {
  auto r = parseJobStates({"COMPLETED", "finished"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("'finished'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("COMPLETED (CD)"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("OUT_OF_MEMORY (OOM)"), std::string::npos) << r.error().message;
}

TEST(JobFilter, TimeSyntaxLocusAdditions) {
  useUtc();
  // Unix seconds: 9 digits or more.
  EXPECT_EQ(*parseSacctTime("1699999200", kNow), 1699999200);
  EXPECT_EQ(*parseSacctTime("now-90min", kNow), kNow - 5400);
  EXPECT_EQ(*parseSacctTime("NOW+1h", kNow), kNow + 3600);
  EXPECT_EQ(*parseSacctTime("2023-11-14T22:00", kNow), 1699999200);
  // A count too long for any sane offset, and nothing after "now-", are errors, not overflow.
  EXPECT_FALSE(parseSacctTime("now-99999999999999hours", kNow).ok());
  EXPECT_FALSE(parseSacctTime("now-", kNow).ok());
  EXPECT_FALSE(parseSacctTime("20231114", kNow).ok());  // 8 digits: neither a date nor seconds
  auto bad = parseSacctTime("soon", kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "Invalid time specification: soon");
}

TEST(JobFilter, WindowDefaultsAndChecks) {
  useUtc();
  JobFilter f;
  EXPECT_EQ(windowStart(f, kNow), 1699920000);  // 00:00 today
  EXPECT_EQ(windowEnd(f, kNow), kNow);
  f.jobs = {"105"};
  EXPECT_EQ(windowStart(f, kNow), 0);  // jobs named: since the epoch
  EXPECT_TRUE(checkWindow(f, kNow).ok());
  f.start = kNow;
  f.end = kNow - 1;
  Status s = checkWindow(f, kNow);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "start time 2023-11-14T22:13:20 is after end time 2023-11-14T22:13:19");
}

TEST(JobFilter, EachFilter) {
  useUtc();
  struct Case {
    std::string name;
    JobFilter filter;
    std::vector<std::string> want;
  };
  JobFilter by_uid;
  by_uid.users = {"1001"};
  JobFilter by_users;
  by_users.users = {"bob", "alice"};
  JobFilter by_account;
  by_account.accounts = {"physics"};
  JobFilter by_state;
  by_state.states = {"FAILED", "CANCELLED"};
  JobFilter by_array;
  by_array.jobs = {"103"};
  JobFilter late_start;  // from 22:05:10: 103_1 ended 22:05:00, before the window opens
  late_start.start = kNow - 490;
  JobFilter yesterday;  // 00:00-22:00 yesterday: only 105 had been submitted (21:11:40)
  yesterday.start = 1699920000 - 86400;
  yesterday.end = 1699920000 - 2 * 3600;
  const Case cases[] = {
      {"nothing set: every job of the default window", {}, {"101", "102", "103_0", "103_1", "105"}},
      {"a uid", by_uid, {"102"}},
      {"user names", by_users, {"101", "102", "103_0", "103_1", "105"}},
      {"an account", by_account, {}},
      {"states", by_state, {"103_1", "105"}},
      {"an array id names its tasks", by_array, {"103_0", "103_1"}},
      {"ended before the window", late_start, {"101", "102", "103_0", "105"}},
      {"a window yesterday", yesterday, {"105"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(selected(c.filter), c.want);
  }
  auto all = jobs();
  all[0].set_account("physics");
  EXPECT_TRUE(jobSelected(all[0], by_account, kNow));
  EXPECT_FALSE(jobSelected(all[1], by_account, kNow));
}

}  // namespace
}  // namespace locus::slurm
