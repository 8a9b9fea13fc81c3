#pragma once
// Job steps on this node (`locus run`, `srun`): the node daemon's StepApi server.
//
// The controller grants a step (StepGrant: which tasks, on which of the job's cores, as whom,
// with a one-time token); the client then opens RunTasks here, presents the token and the
// command, and gets the tasks' output and exits back on the same stream. A detached step (the
// grant carries its command: a framework's task) starts at once, writes its output to files and
// is reported to the controller like any other. The tasks are bound
// and confined like a batch script (CPU and memory binding, GPUs, a cgroup of the step's own
// with the job's memory on this node). No orphans: when the stream breaks (the client died),
// when the job ends (endJob) or when the daemon stops, the step's tasks are SIGKILLed.
//
// Thread-safety: every public method may be called from any thread.
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/topology.hpp"

namespace locus::proto {
class StepGrant;
class StepEnded;
}  // namespace locus::proto

namespace locus::nodedaemon {

class TaskCgroups;
class OciRuntime;

// What the step service needs from the node agent.
struct StepHost {
  std::string node_name;
  const NodeTopology* topology = nullptr;
  uint32_t host_pus = 1;
  std::vector<uint32_t> host_numa_nodes;
  TaskCgroups* cgroups = nullptr;  // null: no cgroups on this machine
  const OciRuntime* containers = nullptr;  // StepStart.container: tasks run through runc
  // Every task gets these unless its own environment sets them (emulated nodes' Open MPI
  // settings, emulatedNodeEnvironment()).
  std::map<std::string, std::string> default_environment;
  // Emulated nodes: Open MPI's daemon (a task whose program is `orted`, as mpirun starts it
  // through srun) gets OMPI_MCA_orte_tmpdir_base here, so that the daemons of different emulated
  // nodes do not share a session directory (they crash writing one topology file there). Only
  // orted: an mpirun passes its own OMPI_MCA_* settings on to all of its daemons, so giving it
  // this would put them all in one directory again.
  std::string orted_session_base;
  std::function<void(const proto::StepEnded&)> report;  // to the controller, once per step
  std::function<void()> spawned;  // new children exist: the agent's reaper must wait for them
};

class StepService {
 public:
  explicit StepService(StepHost host);
  ~StepService();  // stop()

  // Serves StepApi on `host` (an address of this machine) at a port the kernel picks.
  // Returns "HOST:PORT". Errors: kUnavailable when gRPC cannot bind.
  Result<std::string> start(const std::string& host);
  // SIGKILLs every step task, waits for the streams to finish, stops serving. Idempotent.
  void stop();

  // A step the controller allowed here. A client that connects before its grant arrives waits
  // for it (briefly). A detached grant's tasks start now.
  void grant(const proto::StepGrant& grant);
  // SIGKILLs one step's tasks (the controller's EndSteps naming it); the job goes on.
  void endStep(uint64_t job_id, uint32_t step_id);
  // The job ended: its steps' tasks are SIGKILLed and its unclaimed grants dropped.
  void endJob(uint64_t job_id);
  // Sends `signal` to every running step task of the job here.
  void signalJob(uint64_t job_id, int signal);
  // For the agent's reaper, which waits for every child: true when `pid` was a step task (its
  // status is taken here), false when it is not ours.
  bool reaped(pid_t pid, int status);

  // Every step task running here now, for job profiles (--profile).
  struct LiveTask {
    uint64_t job_id = 0;
    uint32_t step_id = 0;
    uint32_t procid = 0;  // the task's rank in its step
    pid_t pid = 0;        // also its process group
  };
  std::vector<LiveTask> liveTasks() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The address of this machine that reaches `controller` (HOST:PORT): the source address the
// kernel picks for it (loopback for a loopback controller). Falls back to 127.0.0.1.
std::string localAddressToward(const std::string& controller);

}  // namespace locus::nodedaemon
