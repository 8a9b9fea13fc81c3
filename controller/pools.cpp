#include "controller/pools.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace locus::controller {

bool Pool::hasNode(const std::string& node) const {
  return all_nodes || std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

const policy::Quota* Pool::quotaOf(const std::string& account) const {
  for (const auto& q : quotas)
    if (q.account == account) return &q;
  return nullptr;
}

Result<Pools> Pools::fromConfig(const Config& config) {
  Pools p;
  const std::vector<std::string> known = config.configuredNodeNames();
  const std::set<std::string> known_set(known.begin(), known.end());
  for (const PoolConfig& pc : config.pools) {
    Pool pool;
    pool.name = pc.name;
    pool.all_nodes = pc.nodes_hostlist.empty();
    pool.priority = pc.priority;
    pool.reserve_depth = pc.reserve_depth;
    pool.nodes = pc.nodes;
    if (!known_set.empty())
      for (const auto& n : pool.nodes)
        if (!known_set.count(n))
          return invalidArgument("pool '" + pc.name + "' lists node '" + n + "', which no [[node]] table has");
    for (const PoolQuotaConfig& qc : pc.quotas) {
      policy::Quota q;
      q.account = qc.account;
      q.guaranteed = {qc.guaranteed.cores, qc.guaranteed.mem_mb, qc.guaranteed.gpus};
      if (qc.max) q.max = {qc.max->cores, qc.max->mem_mb, qc.max->gpus};
      pool.quotas.push_back(std::move(q));
    }
    if (pc.is_default) p.default_ = static_cast<uint32_t>(p.pools_.size());
    p.pools_.push_back(std::move(pool));
  }
  if (p.pools_.empty()) p.pools_.push_back(Pool{kImplicitPool, true, {}, {}});
  return p;
}

std::optional<uint32_t> Pools::indexOf(const std::string& name) const {
  for (uint32_t i = 0; i < pools_.size(); ++i)
    if (pools_[i].name == name) return i;
  return std::nullopt;
}

std::string Pools::namesList() const {
  std::string out;
  for (const auto& p : pools_) out += (out.empty() ? "" : ", ") + p.name;
  return out;
}

bool Pools::anyQuota() const {
  return std::any_of(pools_.begin(), pools_.end(), [](const Pool& p) { return !p.quotas.empty(); });
}

Status Pools::setQuota(const std::string& pool, const std::string& account, const policy::Resources& guaranteed,
                       const policy::Resources& max) {
  auto index = indexOf(pool);
  if (!index) return notFound("no pool '" + pool + "' (pools: " + namesList() + ")");
  if (account.empty()) return invalidArgument("a quota needs an account");
  if (!guaranteed.fitsIn(max)) return invalidArgument("the guaranteed amount exceeds the max");
  Pool& p = pools_[*index];
  for (auto& q : p.quotas)
    if (q.account == account) {
      q.guaranteed = guaranteed;
      q.max = max;
      return {};
    }
  p.quotas.push_back(policy::Quota{account, guaranteed, max});
  return {};
}

Status Pools::removeQuota(const std::string& pool, const std::string& account) {
  auto index = indexOf(pool);
  if (!index) return notFound("no pool '" + pool + "' (pools: " + namesList() + ")");
  auto& quotas = pools_[*index].quotas;
  auto it = std::find_if(quotas.begin(), quotas.end(), [&](const policy::Quota& q) { return q.account == account; });
  if (it == quotas.end()) return notFound("account '" + account + "' has no quota in pool '" + pool + "'");
  quotas.erase(it);
  return {};
}

namespace {
nlohmann::json resourcesJson(const policy::Resources& r) {
  return {{"cores", r.cores}, {"mem_mb", r.mem_mb}, {"gpus", r.gpus}};
}
policy::Resources resourcesFrom(const nlohmann::json& j) {
  return {j.value("cores", uint64_t{0}), j.value("mem_mb", uint64_t{0}), j.value("gpus", uint64_t{0})};
}
}  // namespace

std::string quotaChangeToJson(const std::string& pool, const std::string& account, bool remove,
                              const policy::Resources& guaranteed, const policy::Resources& max) {
  nlohmann::json j{{"kind", "quota"}, {"pool", pool}, {"account", account}, {"remove", remove}};
  if (!remove) {
    j["guaranteed"] = resourcesJson(guaranteed);
    j["max"] = resourcesJson(max);
  }
  return j.dump();
}

Status applyQuotaChange(Pools& pools, const std::string& change_json) {
  auto j = nlohmann::json::parse(change_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return invalidArgument("unreadable quota change: " + change_json);
  const std::string pool = j.value("pool", "");
  const std::string account = j.value("account", "");
  if (j.value("remove", false)) return pools.removeQuota(pool, account);
  return pools.setQuota(pool, account, resourcesFrom(j.value("guaranteed", nlohmann::json::object())),
                        resourcesFrom(j.value("max", nlohmann::json::object())));
}

}  // namespace locus::controller
