#pragma once
// Starts one task as a real process: its own session (so the whole process group can be
// signalled), in its control groups, bound to the allocated CPUs and NUMA memory nodes, as the
// submitting user when the daemon is root, in its working directory, with stdout/stderr in the
// requested files.
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace locus::nodedaemon {

struct LaunchSpec {
  std::string program;                 // absolute path of the script to exec
  std::vector<std::string> args;       // argv[1..]
  std::map<std::string, std::string> environment;
  std::string work_dir;
  std::string stdout_path;
  std::string stderr_path;             // equal to stdout_path: one file opened once
  // Instead of the files (job steps stream their output): descriptors the child takes as its
  // stdin/stdout/stderr; -1 = use the paths above (stdin: /dev/null). Open them O_CLOEXEC.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::vector<uint32_t> cpus;          // host PU ids to bind to; empty = no binding
  std::vector<uint32_t> mem_nodes;     // host NUMA nodes to bind memory to (MPOL_BIND); empty =
                                       // the default policy (allocate near the running CPU)
  std::vector<std::string> cgroup_procs;  // cgroup.procs files the child joins (writes "0" to)
                                          // first, so all it starts is limited from the start
  std::string pid_file;                // if set, the child writes its pid (= its process group)
                                       // here before exec, so a successor daemon can clean up
  // The child is SIGKILLed when its parent dies (PR_SET_PDEATHSIG): a task dies with its
  // supervisor. False for the supervisor itself, which outlives a daemon restart.
  bool die_with_parent = true;
  bool switch_user = false;            // setgid/setuid to uid/gid (daemon is root)
  // Without switch_user: chdir to work_dir and open the output files with uid/gid's filesystem
  // credentials (and groups), then go on as root and exec: for a runtime (runc) that drops to
  // the user itself, so the task still cannot write where the user may not.
  bool fs_as_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Forks and execs. Returns the child's pid once exec succeeded. A failure in the child before
// exec (no such directory, output file not writable, exec error) comes back as an error naming
// the step; that child exits 127 and, like every child, is reaped by the caller's reaper.
// The child's process group id equals its pid.
Result<pid_t> launchProcess(const LaunchSpec& spec);

}  // namespace locus::nodedaemon
