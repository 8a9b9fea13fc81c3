#pragma once
// Fair-share factors over the account tree, and Dominant Resource Fairness.
//
// Classic (the default; Slurm's PriorityFlags=NO_FAIR_TREE algorithm, exactly as documented in
// https://slurm.schedmd.com/classic_fair_share.html, "The Slurm Fair-Share Formula"):
//   S      = normalized shares (AccountTree::normalizedShares)
//   U      = raw decayed usage / raw decayed usage of root          ("Norm Usage")
//   UE     = U                                      for associations directly under root
//   UE     = U + (UE_parent - U) * S_raw / S_raw_all_siblings       below that
//   F      = 2^(-UE / S / d)                       d = dampening factor, default 1
// With no usage anywhere every U is 0 and every F is 1.
//
// Fair Tree (optional; https://slurm.schedmd.com/fair_tree.html):
//   LF     = (S_raw / S_raw_all_siblings) / (U_raw / U_raw_all_siblings), infinite with no usage
//   Siblings are sorted by LF (highest first; users before accounts at equal LF, then by name),
//   the tree is walked depth first and users are ranked in that order: F = rank / user count,
//   the first user getting 1. Ties: sibling users with equal LF share a rank; a user tied with a
//   sibling account gets the rank of the account's first user; sibling accounts with equal LF
//   have their children merged before descending.
//
// DRF (Ghodsi et al., NSDI 2011; Mesos' DRFSorter): see DrfSorter below.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controller/policy/account_tree.hpp"
#include "controller/policy/usage.hpp"

namespace locus::policy {

enum class FairShareAlgorithm { kClassic, kFairTree };

// One row of `locus share` (the columns of `sshare -l`).
struct ShareRow {
  AssocId id;
  int depth = 0;  // 0 for root
  uint32_t raw_shares = 0;
  double norm_shares = 0;      // S
  double raw_usage = 0;        // decayed billed resource-seconds, rolled up
  double norm_usage = 0;       // U
  double effective_usage = 0;  // UE (classic) or U_raw / U_raw_all_siblings (Fair Tree)
  double level_fs = 0;         // LF (Fair Tree only; 0 under classic)
  double fair_share = 0;       // F; 0 for root, and for accounts under Fair Tree (only users
                               // are ranked there)
};

struct FairShareTable {
  std::vector<ShareRow> rows;  // AccountTree::preorder() order

  // The row of `id`, or nullptr.
  const ShareRow* find(const AssocId& id) const;
  // F of `id`; 0 for an unknown association (a job charging it gets no fair-share boost).
  double factor(const AssocId& id) const;
};

struct FairShareOptions {
  FairShareAlgorithm algorithm = FairShareAlgorithm::kClassic;
  double dampening = 1.0;  // Slurm's FairShareDampeningFactor (classic only), >= 1
};

// `usage` is rollUp()'s output (missing entries count as 0).
FairShareTable computeFairShare(const AccountTree& tree, const std::map<AssocId, double>& usage,
                                const FairShareOptions& options = {});

// Dominant Resource Fairness over a flat set of clients (accounts).
//   dominant share(a) = max over resources r with capacity_r > 0 of alloc_r(a) / capacity_r,
//                       divided by weight(a)
// The client with the lowest weighted dominant share goes next (ties: name). Allocations are
// what the caller says each client holds now (Mesos semantics: running allocation, not history).
// Example (the paper's): 9 cpus, 18 GB; A runs <1 cpu, 4 GB> tasks, B <3 cpu, 1 GB> tasks.
// Offering to the lowest each time ends with A 3 tasks (12/18 = 2/3), B 2 tasks (6/9 = 2/3).
class DrfSorter {
 public:
  explicit DrfSorter(Tres capacity);

  // kInvalidArgument for weight <= 0 or a duplicate name.
  Status addClient(const std::string& name, double weight = 1.0);
  // kNotFound if unknown. Its allocation is dropped with it.
  Status removeClient(const std::string& name);
  // Allocation changes; kNotFound if unknown. Unallocating more than held is corrupt accounting
  // (LOCUS_CHECK).
  Status allocate(const std::string& name, const Tres& amount);
  Status unallocate(const std::string& name, const Tres& amount);
  void setCapacity(Tres capacity) { capacity_ = capacity; }

  Result<double> dominantShare(const std::string& name) const;
  // All clients, lowest weighted dominant share first.
  std::vector<std::string> order() const;
  // A fair-share factor in [0, 1] for the priority formula: rank in order() mapped like Fair
  // Tree (first = 1, last = 1/n; equal dominant shares get equal factors).
  std::map<std::string, double> factors() const;

 private:
  struct Client {
    double weight = 1;
    Tres alloc;
  };
  double share(const Client& c) const;

  Tres capacity_;
  std::map<std::string, Client> clients_;
};

}  // namespace locus::policy
