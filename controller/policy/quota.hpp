#pragma once
// Per-account quotas in a pool, with guarantees and borrowing (Kueue cohorts, YARN capacity
// queues). In a pool each account may have:
//   guaranteed  always available to it. While it is idle it is lent to other accounts, and a job
//               of the owner that stays within the guarantee may reclaim it from the borrowers.
//   max         the borrowing limit: the account never holds more than this in the pool.
// Pure arithmetic on resource vectors: no clock, no I/O; the caller counts what each account
// holds in the pool (its running jobs' allocations).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace locus::policy {

// A max component with this value never limits.
inline constexpr uint64_t kUnlimited = UINT64_MAX;

// Cores, memory and GPUs; each component is compared and combined on its own.
struct Resources {
  uint64_t cores = 0, mem_mb = 0, gpus = 0;

  // Each component <= the limit's.
  bool fitsIn(const Resources& limit) const {
    return cores <= limit.cores && mem_mb <= limit.mem_mb && gpus <= limit.gpus;
  }
  friend bool operator==(const Resources&, const Resources&) = default;
};

// Saturates at kUnlimited instead of wrapping, so an unlimited component stays unlimited.
Resources operator+(const Resources& a, const Resources& b);
// Saturates at 0 per component: {4, 0, 2} - {6, 0, 1} = {0, 0, 1}.
Resources operator-(const Resources& a, const Resources& b);

struct Quota {
  std::string account;
  Resources guaranteed;
  Resources max{kUnlimited, kUnlimited, kUnlimited};
};

inline constexpr std::string_view kReasonQuotaMax = "PoolQuotaMaxLimit";

struct QuotaVerdict {
  bool ok = true;
  std::string_view reason;  // empty when ok
  std::string detail;       // for `locus why`
  bool never = false;       // the request alone exceeds max: waiting cannot help
};

// May a job asking `request` start in `pool` where its account already holds `in_use`?
// ok when in_use + request <= max in every resource. Otherwise kReasonQuotaMax with a detail such
// as "account physics holds 28 cores in pool gpu, its max is 32: this job needs 8". A resource the
// request alone exceeds (`never`) is reported before one that only needs others to finish;
// among equals the order is cores, memory, GPUs.
QuotaVerdict checkMax(const Quota& quota, const std::string& pool, const Resources& in_use,
                      const Resources& request);

// Whether the job stays within its account's guarantee: in_use + request <= guaranteed in every
// resource the job asks for (a resource it asks none of is not compared). Such a job may reclaim
// lent capacity from borrowers.
bool withinGuarantee(const Quota& quota, const Resources& in_use, const Resources& request);

// What an account holds beyond its guarantee, per resource (0 where it is under).
Resources borrowed(const Quota& quota, const Resources& in_use);

// One row of `locus quota show`.
struct QuotaRow {
  std::string account;
  Resources guaranteed, max, in_use, borrowed, lent;
};

// One row per quota, in the quotas' order, then one per account that holds resources in the pool
// without a quota (guaranteed 0, max unlimited, all it holds borrowed), in name order. Several
// in_use entries of one account add up; an account without quota holding nothing gets no row.
//
// Who lends what, per resource, with pool_total the pool's capacity:
//   1. Borrowers first use the unguaranteed capacity, pool_total - sum of guarantees (0 if the
//      guarantees exceed the pool). That lends nothing.
//   2. The rest of what is borrowed is taken from the idle guarantees of the others
//      (guaranteed - in_use, where positive), shared among those lenders in proportion to their
//      idle guarantee, rounded down; the units lost to rounding go one each to the lenders in
//      row order, so the lent amounts add up exactly to what is taken. No lender lends more than
//      its idle guarantee: when more is borrowed than the pool can hold (the pool shrank under
//      running jobs), every lender lends all its idle guarantee and no more.
//
// Worked example, cores in a pool of 100: physics guaranteed 40 holds 10, chem guaranteed 30
// holds 20, bio (no guarantee) holds 55.
//   unguaranteed = 100 - (40 + 30) = 30; bio borrows 55, 30 of it unguaranteed, 25 from guarantees
//   idle: physics 40 - 10 = 30, chem 30 - 20 = 10, total 40
//   physics 25 * 30 / 40 = 18.75 -> 18, chem 25 * 10 / 40 = 6.25 -> 6; 18 + 6 = 24, 1 left over
//   goes to physics (first row): lent physics 19, chem 6 (19 + 6 = 25).
std::vector<QuotaRow> quotaReport(
    const std::vector<Quota>& quotas,
    const std::vector<std::pair<std::string, Resources>>& in_use_by_account,
    const Resources& pool_total);

}  // namespace locus::policy
