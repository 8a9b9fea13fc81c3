#include "controller/policy/usage.hpp"

#include <gtest/gtest.h>

namespace locus::policy {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kWeek = 7 * 24 * kHour;

TEST(Billing, SumOfWeightedTres) {
  struct Case {
    std::string name;
    BillingWeights w;
    Tres tres;
    int64_t seconds;
    double expected;
  };
  const std::vector<Case> cases = {
      // Default weights bill cores only: 4 * 100.
      {"cores only", {}, {4, 8192, 1}, 100, 400},
      // rate = 4 * 1 + 8 GB * 0.25 + 1 * 10 = 16; 16 * 100.
      {"cpu, memory and gpu", {1.0, 0.25, 10.0}, {4, 8192, 1}, 100, 1600},
      // 512 MB is half a GB: rate = 0.5 * 2; 1 * 60.
      {"memory in GB of 1024 MB", {0, 2.0, 0}, {0, 512, 0}, 60, 60},
      {"negative duration bills nothing", {}, {4, 0, 0}, -5, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_DOUBLE_EQ(billedResourceSeconds(c.w, c.tres, c.seconds), c.expected);
  }
}

TEST(UsageLedger, Decay) {
  const AssocId a{"hep", "alice"};
  struct Charge {
    double amount;
    int64_t at;
  };
  struct Case {
    std::string name;
    std::vector<Charge> charges;
    int64_t now;
    double expected;
  };
  const std::vector<Case> cases = {
      {"no decay at the charge time", {{1000, 0}}, 0, 1000},
      // One half-life halves it exactly: 1000 * 2^-1.
      {"one half-life", {{1000, 0}}, kWeek, 500},
      // 1000 * 2^-2
      {"two half-lives", {{1000, 0}}, 2 * kWeek, 250},
      // 1000 * 2^(-0.5) = 707.1067811865...
      {"half a half-life", {{1000, 0}}, kWeek / 2, 707.10678118654752},
      // 1000 * 2^-2 + 400 * 2^-1 = 250 + 200
      {"two charges", {{1000, 0}, {400, kWeek}}, 2 * kWeek, 450},
      // Same charges reported out of order: the older one is decayed forward, same sum.
      {"two charges, out of order", {{400, kWeek}, {1000, 0}}, 2 * kWeek, 450},
      // Reads before the latest charge see it as of that charge: 1000 * 2^-1 + 400.
      {"read before the last charge", {{1000, 0}, {400, kWeek}}, kHour, 900},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    UsageLedger ledger;  // 7-day half-life
    for (const Charge& ch : c.charges) ledger.charge(a, ch.amount, ch.at);
    EXPECT_NEAR(ledger.ownUsage(a, c.now), c.expected, 1e-9);
  }
}

TEST(UsageLedger, OneHalfLifeHalvesExactly) {
  UsageLedger ledger(std::chrono::seconds{kHour});
  ledger.charge({"hep", "alice"}, 1234.5, 10);
  // 2^(-3600/3600) is exactly 0.5: 1234.5 / 2 = 617.25, bit for bit.
  EXPECT_EQ(ledger.ownUsage({"hep", "alice"}, 10 + kHour), 617.25);
  // 1234.5 / 8 = 154.3125
  EXPECT_EQ(ledger.ownUsage({"hep", "alice"}, 10 + 3 * kHour), 154.3125);
}

TEST(UsageLedger, ZeroHalfLifeNeverDecays) {
  UsageLedger ledger(std::chrono::seconds{0});
  ledger.charge({"hep", "alice"}, 10, 0);
  ledger.charge({"hep", "alice"}, 5, 100 * kWeek);
  // 10 + 5, no decay.
  EXPECT_DOUBLE_EQ(ledger.ownUsage({"hep", "alice"}, 1000 * kWeek), 15);
}

TEST(UsageLedger, RestoreRoundTrip) {
  UsageLedger a;
  a.charge({"hep", "alice"}, 1000, 0);
  UsageLedger b;
  for (const auto& [id, e] : a.entries()) b.restore(id, e);
  // 1000 * 2^-1 in both.
  EXPECT_DOUBLE_EQ(b.ownUsage({"hep", "alice"}, kWeek), 500);
}

TEST(UsageLedger, RollsUpTheTree) {
  AccountTree t;
  ASSERT_TRUE(t.addAccount("physics", "root", 1).ok());
  ASSERT_TRUE(t.addAccount("hep", "physics", 1).ok());
  ASSERT_TRUE(t.addAccount("chem", "root", 1).ok());
  ASSERT_TRUE(t.addUser("hep", "alice").ok());
  ASSERT_TRUE(t.addUser("physics", "bob").ok());
  ASSERT_TRUE(t.addUser("chem", "alice").ok());
  UsageLedger ledger;
  ledger.charge({"hep", "alice"}, 800, 0);
  ledger.charge({"physics", "bob"}, 100, kWeek);
  ledger.charge({"chem", "alice"}, 50, kWeek);
  ledger.charge({"gone", "zed"}, 999, kWeek);  // not in the tree: ignored
  const auto u = rollUp(t, ledger, kWeek);
  struct Case {
    AssocId id;
    double expected;
  };
  const std::vector<Case> cases = {
      // 800 * 2^-1
      {{"hep", "alice"}, 400},
      {{"hep", ""}, 400},
      // hep 400 + bob 100
      {{"physics", ""}, 500},
      {{"chem", ""}, 50},
      // 500 + 50
      {{"root", ""}, 550},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id.str());
    EXPECT_DOUBLE_EQ(u.at(c.id), c.expected);
  }
}

}  // namespace
}  // namespace locus::policy
