#pragma once
// The client side of a job step: asks the controller for the step, then talks to each of its
// nodes' daemons directly (one RunTasks stream per node: the command, task 0's stdin and signals
// one way, the tasks' output and ends the other). Used by `locus run`, `locus-rsh` and the MPI
// launcher's relay. gRPC stays in step_client.cpp.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "proto/locus.pb.h"

namespace locus::cli {

// What one step needs besides its request.
struct StepRun {
  proto::CreateStepRequest request;
  std::vector<std::string> command;
  std::map<std::string, std::string> environment;  // passed to the tasks (ours, by default)
  bool label = false;
  bool kill_on_bad_exit = false;
  bool own_allocation = false;  // cancel the job if the step cannot be created
  std::string container;        // --container: an OCI bundle or image layout (absolute); "" = bare
};

// Where a step's stdio goes and who handles signals.
struct StepIo {
  int in_fd = STDIN_FILENO;    // task 0's stdin; -1: none (the task reads end of file)
  int out_fd = STDOUT_FILENO;  // the tasks' stdout and stderr
  int err_fd = STDERR_FILENO;
  // Signals blocked by the caller that a thread of the step takes and forwards to every task
  // (Ctrl-C twice kills the step). Null: the caller handles its signals itself.
  const sigset_t* forwarded = nullptr;
  // When this descriptor hangs up or turns readable (the peer that asked for the step is gone,
  // or the caller shut it down), the step is killed. -1: none.
  int hangup_fd = -1;
};

// Creates the step and runs it to its end. Returns the exit status `locus run` exits with: the
// highest task exit code (128+S for a task killed by signal S), 1 when a node failed.
int executeStep(Client& client, StepRun& run, const StepIo& io);

// Starts connecting to these node daemons' step services now (in the background), for steps
// this process will run there soon.
void connectToNodeDaemons(const std::vector<std::string>& addresses);

// Blocks the signals `locus run` forwards to its tasks (and SIGCHLD, used as a wake-up) in this
// thread and every thread it starts later; returns the forwarded set.
sigset_t blockForwardedSignals();

// LOCUS_JOB_ID, else SLURM_JOB_ID, else 0 (not inside a job).
uint64_t jobFromEnvironment();

// environ as a map.
std::map<std::string, std::string> ownEnvironment();

// The step that starts Open MPI's daemon for `locus-rsh HOST COMMAND...` (args = HOST, COMMAND...):
// one task on HOST holding all of the job's cores there, running the command line through
// /bin/sh as ssh would, with `environment` (the agent's) less mpirun's own Open MPI settings, and,
// on emulated nodes (LOCUS_MPI_SESSION_DIR set), a session directory per node.
StepRun openMpiDaemonStep(uint64_t job_id, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& environment);

}  // namespace locus::cli
