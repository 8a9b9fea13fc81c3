#include "controller/policy/qos.hpp"

#include <gtest/gtest.h>

namespace locus::policy {
namespace {

// normal: 4 jobs / 64 cores / 2 gpus per user; 10 jobs / 128 cores / 4 gpus per account;
// 1 day of wall time.
QosLevel normal() {
  QosLevel q;
  q.name = "normal";
  q.priority = 10;
  q.per_user = {4, 64, 2};
  q.per_account = {10, 128, 4};
  q.max_wall_s = 86400;
  return q;
}

TEST(QosLimits, Reasons) {
  struct Case {
    std::string name;
    RunningUsage user, account;
    QosRequest job;
    std::string_view reason;  // empty = ok
    bool never;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {"within every limit", {3, 32, 1}, {9, 96, 3}, {32, 1, 3600}, "", false, ""},
      // 3 running + 1 = 4 <= 4; 32 + 32 = 64 <= 64; 1 + 1 = 2 <= 2: exactly at the limits.
      {"exactly at the limits", {3, 32, 1}, {3, 32, 1}, {32, 1, 86400}, "", false, ""},
      {"too long",
       {},
       {},
       {1, 0, 86401},
       kReasonQosMaxWall,
       true,
       "job asks 86401 s, QoS normal allows 86400 s"},
      {"no time limit",
       {},
       {},
       {1, 0, 0},
       kReasonQosMaxWall,
       true,
       "job asks no time limit, QoS normal allows 86400 s"},
      // 4 running + 1 > 4
      {"user jobs",
       {4, 4, 0},
       {4, 4, 0},
       {1, 0, 60},
       kReasonQosMaxJobsPerUser,
       false,
       "user runs 4 jobs, QoS normal allows 4"},
      // 60 + 8 > 64
      {"user cores",
       {1, 60, 0},
       {1, 60, 0},
       {8, 0, 60},
       kReasonQosMaxCpuPerUser,
       false,
       "user uses 60 cores and the job asks 8, QoS normal allows 64"},
      // 65 > 64 even with nothing running
      {"user cores, never",
       {},
       {},
       {65, 0, 60},
       kReasonQosMaxCpuPerUser,
       true,
       "user uses 0 cores and the job asks 65, QoS normal allows 64"},
      // 2 + 1 > 2
      {"user gpus",
       {1, 1, 2},
       {1, 1, 2},
       {1, 1, 60},
       kReasonQosMaxGresPerUser,
       false,
       "user uses 2 gpus and the job asks 1, QoS normal allows 2"},
      // user fine; account 10 running + 1 > 10
      {"account jobs",
       {0, 0, 0},
       {10, 10, 0},
       {1, 0, 60},
       kReasonQosMaxJobsPerAccount,
       false,
       "account runs 10 jobs, QoS normal allows 10"},
      // 100 + 32 > 128
      {"account cores",
       {0, 0, 0},
       {5, 100, 0},
       {32, 0, 60},
       kReasonQosMaxCpuPerAccount,
       false,
       "account uses 100 cores and the job asks 32, QoS normal allows 128"},
      // 3 + 2 > 4
      {"account gpus",
       {0, 0, 0},
       {3, 3, 3},
       {2, 2, 60},
       kReasonQosMaxGresPerAccount,
       false,
       "account uses 3 gpus and the job asks 2, QoS normal allows 4"},
      // wall time is checked before the user's job count
      {"first failing check wins",
       {4, 64, 2},
       {10, 128, 4},
       {1, 1, 90000},
       kReasonQosMaxWall,
       true,
       "job asks 90000 s, QoS normal allows 86400 s"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const QosVerdict v = checkLimits(normal(), c.user, c.account, c.job);
    EXPECT_EQ(v.ok, c.reason.empty());
    EXPECT_EQ(v.reason, c.reason);
    EXPECT_EQ(v.never, c.never);
    EXPECT_EQ(v.detail, c.detail);
  }
}

TEST(QosLimits, UnsetLimitsAreUnlimited) {
  QosLevel q;
  q.name = "long";
  const QosVerdict v = checkLimits(q, {1000, 100000, 100}, {1000, 100000, 100}, {512, 8, 0});
  EXPECT_TRUE(v.ok);
  EXPECT_TRUE(v.reason.empty());
}

}  // namespace
}  // namespace locus::policy
