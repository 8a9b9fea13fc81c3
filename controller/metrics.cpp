// The controller's /metrics: the snapshot taken under the lock (Controller::metricsSnapshot) and
// its formatting (formatMetrics), outside the lock.
#include "controller/metrics.hpp"

#include "controller/controller.hpp"
#include "controller/controller_internal.hpp"

namespace locus::controller {
namespace {

// A pass over a small cluster takes tens of microseconds; the target for 100,000 pending jobs on
// 10,000 nodes is under half a second (docs/benchmarks.md). The buckets cover both ends.
const std::vector<double> kPassBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
// A unary call over loopback takes ~200 µs; a submit that commits to SQLite a few ms.
const std::vector<double> kRpcBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};

constexpr double kBytesPerMb = 1024.0 * 1024.0;

constexpr JobState kJobStates[] = {
    JobState::kPending,   JobState::kRunning,  JobState::kSuspended,
    JobState::kCompleted, JobState::kFailed,   JobState::kCancelled,
    JobState::kTimeout,   JobState::kNodeFail, JobState::kOutOfMemory};
constexpr NodeState kNodeStates[] = {NodeState::kUp, NodeState::kDown, NodeState::kUnknown};

}  // namespace

ControllerMetrics::ControllerMetrics()
    : pass_duration(kPassBuckets), rpc_duration("method", kRpcBuckets) {}

MetricsSnapshot Controller::metricsSnapshot() {
  MetricsSnapshot s;
  for (JobState st : kJobStates) s.jobs_by_state[std::string(toString(st))] = 0;
  for (NodeState st : kNodeStates) s.nodes_by_state[toString(st)] = 0;

  std::lock_guard lock(mu_);
  for (const auto& pool : pools_.all()) s.pools.push_back({pool.name});
  // The one walk over every job (the finished history too): a counter per state, nothing else.
  for (const auto& [id, job] : jobs_) s.jobs_by_state[std::string(toString(job.state))] += 1;
  s.queue_depth = pending_.size();
  for (const auto& [id, request] : pending_)
    s.accounts[jobs_.at(id).spec.account].pending_jobs += 1;
  for (uint64_t id : active_) {
    const Job& job = jobs_.at(id);
    auto& a = s.accounts[job.spec.account];
    if (job.state == JobState::kRunning) a.running_jobs += 1;
    const policy::Resources held = internal::heldBy(job);
    a.cores += held.cores;
    a.mem_mb += held.mem_mb;
    a.gpus += held.gpus;
  }
  for (const auto& row : priority_->table().rows)
    if (!row.id.isUser()) s.accounts[row.id.account].usage = row.raw_usage;
  for (const auto& [name, node] : nodes_) {
    s.nodes_by_state[toString(node->state)] += 1;
    if (node->channel) s.nodes_connected += 1;
    for (size_t p = 0; p < s.pools.size(); ++p) {
      if (!pools_.at(static_cast<uint32_t>(p)).hasNode(name)) continue;
      auto& pool = s.pools[p];
      pool.nodes += 1;
      pool.cores += node->cores();
      pool.cores_allocated += node->coresAllocated();
      pool.mem_mb += node->memMb();
      pool.mem_allocated_mb += node->memAllocatedMb();
      pool.gpus += node->gpus();
      pool.gpus_allocated += node->gpusAllocated();
    }
  }
  return s;
}

std::string Controller::metricsText() {
  MetricsSnapshot snapshot = metricsSnapshot();  // the only part under the lock
  return formatMetrics(snapshot, metrics_);
}

std::string formatMetrics(const MetricsSnapshot& s, const ControllerMetrics& live) {
  using metrics::MetricType;
  metrics::ExpositionWriter w;

  w.family("locus_jobs", MetricType::kGauge,
           "Jobs the controller knows, by state (finished ones included).");
  for (const auto& [state, n] : s.jobs_by_state)
    w.sample({{"state", state}}, static_cast<double>(n));
  w.family("locus_queue_depth", MetricType::kGauge, "Pending jobs waiting for the scheduler.");
  w.sample({}, static_cast<double>(s.queue_depth));
  w.family("locus_jobs_submitted_total", MetricType::kCounter,
           "Jobs accepted by submit since the controller started (each array task counts).");
  w.sample({}, static_cast<double>(live.jobs_submitted.value()));
  w.family("locus_jobs_started_total", MetricType::kCounter,
           "Job starts stored by the scheduler since the controller started (a requeued job counts "
           "again).");
  w.sample({}, static_cast<double>(live.jobs_started.value()));
  w.family("locus_scheduler_pass_duration_seconds", MetricType::kHistogram,
           "Time one scheduling pass spends in the scheduler core.");
  w.histogram({}, live.pass_duration.snapshot());

  w.family("locus_nodes", MetricType::kGauge, "Nodes by state.");
  for (const auto& [state, n] : s.nodes_by_state)
    w.sample({{"state", state}}, static_cast<double>(n));
  w.family("locus_nodes_connected", MetricType::kGauge,
           "Nodes whose daemon has a live command stream.");
  w.sample({}, static_cast<double>(s.nodes_connected));

  // Per pool: total and allocated, side by side for each resource.
  struct PoolMetric {
    const char* name;
    const char* help;
    double (*value)(const MetricsSnapshot::Pool&);
  };
  const PoolMetric pool_metrics[] = {
      {"locus_pool_nodes", "Nodes in the pool, in any state.",
       [](const auto& p) { return double(p.nodes); }},
      {"locus_pool_cores", "Cores of the pool's nodes.",
       [](const auto& p) { return double(p.cores); }},
      {"locus_pool_allocated_cores", "Cores of the pool's nodes allocated to jobs.",
       [](const auto& p) { return double(p.cores_allocated); }},
      {"locus_pool_memory_bytes", "Memory of the pool's nodes.",
       [](const auto& p) { return p.mem_mb * kBytesPerMb; }},
      {"locus_pool_allocated_memory_bytes", "Memory of the pool's nodes allocated to jobs.",
       [](const auto& p) { return p.mem_allocated_mb * kBytesPerMb; }},
      {"locus_pool_gpus", "GPUs of the pool's nodes.",
       [](const auto& p) { return double(p.gpus); }},
      {"locus_pool_allocated_gpus", "GPUs of the pool's nodes allocated to jobs.",
       [](const auto& p) { return double(p.gpus_allocated); }},
  };
  for (const auto& m : pool_metrics) {
    w.family(m.name, MetricType::kGauge, m.help);
    for (const auto& p : s.pools) w.sample({{"pool", p.name}}, m.value(p));
  }

  struct AccountMetric {
    const char* name;
    const char* help;
    double (*value)(const MetricsSnapshot::Account&);
  };
  const AccountMetric account_metrics[] = {
      {"locus_account_running_jobs", "Running jobs of the account.",
       [](const auto& a) { return double(a.running_jobs); }},
      {"locus_account_pending_jobs", "Pending jobs of the account.",
       [](const auto& a) { return double(a.pending_jobs); }},
      {"locus_account_allocated_cores", "Cores the account's jobs hold.",
       [](const auto& a) { return double(a.cores); }},
      {"locus_account_allocated_memory_bytes", "Memory the account's jobs hold.",
       [](const auto& a) { return a.mem_mb * kBytesPerMb; }},
      {"locus_account_allocated_gpus", "GPUs the account's jobs hold.",
       [](const auto& a) { return double(a.gpus); }},
      {"locus_account_usage",
       "Decayed billed resource-seconds charged to the account (fair-share raw usage, as of the "
       "last pass).",
       [](const auto& a) { return a.usage; }},
  };
  for (const auto& m : account_metrics) {
    w.family(m.name, MetricType::kGauge, m.help);
    for (const auto& [account, a] : s.accounts) w.sample({{"account", account}}, m.value(a));
  }

  w.family("locus_rpc_duration_seconds", MetricType::kHistogram,
           "Time the controller takes to answer a unary client call, by method.");
  for (const auto& [method, h] : live.rpc_duration.snapshot()) w.histogram({{"method", method}}, h);
  return w.text();
}

}  // namespace locus::controller
