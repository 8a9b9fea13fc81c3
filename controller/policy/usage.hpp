#pragma once
// Billed usage with half-life decay (Slurm's PriorityDecayHalfLife semantics), rolled up the
// account tree.
//
// Billing (like Slurm's TRESBillingWeights without PriorityFlags=MAX_TRES, i.e. its default):
//   rate = per_cpu * cpus + per_mem_gb * mem_mb / 1024 + per_gpu * gpus      (per second)
//   billed resource-seconds of a job = rate * elapsed seconds
// Only the sum is offered: MAX_TRES (bill the largest weighted TRES) charges a 1-GPU, 64-core
// job like a 64-core job, which hides the GPU; sum is Slurm's default and what sshare shows.
// Example: weights {cpu 1, mem 0.25/GB, gpu 10}, a job of 4 cpus, 8192 MB, 1 gpu for 100 s
//   rate = 4 + 0.25 * 8 + 10 = 16, billed = 1600.
//
// Decay: U(t) = sum over charges c of amount_c * 2^(-(t - t_c) / half_life).
// Kept incrementally: each association stores (value, as_of); reading at t multiplies by
// 2^(-(t - as_of)/half_life), charging first decays to the charge time and then adds. A charge
// older than as_of is decayed forward to as_of instead, so the sum stays exact whatever the
// order of charges. A half-life of 0 disables decay (usage only grows), as in Slurm.
//
// Charges go to user associations (or an account's own association); an account's usage is the
// sum of its own charges and its children's usage (rollUp).
#include <chrono>
#include <cstdint>
#include <map>

#include "controller/policy/account_tree.hpp"

namespace locus::policy {

// Slurm's default PriorityDecayHalfLife: recent usage counts, last month's barely does.
inline constexpr auto kDefaultHalfLife = std::chrono::seconds{7 * 24 * 3600};

struct BillingWeights {
  double per_cpu = 1.0;
  double per_mem_gb = 0.0;  // per GB (1024 MB) of memory
  double per_gpu = 0.0;
};

// Trackable resources of an allocation (or of a cluster's capacity).
struct Tres {
  int64_t cpus = 0;
  int64_t mem_mb = 0;
  int64_t gpus = 0;
};

// Billing units per second for `tres` (the sum above).
double billingRate(const BillingWeights& weights, const Tres& tres);
// rate * seconds; negative durations bill 0.
double billedResourceSeconds(const BillingWeights& weights, const Tres& tres, int64_t seconds);

// 2^(-elapsed/half_life); 1 when half_life is 0 or elapsed <= 0.
double decayFactor(int64_t elapsed_s, std::chrono::seconds half_life);

class UsageLedger {
 public:
  explicit UsageLedger(std::chrono::seconds half_life = kDefaultHalfLife);

  // Adds `billed` (>= 0, LOCUS_CHECKed) resource-seconds to `id` at time `at_s`.
  void charge(const AssocId& id, double billed, int64_t at_s);
  // Decayed usage of `id`'s own charges at `now_s` (0 if never charged). Reads before the
  // latest charge of `id` see the value as of that charge (time never runs backwards here).
  double ownUsage(const AssocId& id, int64_t now_s) const;
  // Forgets an association (after it is removed from the tree).
  void forget(const AssocId& id) { entries_.erase(id); }

  // For persistence: what is stored per association, and putting it back.
  struct Entry {
    double value = 0;
    int64_t as_of_s = 0;
  };
  const std::map<AssocId, Entry>& entries() const { return entries_; }
  void restore(const AssocId& id, Entry entry) { entries_[id] = entry; }
  std::chrono::seconds halfLife() const { return half_life_; }

 private:
  std::chrono::seconds half_life_;
  std::map<AssocId, Entry> entries_;
};

// Raw (decayed) usage of every association of `tree` at `now_s`: users their own charges,
// accounts their own charges plus their children's. Root holds the cluster total. Charges to
// associations no longer in the tree are ignored.
std::map<AssocId, double> rollUp(const AccountTree& tree, const UsageLedger& ledger, int64_t now_s);

}  // namespace locus::policy
