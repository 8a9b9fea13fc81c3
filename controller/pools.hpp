#pragma once
// Pools (Slurm's partitions): named sets of nodes a job may ask for with -p/--pool, each with
// per-account quotas (policy/quota.hpp). From [[pool]] tables; with none configured there is one
// pool, "locus", of every node. A node may be in several pools. Quotas change at run time with
// `locus quota set` (the controller stores the changes and replays them over the config).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/result.hpp"
#include "controller/policy/quota.hpp"

namespace locus::controller {

inline constexpr const char* kImplicitPool = "locus";

struct Pool {
  std::string name;
  bool all_nodes = true;            // no node list: every node of the cluster
  uint32_t priority = 0;            // the pool factor's numerator (weight_pool)
  std::optional<uint32_t> reserve_depth;  // unset: [scheduler] reserve_depth
  std::vector<std::string> nodes;   // when !all_nodes
  std::vector<policy::Quota> quotas;  // one per account, in config order

  bool hasNode(const std::string& node) const;
  const policy::Quota* quotaOf(const std::string& account) const;  // null: none
};

class Pools {
 public:
  // Errors: a pool naming a node that no [[node]] table lists, when [[node]] tables exist.
  static Result<Pools> fromConfig(const Config& config);

  const std::vector<Pool>& all() const { return pools_; }
  const std::string& defaultName() const { return pools_[default_].name; }
  // Index of the pool called `name`, nullopt when there is none.
  std::optional<uint32_t> indexOf(const std::string& name) const;
  const Pool& at(uint32_t index) const { return pools_.at(index); }
  // The priority of the pool called `name` (the pool factor), 0 when there is none.
  uint32_t priorityOf(const std::string& name) const {
    auto i = indexOf(name);
    return i ? pools_[*i].priority : 0;
  }
  // "a, b, c" for error messages.
  std::string namesList() const;
  // Whether any pool has quotas (else quota bookkeeping is skipped).
  bool anyQuota() const;

  // `locus quota set`: replaces (or adds) `account`'s quota in `pool`; max unset = unlimited.
  // Errors: unknown pool, guaranteed > max.
  Status setQuota(const std::string& pool, const std::string& account, const policy::Resources& guaranteed,
                  const policy::Resources& max);
  // `locus quota set --remove`: the account has no quota in the pool any more.
  Status removeQuota(const std::string& pool, const std::string& account);

 private:
  std::vector<Pool> pools_;
  uint32_t default_ = 0;
};

// One quota change as the store keeps it (JSON), replayed in order at start.
std::string quotaChangeToJson(const std::string& pool, const std::string& account, bool remove,
                              const policy::Resources& guaranteed, const policy::Resources& max);
Status applyQuotaChange(Pools& pools, const std::string& change_json);

}  // namespace locus::controller
