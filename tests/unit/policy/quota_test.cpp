#include "controller/policy/quota.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace locus::policy {

// Readable vectors in failure messages (found by ADL).
inline void PrintTo(const Resources& r, std::ostream* os) {
  auto n = [](uint64_t v) { return v == kUnlimited ? std::string("inf") : std::to_string(v); };
  *os << "{" << n(r.cores) << " cores, " << n(r.mem_mb) << " MB, " << n(r.gpus) << " gpus}";
}

namespace {

constexpr uint64_t kInf = kUnlimited;

// physics in pool gpu: guaranteed 16 cores, 32 GB, 2 GPUs; at most 32 cores, 64 GB, 4 GPUs.
Quota physics() { return Quota{"physics", {16, 32768, 2}, {32, 65536, 4}}; }

// ---- Resources --------------------------------------------------------------------------------

TEST(QuotaResources, Arithmetic) {
  // + saturates instead of wrapping: inf + 1 stays inf.
  EXPECT_EQ((Resources{kInf, 1, 2} + Resources{1, 1, 1}), (Resources{kInf, 2, 3}));
  EXPECT_EQ((Resources{kInf - 1, 0, 0} + Resources{5, 0, 0}), (Resources{kInf, 0, 0}));
  // - floors at 0 per component: 4 - 6 -> 0, 0 - 0 = 0, 2 - 1 = 1.
  EXPECT_EQ((Resources{4, 0, 2} - Resources{6, 0, 1}), (Resources{0, 0, 1}));
  EXPECT_EQ((Resources{10, 2048, 4} - Resources{3, 1024, 4}), (Resources{7, 1024, 0}));
  EXPECT_NE((Resources{1, 2, 3}), (Resources{1, 2, 4}));

  EXPECT_TRUE((Resources{4, 100, 1}.fitsIn({4, 100, 1})));  // equal fits
  EXPECT_FALSE((Resources{4, 101, 1}.fitsIn({4, 100, 1})));
  EXPECT_FALSE((Resources{0, 0, 2}.fitsIn({64, 4096, 1})));
  EXPECT_TRUE((Resources{kInf, kInf, kInf}.fitsIn({kInf, kInf, kInf})));
}

// ---- checkMax ---------------------------------------------------------------------------------

TEST(QuotaCheckMax, Admission) {
  struct Case {
    std::string name;
    Quota quota;
    Resources in_use, request;
    bool ok;
    bool never;
    std::string detail;  // empty when ok
  };
  const Quota unlimited{"chem", {}, {kInf, kInf, kInf}};
  const std::vector<Case> cases = {
      // 20 + 8 = 28 <= 32 cores
      {"under max", physics(), {20, 0, 0}, {8, 0, 0}, true, false, ""},
      // 24 + 8 = 32, 32768 + 32768 = 65536, 2 + 2 = 4: exactly at max in every resource
      {"at max", physics(), {24, 32768, 2}, {8, 32768, 2}, true, false, ""},
      // 28 + 8 = 36 > 32
      {"cores over max", physics(), {28, 0, 0}, {8, 0, 0}, false, false,
       "account physics holds 28 cores in pool gpu, its max is 32: this job needs 8"},
      // 40000 + 30000 = 70000 > 65536
      {"memory over max", physics(), {0, 40000, 0}, {1, 30000, 0}, false, false,
       "account physics holds 40000 MB of memory in pool gpu, its max is 65536: "
       "this job needs 30000"},
      // 3 + 2 = 5 > 4
      {"gpus over max", physics(), {0, 0, 3}, {1, 0, 2}, false, false,
       "account physics holds 3 GPUs in pool gpu, its max is 4: this job needs 2"},
      // 5 > 4 with nothing held: waiting cannot help
      {"request alone over max", physics(), {}, {1, 0, 5}, false, true,
       "account physics holds 0 GPUs in pool gpu, its max is 4: this job needs 5"},
      // cores 30 + 4 = 34 > 32 would clear later, but 5 GPUs never fit: never wins
      {"never reported before busy", physics(), {30, 0, 0}, {4, 0, 5}, false, true,
       "account physics holds 0 GPUs in pool gpu, its max is 4: this job needs 5"},
      // both only busy: the first in order (cores) is reported
      {"first busy resource", physics(), {30, 65536, 0}, {4, 1, 0}, false, false,
       "account physics holds 30 cores in pool gpu, its max is 32: this job needs 4"},
      // unlimited: sums near 2^64 must not wrap into "fits" or "over"
      {"unlimited max", unlimited, {kInf - 1, kInf, 5}, {kInf, 10, 7}, true, false, ""},
      // a wrapping sum (kInf - 5) + 10 = 4 would pass; 10 <= 32 but kInf - 5 > 32 - 10
      {"huge in_use does not wrap", physics(), {kInf - 5, 0, 0}, {10, 0, 0}, false, false,
       "account physics holds 18446744073709551610 cores in pool gpu, its max is 32: "
       "this job needs 10"},
      // only gpus limited; cores and memory unlimited
      {"one resource limited",
       Quota{"bio", {}, {kInf, kInf, 1}},
       {kInf, kInf, 0},
       {kInf, kInf, 1},
       true,
       false,
       ""},
      {"nothing asked", physics(), {32, 65536, 4}, {}, true, false, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    QuotaVerdict v = checkMax(c.quota, "gpu", c.in_use, c.request);
    EXPECT_EQ(v.ok, c.ok);
    EXPECT_EQ(v.never, c.never);
    EXPECT_EQ(v.reason, c.ok ? std::string_view{} : kReasonQuotaMax);
    EXPECT_EQ(v.detail, c.detail);
  }
}

TEST(QuotaCheckMax, ReasonIsTheStableConstant) {
  EXPECT_EQ(kReasonQuotaMax, "PoolQuotaMaxLimit");
}

// ---- withinGuarantee and borrowed -------------------------------------------------------------

TEST(QuotaGuarantee, WithinGuarantee) {
  struct Case {
    std::string name;
    Resources in_use, request;
    bool within;
  };
  // physics is guaranteed 16 cores, 32768 MB, 2 GPUs
  const std::vector<Case> cases = {
      {"8 + 8 = 16 cores: at the boundary", {8, 0, 0}, {8, 0, 0}, true},
      {"8 + 9 = 17 cores: one over", {8, 0, 0}, {9, 0, 0}, false},
      {"32768 MB + 1 over in memory", {0, 32768, 0}, {1, 1, 0}, false},
      {"everything exactly at the guarantee", {14, 30720, 1}, {2, 2048, 1}, true},
      // holds 3 GPUs (over its 2) but asks none: GPUs are not compared
      {"resource not asked is ignored", {0, 0, 3}, {4, 1024, 0}, true},
      {"2 + 1 = 3 GPUs over", {0, 0, 2}, {1, 0, 1}, false},
      {"empty request", {99, 99999, 9}, {}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(withinGuarantee(physics(), c.in_use, c.request), c.within);
  }
  // No guarantee at all: any asked resource is over.
  EXPECT_FALSE(withinGuarantee(Quota{"bio", {}}, {}, {1, 0, 0}));
}

TEST(QuotaGuarantee, Borrowed) {
  struct Case {
    std::string name;
    Resources in_use, borrowed;
  };
  // guaranteed {16, 32768, 2}
  const std::vector<Case> cases = {
      {"nothing held", {}, {}},
      {"under the guarantee", {10, 1024, 1}, {}},
      {"at the guarantee", {16, 32768, 2}, {}},
      // 20 - 16 = 4 cores; memory and GPUs under
      {"cores over only", {20, 1000, 2}, {4, 0, 0}},
      // 40000 - 32768 = 7232 MB, 5 - 2 = 3 GPUs
      {"memory and gpus over", {16, 40000, 5}, {0, 7232, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(borrowed(physics(), c.in_use), c.borrowed);
  }
}

// ---- quotaReport ------------------------------------------------------------------------------

TEST(QuotaReport, Lending) {
  struct Row {
    std::string account;
    Resources in_use, borrowed, lent;
  };
  struct Case {
    std::string name;
    std::vector<Quota> quotas;
    std::vector<std::pair<std::string, Resources>> in_use;
    Resources pool_total;
    std::vector<Row> rows;
  };
  const std::vector<Case> cases = {
      {"no borrowing lends nothing",
       {{"physics", {40, 400, 4}}, {"chem", {30, 300, 2}}},
       {{"physics", {30, 300, 2}}, {"chem", {10, 0, 0}}},
       {100, 1000, 8},
       {{"physics", {30, 300, 2}, {}, {}}, {"chem", {10, 0, 0}, {}, {}}}},

      // Cores: unguaranteed = 100 - (40 + 30) = 30. chem borrows 50 - 30 = 20, bio (no quota)
      // 10: 20 + 10 = 30 fits in the unguaranteed 30, so physics's idle 30 is not touched.
      {"borrowing only from unguaranteed capacity",
       {{"physics", {40, 0, 0}}, {"chem", {30, 0, 0}}},
       {{"physics", {10, 0, 0}}, {"chem", {50, 0, 0}}, {"bio", {10, 0, 0}}},
       {100, 0, 0},
       {{"physics", {10, 0, 0}, {}, {}},
        {"chem", {50, 0, 0}, {20, 0, 0}, {}},
        {"bio", {10, 0, 0}, {10, 0, 0}, {}}}},

      // The header's example. Unguaranteed 30; bio borrows 55, 25 of it from guarantees.
      // Idle: physics 40 - 10 = 30, chem 30 - 20 = 10 (total 40).
      // physics 25 * 30 / 40 = 18.75 -> 18, chem 25 * 10 / 40 = 6.25 -> 6; 24, 1 left over
      // -> physics (first row): 19 + 6 = 25.
      {"two lenders, proportional, remainder to the first",
       {{"physics", {40, 0, 0}}, {"chem", {30, 0, 0}}},
       {{"bio", {55, 0, 0}}, {"physics", {10, 0, 0}}, {"chem", {20, 0, 0}}},
       {100, 0, 0},
       {{"physics", {10, 0, 0}, {}, {19, 0, 0}},
        {"chem", {20, 0, 0}, {}, {6, 0, 0}},
        {"bio", {55, 0, 0}, {55, 0, 0}, {}}}},

      // Unguaranteed 100 - 60 = 40; d borrows 51, 11 from guarantees. Idle 20 each (total 60):
      // 11 * 20 / 60 = 3.67 -> 3 each, 9, 2 left over -> a and b (row order): 4 + 4 + 3 = 11.
      {"three equal lenders, remainder 2 in row order",
       {{"a", {20, 0, 0}}, {"b", {20, 0, 0}}, {"c", {20, 0, 0}}},
       {{"d", {51, 0, 0}}},
       {100, 0, 0},
       {{"a", {}, {}, {4, 0, 0}},
        {"b", {}, {}, {4, 0, 0}},
        {"c", {}, {}, {3, 0, 0}},
        {"d", {51, 0, 0}, {51, 0, 0}, {}}}},

      // The pool shrank to 50 cores under running jobs (85 held). Guarantees 40 + 30 exceed it:
      // unguaranteed 0, so bio's 30 all comes from guarantees. Proportional shares would be
      // physics 30 * 10 / 15 = 20 > its idle 40 - 30 = 10, chem 30 * 5 / 15 = 10 > its idle
      // 30 - 25 = 5: each lends only its idle, 10 and 5.
      {"shares capped at each lender's idle guarantee",
       {{"physics", {40, 0, 0}}, {"chem", {30, 0, 0}}},
       {{"physics", {30, 0, 0}}, {"chem", {25, 0, 0}}, {"bio", {30, 0, 0}}},
       {50, 0, 0},
       {{"physics", {30, 0, 0}, {}, {10, 0, 0}},
        {"chem", {25, 0, 0}, {}, {5, 0, 0}},
        {"bio", {30, 0, 0}, {30, 0, 0}, {}}}},

      // Pool {100 cores, 1000 MB, 8 GPUs}; physics guaranteed {40, 400, 4}, chem {30, 300, 2}.
      // cores: physics 40 = its guarantee, chem 10 under, bio 0: nothing borrowed, nothing lent.
      // memory: unguaranteed 1000 - 700 = 300; bio borrows 500, 200 from guarantees; only
      //   physics is idle (400 - 100 = 300; chem 300 - 300 = 0): physics lends 200.
      // GPUs: unguaranteed 8 - 6 = 2; bio borrows 4, 2 from guarantees; only chem is idle
      //   (2 - 0 = 2; physics 4 - 4 = 0): chem lends 2.
      {"memory and gpus independently",
       {{"physics", {40, 400, 4}}, {"chem", {30, 300, 2}}},
       {{"physics", {40, 100, 4}}, {"chem", {10, 300, 0}}, {"bio", {0, 500, 4}}},
       {100, 1000, 8},
       {{"physics", {40, 100, 4}, {}, {0, 200, 0}},
        {"chem", {10, 300, 0}, {}, {0, 0, 2}},
        {"bio", {0, 500, 4}, {0, 500, 4}, {}}}},

      // Quota rows in the quotas' order (zeta before alpha), then accounts without quota by
      // name (bravo, mike); mike's two entries add up (1 + 4 = 5); idle holds nothing: no row.
      // Unguaranteed 1000 - 0: nothing lent.
      {"row order and summed entries",
       {{"zeta", {}}, {"alpha", {}}},
       {{"mike", {1, 0, 0}}, {"bravo", {2, 0, 0}}, {"zeta", {3, 0, 0}}, {"mike", {4, 0, 0}},
        {"idle", {}}},
       {1000, 0, 0},
       {{"zeta", {3, 0, 0}, {3, 0, 0}, {}},
        {"alpha", {}, {}, {}},
        {"bravo", {2, 0, 0}, {2, 0, 0}, {}},
        {"mike", {5, 0, 0}, {5, 0, 0}, {}}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<QuotaRow> rows = quotaReport(c.quotas, c.in_use, c.pool_total);
    ASSERT_EQ(rows.size(), c.rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      SCOPED_TRACE(c.rows[i].account);
      EXPECT_EQ(rows[i].account, c.rows[i].account);
      EXPECT_EQ(rows[i].in_use, c.rows[i].in_use);
      EXPECT_EQ(rows[i].borrowed, c.rows[i].borrowed);
      EXPECT_EQ(rows[i].lent, c.rows[i].lent);
    }
  }
}

TEST(QuotaReport, LimitsOfRowsWithAndWithoutQuota) {
  const std::vector<QuotaRow> rows =
      quotaReport({physics()}, {{"guest", {1, 2, 0}}}, {64, 131072, 8});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].account, "physics");
  EXPECT_EQ(rows[0].guaranteed, (Resources{16, 32768, 2}));
  EXPECT_EQ(rows[0].max, (Resources{32, 65536, 4}));
  EXPECT_EQ(rows[0].in_use, Resources{});
  // guest has no quota: guaranteed 0, max unlimited, all it holds is borrowed
  EXPECT_EQ(rows[1].account, "guest");
  EXPECT_EQ(rows[1].guaranteed, Resources{});
  EXPECT_EQ(rows[1].max, (Resources{kInf, kInf, kInf}));
  EXPECT_EQ(rows[1].borrowed, (Resources{1, 2, 0}));
  EXPECT_EQ(rows[1].lent, Resources{});
}

TEST(QuotaReport, LargeMemoryDoesNotOverflow) {
  // 2^40 MB pools: taken * idle would pass 2^64 in 64 bits. Unguaranteed 2^41 - 2^41 = 0;
  // b borrows 2^39, all from a's idle 2^41 - 0 = 2^41 (the only lender): a lends 2^39.
  const uint64_t t40 = uint64_t{1} << 40;
  const auto rows = quotaReport({{"a", {0, 2 * t40, 0}}}, {{"b", {0, t40 / 2, 0}}},
                                {0, 2 * t40, 0});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].lent, (Resources{0, t40 / 2, 0}));
}

}  // namespace
}  // namespace locus::policy
