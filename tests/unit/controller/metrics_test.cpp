#include "controller/metrics.hpp"

#include <gtest/gtest.h>

namespace locus::controller {
namespace {

bool hasLine(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(ControllerMetrics, FormatsTheSnapshotAndTheInstruments) {
  MetricsSnapshot s;
  s.jobs_by_state = {{"PENDING", 1}, {"RUNNING", 2}};
  s.queue_depth = 1;
  s.nodes_by_state = {{"DOWN", 0}, {"UP", 2}};
  s.nodes_connected = 2;
  MetricsSnapshot::Pool gpu{"gpu"};
  gpu.nodes = 2;
  gpu.cores = 64;
  gpu.cores_allocated = 40;
  gpu.mem_mb = 2048;  // 2 GiB
  gpu.mem_allocated_mb = 512;
  gpu.gpus = 8;
  gpu.gpus_allocated = 3;
  s.pools.push_back(gpu);
  MetricsSnapshot::Account physics;
  physics.running_jobs = 2;
  physics.pending_jobs = 1;
  physics.cores = 40;
  physics.mem_mb = 512;
  physics.gpus = 3;
  physics.usage = 1234.5;
  s.accounts["physics"] = physics;

  ControllerMetrics live;
  live.jobs_submitted.add(3);
  live.jobs_started.add(2);
  live.pass_duration.observe(0.0002);  // in le="0.00025" and above
  live.rpc_duration.observe("SubmitJob", 0.003);
  live.rpc_duration.observe("SubmitJob", 0.004);

  const std::string text = "\n" + formatMetrics(s, live);
  for (const char* line : {
           "locus_jobs{state=\"PENDING\"} 1",
           "locus_jobs{state=\"RUNNING\"} 2",
           "locus_queue_depth 1",
           "# TYPE locus_jobs_submitted_total counter",
           "locus_jobs_submitted_total 3",
           "locus_jobs_started_total 2",
           "locus_scheduler_pass_duration_seconds_bucket{le=\"0.0001\"} 0",
           "locus_scheduler_pass_duration_seconds_bucket{le=\"0.00025\"} 1",
           "locus_scheduler_pass_duration_seconds_bucket{le=\"+Inf\"} 1",
           "locus_scheduler_pass_duration_seconds_count 1",
           "locus_nodes{state=\"UP\"} 2",
           "locus_nodes_connected 2",
           "locus_pool_nodes{pool=\"gpu\"} 2",
           "locus_pool_cores{pool=\"gpu\"} 64",
           "locus_pool_allocated_cores{pool=\"gpu\"} 40",
           "locus_pool_memory_bytes{pool=\"gpu\"} 2147483648",
           "locus_pool_allocated_memory_bytes{pool=\"gpu\"} 536870912",
           "locus_pool_gpus{pool=\"gpu\"} 8",
           "locus_pool_allocated_gpus{pool=\"gpu\"} 3",
           "locus_account_running_jobs{account=\"physics\"} 2",
           "locus_account_pending_jobs{account=\"physics\"} 1",
           "locus_account_allocated_cores{account=\"physics\"} 40",
           "locus_account_allocated_memory_bytes{account=\"physics\"} 536870912",
           "locus_account_allocated_gpus{account=\"physics\"} 3",
           "locus_account_usage{account=\"physics\"} 1234.5",
           "# TYPE locus_rpc_duration_seconds histogram",
           "locus_rpc_duration_seconds_bucket{method=\"SubmitJob\",le=\"0.0025\"} 0",
           "locus_rpc_duration_seconds_bucket{method=\"SubmitJob\",le=\"0.005\"} 2",
           "locus_rpc_duration_seconds_count{method=\"SubmitJob\"} 2",
       }) {
    EXPECT_TRUE(hasLine(text, line)) << "missing: " << line << "\nin:" << text;
  }
}

}  // namespace
}  // namespace locus::controller
