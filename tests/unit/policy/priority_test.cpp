#include "controller/policy/priority.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

namespace locus::policy {
namespace {

constexpr int64_t kDay = 24 * 3600;

PriorityWeights weights() {
  PriorityWeights w;
  w.age = 1000;
  w.fairshare = 10000;
  w.job_size = 500;
  w.qos = 2000;
  w.partition = 100;
  w.max_age_s = 7 * kDay;
  return w;
}

// 3.5 days old, F 0.25, 16 of 64 cores, QoS 50 of 100, partition 1 of 1.
PriorityInputs inputs() {
  PriorityInputs in;
  in.now_s = 10 * kDay;
  in.eligible_s = in.now_s - 7 * kDay / 2;
  in.fair_share = 0.25;
  in.job_cores = 16;
  in.cluster_cores = 64;
  in.qos_priority = 50;
  in.max_qos_priority = 100;
  in.partition_priority = 1;
  in.max_partition_priority = 1;
  return in;
}

TEST(Priority, Factors) {
  struct Case {
    std::string name;
    std::function<void(PriorityWeights&, PriorityInputs&)> change;
    double age, fairshare, size, qos, partition;
    int64_t total;
  };
  const std::vector<Case> cases = {
      // 1000 * 0.5 + 10000 * 0.25 + 500 * 0.25 + 2000 * 0.5 + 100 * 1
      // = 500 + 2500 + 125 + 1000 + 100
      {"all factors", [](PriorityWeights&, PriorityInputs&) {}, 0.5, 0.25, 0.25, 0.5, 1.0, 4225},
      // age capped at max_age: 1000 * 1 + 2500 + 125 + 1000 + 100
      {"age capped",
       [](PriorityWeights&, PriorityInputs& in) { in.eligible_s = in.now_s - 30 * kDay; }, 1.0,
       0.25, 0.25, 0.5, 1.0, 4725},
      // eligible in the future: age 0. 0 + 2500 + 125 + 1000 + 100
      {"not yet eligible",
       [](PriorityWeights&, PriorityInputs& in) { in.eligible_s = in.now_s + kDay; }, 0.0, 0.25,
       0.25, 0.5, 1.0, 3725},
      // favor small: 1 - 16/64 = 0.75; 500 + 2500 + 375 + 1000 + 100
      {"favor small", [](PriorityWeights& w, PriorityInputs&) { w.favor_small = true; }, 0.5, 0.25,
       0.75, 0.5, 1.0, 4475},
      // job bigger than the cluster counts as the whole cluster: 500 + 2500 + 500 + 1000 + 100
      {"oversized job", [](PriorityWeights&, PriorityInputs& in) { in.job_cores = 100; }, 0.5, 0.25,
       1.0, 0.5, 1.0, 4600},
      // no QoS priorities configured: qos factor 0. 500 + 2500 + 125 + 0 + 100
      {"no qos priorities",
       [](PriorityWeights&, PriorityInputs& in) {
         in.qos_priority = 0;
         in.max_qos_priority = 0;
       },
       0.5, 0.25, 0.25, 0.0, 1.0, 3225},
      // rounding: F = 0.33333 -> 3333.3; 500 + 3333.3 + 125 + 1000 + 100 = 5058.3 -> 5058
      {"rounds to nearest", [](PriorityWeights&, PriorityInputs& in) { in.fair_share = 1.0 / 3; },
       0.5, 1.0 / 3, 0.25, 0.5, 1.0, 5058},
      // all weights 0: priority 0 whatever the factors
      {"zero weights", [](PriorityWeights& w, PriorityInputs&) { w = PriorityWeights{}; }, 3.5 / 7,
       0.25, 0.25, 0.5, 1.0, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PriorityWeights w = weights();
    PriorityInputs in = inputs();
    c.change(w, in);
    const PriorityBreakdown b = computePriority(w, in);
    EXPECT_NEAR(b.age, c.age, 1e-12);
    EXPECT_NEAR(b.fairshare, c.fairshare, 1e-12);
    EXPECT_NEAR(b.job_size, c.size, 1e-12);
    EXPECT_NEAR(b.qos, c.qos, 1e-12);
    EXPECT_NEAR(b.partition, c.partition, 1e-12);
    EXPECT_EQ(b.total, c.total);
  }
}

TEST(Priority, WeightedTermsAddUp) {
  const PriorityBreakdown b = computePriority(weights(), inputs());
  EXPECT_DOUBLE_EQ(b.w_age, 500);
  EXPECT_DOUBLE_EQ(b.w_fairshare, 2500);
  EXPECT_DOUBLE_EQ(b.w_job_size, 125);
  EXPECT_DOUBLE_EQ(b.w_qos, 1000);
  EXPECT_DOUBLE_EQ(b.w_partition, 100);
}

TEST(Priority, Ordering) {
  // Fair-share dominates: F 0.9 -> 9000 beats a job waiting the full max age (1000 + 0).
  PriorityWeights w = weights();
  w.job_size = w.qos = w.partition = 0;
  PriorityInputs light = inputs();
  light.fair_share = 0.9;
  light.eligible_s = light.now_s;
  PriorityInputs old = inputs();
  old.fair_share = 0.0;
  old.eligible_s = old.now_s - 7 * kDay;
  const int64_t p_light = computePriority(w, light).total;  // 0 + 9000
  const int64_t p_old = computePriority(w, old).total;      // 1000 + 0
  EXPECT_EQ(p_light, 9000);
  EXPECT_EQ(p_old, 1000);

  std::vector<RankedJob> jobs = {
      {p_old, old.eligible_s, 3},
      {p_light, light.eligible_s, 2},
      {p_old, old.eligible_s, 1},      // same priority and eligible time as job 3: lower id first
      {p_old, old.eligible_s - 1, 4},  // same priority, earlier: before 1 and 3
  };
  std::sort(jobs.begin(), jobs.end(), runsBefore);
  std::vector<uint64_t> ids;
  for (const RankedJob& j : jobs) ids.push_back(j.job_id);
  EXPECT_EQ(ids, (std::vector<uint64_t>{2, 4, 1, 3}));
}

}  // namespace
}  // namespace locus::policy
