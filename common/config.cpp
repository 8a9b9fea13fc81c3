#include "common/config.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>
#include <tuple>

#include "common/slurm_formats.hpp"

namespace locus {
namespace {

std::string where(const std::string& source, const toml::node& node) {
  return source + ":" + std::to_string(node.source().begin.line);
}

// Walks one table: every key must be known; each handler reads and type-checks its value.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string source, std::string prefix)
      : table_(table), source_(std::move(source)), prefix_(std::move(prefix)) {}

  // Returns the first unknown key as an error.
  Status checkKnown(const std::set<std::string_view>& known) const {
    for (const auto& [key, value] : table_) {
      if (!known.count(key.str()))
        return invalidArgument(where(source_, value) + ": unknown key '" + prefix_ +
                               std::string(key.str()) + "'");
    }
    return {};
  }

  template <typename T>
  Status read(std::string_view key, T& out, const char* type_name) const {
    const toml::node* node = table_.get(key);
    if (!node) return {};
    auto v = node->value<T>();
    if (!v || !node->is<T>())
      return invalidArgument(where(source_, *node) + ": key '" + prefix_ + std::string(key) +
                             "' must be " + type_name);
    out = *v;
    return {};
  }

  Status readInt(std::string_view key, int64_t& out, int64_t min) const {
    const toml::node* node = table_.get(key);
    if (!node) return {};
    if (!node->is_integer())
      return invalidArgument(where(source_, *node) + ": key '" + prefix_ + std::string(key) +
                             "' must be an integer");
    out = *node->value<int64_t>();
    if (out < min)
      return invalidArgument(where(source_, *node) + ": key '" + prefix_ + std::string(key) +
                             "' must be >= " + std::to_string(min));
    return {};
  }

  Status readStrings(std::string_view key, std::vector<std::string>& out) const {
    const toml::node* node = table_.get(key);
    if (!node) return {};
    const toml::array* arr = node->as_array();
    std::string err = where(source_, *node) + ": key '" + prefix_ + std::string(key) +
                      "' must be an array of strings";
    if (!arr) return invalidArgument(err);
    out.clear();
    for (const auto& el : *arr) {
      if (!el.is_string()) return invalidArgument(err);
      out.push_back(*el.value<std::string>());
    }
    return {};
  }

  const toml::node* get(std::string_view key) const { return table_.get(key); }

 private:
  const toml::table& table_;
  std::string source_;
  std::string prefix_;
};

#define LOCUS_TRY(expr)               \
  do {                                \
    Status _s = (expr);               \
    if (!_s.ok()) return _s.error();  \
  } while (0)

Status readController(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "controller.");
  LOCUS_TRY(r.checkKnown({"listen", "state_dir", "node_timeout_s", "heartbeat_interval_ms",
                          "kill_grace_s", "default_time_limit", "admins", "service_ports",
                          "events_kept", "events_in_memory", "min_job_age_s", "auth", "munge_socket", "rpc_rate", "rpc_burst", "store",
                          "etcd_endpoints", "etcd_prefix", "etcd_max_txn_ops", "etcd_lease_ttl_s"}));
  LOCUS_TRY(r.read<std::string>("store", c.store, "a string (\"sqlite\" or \"etcd\")"));
  if (c.store != "sqlite" && c.store != "etcd")
    return invalidArgument(where(source, *r.get("store")) + ": key 'controller.store' must be \"sqlite\" or \"etcd\"");
  LOCUS_TRY(r.readStrings("etcd_endpoints", c.etcd_endpoints));
  LOCUS_TRY(r.read<std::string>("etcd_prefix", c.etcd_prefix, "a string (\"/locus/NAME/\")"));
  if (c.etcd_prefix.empty() || c.etcd_prefix.front() != '/' || c.etcd_prefix.back() != '/')
    return invalidArgument(source + ": key 'controller.etcd_prefix' must start and end with '/'");
  {
    int64_t ops = c.etcd_max_txn_ops, ttl = c.etcd_lease_ttl_s;
    LOCUS_TRY(r.readInt("etcd_max_txn_ops", ops, 4));
    LOCUS_TRY(r.readInt("etcd_lease_ttl_s", ttl, 1));
    if (ops > 1'000'000 || ttl > 3600)
      return invalidArgument(source + ": [controller] etcd_max_txn_ops at most 1000000, etcd_lease_ttl_s at most 3600");
    c.etcd_max_txn_ops = static_cast<uint32_t>(ops);
    c.etcd_lease_ttl_s = static_cast<uint32_t>(ttl);
  }
  if (c.store == "etcd" && c.etcd_endpoints.empty())
    return invalidArgument(source + ": [controller] store = \"etcd\" needs etcd_endpoints");
  LOCUS_TRY(r.read<std::string>("auth", c.auth, "a string (\"munge\" or \"none\")"));
  if (c.auth != "munge" && c.auth != "none")
    return invalidArgument(where(source, *r.get("auth")) + ": key 'controller.auth' must be \"munge\" or \"none\"");
  LOCUS_TRY(r.read<std::string>("munge_socket", c.munge_socket, "a string (a path)"));
  {
    int64_t rate = c.rpc_rate, burst = c.rpc_burst;
    LOCUS_TRY(r.readInt("rpc_rate", rate, 0));
    LOCUS_TRY(r.readInt("rpc_burst", burst, 1));
    c.rpc_rate = static_cast<uint32_t>(std::min<int64_t>(rate, UINT32_MAX));
    c.rpc_burst = static_cast<uint32_t>(std::min<int64_t>(burst, UINT32_MAX));
  }
  LOCUS_TRY(r.read<std::string>("listen", c.listen, "a string"));
  LOCUS_TRY(r.read<std::string>("state_dir", c.state_dir, "a string"));
  int64_t v = c.node_timeout.count();
  LOCUS_TRY(r.readInt("node_timeout_s", v, 1));
  c.node_timeout = std::chrono::seconds{v};
  v = c.heartbeat_interval.count();
  LOCUS_TRY(r.readInt("heartbeat_interval_ms", v, 10));
  c.heartbeat_interval = std::chrono::milliseconds{v};
  v = c.kill_grace.count();
  LOCUS_TRY(r.readInt("kill_grace_s", v, 0));
  c.kill_grace = std::chrono::seconds{v};
  std::string limit;
  LOCUS_TRY(r.read<std::string>("default_time_limit", limit, "a string (Slurm time format)"));
  if (!limit.empty()) {
    auto parsed = parseTimeLimit(limit);
    if (!parsed.ok())
      return invalidArgument(where(source, *r.get("default_time_limit")) +
                             ": key 'controller.default_time_limit': " + parsed.error().message);
    c.default_time_limit_s = *parsed;
  }
  LOCUS_TRY(r.readStrings("admins", c.admins));
  v = static_cast<int64_t>(c.events_kept);
  LOCUS_TRY(r.readInt("events_kept", v, 1));
  {
    int64_t age = c.min_job_age_s;
    LOCUS_TRY(r.readInt("min_job_age_s", age, 0));
    c.min_job_age_s = age;
  }
  c.events_kept = static_cast<uint64_t>(v);
  v = static_cast<int64_t>(c.events_in_memory);
  LOCUS_TRY(r.readInt("events_in_memory", v, 1));
  c.events_in_memory = static_cast<uint64_t>(v);
  std::string ports;
  LOCUS_TRY(r.read<std::string>("service_ports", ports, "a string (\"31000-32999\")"));
  if (!ports.empty()) {
    unsigned lo = 0, hi = 0;
    char tail = 0;
    if (std::sscanf(ports.c_str(), "%u-%u%c", &lo, &hi, &tail) != 2 || lo == 0 || lo > hi || hi > 65535)
      return invalidArgument(where(source, *r.get("service_ports")) +
                             ": key 'controller.service_ports' must be a port range like \"31000-32999\"");
    c.service_port_min = lo;
    c.service_port_max = hi;
  }
  return {};
}

Status readDuration(const TableReader& r, const std::string& source, std::string_view key,
                    const std::string& full_key, int64_t& out);

Status readScheduler(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "scheduler.");
  LOCUS_TRY(r.checkKnown({"interval_ms", "policy", "reserve_depth", "protect_after"}));
  int64_t v = c.scheduler_interval.count();
  LOCUS_TRY(r.readInt("interval_ms", v, 1));
  c.scheduler_interval = std::chrono::milliseconds{v};
  LOCUS_TRY(r.read<std::string>("policy", c.scheduler_policy, "a string"));
  static const std::set<std::string> kPolicies{"firstfit", "fcfs", "easy", "conservative", "easy-predict"};
  if (!kPolicies.count(c.scheduler_policy))
    return invalidArgument(where(source, *r.get("policy")) + ": key 'scheduler.policy' must be one of "
                           "firstfit, fcfs, easy, easy-predict, conservative (got '" + c.scheduler_policy + "')");
  v = c.reserve_depth;
  LOCUS_TRY(r.readInt("reserve_depth", v, 0));
  c.reserve_depth = static_cast<uint32_t>(v);
  // "UNLIMITED" (0): no guard.
  LOCUS_TRY(readDuration(r, source, "protect_after", "scheduler.protect_after", c.protect_after_s));
  return {};
}

Status readDuration(const TableReader& r, const std::string& source, std::string_view key,
                    const std::string& full_key, int64_t& out) {
  std::string text;
  LOCUS_TRY(r.read<std::string>(key, text, "a string (Slurm time format)"));
  if (text.empty()) return {};
  auto parsed = parseTimeLimit(text);
  if (!parsed.ok())
    return invalidArgument(where(source, *r.get(key)) + ": key '" + full_key + "': " + parsed.error().message);
  out = *parsed;
  return {};
}

Status readNumber(const TableReader& r, const std::string& source, std::string_view key,
                  const std::string& full_key, double& out) {
  const toml::node* node = r.get(key);
  if (!node) return {};
  if (!node->is_number())
    return invalidArgument(where(source, *node) + ": key '" + full_key + "' must be a number");
  out = *node->value<double>();
  // !(>= 0) so that `nan` is refused as well (it passed "< 0" and poisoned the priorities).
  if (!(out >= 0)) return invalidArgument(where(source, *node) + ": key '" + full_key + "' must be >= 0");
  return {};
}

Status readPriority(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "priority.");
  LOCUS_TRY(r.checkKnown({"weight_age", "weight_fairshare", "weight_job_size", "weight_qos", "weight_pool", "fairshare_mode", "max_age", "favor_small",
                          "decay_half_life", "billing_per_cpu", "billing_per_mem_gb", "billing_per_gpu"}));
  PriorityConfig& p = c.priority;
  for (auto [key, field] : {std::pair{"weight_age", &p.weight_age}, std::pair{"weight_fairshare", &p.weight_fairshare},
                            std::pair{"weight_job_size", &p.weight_job_size},
                            std::pair{"weight_qos", &p.weight_qos}, std::pair{"weight_pool", &p.weight_pool}}) {
    int64_t v = *field;
    LOCUS_TRY(r.readInt(key, v, 0));
    *field = static_cast<uint32_t>(v);
  }
  LOCUS_TRY(r.read<std::string>("fairshare_mode", p.fairshare_mode, "a string"));
  if (p.fairshare_mode != "classic" && p.fairshare_mode != "fairtree" && p.fairshare_mode != "drf")
    return invalidArgument(where(source, *r.get("fairshare_mode")) +
                           ": key 'priority.fairshare_mode' must be classic, fairtree or drf (got '" +
                           p.fairshare_mode + "')");
  LOCUS_TRY(readDuration(r, source, "max_age", "priority.max_age", p.max_age_s));
  LOCUS_TRY(r.read<bool>("favor_small", p.favor_small, "true or false"));
  LOCUS_TRY(readDuration(r, source, "decay_half_life", "priority.decay_half_life", p.decay_half_life_s));
  LOCUS_TRY(readNumber(r, source, "billing_per_cpu", "priority.billing_per_cpu", p.billing_per_cpu));
  LOCUS_TRY(readNumber(r, source, "billing_per_mem_gb", "priority.billing_per_mem_gb", p.billing_per_mem_gb));
  LOCUS_TRY(readNumber(r, source, "billing_per_gpu", "priority.billing_per_gpu", p.billing_per_gpu));
  return {};
}

Status readAccount(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "account.");
  LOCUS_TRY(r.checkKnown({"name", "parent", "shares", "users"}));
  AccountConfig a;
  a.line = static_cast<int>(t.source().begin.line);
  LOCUS_TRY(r.read<std::string>("name", a.name, "a string"));
  if (a.name.empty()) return invalidArgument(source + ":" + std::to_string(a.line) + ": [[account]] needs 'name'");
  LOCUS_TRY(r.read<std::string>("parent", a.parent, "a string"));
  int64_t shares = a.shares;
  LOCUS_TRY(r.readInt("shares", shares, 1));
  a.shares = static_cast<uint32_t>(shares);
  LOCUS_TRY(r.readStrings("users", a.users));
  c.accounts.push_back(std::move(a));
  return {};
}

Status readQos(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "qos.");
  LOCUS_TRY(r.checkKnown({"name", "priority", "max_jobs_per_user", "max_cores_per_user", "max_gpus_per_user",
                          "max_jobs_per_account", "max_cores_per_account", "max_gpus_per_account", "max_wall", "preempt",
                          "preempt_mode", "preempt_exempt_time"}));
  QosConfig q;
  q.line = static_cast<int>(t.source().begin.line);
  LOCUS_TRY(r.read<std::string>("name", q.name, "a string"));
  if (q.name.empty()) return invalidArgument(source + ":" + std::to_string(q.line) + ": [[qos]] needs 'name'");
  for (auto [key, field] : {std::pair{"priority", &q.priority}, std::pair{"max_jobs_per_user", &q.max_jobs_per_user},
                            std::pair{"max_cores_per_user", &q.max_cores_per_user},
                            std::pair{"max_jobs_per_account", &q.max_jobs_per_account},
                            std::pair{"max_cores_per_account", &q.max_cores_per_account},
                            std::pair{"max_gpus_per_user", &q.max_gpus_per_user},
                            std::pair{"max_gpus_per_account", &q.max_gpus_per_account}}) {
    int64_t v = *field;
    LOCUS_TRY(r.readInt(key, v, 0));
    *field = static_cast<uint32_t>(v);
  }
  LOCUS_TRY(readDuration(r, source, "max_wall", "qos.max_wall", q.max_wall_s));
  LOCUS_TRY(r.readStrings("preempt", q.preempt));
  LOCUS_TRY(r.read<std::string>("preempt_mode", q.preempt_mode, "a string"));
  static const std::set<std::string> kPreemptModes{"requeue", "cancel", "suspend", "off"};
  if (!kPreemptModes.count(q.preempt_mode))
    return invalidArgument(where(source, *r.get("preempt_mode")) +
                           ": key 'qos.preempt_mode' must be one of requeue, cancel, suspend, off "
                           "(got '" + q.preempt_mode + "')");
  LOCUS_TRY(readDuration(r, source, "preempt_exempt_time", "qos.preempt_exempt_time",
                         q.preempt_exempt_s));
  for (const auto& other : c.qos)
    if (other.name == q.name)
      return invalidArgument(source + ":" + std::to_string(q.line) + ": duplicate [[qos]] '" + q.name + "'");
  c.qos.push_back(std::move(q));
  return {};
}

// `preempt` may name a level defined later in the file, so this runs once every [[qos]] is read.
// "normal" and "service" are the built-in levels the controller knows without a table.
Status checkPreemptTargets(const std::string& source, const Config& c) {
  static const std::set<std::string> kBuiltIn{"normal", "service"};
  std::set<std::string> defined;
  for (const auto& q : c.qos) defined.insert(q.name);
  for (const auto& q : c.qos)
    for (const auto& target : q.preempt)
      if (!defined.count(target) && !kBuiltIn.count(target))
        return invalidArgument(source + ":" + std::to_string(q.line) + ": qos '" + q.name +
                               "' preempts unknown qos '" + target + "'");
  return {};
}

// A resource vector of a quota, `{ cores = 16, mem = "64G", gpus = 2 }`. Keys left out keep the
// value `out` comes with (0 for `guaranteed`, unlimited for `max`). `mem` takes what --mem takes
// ("64G", "512M", "512" = MB) or an integer number of MB.
Status readQuotaResources(const toml::node& node, const std::string& source,
                          const std::string& full_key, QuotaResources& out) {
  const toml::table* t = node.as_table();
  if (!t)
    return invalidArgument(where(source, node) + ": key '" + full_key +
                           "' must be a table ({ cores = 16, mem = \"64G\", gpus = 2 })");
  TableReader r(*t, source, full_key + ".");
  LOCUS_TRY(r.checkKnown({"cores", "mem", "gpus"}));
  for (auto [key, field] : {std::pair{"cores", &out.cores}, std::pair{"gpus", &out.gpus}}) {
    if (!r.get(key)) continue;
    int64_t v = 0;
    LOCUS_TRY(r.readInt(key, v, 0));
    *field = static_cast<uint64_t>(v);
  }
  if (const toml::node* mem = r.get("mem")) {
    if (mem->is_integer()) {
      int64_t v = 0;
      LOCUS_TRY(r.readInt("mem", v, 0));
      out.mem_mb = static_cast<uint64_t>(v);
    } else if (mem->is_string()) {
      auto parsed = parseMemoryMb(*mem->value<std::string>());
      if (!parsed.ok())
        return invalidArgument(where(source, *mem) + ": key '" + full_key + ".mem': " +
                               parsed.error().message);
      out.mem_mb = *parsed;
    } else {
      return invalidArgument(where(source, *mem) + ": key '" + full_key +
                             ".mem' must be a size (\"64G\", \"512M\") or an integer of MB");
    }
  }
  return {};
}

Status readPoolQuota(const toml::table& t, const std::string& source, PoolConfig& pool) {
  TableReader r(t, source, "pool.quota.");
  LOCUS_TRY(r.checkKnown({"account", "guaranteed", "max"}));
  PoolQuotaConfig q;
  q.line = static_cast<int>(t.source().begin.line);
  const std::string at = source + ":" + std::to_string(q.line) + ": ";
  LOCUS_TRY(r.read<std::string>("account", q.account, "a string"));
  if (q.account.empty()) return invalidArgument(at + "[[pool.quota]] needs 'account'");
  if (const toml::node* g = r.get("guaranteed"))
    LOCUS_TRY(readQuotaResources(*g, source, "pool.quota.guaranteed", q.guaranteed));
  if (const toml::node* m = r.get("max")) {
    q.max = QuotaResources{UINT64_MAX, UINT64_MAX, UINT64_MAX};
    LOCUS_TRY(readQuotaResources(*m, source, "pool.quota.max", *q.max));
  }
  for (const auto& other : pool.quotas)
    if (other.account == q.account)
      return invalidArgument(at + "duplicate [[pool.quota]] for account '" + q.account +
                             "' in pool '" + pool.name + "'");
  if (q.max) {
    // A guarantee above the borrowing limit could never be used in full: surely a typo.
    for (auto [what, g, m] : {std::tuple{"cores", q.guaranteed.cores, q.max->cores},
                              std::tuple{"mem", q.guaranteed.mem_mb, q.max->mem_mb},
                              std::tuple{"gpus", q.guaranteed.gpus, q.max->gpus}}) {
      if (g > m)
        return invalidArgument(at + "quota of account '" + q.account + "' in pool '" + pool.name +
                               "': guaranteed " + what + " (" + std::to_string(g) +
                               ") is greater than max (" + std::to_string(m) + ")");
    }
  }
  pool.quotas.push_back(std::move(q));
  return {};
}

Status readPool(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "pool.");
  LOCUS_TRY(r.checkKnown({"name", "nodes", "default", "quota", "priority", "reserve_depth"}));
  PoolConfig p;
  p.line = static_cast<int>(t.source().begin.line);
  const std::string at = source + ":" + std::to_string(p.line) + ": ";
  LOCUS_TRY(r.read<std::string>("name", p.name, "a string"));
  if (p.name.empty()) return invalidArgument(at + "[[pool]] needs a non-empty 'name'");
  for (const auto& other : c.pools)
    if (other.name == p.name) return invalidArgument(at + "duplicate [[pool]] '" + p.name + "'");
  LOCUS_TRY(r.read<std::string>("nodes", p.nodes_hostlist, "a string (hostlist, e.g. \"n[1-8]\")"));
  if (!p.nodes_hostlist.empty()) {
    auto expanded = expandHostlist(p.nodes_hostlist);
    if (!expanded.ok())
      return invalidArgument(where(source, *r.get("nodes")) + ": key 'pool.nodes': " +
                             expanded.error().message);
    p.nodes = std::move(*expanded);
  }
  LOCUS_TRY(r.read<bool>("default", p.is_default, "true or false"));
  int64_t v = 0;
  LOCUS_TRY(r.readInt("priority", v, 0));
  p.priority = static_cast<uint32_t>(v);
  if (r.get("reserve_depth")) {
    v = 0;
    LOCUS_TRY(r.readInt("reserve_depth", v, 0));
    p.reserve_depth = static_cast<uint32_t>(v);
  }
  if (p.is_default)
    for (const auto& other : c.pools)
      if (other.is_default)
        return invalidArgument(at + "more than one default [[pool]] ('" + other.name + "' and '" +
                               p.name + "')");
  // [[pool.quota]] tables after a [[pool]] land in its `quota` array.
  if (const toml::node* quotas = r.get("quota")) {
    const toml::array* arr = quotas->as_array();
    if (!arr || !arr->is_array_of_tables())
      return invalidArgument(where(source, *quotas) +
                             ": 'pool.quota' must be an array of tables ([[pool.quota]])");
    for (const auto& el : *arr) LOCUS_TRY(readPoolQuota(*el.as_table(), source, p));
  }
  c.pools.push_back(std::move(p));
  return {};
}

Status readSwitch(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "switch.");
  LOCUS_TRY(r.checkKnown({"name", "nodes", "switches"}));
  SwitchConfig s;
  s.line = static_cast<int>(t.source().begin.line);
  LOCUS_TRY(r.read<std::string>("name", s.name, "a string"));
  LOCUS_TRY(r.read<std::string>("nodes", s.nodes, "a string (hostlist)"));
  LOCUS_TRY(r.read<std::string>("switches", s.switches, "a string (hostlist)"));
  if (s.name.empty())
    return invalidArgument(source + ":" + std::to_string(s.line) + ": [[switch]] needs a non-empty 'name'");
  c.switches.push_back(std::move(s));
  return {};
}

Status readNodeGroup(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "node.");
  LOCUS_TRY(r.checkKnown({"names", "features"}));
  NodeGroupConfig group;
  std::string names;
  LOCUS_TRY(r.read<std::string>("names", names, "a string (hostlist, e.g. \"n[1-8]\")"));
  if (names.empty())
    return invalidArgument(source + ":" + std::to_string(t.source().begin.line) +
                           ": [[node]] needs 'names'");
  auto expanded = expandHostlist(names);
  if (!expanded.ok())
    return invalidArgument(where(source, *r.get("names")) + ": key 'node.names': " +
                           expanded.error().message);
  group.names = std::move(*expanded);
  LOCUS_TRY(r.readStrings("features", group.features));
  c.nodes.push_back(std::move(group));
  return {};
}

}  // namespace

std::vector<std::string> Config::configuredNodeNames() const {
  std::vector<std::string> out;
  for (const auto& g : nodes) out.insert(out.end(), g.names.begin(), g.names.end());
  return out;
}

Status readProfile(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "profile.");
  LOCUS_TRY(r.checkKnown({"dir", "interval_s"}));
  LOCUS_TRY(r.read<std::string>("dir", c.profile_dir, "a string"));
  int64_t v = c.profile_interval_s;
  LOCUS_TRY(r.readInt("interval_s", v, 1));
  c.profile_interval_s = static_cast<uint32_t>(v);
  return {};
}

namespace {
// Seconds as an integer or a decimal (0.5), kept in milliseconds.
Status readSecondsMs(const TableReader& r, const std::string& source, std::string_view key,
                     const std::string& prefix, int64_t& out_ms) {
  const toml::node* node = r.get(key);
  if (!node) return {};
  double seconds = -1;
  if (node->is_integer()) seconds = static_cast<double>(*node->value<int64_t>());
  else if (node->is_floating_point()) seconds = *node->value<double>();
  // Written so that NaN fails too: `nan` is a TOML float, and NaN passed "< 0 || > 86400" into
  // the cast below, which is undefined (found with fuzz_config; tests/fuzz/regressions/config/).
  if (!(seconds >= 0 && seconds <= 86400))
    return invalidArgument(where(source, *node) + ": key '" + prefix + std::string(key) +
                           "' must be a number of seconds from 0 to 86400");
  out_ms = static_cast<int64_t>(seconds * 1000 + 0.5);
  return {};
}

Status readLocalityHdfs(const toml::table& t, const std::string& source, LocalityConfig& l) {
  TableReader r(t, source, "locality.hdfs.");
  LOCUS_TRY(r.checkKnown({"namenode", "timeout_ms", "cache_s", "user", "hosts"}));
  LOCUS_TRY(r.read<std::string>("namenode", l.hdfs_namenode, "a string (\"http://HOST:PORT\")"));
  if (!l.hdfs_namenode.empty() && l.hdfs_namenode.rfind("http://", 0) != 0)
    return invalidArgument(where(source, *r.get("namenode")) +
                           ": key 'locality.hdfs.namenode' must be the WebHDFS base, http://HOST:PORT");
  LOCUS_TRY(r.readInt("timeout_ms", l.hdfs_timeout_ms, 1));
  LOCUS_TRY(r.readInt("cache_s", l.hdfs_cache_s, 0));
  LOCUS_TRY(r.read<std::string>("user", l.hdfs_user, "a string"));
  if (const toml::node* hosts = r.get("hosts")) {
    const toml::table* map = hosts->as_table();
    const std::string err = where(source, *hosts) +
                            ": key 'locality.hdfs.hosts' must be a table of strings ({ \"dn1\" = \"n1\" })";
    if (!map) return invalidArgument(err);
    for (const auto& [host, node] : *map) {
      if (!node.is_string()) return invalidArgument(err);
      l.hdfs_hosts[std::string(host.str())] = *node.value<std::string>();
    }
  }
  return {};
}

Status readFrameworks(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "frameworks.");
  LOCUS_TRY(r.checkKnown({"failover_timeout_s", "max_failover_timeout_s", "revocation_notice_s",
                          "offer_timeout_s", "default_filter_s"}));
  FrameworksConfig& f = c.frameworks;
  for (auto [key, field, min] : {std::tuple{"failover_timeout_s", &f.failover_timeout_s, 0},
                                 std::tuple{"max_failover_timeout_s", &f.max_failover_timeout_s, 0},
                                 std::tuple{"revocation_notice_s", &f.revocation_notice_s, 0},
                                 std::tuple{"offer_timeout_s", &f.offer_timeout_s, 1},
                                 std::tuple{"default_filter_s", &f.default_filter_s, 0}}) {
    int64_t v = *field;
    LOCUS_TRY(r.readInt(key, v, min));
    if (v > 7 * 86400) return invalidArgument(source + ": key 'frameworks." + key + "' must be at most a week");
    *field = static_cast<uint32_t>(v);
  }
  return {};
}

Status readLocality(const toml::table& t, const std::string& source, Config& c) {
  TableReader r(t, source, "locality.");
  LOCUS_TRY(r.checkKnown({"locality_wait_node", "locality_wait_rack", "catalog", "cache_dirs", "hdfs"}));
  LocalityConfig& l = c.locality;
  LOCUS_TRY(readSecondsMs(r, source, "locality_wait_node", "locality.", l.wait_node_ms));
  LOCUS_TRY(readSecondsMs(r, source, "locality_wait_rack", "locality.", l.wait_rack_ms));
  LOCUS_TRY(r.read<std::string>("catalog", l.catalog, "a string (a file path)"));
  LOCUS_TRY(r.readStrings("cache_dirs", l.cache_dirs));
  if (const toml::node* hdfs = r.get("hdfs")) {
    const toml::table* h = hdfs->as_table();
    if (!h) return invalidArgument(where(source, *hdfs) + ": 'locality.hdfs' must be a table");
    LOCUS_TRY(readLocalityHdfs(*h, source, l));
  }
  return {};
}
}  // namespace

std::string Config::profileDir() const {
  const std::string dir = profile_dir.empty() ? state_dir + "/profiles" : profile_dir;
  std::error_code ec;
  auto absolute = std::filesystem::absolute(dir, ec);
  return ec ? dir : absolute.lexically_normal().string();
}

Result<Config> parseConfig(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return invalidArgument(source + ":" + std::to_string(e.source().begin.line) + ": " +
                           std::string(e.description()));
  }
  Config c;
  for (const auto& [key, value] : root) {
    std::string_view k = key.str();
    if (k == "controller" || k == "scheduler") {
      const toml::table* t = value.as_table();
      if (!t) return invalidArgument(where(source, value) + ": '" + std::string(k) + "' must be a table");
      Status s = k == "controller" ? readController(*t, source, c) : readScheduler(*t, source, c);
      if (!s.ok()) return s.error();
    } else if (k == "priority") {
      const toml::table* t = value.as_table();
      if (!t) return invalidArgument(where(source, value) + ": 'priority' must be a table");
      Status s = readPriority(*t, source, c);
      if (!s.ok()) return s.error();
    } else if (k == "profile") {
      const toml::table* t = value.as_table();
      if (!t) return invalidArgument(where(source, value) + ": 'profile' must be a table");
      Status s = readProfile(*t, source, c);
      if (!s.ok()) return s.error();
    } else if (k == "frameworks") {
      const toml::table* t = value.as_table();
      if (!t) return invalidArgument(where(source, value) + ": 'frameworks' must be a table");
      Status s = readFrameworks(*t, source, c);
      if (!s.ok()) return s.error();
    } else if (k == "locality") {
      const toml::table* t = value.as_table();
      if (!t) return invalidArgument(where(source, value) + ": 'locality' must be a table");
      Status s = readLocality(*t, source, c);
      if (!s.ok()) return s.error();
    } else if (k == "qos") {
      const toml::array* arr = value.as_array();
      if (!arr || !arr->is_array_of_tables())
        return invalidArgument(where(source, value) + ": 'qos' must be an array of tables ([[qos]])");
      for (const auto& el : *arr) {
        Status s = readQos(*el.as_table(), source, c);
        if (!s.ok()) return s.error();
      }
    } else if (k == "switch") {
      const toml::array* arr = value.as_array();
      if (!arr || !arr->is_array_of_tables())
        return invalidArgument(where(source, value) + ": 'switch' must be an array of tables ([[switch]])");
      for (const auto& el : *arr) {
        Status s = readSwitch(*el.as_table(), source, c);
        if (!s.ok()) return s.error();
      }
    } else if (k == "account") {
      const toml::array* arr = value.as_array();
      if (!arr || !arr->is_array_of_tables())
        return invalidArgument(where(source, value) + ": 'account' must be an array of tables ([[account]])");
      for (const auto& el : *arr) {
        Status s = readAccount(*el.as_table(), source, c);
        if (!s.ok()) return s.error();
      }
    } else if (k == "pool") {
      const toml::array* arr = value.as_array();
      if (!arr || !arr->is_array_of_tables())
        return invalidArgument(where(source, value) + ": 'pool' must be an array of tables ([[pool]])");
      for (const auto& el : *arr) {
        Status s = readPool(*el.as_table(), source, c);
        if (!s.ok()) return s.error();
      }
    } else if (k == "node") {
      const toml::array* arr = value.as_array();
      if (!arr || !arr->is_array_of_tables())
        return invalidArgument(where(source, value) + ": 'node' must be an array of tables ([[node]])");
      for (const auto& el : *arr) {
        Status s = readNodeGroup(*el.as_table(), source, c);
        if (!s.ok()) return s.error();
      }
    } else {
      return invalidArgument(where(source, value) + ": unknown key '" + std::string(k) + "'");
    }
  }
  Status preempt = checkPreemptTargets(source, c);
  if (!preempt.ok()) return preempt.error();
  return c;
}

Result<Config> loadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return invalidArgument("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parseConfig(ss.str(), path);
}

}  // namespace locus
