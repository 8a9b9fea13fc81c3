#pragma once
// The controller's Prometheus metrics, served at /metrics on its --http port. Every metric is
// listed, with its type and labels, in docs/admin-guide.md ("Metrics").
//
// Two halves: instruments fed as things happen (ControllerMetrics: counters and histograms, each
// with its own small lock, never the controller's), and gauges read from the controller's state
// at scrape time (MetricsSnapshot: plain numbers copied under the controller's lock, so the lock
// is held only for the copy; formatting happens outside it).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/metrics.hpp"

namespace locus::controller {

struct ControllerMetrics {
  ControllerMetrics();
  metrics::Counter jobs_submitted;     // jobs accepted by SubmitJob; each array task counts
  metrics::Counter jobs_started;       // starts stored by a scheduling pass (a requeued job again)
  metrics::Histogram pass_duration;    // seconds in schedulePass (the pure core), per pass
  metrics::HistogramVec rpc_duration;  // seconds per unary ClientApi call, by method
};

struct MetricsSnapshot {
  std::map<std::string, uint64_t> jobs_by_state;   // every state, 0 included
  uint64_t queue_depth = 0;                        // PENDING jobs the scheduler considers
  std::map<std::string, uint64_t> nodes_by_state;  // UP, DOWN, UNKNOWN, 0 included
  uint64_t nodes_connected = 0;                    // with a live command stream
  struct Pool {
    std::string name;
    uint64_t nodes = 0;
    uint64_t cores = 0, cores_allocated = 0;
    uint64_t mem_mb = 0, mem_allocated_mb = 0;
    uint64_t gpus = 0, gpus_allocated = 0;
  };
  std::vector<Pool> pools;
  struct Account {
    uint64_t running_jobs = 0, pending_jobs = 0;
    uint64_t cores = 0, mem_mb = 0, gpus = 0;  // held by its running, suspended, completing jobs
    double usage = 0;  // decayed billed resource-seconds, fair-share's raw usage (rolled up)
  };
  std::map<std::string, Account> accounts;
};

// The exposition text of `snapshot` and `live`'s instruments.
std::string formatMetrics(const MetricsSnapshot& snapshot, const ControllerMetrics& live);

}  // namespace locus::controller
