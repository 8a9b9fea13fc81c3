#include "controller/priority_engine.hpp"

#include <algorithm>

namespace locus::controller {

Result<PriorityEngine> PriorityEngine::fromConfig(const Config& config) {
  PriorityEngine e(policy::UsageLedger(std::chrono::seconds(config.priority.decay_half_life_s)));
  const PriorityConfig& p = config.priority;
  e.billing_ = {p.billing_per_cpu, p.billing_per_mem_gb, 0.0};
  e.billing_.per_gpu = p.billing_per_gpu;
  e.weights_.age = p.weight_age;
  e.weights_.fairshare = p.weight_fairshare;
  e.weights_.job_size = p.weight_job_size;
  e.weights_.qos = p.weight_qos;
  e.weights_.partition = p.weight_pool;
  for (const auto& pool : config.pools) e.max_pool_priority_ = std::max(e.max_pool_priority_, pool.priority);
  e.mode_ = p.fairshare_mode;
  for (const auto& q : config.qos) {
    policy::QosLevel level;
    level.name = q.name;
    level.priority = q.priority;
    auto limit = [](uint32_t v) { return v > 0 ? std::optional<uint32_t>(v) : std::nullopt; };
    level.per_user.max_running_jobs = limit(q.max_jobs_per_user);
    level.per_user.max_cores = limit(q.max_cores_per_user);
    level.per_account.max_running_jobs = limit(q.max_jobs_per_account);
    level.per_account.max_cores = limit(q.max_cores_per_account);
    level.per_user.max_gpus = limit(q.max_gpus_per_user);
    level.per_account.max_gpus = limit(q.max_gpus_per_account);
    if (q.max_wall_s > 0) level.max_wall_s = q.max_wall_s;
    e.max_qos_priority_ = std::max(e.max_qos_priority_, q.priority);
    e.qos_[q.name] = std::move(level);
  }
  e.weights_.max_age_s = p.max_age_s;
  e.weights_.favor_small = p.favor_small;
  e.configured_ = !config.accounts.empty();
  for (const auto& a : config.accounts) {
    auto where = [&](const std::string& msg) {
      return invalidArgument("locus.toml: account '" + a.name + "' (line " + std::to_string(a.line) + "): " + msg);
    };
    if (Status s = e.tree_.addAccount(a.name, a.parent, a.shares); !s.ok()) return where(s.error().message);
    for (const auto& user : a.users)
      if (Status s = e.tree_.addUser(a.name, user); !s.ok()) return where(s.error().message);
  }
  return e;
}

Result<std::string> PriorityEngine::resolveAccount(const std::string& user, const std::string& requested) {
  if (!configured_) {
    // No accounts: the name is kept as given (scripts carry their site's --account), and the
    // user is charged and ranked as a one-share user under root.
    if (!tree_.shares({"root", user}).ok()) (void)tree_.addUser("root", user);
    return requested.empty() ? std::string("root") : requested;
  }
  auto accounts = tree_.accountsOf(user);
  if (requested.empty()) {
    if (accounts.empty()) return invalidArgument("user " + user + " belongs to no account; ask an admin to add them");
    return accounts.front();
  }
  if (!tree_.shares({requested, ""}).ok()) return invalidArgument("--account: account '" + requested + "' does not exist");
  if (std::find(accounts.begin(), accounts.end(), requested) == accounts.end())
    return invalidArgument("--account: user " + user + " does not belong to account '" + requested + "'");
  return requested;
}

Status PriorityEngine::applyAccountChange(const AccountChange& change) {
  // Work on a copy so a change that fails half-way leaves the tree as it was.
  policy::AccountTree tree = tree_;
  if (!configured_) {
    // The implicit per-user associations under root give way to a real tree.
    for (const auto& id : tree.preorder())
      if (id.account == "root" && id.isUser()) (void)tree.removeUser("root", id.user);
  }
  Status s;
  if (change.op == "add") {
    s = tree.addAccount(change.name, change.parent.empty() ? "root" : change.parent,
                        change.shares == 0 ? 1 : change.shares);
  } else if (change.op == "modify") {
    std::optional<std::string> parent;
    if (!change.parent.empty()) parent = change.parent;
    std::optional<uint32_t> shares;
    if (change.shares > 0) shares = change.shares;
    if (parent || shares) s = tree.modifyAccount(change.name, parent, shares);
    for (size_t i = 0; s.ok() && i < change.remove_users.size(); ++i)
      s = tree.removeUser(change.name, change.remove_users[i]);
  } else if (change.op == "remove") {
    s = tree.removeAccount(change.name);
  } else {
    return invalidArgument("unknown account operation '" + change.op + "'");
  }
  if (change.op != "remove")
    for (size_t i = 0; s.ok() && i < change.users.size(); ++i) s = tree.addUser(change.name, change.users[i]);
  if (!s.ok()) return s;
  tree_ = std::move(tree);
  configured_ = true;
  return {};
}

policy::AssocId PriorityEngine::assocFor(const std::string& account, const std::string& user) const {
  if (!configured_) return {"root", user};
  return {account, user};
}

Result<std::string> PriorityEngine::resolveQos(const std::string& requested) const {
  if (qos_.empty()) return requested;
  if (requested.empty()) return std::string(qos_.count("normal") ? "normal" : "");
  // The built-in levels of preemption (preemption_policy.hpp) exist without a [[qos]] table.
  if (requested == "normal" || requested == "service") return requested;
  if (!qos_.count(requested)) return invalidArgument("--qos: QoS '" + requested + "' does not exist");
  return requested;
}

const policy::QosLevel* PriorityEngine::qos(const std::string& name) const {
  auto it = qos_.find(name);
  return it == qos_.end() ? nullptr : &it->second;
}

double PriorityEngine::billed(const policy::Tres& tres, int64_t seconds) const {
  return policy::billedResourceSeconds(billing_, tres, seconds);
}

double PriorityEngine::charge(const std::string& account, const std::string& user,
                              const policy::Tres& tres, int64_t seconds, int64_t end_s) {
  if (seconds <= 0) return 0;
  policy::AssocId id = assocFor(account, user);
  const double amount = billed(tres, seconds);
  ledger_.charge(id, amount, end_s);
  dirty_[id.str()] = ledger_.entries().at(id);
  return amount;
}

void PriorityEngine::refresh(int64_t now_s, const policy::Tres& capacity, const std::vector<Holding>& holdings) {
  policy::FairShareOptions options;
  options.algorithm = mode_ == "fairtree" ? policy::FairShareAlgorithm::kFairTree : policy::FairShareAlgorithm::kClassic;
  table_ = policy::computeFairShare(tree_, policy::rollUp(tree_, ledger_, now_s), options);
  if (mode_ != "drf") return;
  // DRF over the accounts that hold or may hold resources, weighted by their raw shares: the
  // account with the lowest weighted dominant share gets the highest factor.
  policy::DrfSorter drf(capacity);
  for (const auto& id : tree_.preorder())
    if (!id.isUser() && id.account != "root") (void)drf.addClient(id.account, tree_.shares(id).ok() ? *tree_.shares(id) : 1);
  (void)drf.addClient("root", 1);
  for (const auto& h : holdings)
    (void)drf.allocate(h.account, policy::Tres{h.cores, static_cast<int64_t>(h.mem_mb), 0});
  drf_factors_ = drf.factors();
}

policy::PriorityBreakdown PriorityEngine::priorityOf(const std::string& account, const std::string& user,
                                                     const std::string& qos, int64_t submit_s,
                                                     uint32_t cores, uint32_t cluster_cores,
                                                     int64_t now_s, uint32_t pool_priority) const {
  policy::PriorityInputs in;
  in.now_s = now_s;
  in.eligible_s = submit_s;
  if (mode_ == "drf") {
    auto it = drf_factors_.find(account);
    in.fair_share = it == drf_factors_.end() ? 1.0 : it->second;
  } else {
    in.fair_share = table_.factor(assocFor(account, user));
  }
  in.job_cores = cores;
  in.cluster_cores = cluster_cores;
  if (const policy::QosLevel* level = this->qos(qos)) in.qos_priority = level->priority;
  in.max_qos_priority = max_qos_priority_;
  in.partition_priority = pool_priority;
  in.max_partition_priority = max_pool_priority_;
  return policy::computePriority(weights_, in);
}

std::map<std::string, policy::UsageLedger::Entry> PriorityEngine::takeDirtyUsage() {
  std::map<std::string, policy::UsageLedger::Entry> out;
  out.swap(dirty_);
  return out;
}

policy::AssocId PriorityEngine::parseAssoc(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return {text, ""};
  return {text.substr(0, slash), text.substr(slash + 1)};
}

void PriorityEngine::restoreUsage(const std::string& assoc, policy::UsageLedger::Entry entry) {
  policy::AssocId id = parseAssoc(assoc);
  // Users of the implicit root account come back as they were charged.
  if (!configured_ && id.account == "root" && !id.user.empty() && !tree_.shares(id).ok())
    (void)tree_.addUser("root", id.user);
  ledger_.restore(id, entry);
}

}  // namespace locus::controller
