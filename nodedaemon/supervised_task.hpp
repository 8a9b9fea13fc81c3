#pragma once
// A batch task runs under its own supervisor process (locus-supervise), not as the node
// daemon's direct child, so that a daemon restart (a crash, an upgrade) does not take the task
// with it: the supervisor waits for the task, writes how it ended into the spool, and the next
// daemon on the same spool adopts the tasks still running and reports the ones that ended
// while it was away. This file is the contract between the two processes: the files in the
// spool and their formats.
//
// Every task has a base path, SPOOL/jobs/JOB.ATTEMPT, and two files (no more than a bare task
// had: on ext4 creating an inode next to many recently deleted ones cost more than anything
// else in a launch, measured with perf):
//   BASE.sh    the batch script (written by the daemon)
//   BASE.spec  what the supervisor launches (encodeSpec below), with the controller's
//              LaunchTask (what a successor daemon needs to adopt the task: time limit, health
//              check, resources); written by the daemon before it starts the supervisor. The
//              supervisor then appends its "state" fields to it, each in one write: "started
//              supervisor=PID task=PID" once the task runs, "ended ..." when it has ended.
// A successor daemon finds a task's supervisor by its command line (locus-supervise BASE).
// A successor daemon finds a task's supervisor by its command line (locus-supervise BASE).
//
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "common/result.hpp"
#include "nodedaemon/launcher.hpp"

namespace locus::nodedaemon {

struct TaskFiles {
  std::string base;  // SPOOL/jobs/JOB.ATTEMPT
  std::string script() const { return base + ".sh"; }
  std::string spec() const { return base + ".spec"; }
};
TaskFiles taskFiles(const std::string& jobs_dir, uint64_t job, uint32_t attempt);

// What the supervisor needs: the task to launch and where its daemon's liveness shows.
struct SupervisedSpec {
  LaunchSpec task;
  std::string alive_file;  // SPOOL/alive
  int64_t started = 0;     // unix seconds: when the daemon launched it (a successor's deadline)
  std::string launch;      // the controller's LaunchTask, serialized (opaque here)
  std::vector<std::string> state;  // the supervisor's appended lines (decodeState)
};
std::string encodeSpec(const SupervisedSpec& spec);  // without `state`
// A field cut short at the end (a write in progress, a daemon killed while writing) is left out.
Result<SupervisedSpec> decodeSpec(const std::string& text);

// How the task ended, as the supervisor saw it.
struct SupervisedExit {
  int wait_status = 0;      // wait(2)'s status of the task's main process
  double cpu_time_s = 0;    // user + system, of the task and its reaped descendants
  uint64_t max_rss_kb = 0;
  bool fenced = false;      // killed by its supervisor: the daemon was silent too long
};
// The supervisor's state fields, to append to BASE.spec, and what they say.
std::string encodeStarted(pid_t supervisor, pid_t task);
std::string encodeEnded(const SupervisedExit& exit);
struct SupervisorState {
  pid_t supervisor = 0;  // 0: not started (yet)
  pid_t task = 0;
  std::optional<SupervisedExit> ended;
};
SupervisorState decodeState(const std::vector<std::string>& state);

// The alive file: its content is the fence timeout in milliseconds (fixed width), its mtime the
// daemon's last sign of life. Rewritten in place: no new inode at each beat.
Status writeAliveFile(const std::string& path, std::chrono::milliseconds fence_after);
// How long ago the daemon last wrote the alive file and the timeout it asked for; nullopt when
// there is no (readable) alive file.
struct AliveState {
  std::chrono::milliseconds since_written{0};
  std::chrono::milliseconds fence_after{0};
};
std::optional<AliveState> readAliveFile(const std::string& path);

// The whole of `path`; nullopt when it cannot be read.
std::optional<std::string> readWholeFile(const std::string& path);
// The task BASE of `pid` if it is a locus-supervise (its command line), else "".
std::string supervisedBase(pid_t pid);
// Creates (or truncates) `path` with `content`.
Status writeWholeFile(const std::string& path, const std::string& content, unsigned mode = 0600);
// Appends `text` to `path` (which must exist) in one write(2).
Status appendToFile(const std::string& path, const std::string& text);

}  // namespace locus::nodedaemon
