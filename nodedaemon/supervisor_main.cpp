// locus-supervise BASE: runs one batch task for the node daemon and outlives the daemon.
//
// The daemon writes BASE.spec and starts this program in a session of its own (not killed with
// the daemon). It starts the task as BASE.spec says (its cgroups, binding, user, files:
// launcher.cpp), appends "started" to BASE.spec, tells the daemon on stdout ("started PID" or
// "error MESSAGE"), then waits. When the task's main process ends it kills what is left of the
// task's process group and appends "ended" to BASE.spec; the daemon (this one, or the next one
// on the same spool after a restart) reports it. Contract and file formats: supervised_task.hpp.
//
// Fencing: if the daemon's alive file goes unwritten for longer than the timeout in it, the
// daemon is dead or hung and the controller is about to run the job elsewhere; the task is
// killed first (its "ended" line says fenced=1).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "nodedaemon/supervised_task.hpp"

namespace {

using locus::nodedaemon::SupervisedExit;
using Clock = std::chrono::steady_clock;

// Before the first reading of the alive file (or without one): what the daemon asks for with the
// controller's default node_timeout_s.
constexpr std::chrono::milliseconds kDefaultFence{27'500};
constexpr auto kCheckEvery = std::chrono::milliseconds{100};

std::string g_name = "locus-supervise";

void logLine(const std::string& message) {
  std::fprintf(stderr, "%s[%d]: %s\n", g_name.c_str(), static_cast<int>(getpid()), message.c_str());
}

// The one line the daemon waits for, then stdout goes to /dev/null (the daemon closes its end).
void tellDaemon(const std::string& line) {
  const std::string text = line + "\n";
  ssize_t ignored = write(STDOUT_FILENO, text.data(), text.size());
  (void)ignored;
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDOUT_FILENO);
    close(null);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || argv[1][0] != '/') {
    std::fprintf(stderr, "usage: locus-supervise /SPOOL/jobs/JOB.ATTEMPT (started by locus-node)\n");
    return 2;
  }
  const locus::nodedaemon::TaskFiles files{argv[1]};
  g_name = "locus-supervise " + files.base.substr(files.base.rfind('/') + 1);
  const std::optional<std::string> text = locus::nodedaemon::readWholeFile(files.spec());
  auto spec = text ? locus::nodedaemon::decodeSpec(*text)
                   : locus::Result<locus::nodedaemon::SupervisedSpec>(
                         locus::unavailable("cannot read " + files.spec()));
  if (!spec.ok()) {
    tellDaemon("error " + spec.error().message);
    return 127;
  }
  // Orphans of the task (its background processes) come here, not to init: reaped below.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);  // waited for with sigtimedwait

  auto task = locus::nodedaemon::launchProcess(spec->task);
  if (!task.ok()) {
    tellDaemon("error " + task.error().message);
    return 127;
  }
  const pid_t pid = *task;
  // Before the daemon hears of it: a successor daemon must find the task's pid whenever this
  // supervisor runs.
  if (auto s = locus::nodedaemon::appendToFile(files.spec(), locus::nodedaemon::encodeStarted(getpid(), pid));
      !s.ok()) {
    kill(-pid, SIGKILL);
    tellDaemon("error " + s.error().message);
    return 127;
  }
  tellDaemon("started " + std::to_string(pid));

  SupervisedExit result;
  bool ended = false;
  auto fence_after = kDefaultFence;
  auto last_alive = Clock::now();  // when the daemon was last known alive
  auto next_check = Clock::now();
  while (!ended) {
    int status = 0;
    struct rusage usage {};
    pid_t reaped;
    while ((reaped = wait4(-1, &status, WNOHANG, &usage)) > 0) {
      if (reaped != pid) continue;  // an orphan of the task
      ended = true;
      result.wait_status = status;
      result.cpu_time_s = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                          (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
      result.max_rss_kb = static_cast<uint64_t>(usage.ru_maxrss);
    }
    if (ended) break;
    const auto now = Clock::now();
    if (now >= next_check && !result.fenced) {
      next_check = now + kCheckEvery;
      if (auto alive = locus::nodedaemon::readAliveFile(spec->alive_file)) {
        fence_after = alive->fence_after;
        last_alive = std::max(last_alive, now - alive->since_written);
      }
      if (now - last_alive > fence_after) {
        logLine("node daemon silent for more than " + std::to_string(fence_after.count()) +
                " ms: killing the task (pid " + std::to_string(pid) + ") before its job runs elsewhere");
        result.fenced = true;
        kill(-pid, SIGKILL);
      }
    }
    const struct timespec wait_for = {0, 100 * 1000 * 1000};
    sigtimedwait(&chld, nullptr, &wait_for);
  }
  // The script is gone; whatever it left behind in its group goes too (the daemon's cgroup
  // cleanup catches what left the group).
  kill(-pid, SIGKILL);
  if (auto s = locus::nodedaemon::appendToFile(files.spec(), locus::nodedaemon::encodeEnded(result)); !s.ok())
    logLine(s.error().message);
  return 0;
}
