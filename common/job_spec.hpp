#pragma once
// The job request as a user states it (CLI options and #LOCUS/#SBATCH directives), and the
// job's state machine. Plain structs: the wire format (proto/) and the store (controller/store)
// convert to and from these.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace locus {

// PENDING -> RUNNING -> COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY.
// A requeued job goes back to PENDING with attempt + 1.
// kSuspended: preempted in suspend mode: its processes stopped (SIGSTOP), its cores and GPUs lent
// to others, its memory kept; RUNNING again (SIGCONT) when they are free.
enum class JobState { kPending, kRunning, kCompleted, kFailed, kCancelled, kTimeout, kNodeFail, kOutOfMemory, kSuspended };

std::string_view toString(JobState s);
std::optional<JobState> jobStateFromString(std::string_view s);  // "RUNNING", case-insensitive
bool isTerminal(JobState s);
std::string_view shortCode(JobState s);  // Slurm's compact code: "PD", "R", "CD", ...

struct JobSpec {
  std::string name;                 // -J; defaults to the script's base name or "wrap"
  std::string script;               // full script text (a --wrap command becomes "#!/bin/sh\nCMD\n")
  std::string script_path;          // as given by the user, for display; empty for --wrap
  std::vector<std::string> args;    // arguments after the script
  uint32_t nodes = 0;               // -N; 0 = not given (the scheduler uses as few as fit)
  uint32_t ntasks = 0;              // -n; 0 = not given (one per node, or ntasks_per_node each)
  uint32_t ntasks_per_node = 0;     // 0 = not given
  uint32_t cpus_per_task = 1;       // -c
  uint64_t mem_mb = 0;              // --mem, per node; 0 = not given (scheduler default applies)
  uint64_t mem_per_cpu_mb = 0;      // --mem-per-cpu; stored, mem_mb wins when both present
  int64_t time_limit_s = 0;         // -t; 0 = no limit given (controller default applies)
  std::string stdout_path;          // -o, pattern (%j %A %a %N %u %x %%); empty = default
  std::string stderr_path;          // -e, pattern; empty = same file as stdout
  std::string work_dir;             // -D; absolute; defaults to the submit directory
  std::string array_spec;           // --array as given ("1-100%10"); empty = not an array
  bool requeue = false;             // --requeue: NODE_FAIL puts the job back to PENDING
  bool no_requeue = false;          // --no-requeue: never requeued (preemption cancels it instead)
  bool hold = false;                // -H/--hold: submitted held (released with `locus release`)
  std::string export_spec = "ALL";  // --export: ALL | NONE | VAR[,VAR=val...] (ALL,... allowed)
  std::map<std::string, std::string> environment;  // submitter's environment, filtered by export
  // Accepted and stored for later issues to act on.
  std::string partition, account, qos, gres, gpus, constraint, dependency;
  bool exclusive = false;
  std::string switches;             // --switches=N[@WAIT] as given; empty = no limit
  std::string mem_bind;             // --mem-bind: "" (= local) | "local" | "none"
  std::string gpu_bind;             // --gpu-bind: "" (= closest) | "closest" | "none"
  // No batch script: the allocation is for the job steps of the `locus run` that made it, and
  // the job ends with its step (or when cancelled, or at its time limit).
  bool allocation_only = false;
  // --profile (common/profile_request.hpp): "" (off), "task" or "task,gpu"; and its sampling
  // interval in seconds (0: locus.toml's [profile] interval_s).
  std::string profile;
  uint32_t profile_interval_s = 0;
  // Data locality (docs/locality.md): --input URIs as given (hdfs:///PATH,
  // webhdfs://HOST:PORT/PATH, dataset:NAME); the scheduler places the job near them.
  std::vector<std::string> inputs;
  // --dataflow: one task per input split, each running the script with LOCUS_INPUT_* set;
  // --split: "block" (default; one split per block) or "file".
  bool dataflow = false;
  std::string split;
  // --container BUNDLE (Slurm's option): an OCI bundle directory (config.json + rootfs) or an
  // OCI image layout (unpacked with umoci) the node daemon runs the tasks in through runc.
  // Absolute once submitted (a relative path is taken from the work directory); "" = bare.
  std::string container;
  // Options this Locus does not know yet: kept so nothing is silently dropped.
  std::vector<std::string> warnings;
};

// sbatch's default MaxBatchScriptSize: anything larger is almost certainly not a batch script.
// The CLI refuses such a file; the controller refuses such a request from any client.
inline constexpr size_t kMaxScriptBytes = 4 * 1024 * 1024;

// An --array spec expanded: indices in ascending order, and the simultaneous-run limit (0 = none).
struct ArraySpec {
  std::vector<uint32_t> indices;
  uint32_t max_running = 0;
};

}  // namespace locus
