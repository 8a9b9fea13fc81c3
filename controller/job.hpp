#pragma once
// A job as the controller keeps it: the user's request plus everything that happened to it.
// This is exactly what the store persists, so a restarted controller has the same picture.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/job_spec.hpp"

namespace locus::controller {

struct AllocatedNode {
  std::string node;
  std::vector<uint32_t> cores;  // logical core ids on that node
  uint64_t mem_mb = 0;
  uint32_t ntasks = 0;
  std::vector<uint32_t> gpus;   // GPU indices on that node
  std::vector<uint32_t> numa;   // NUMA domains (positions in the node's topology) of the cores
};

// A job step (locus run): tasks started inside the job's allocation through the node daemons.
struct JobStep {
  uint32_t id = 0;
  std::string name;
  JobState state = JobState::kRunning;  // kRunning, then kCompleted, kFailed or kCancelled
  int32_t exit_code = -1;               // the highest task exit code; 128+signal if killed
  uint32_t ntasks = 0;
  std::vector<std::string> nodes;
  int64_t start_time = 0;
  int64_t end_time = 0;
  uint32_t nodes_ended = 0;             // nodes that reported all their tasks ended
  bool killed = false;                  // some node killed its tasks (client gone, job ended)
  bool ends_job = false;                // the job was allocated for this step alone
  // Marked CANCELLED because its job ended before every node had reported it; a node's report
  // that comes after (it was on its way) still records how the tasks really ended.
  bool ended_with_job = false;
};

// Part of a job's input, resolved at submit (locality/): a block of a file, or a dataflow task's
// split. Kept with the job so placement never asks the store (HDFS) again.
struct InputBlock {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::vector<std::string> hosts;  // replica hosts as the store names them
  std::vector<std::string> nodes;  // the Locus nodes of the replicas that map to one
};

struct Job {
  using Environment = std::map<std::string, std::string>;

  uint64_t id = 0;
  JobSpec spec;
  std::string submit_token;  // SubmitJobRequest.submit_token (an array's first task only)
  // In the controller's memory the submitter's environment is here, shared by every job that
  // has the same one (a user's thousands of submits from one shell: ~7 kB each otherwise;
  // EnvironmentPool), and spec.environment is empty. Read it with environment().
  std::shared_ptr<const Environment> shared_environment;
  std::string user;
  uint32_t uid = 0;
  uint32_t gid = 0;
  JobState state = JobState::kPending;
  std::string reason;                 // why pending, or why it ended badly
  int32_t exit_code = -1;             // -1 until it ends; 128+signal when killed by a signal
  int32_t term_signal = 0;
  uint32_t attempt = 0;               // raised by every requeue
  int64_t priority = 0;
  int64_t submit_time = 0;
  int64_t start_time = 0;
  int64_t end_time = 0;
  uint64_t array_job_id = 0;          // 0 = not an array task
  std::optional<uint32_t> array_task_id;
  uint32_t array_max_running = 0;
  std::vector<AllocatedNode> allocation;  // first node runs the batch script
  std::string stdout_path;            // expanded at start
  std::string stderr_path;
  // Terminal in the store, but its processes may still run: resources stay held until the node
  // confirms they are gone (a cancelled job during its SIGTERM grace, say).
  bool completing = false;
  int64_t expected_start = 0;         // the backfill plan's start for a PENDING job; not stored
  int64_t predicted_runtime_s = 0;    // easy-predict: the run time planned at its start; not stored
  std::string reason_detail;          // the pending reason in words (a quota's numbers); not stored
  double cpu_time_s = 0;              // user + system time of the batch script, from the node
  uint64_t max_rss_kb = 0;
  // Billed resource-seconds charged to fair-share usage for this job so far (every attempt),
  // added as each attempt gives its resources back; locus acct's Billing.
  double billed = 0;
  bool cancel_requested = false;
  bool held = false;                  // scontrol hold: not scheduled until released
  bool requeue_requested = false;     // scontrol requeue of a running job: PENDING again at exit
  // Preemption. preempted_for: this running job is being preempted (requeued or cancelled) to
  // make room for that pending job; cleared at its exit. preempted_by: the last job it was
  // preempted for. preemption: what happened, in words, for `locus show` and `locus why`.
  uint64_t preempted_for = 0;
  uint64_t preempted_by = 0;
  bool cores_released = false;  // suspended: its cores and GPUs went back to the nodes, memory not
  std::string preemption;
  // A service replica (services.hpp): its service, the revision it runs, its LOCUS_PORT (given
  // at start), and whether the service stopped it (scale down, rollout) rather than it failing.
  std::string service;
  uint32_t service_revision = 0;
  uint32_t port = 0;
  bool service_stop = false;
  // Its health as its node last reported (not stored: nodes report again after a restart).
  enum class Health { kUnknown, kHealthy, kUnhealthy } health = Health::kUnknown;
  std::string health_detail;
  std::vector<JobStep> steps;         // in id order; ids restart at 0 with each attempt
  // Data locality: a dataflow task's split (one block), or the blocks of a job's --input.
  std::vector<InputBlock> input;
  // Where its last start put it relative to the input: "node_local", "rack_local", "remote"
  // ("" without input), and its input bytes by the same measure (a block counts where its
  // nearest replica is, from the job's nodes).
  std::string locality;
  uint64_t bytes_node_local = 0;
  uint64_t bytes_rack_local = 0;
  uint64_t bytes_remote = 0;

  // A framework's lease (frameworks.hpp): an allocation-only job on one node whose steps are the
  // framework's tasks. Its framework, the request it answers, where it would rather run (node
  // names, rack = [[switch]] names; strict: nowhere else), and when a revocation ends it (0:
  // not revoked).
  std::string framework;
  std::string lease_request;
  std::vector<std::string> lease_nodes;
  std::vector<std::string> lease_racks;
  bool lease_strict = false;
  int64_t revoke_at = 0;

  // The exported environment: the shared one, or spec's (a job not interned: just loaded, a test).
  const Environment& environment() const {
    return shared_environment ? *shared_environment : spec.environment;
  }
  bool isArrayTask() const { return array_job_id != 0; }
  bool isLease() const { return !framework.empty(); }
  uint32_t effectiveNtasks() const;
};

}  // namespace locus::controller
