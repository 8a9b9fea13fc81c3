// The JSON views of proto/json.hpp.
#include "proto/json.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/time_util.hpp"
#include "proto/locus.pb.h"

namespace locus::proto {
namespace {

nlohmann::json timeOrNull(int64_t t) {
  return t > 0 ? nlohmann::json(formatRfc3339(t)) : nlohmann::json(nullptr);
}

// QuotaAmount's "unlimited".
constexpr uint64_t kUnlimited = UINT64_MAX;

nlohmann::json amountJson(const QuotaAmount& a) {
  auto one = [](uint64_t v) { return v == kUnlimited ? nlohmann::json(nullptr) : nlohmann::json(v); };
  return {{"cores", one(a.cores())}, {"mem_mb", one(a.mem_mb())}, {"gpus", one(a.gpus())}};
}

nlohmann::json orNull(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

bool ended(const Event& e) {
  static const char* const kTerminal[] = {"COMPLETED", "FAILED",    "CANCELLED",
                                          "TIMEOUT",   "NODE_FAIL", "OUT_OF_MEMORY"};
  return std::find(std::begin(kTerminal), std::end(kTerminal), e.new_state()) !=
         std::end(kTerminal);
}

}  // namespace

nlohmann::json jobToJson(const JobInfo& job) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : job.nodes()) nodes.push_back(n);
  nlohmann::json allocation = nlohmann::json::array();
  for (const auto& a : job.allocation())
    allocation.push_back({{"node", a.node()},
                          {"cores", std::vector<uint32_t>(a.cores().begin(), a.cores().end())},
                          {"numa", std::vector<uint32_t>(a.numa().begin(), a.numa().end())},
                          {"gpus", std::vector<uint32_t>(a.gpus().begin(), a.gpus().end())},
                          {"mem_mb", a.mem_mb()},
                          {"ntasks", a.ntasks()}});
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : job.steps())
    steps.push_back({{"id", s.id()},
                     {"name", s.name()},
                     {"state", s.state()},
                     {"exit_code", s.exit_code() >= 0 ? nlohmann::json(s.exit_code()) : nlohmann::json(nullptr)},
                     {"ntasks", s.ntasks()},
                     {"nodes", std::vector<std::string>(s.nodes().begin(), s.nodes().end())},
                     {"start_time", timeOrNull(s.start_time())},
                     {"end_time", timeOrNull(s.end_time())}});
  nlohmann::json out = {
      {"steps", steps},
      {"id", job.id()},
      {"name", job.name()},
      {"user", job.user()},
      {"state", job.state()},
      {"reason", job.reason()},
      {"exit_code", job.exit_code() >= 0 ? nlohmann::json(job.exit_code()) : nlohmann::json(nullptr)},
      {"nodes", nodes},
      {"ntasks", job.ntasks()},
      {"cpus_per_task", job.cpus_per_task()},
      {"mem_mb", job.mem_mb()},
      {"time_limit_s", job.time_limit_s() > 0 ? nlohmann::json(job.time_limit_s()) : nlohmann::json(nullptr)},
      {"submit_time", timeOrNull(job.submit_time())},
      {"start_time", timeOrNull(job.start_time())},
      {"end_time", timeOrNull(job.end_time())},
      {"attempt", job.attempt()},
      {"array_job_id", job.array_job_id() ? nlohmann::json(job.array_job_id()) : nlohmann::json(nullptr)},
      {"array_task_id", job.array_task_id() >= 0 ? nlohmann::json(job.array_task_id()) : nlohmann::json(nullptr)},
      {"stdout", job.stdout().empty() ? nlohmann::json(nullptr) : nlohmann::json(job.stdout())},
      {"stderr", job.stderr().empty() ? nlohmann::json(nullptr) : nlohmann::json(job.stderr())},
      {"work_dir", job.work_dir()},
      {"allocation", allocation},
      {"term_signal", job.term_signal()},
      {"cpu_time_s", job.cpu_time_s()},
      {"expected_start_time", timeOrNull(job.expected_start_time())},
      {"max_rss_kb", job.max_rss_kb()},
      {"partition", job.partition()},
      {"qos", job.qos()},
      {"account", job.account()},
      {"reason_detail", job.reason_detail().empty() ? nlohmann::json(nullptr) : nlohmann::json(job.reason_detail())},
      {"preempted_by", job.preempted_by() ? nlohmann::json(job.preempted_by()) : nlohmann::json(nullptr)},
      {"preemption", job.preemption().empty() ? nlohmann::json(nullptr) : nlohmann::json(job.preemption())},
      {"profile_dir", job.profile_dir().empty() ? nlohmann::json(nullptr) : nlohmann::json(job.profile_dir())},
  };
  if (job.archived()) out["archived"] = true;  // from the store: ended past min_job_age_s
  if (!job.framework().empty())
    out["lease"] = {{"framework", job.framework()},
                    {"locality", job.lease_locality().empty() ? nlohmann::json(nullptr) : nlohmann::json(job.lease_locality())}};
  // Jobs with --input: where their tasks ran relative to their data (docs/locality.md).
  if (job.has_locality()) {
    const Locality& l = job.locality();
    out["locality"] = {{"node_local", l.node_local()},
                       {"rack_local", l.rack_local()},
                       {"remote", l.remote()},
                       {"bytes",
                        {{"node_local", l.bytes().node_local()},
                         {"rack_local", l.bytes().rack_local()},
                         {"remote", l.bytes().remote()}}}};
  }
  if (!job.input_path().empty())
    out["input"] = {{"path", job.input_path()},
                    {"offset", job.input_offset()},
                    {"length", job.input_length()},
                    {"hosts", std::vector<std::string>(job.input_hosts().begin(), job.input_hosts().end())}};
  return out;
}

nlohmann::json nodeToJson(const NodeInfo& node) {
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& g : node.gpus()) {
    nlohmann::json links = nlohmann::json::array();
    for (const auto& l : g.links()) links.push_back({{"peer", l.peer()}, {"bandwidth_mbps", l.bandwidth_mbps()}});
    gpus.push_back({{"index", g.index()},
                    {"name", g.name()},
                    {"uuid", g.uuid()},
                    {"memory_mb", g.memory_mb()},
                    {"numa", g.numa()},
                    {"pci_bus_id", g.pci_bus_id()},
                    {"pcie_switch", g.pcie_switch()},
                    {"links", links}});
  }
  nlohmann::json features = nlohmann::json::array();
  for (const auto& f : node.features()) features.push_back(f);
  return {{"name", node.name()},         {"state", node.state()},
          {"cpus", node.cpus()},         {"cpus_alloc", node.cpus_alloc()},
          {"mem_mb", node.mem_mb()},     {"mem_alloc_mb", node.mem_alloc_mb()},
          {"numa_domains", node.numa_domains()}, {"gpus", gpus},
          {"gpus_alloc", node.gpus_alloc()},
          {"features", features},        {"limits", node.limits()}};
}

nlohmann::json sharesToJson(const SharesReply& reply) {
  nlohmann::json out{{"rows", nlohmann::json::array()}};
  for (const auto& r : reply.rows())
    out["rows"].push_back({{"account", r.account()}, {"user", r.user()}, {"depth", r.depth()},
                           {"raw_shares", r.raw_shares()}, {"norm_shares", r.norm_shares()},
                           {"raw_usage", r.raw_usage()}, {"norm_usage", r.norm_usage()},
                           {"effective_usage", r.effective_usage()}, {"fair_share", r.fair_share()}});
  return out;
}

nlohmann::json quotasToJson(const QuotasReply& reply) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : reply.rows())
    out.push_back({{"pool", r.pool()}, {"account", r.account()}, {"configured", r.configured()},
                   {"guaranteed", amountJson(r.guaranteed())}, {"max", amountJson(r.max())},
                   {"in_use", amountJson(r.in_use())}, {"borrowed", amountJson(r.borrowed())},
                   {"lent", amountJson(r.lent())}});
  return out;
}

nlohmann::json serviceToJson(const ServiceInfo& s) {
  const auto& spec = s.spec();
  nlohmann::json replicas = nlohmann::json::array();
  for (const auto& r : s.replicas())
    replicas.push_back({{"job_id", r.job_id()}, {"state", r.state()}, {"node", r.node()}, {"host", r.host()},
                        {"port", r.port()}, {"revision", r.revision()}, {"health", r.health()}, {"detail", r.detail()}});
  nlohmann::json health = nullptr;
  if (!spec.health_cmd().empty() || !spec.health_http().empty())
    health = {{"cmd", spec.health_cmd()}, {"http", spec.health_http()}, {"interval_s", spec.health_interval_s()},
              {"grace_s", spec.health_grace_s()}, {"max_failures", spec.health_max_failures()}};
  return {{"name", spec.name()},
          {"user", s.user()},
          {"account", spec.account()},
          {"pool", spec.pool()},
          {"replicas", spec.replicas()},
          {"running", s.running()},
          {"healthy", s.healthy()},
          {"status", s.status()},
          {"revision", spec.revision()},
          {"revisions", std::vector<uint32_t>(s.revisions().begin(), s.revisions().end())},
          {"command", spec.command()},
          {"environment", std::map<std::string, std::string>(spec.environment().begin(), spec.environment().end())},
          {"cpus", spec.cpus()},
          {"mem_mb", spec.mem_mb()},
          {"gpus", spec.gpus()},
          {"port", spec.port()},
          {"health", health},
          {"min_healthy", spec.min_healthy()},
          {"max_surge", spec.max_surge()},
          {"restarts", s.restarts()},
          {"replica_jobs", replicas}};
}

nlohmann::json frameworkToJson(const FrameworkSummary& f) {
  nlohmann::json leases = nlohmann::json::array();
  for (const auto& l : f.leases())
    leases.push_back({{"id", l.id()},
                      {"request_id", l.request_id()},
                      {"state", l.state()},
                      {"node", l.node()},
                      {"rack", l.rack()},
                      {"cpus", l.cpus()},
                      {"mem_mb", l.mem_mb()},
                      {"gpus", l.gpus_size()},
                      {"locality", l.locality()},
                      {"tasks_running", l.tasks_running()}});
  return {{"name", f.name()},
          {"user", f.user()},
          {"account", f.account()},
          {"mode", f.mode()},
          {"weight", f.weight()},
          {"connected", f.connected()},
          {"disconnected_at", f.connected() ? nlohmann::json(nullptr) : nlohmann::json(formatRfc3339(f.disconnected_at()))},
          {"failover_timeout_s", f.failover_timeout_s()},
          {"leases", leases},
          {"pending_leases", f.pending_leases()},
          {"tasks_launched", f.tasks_launched()},
          {"usage", {{"cpus", f.cpus()}, {"mem_mb", f.mem_mb()}, {"gpus", f.gpus()}, {"billing", f.billing()}}}};
}

nlohmann::json topologyToJson(const ListNodesReply& reply) {
  nlohmann::json switches = nlohmann::json::array();
  for (const auto& s : reply.switches())
    switches.push_back({{"name", s.name()},
                        {"parent", s.parent()},
                        {"nodes", std::vector<std::string>(s.nodes().begin(), s.nodes().end())}});
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : reply.nodes()) {
    nlohmann::json numa = nlohmann::json::array();
    for (int i = 0; i < n.topology().numa_size(); ++i) {
      const auto& d = n.topology().numa(i);
      std::vector<uint32_t> cores;
      for (const auto& c : d.cores()) cores.push_back(c.id());
      numa.push_back({{"index", i}, {"os_index", d.os_index()}, {"mem_mb", d.mem_mb()}, {"cores", cores}});
    }
    nodes.push_back({{"name", n.name()}, {"cpu_model", n.topology().cpu_model()}, {"numa", numa}});
  }
  return {{"switches", switches}, {"nodes", nodes}};
}

nlohmann::json eventToJson(const Event& e) {
  const bool job = e.job_id() != 0;
  return {{"id", e.id()},
          {"time", formatRfc3339(e.time())},
          {"kind", e.kind()},
          {"job_id", job ? nlohmann::json(e.job_id()) : nlohmann::json(nullptr)},
          {"node", orNull(e.node())},
          {"user", orNull(e.user())},
          {"old_state", orNull(e.old_state())},
          {"new_state", e.new_state()},
          {"reason", e.reason()},
          {"exit_code", job && ended(e) && e.exit_code() >= 0 ? nlohmann::json(e.exit_code())
                                                              : nlohmann::json(nullptr)}};
}

}  // namespace locus::proto
