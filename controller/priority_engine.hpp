#pragma once
// Who goes first: the fair-share tree from locus.toml, decayed usage charged as jobs end, and the
// multifactor priority of each pending job (age + fair-share + size), recomputed every pass.
// A thin stateful layer over the pure policy library (controller/policy/).
//
// Without [[account]] tables every user gets one share directly under root, so users are
// treated fairly against each other out of the box. Not thread-safe: the controller's lock.
#include <map>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/result.hpp"
#include "controller/policy/fair_share.hpp"
#include "controller/policy/priority.hpp"
#include "controller/policy/qos.hpp"
#include "controller/policy/usage.hpp"

namespace locus::controller {

class PriorityEngine {
 public:
  // Errors name the [[account]] line ("locus.toml: account 'x' (line 12): unknown parent 'y'").
  static Result<PriorityEngine> fromConfig(const Config& config);

  // The account a job of `user` is charged to: `requested` if given (it must exist and the user
  // must belong to it), else the user's first account. With no accounts configured any name is
  // kept as given ("root" when none) and the user is ranked as a one-share user under root.
  // kInvalidArgument with a clear message otherwise.
  Result<std::string> resolveAccount(const std::string& user, const std::string& requested);

  // The QoS level a job gets: `requested` (it must exist), else "normal" when defined. Empty when
  // no [[qos]] is configured (a requested name is then kept as given, not checked).
  Result<std::string> resolveQos(const std::string& requested) const;
  // nullptr when `name` is no configured level.
  const policy::QosLevel* qos(const std::string& name) const;
  bool hasQos() const { return !qos_.empty(); }

  // `locus account add|modify|remove`: applied whole or not at all. `users` (add and modify) are
  // added with one share each; modify's `remove_users` are taken out first.
  struct AccountChange {
    std::string op;  // "add", "modify", "remove"
    std::string name;
    std::string parent;  // add: default root; modify: empty = unchanged
    uint32_t shares = 0;  // add: 0 = 1; modify: 0 = unchanged
    std::vector<std::string> users;
    std::vector<std::string> remove_users;
  };
  Status applyAccountChange(const AccountChange& change);

  // Billed resource-seconds of holding `tres` for `seconds` under the [priority] billing weights
  // (policy::billedResourceSeconds); 0 for seconds <= 0. What charge() adds, and what
  // locus acct shows for a job still holding its resources.
  double billed(const policy::Tres& tres, int64_t seconds) const;
  // Charges billed(tres, seconds), ending at `end_s`, to (account, user); returns the amount.
  double charge(const std::string& account, const std::string& user, const policy::Tres& tres,
                int64_t seconds, int64_t end_s);

  // What jobs hold right now, per account: DRF's input.
  struct Holding {
    std::string account;
    uint32_t cores = 0;
    uint64_t mem_mb = 0;
  };
  // Recomputes the fair-share table for `now`; call once per pass before priorityOf(). Under
  // fairshare_mode = "drf", `capacity` (the cluster's cores and memory) and `holdings` give each
  // account its dominant share, weighted by its shares; classic and fairtree ignore them.
  void refresh(int64_t now_s, const policy::Tres& capacity = {}, const std::vector<Holding>& holdings = {});
  policy::PriorityBreakdown priorityOf(const std::string& account, const std::string& user,
                                       const std::string& qos, int64_t submit_s, uint32_t cores,
                                       uint32_t cluster_cores, int64_t now_s,
                                       uint32_t pool_priority = 0) const;
  const policy::FairShareTable& table() const { return table_; }

  // Usage entries changed since the last call (to store with the job that caused them).
  std::map<std::string, policy::UsageLedger::Entry> takeDirtyUsage();
  void restoreUsage(const std::string& assoc, policy::UsageLedger::Entry entry);

 private:
  PriorityEngine(policy::UsageLedger ledger) : ledger_(std::move(ledger)) {}
  static policy::AssocId parseAssoc(const std::string& text);
  // The association a job of (account, user) is charged to and ranked by: itself, or the user
  // under root when no accounts are configured.
  policy::AssocId assocFor(const std::string& account, const std::string& user) const;
  bool configured_ = false;
  policy::AccountTree tree_;
  policy::UsageLedger ledger_;
  policy::BillingWeights billing_;
  policy::PriorityWeights weights_;
  policy::FairShareTable table_;
  std::string mode_ = "classic";
  std::map<std::string, double> drf_factors_;  // account -> factor, under drf
  std::map<std::string, policy::UsageLedger::Entry> dirty_;
  std::map<std::string, policy::QosLevel> qos_;
  uint32_t max_qos_priority_ = 0;
  uint32_t max_pool_priority_ = 0;  // over all [[pool]]s
};

}  // namespace locus::controller
