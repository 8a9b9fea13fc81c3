#pragma once
// A batch task runs under its own supervisor process (locus-supervise), not as the node
// daemon's direct child, so that a daemon restart (a crash, an upgrade) does not take the task
// with it: the supervisor waits for the task, writes how it ended into the spool, and the next
// daemon on the same spool adopts the tasks still running and reports the ones that ended
// while it was away. This file is the contract between the two processes: the files in the
// spool and their formats.
//
// Every task has a base path, SPOOL/jobs/JOB.ATTEMPT, and around it:
//   BASE.sh          the batch script (written by the daemon)
//   BASE.launch      the controller's LaunchTask, serialized (daemon only: what adoption
//                    needs to know again: time limit, health check, resources)
//   BASE.spec        the launch spec for the supervisor (encodeSpec below), written by the
//                    daemon before it starts the supervisor
//   BASE.supervisor  the supervisor's pid, written by the supervisor before the task starts
//   BASE.pid         the task's pid (= its process group), written by the task before exec
//   BASE.exit        how the task ended (encodeExit), written once (atomically) by the
//                    supervisor; its presence means "ended"
//
// Fencing: the daemon rewrites SPOOL/alive every heartbeat with how long a supervisor may
// go without hearing from it. A supervisor whose daemon is silent longer than that (killed and
// not restarted, or hung) kills its task, before the controller (which waits node_timeout_s)
// runs the job anywhere else: a job never runs twice at once.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "nodedaemon/launcher.hpp"

namespace locus::nodedaemon {

struct TaskFiles {
  std::string base;  // SPOOL/jobs/JOB.ATTEMPT
  std::string script() const { return base + ".sh"; }
  std::string launch() const { return base + ".launch"; }
  std::string spec() const { return base + ".spec"; }
  std::string supervisor() const { return base + ".supervisor"; }
  std::string pid() const { return base + ".pid"; }
  std::string exit() const { return base + ".exit"; }
};
TaskFiles taskFiles(const std::string& jobs_dir, uint64_t job, uint32_t attempt);

// What the supervisor needs: the task to launch and where its daemon's liveness shows.
struct SupervisedSpec {
  LaunchSpec task;
  std::string alive_file;  // SPOOL/alive
  int64_t started = 0;     // unix seconds: when the daemon launched it (a successor's deadline)
};
std::string encodeSpec(const SupervisedSpec& spec);
Result<SupervisedSpec> decodeSpec(const std::string& text);

// How the task ended, as the supervisor saw it.
struct SupervisedExit {
  int wait_status = 0;      // wait(2)'s status of the task's main process
  double cpu_time_s = 0;    // user + system, of the task and its reaped descendants
  uint64_t max_rss_kb = 0;
  bool fenced = false;      // killed by its supervisor: the daemon was silent too long
};
std::string encodeExit(const SupervisedExit& exit);
Result<SupervisedExit> decodeExit(const std::string& text);

// The alive file: its content is the fence timeout in milliseconds, its mtime the daemon's last
// sign of life. Written atomically (temp + rename).
Status writeAliveFile(const std::string& path, std::chrono::milliseconds fence_after);
// How long ago the daemon last wrote the alive file and the timeout it asked for; nullopt when
// there is no (readable) alive file.
struct AliveState {
  std::chrono::milliseconds since_written{0};
  std::chrono::milliseconds fence_after{0};
};
std::optional<AliveState> readAliveFile(const std::string& path);

// Writes `content` to `path` through a temporary file and rename(2): readers see all or nothing.
Status writeFileAtomically(const std::string& path, const std::string& content, unsigned mode = 0600);

}  // namespace locus::nodedaemon
