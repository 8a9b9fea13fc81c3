#include "controller/policy/fair_share.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace locus::policy {
namespace {

// The example of https://slurm.schedmd.com/classic_fair_share.html ("Example", Figure 3):
// root -> A 40 -> B 30 -> user1
//                 C 10 -> user2 1, user3 1
//         D 60 -> E 25 -> user4
//                 F 35 -> user5
// Usage as fractions of the machine: user1 0.2, user2 0.25, user4 0.25. The page's fractions
// add up to 0.7; the other 0.3 is charged to root's own association so that the cluster total
// is 1000 and the normalized usages are exactly the page's.
struct SlurmExample {
  AccountTree tree;
  UsageLedger ledger;
  SlurmExample() {
    EXPECT_TRUE(tree.addAccount("A", "root", 40).ok());
    EXPECT_TRUE(tree.addAccount("D", "root", 60).ok());
    EXPECT_TRUE(tree.addAccount("B", "A", 30).ok());
    EXPECT_TRUE(tree.addAccount("C", "A", 10).ok());
    EXPECT_TRUE(tree.addAccount("E", "D", 25).ok());
    EXPECT_TRUE(tree.addAccount("F", "D", 35).ok());
    EXPECT_TRUE(tree.addUser("B", "user1").ok());
    EXPECT_TRUE(tree.addUser("C", "user2").ok());
    EXPECT_TRUE(tree.addUser("C", "user3").ok());
    EXPECT_TRUE(tree.addUser("E", "user4").ok());
    EXPECT_TRUE(tree.addUser("F", "user5").ok());
    ledger.charge({"B", "user1"}, 200, 0);
    ledger.charge({"C", "user2"}, 250, 0);
    ledger.charge({"E", "user4"}, 250, 0);
    ledger.charge({"root", ""}, 300, 0);
  }
  FairShareTable table(FairShareAlgorithm algorithm) const {
    return computeFairShare(tree, rollUp(tree, ledger, 0), {algorithm, 1.0});
  }
};

TEST(ClassicFairShare, SlurmDocumentedExample) {
  const FairShareTable t = SlurmExample().table(FairShareAlgorithm::kClassic);
  struct Case {
    AssocId id;
    double norm_shares, norm_usage, effective_usage, fair_share;  // fair_share < 0: not checked
  };
  const std::vector<Case> cases = {
      // First tier: UE = U. A = B + C = 0.2 + 0.25; D = E = 0.25.
      {{"A", ""}, 0.4, 0.45, 0.45, std::exp2(-0.45 / 0.4)},
      {{"D", ""}, 0.6, 0.25, 0.25, std::exp2(-0.25 / 0.6)},
      // B: 0.2 + (0.45 - 0.2) * 30 / 40 = 0.3875
      {{"B", ""}, 0.3, 0.2, 0.3875, -1},
      // C: 0.25 + (0.45 - 0.25) * 10 / 40 = 0.3
      {{"C", ""}, 0.1, 0.25, 0.3, -1},
      // E: 0.25 + (0.25 - 0.25) * 25 / 60 = 0.25
      {{"E", ""}, 0.25, 0.25, 0.25, -1},
      // F: 0 + (0.25 - 0) * 35 / 60 = 0.1458333
      {{"F", ""}, 0.35, 0.0, 0.25 * 35 / 60, -1},
      // user1: 0.2 + (0.3875 - 0.2) * 1 / 1 = 0.3875; F = 2^(-0.3875 / 0.3) = 0.408479
      {{"B", "user1"}, 0.3, 0.2, 0.3875, 0.408479},
      // user2: 0.25 + (0.3 - 0.25) * 1 / 2 = 0.275; F = 2^(-0.275 / 0.05) = 2^-5.5 = 0.022097
      {{"C", "user2"}, 0.05, 0.25, 0.275, 0.022097},
      // user3: 0 + (0.3 - 0) * 1 / 2 = 0.15; F = 2^(-0.15 / 0.05) = 2^-3 = 0.125
      {{"C", "user3"}, 0.05, 0.0, 0.15, 0.125},
      // user4: 0.25 + 0 = 0.25; F = 2^(-0.25 / 0.25) = 0.5
      {{"E", "user4"}, 0.25, 0.25, 0.25, 0.5},
      // user5: 0 + (0.1458333 - 0) * 1 / 1; F = 2^(-0.1458333 / 0.35) = 0.749154
      {{"F", "user5"}, 0.35, 0.0, 0.25 * 35 / 60, 0.749154},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id.str());
    const ShareRow* r = t.find(c.id);
    ASSERT_NE(r, nullptr);
    EXPECT_NEAR(r->norm_shares, c.norm_shares, 1e-12);
    EXPECT_NEAR(r->norm_usage, c.norm_usage, 1e-12);
    EXPECT_NEAR(r->effective_usage, c.effective_usage, 1e-12);
    // The page rounds F to 6 decimals.
    if (c.fair_share >= 0) {
      EXPECT_NEAR(r->fair_share, c.fair_share, 5e-7);
    }
  }
  // "user 5's job would be granted the highest scheduling priority"
  EXPECT_GT(t.factor({"F", "user5"}), t.factor({"E", "user4"}));
  EXPECT_EQ(t.factor({"nope", "nobody"}), 0.0);
}

TEST(ClassicFairShare, NoUsageMeansFactorOne) {
  SlurmExample ex;
  const FairShareTable t =
      computeFairShare(ex.tree, rollUp(ex.tree, UsageLedger{}, 0), {});  // no charges
  // U = 0 everywhere: F = 2^0.
  EXPECT_DOUBLE_EQ(t.factor({"C", "user3"}), 1.0);
  EXPECT_DOUBLE_EQ(t.factor({"B", "user1"}), 1.0);
}

TEST(ClassicFairShare, Dampening) {
  SlurmExample ex;
  const FairShareTable t =
      computeFairShare(ex.tree, rollUp(ex.tree, ex.ledger, 0), {FairShareAlgorithm::kClassic, 2.0});
  // user2: 2^(-0.275 / 0.05 / 2) = 2^-2.75
  EXPECT_NEAR(t.factor({"C", "user2"}), std::exp2(-2.75), 1e-12);
}

TEST(FairTree, RanksTheSlurmExample) {
  const FairShareTable t = SlurmExample().table(FairShareAlgorithm::kFairTree);
  struct Case {
    AssocId id;
    double level_fs, fair_share;
  };
  // Sibling usage excludes root's own 300: A 450, D 250 of 700.
  //   A: (40/100) / (450/700) = 0.6222;  D: (60/100) / (250/700) = 1.68   -> D first
  //   under D: F: 35/60 / 0 = inf;  E: (25/60) / (250/250) = 0.4167       -> F, then E
  //   under A: B: (30/40) / (200/450) = 1.6875;  C: (10/40) / (250/450) = 0.45 -> B, then C
  //   under C: user3 0.5 / 0 = inf;  user2 0.5 / 1 = 0.5                   -> user3, user2
  // Ranks 5..1 over 5 users: user5 5/5, user4 4/5, user1 3/5, user3 2/5, user2 1/5.
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Case> cases = {
      {{"D", ""}, 1.68, 0},       {{"A", ""}, 0.4 / (450.0 / 700), 0},
      {{"F", ""}, inf, 0},        {{"E", ""}, 25.0 / 60, 0},
      {{"B", ""}, 1.6875, 0},     {{"C", ""}, 0.45, 0},
      {{"F", "user5"}, inf, 1.0}, {{"E", "user4"}, 1.0, 0.8},
      {{"B", "user1"}, 1.0, 0.6}, {{"C", "user3"}, inf, 0.4},
      {{"C", "user2"}, 0.5, 0.2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id.str());
    const ShareRow* r = t.find(c.id);
    ASSERT_NE(r, nullptr);
    if (std::isinf(c.level_fs)) {
      EXPECT_TRUE(std::isinf(r->level_fs));
    } else {
      EXPECT_NEAR(r->level_fs, c.level_fs, 1e-12);
    }
    EXPECT_NEAR(r->fair_share, c.fair_share, 1e-12);
  }
}

TEST(FairTree, Ties) {
  // root -> X 1 -> u1, u2 (no usage)
  //         Y 1 -> u3 (all the usage)
  // X: 0.5 / 0 = inf; Y: 0.5 / 1 = 0.5. u1 and u2 tie at inf: both rank 3 -> 3/3;
  // u3 is not tied with them: rank 1 -> 1/3.
  AccountTree t;
  ASSERT_TRUE(t.addAccount("X", "root", 1).ok());
  ASSERT_TRUE(t.addAccount("Y", "root", 1).ok());
  ASSERT_TRUE(t.addUser("X", "u1").ok());
  ASSERT_TRUE(t.addUser("X", "u2").ok());
  ASSERT_TRUE(t.addUser("Y", "u3").ok());
  UsageLedger ledger;
  ledger.charge({"Y", "u3"}, 10, 0);
  const FairShareTable ft =
      computeFairShare(t, rollUp(t, ledger, 0), {FairShareAlgorithm::kFairTree, 1.0});
  EXPECT_DOUBLE_EQ(ft.factor({"X", "u1"}), 1.0);
  EXPECT_DOUBLE_EQ(ft.factor({"X", "u2"}), 1.0);
  EXPECT_DOUBLE_EQ(ft.factor({"Y", "u3"}), 1.0 / 3);

  // No usage at all: X and Y tie, their children are merged, every user ties at rank 3.
  const FairShareTable none =
      computeFairShare(t, rollUp(t, UsageLedger{}, 0), {FairShareAlgorithm::kFairTree, 1.0});
  for (const AssocId& id : {AssocId{"X", "u1"}, AssocId{"X", "u2"}, AssocId{"Y", "u3"}}) {
    SCOPED_TRACE(id.str());
    EXPECT_DOUBLE_EQ(none.factor(id), 1.0);
  }
}

constexpr int64_t kGb = 1024;

TEST(Drf, DominantShare) {
  // 9 cpus, 18 GB, no gpus.
  DrfSorter drf({9, 18 * kGb, 0});
  ASSERT_TRUE(drf.addClient("A").ok());
  ASSERT_TRUE(drf.addClient("B", 2.0).ok());
  ASSERT_TRUE(drf.addClient("C").ok());
  ASSERT_TRUE(drf.allocate("A", {1, 4 * kGb, 0}).ok());
  ASSERT_TRUE(drf.allocate("B", {6, 2 * kGb, 0}).ok());
  struct Case {
    std::string name;
    double expected;
  };
  const std::vector<Case> cases = {
      // max(1/9, 4/18) = 2/9
      {"A", 2.0 / 9},
      // max(6/9, 2/18) / weight 2 = 1/3
      {"B", 1.0 / 3},
      {"C", 0.0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_NEAR(*drf.dominantShare(c.name), c.expected, 1e-12);
  }
  // 0 < 2/9 < 1/3
  EXPECT_EQ(drf.order(), (std::vector<std::string>{"C", "A", "B"}));
  // Ranks 3, 2, 1 of 3.
  const auto f = drf.factors();
  EXPECT_DOUBLE_EQ(f.at("C"), 1.0);
  EXPECT_DOUBLE_EQ(f.at("A"), 2.0 / 3);
  EXPECT_DOUBLE_EQ(f.at("B"), 1.0 / 3);
  EXPECT_FALSE(drf.dominantShare("Z").ok());
  EXPECT_FALSE(drf.addClient("A").ok());
  EXPECT_FALSE(drf.addClient("W", 0).ok());
}

TEST(Drf, PaperExample) {
  // Ghodsi et al. 2011, section 4: 9 cpus, 18 GB; A's tasks <1 cpu, 4 GB>, B's <3 cpu, 1 GB>.
  // Offer to the lowest dominant share until its next task does not fit (ties by name):
  //   A 2/9, B 1/3, A 4/9, B 2/3, A 2/3 -> cpus 3 + 6 = 9 used, memory 12 + 2 = 14 GB.
  // Then A (2/3, first by name) needs 1 more cpu: none left.
  // A: 3 tasks <3 cpu, 12 GB>, dominant share 12/18 = 2/3 (memory);
  // B: 2 tasks <6 cpu, 2 GB>, dominant share 6/9 = 2/3 (cpu).
  const Tres capacity{9, 18 * kGb, 0};
  DrfSorter drf(capacity);
  ASSERT_TRUE(drf.addClient("A").ok());
  ASSERT_TRUE(drf.addClient("B").ok());
  const std::map<std::string, Tres> task = {{"A", {1, 4 * kGb, 0}}, {"B", {3, 1 * kGb, 0}}};
  std::map<std::string, int> tasks;
  Tres used;
  for (;;) {
    const std::string next = drf.order().front();
    const Tres& t = task.at(next);
    if (used.cpus + t.cpus > capacity.cpus || used.mem_mb + t.mem_mb > capacity.mem_mb) break;
    ASSERT_TRUE(drf.allocate(next, t).ok());
    used.cpus += t.cpus;
    used.mem_mb += t.mem_mb;
    ++tasks[next];
  }
  EXPECT_EQ(tasks["A"], 3);
  EXPECT_EQ(tasks["B"], 2);
  EXPECT_NEAR(*drf.dominantShare("A"), 2.0 / 3, 1e-12);
  EXPECT_NEAR(*drf.dominantShare("B"), 2.0 / 3, 1e-12);
  ASSERT_TRUE(drf.unallocate("B", task.at("B")).ok());
  // B back to 3/9 = 1/3.
  EXPECT_NEAR(*drf.dominantShare("B"), 1.0 / 3, 1e-12);
  EXPECT_EQ(drf.order().front(), "B");
}

}  // namespace
}  // namespace locus::policy
