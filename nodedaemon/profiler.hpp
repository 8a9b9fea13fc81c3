#pragma once
// Job profiles on this node (--profile task[,gpu]): every `interval` each profiled job's tasks
// here (its batch script, its job steps' tasks) are sampled from /proc (process_usage.hpp) and,
// for task,gpu, the job's GPUs here through NVML; the samples go to DIR/JOBID/NODE.h5
// (profile/profile_writer.hpp), flushed after each one.
//
// Lifecycle of one job's file: enable() (the LaunchTask or a StepGrant carried profile settings)
// creates it; finish() (the batch script was reaped, or the job's steps were ended) closes it;
// stop() closes every file. A profile that cannot be written is logged and dropped: a job never
// fails because of its profile.
//
// Thread-safety: every public method may be called from any thread. The task lister is called
// from the profiler's thread without the profiler's lock held, so it may take its caller's locks;
// enable() and finish() may be called with those locks held.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace locus::nodedaemon {

// One task the profiler may sample.
struct ProfiledTask {
  uint64_t job_id = 0;
  std::string step;  // "batch" or the step id
  uint32_t task = 0;
  pid_t pid = 0;  // the task's root process (and process group)
};

// What to sample of one job (from proto::ProfileSettings).
struct ProfileJob {
  uint32_t attempt = 0;
  bool gpu = false;  // task,gpu
  std::chrono::seconds interval{10};
  std::string dir;                       // the cluster's profile directory
  std::vector<std::string> gpu_bus_ids;  // the job's GPUs on this node (PCI bus ids)
};

class Profiler {
 public:
  using TaskLister = std::function<std::vector<ProfiledTask>()>;
  // `node`: this node's name (the file name). `nvml_library`: loaded on the first task,gpu job.
  Profiler(std::string node, TaskLister lister, std::string nvml_library = "libnvidia-ml.so.1");
  ~Profiler();  // stop()

  void start();
  // Closes every open profile and joins the thread. Idempotent.
  void stop();

  // Profiles `job_id` here from now on. Repeated for the same attempt (a second step, the batch
  // script and a step): no-op. A new attempt (requeue) starts the file afresh.
  void enable(uint64_t job_id, const ProfileJob& job);
  // The job is over here: its file is closed. Idempotent; unknown jobs are ignored.
  void finish(uint64_t job_id);

  // The path of a job's profile on this node: DIR/JOBID/NODE.h5.
  static std::string path(const std::string& dir, uint64_t job_id, const std::string& node);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus::nodedaemon
