#pragma once
// Per-task limits with Linux control groups: each task (job, attempt) gets its own group with a
// memory limit (the job's --mem on this node), its CPUs and NUMA memory nodes (cpuset) and a CPU
// weight in proportion to its cores. The kernel's OOM killer then acts inside the task's group
// only, and its kill count tells the daemon that the job ran out of memory.
//
// cgroup v2 is used where the daemon's own cgroup delegates the memory controller (systemd
// Delegate=yes); otherwise cgroup v1's memory, cpuset and cpu hierarchies where they are
// mounted and writable; otherwise nothing (the daemon says so once and relies on CPU and memory
// binding alone). Groups are created below the daemon's own group in each hierarchy, in a
// subtree of its own ("locus-<node>"), so several daemons on one host never meet and a container
// or sandbox limit above the daemon still applies to its tasks.
//
// Thread-safety: one instance per daemon; create() and finish() for different tasks may run
// concurrently (each touches only its task's directories).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace locus::nodedaemon {

struct TaskLimits {
  uint64_t mem_mb = 0;          // 0: no memory limit
  std::vector<uint32_t> cpus;   // host CPU ids; empty: all of the daemon's
  std::vector<uint32_t> mems;   // host NUMA node ids; empty: all of the daemon's
  uint32_t cores = 0;           // allocated cores: the CPU weight (0: the default weight)
};

class TaskCgroups {
 public:
  enum class Version { kV1, kV2 };

  // The cgroup support this daemon can use, or nullptr with the reason in `why_not`. `node`
  // names the daemon's subtree ("locus-<node>"): unique per daemon on a machine.
  // `cgroup_root` is where the hierarchies are mounted (normally /sys/fs/cgroup).
  static std::unique_ptr<TaskCgroups> detect(const std::string& node, std::string* why_not,
                                             const std::string& cgroup_root = "/sys/fs/cgroup");

  Version version() const { return version_; }
  // "cgroup v1: memory, cpuset, cpu" for logs and `locus nodes`.
  std::string describe() const;

  // Creates the task's groups and writes its limits. Returns the cgroup.procs files the task's
  // process must write "0" to (itself) before it drops root and execs. Errors (kUnavailable)
  // name the file and errno; nothing is left behind then.
  Result<std::vector<std::string>> create(uint64_t job, uint32_t attempt, const TaskLimits& limits);

  struct Outcome {
    bool oom_killed = false;   // the kernel's OOM killer killed a process of the task
    uint64_t peak_mem_kb = 0;  // the group's peak memory use; 0 when unknown
  };
  // Once the task's main process has exited: reads the outcome, SIGKILLs whatever is left in the
  // group (daemons the script started in another session), waits briefly for it to go, and
  // removes the groups. Idempotent; a group that cannot be removed is logged and left to
  // removeAll().
  Outcome finish(uint64_t job, uint32_t attempt);

  // The same for a group named by the caller (a job step's tasks: "job_7.0.step_2").
  Result<std::vector<std::string>> create(const std::string& group, const TaskLimits& limits);
  Outcome finish(const std::string& group);

  // A task group a predecessor daemon created, whose task this daemon adopted (its supervisor
  // outlived the predecessor): watched for OOM kills again, finish()ed like any other.
  void adopt(uint64_t job, uint32_t attempt);

  // Kills everything in the daemon's task groups and removes them: at start (a predecessor's
  // leftovers, but not the groups of the tasks in `keep`, adopted) and at stop, where
  // `and_subtree` removes the daemon's own "locus-<node>" too.
  void removeAll(bool and_subtree = false, const std::set<std::pair<uint64_t, uint32_t>>& keep = {});

 private:
  struct Hierarchy {
    std::string controller;  // "memory", "cpuset", "cpu"; "" for the v2 unified tree
    std::string subtree;     // absolute: .../locus-<node>
  };
  TaskCgroups(Version version, std::vector<Hierarchy> hierarchies);
  static std::string taskGroup(uint64_t job, uint32_t attempt);

  // cgroup v1: an eventfd per task group told of every OOM in it (cgroup.event_control on
  // memory.oom_control). v1 counts an OOM kill (memory.oom_control's oom_kill) only in the
  // victim's own group, and a container's group, nested in the task's and removed by runc when
  // the container ends, takes that count with it; the task's group is where the limit is hit
  // (it holds runc too), and its notification stays.
  void watchOom(const std::string& group, const std::string& dir);
  bool oomNotified(const std::string& group);  // and stops watching

  Version version_;
  std::vector<Hierarchy> hierarchies_;
  std::mutex oom_mu_;
  std::map<std::string, std::pair<int, int>> oom_watches_;  // guarded by oom_mu_: group -> (eventfd, oom_control fd)
};

}  // namespace locus::nodedaemon
