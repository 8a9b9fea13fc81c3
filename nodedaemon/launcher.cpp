#include "nodedaemon/launcher.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace locus::nodedaemon {
namespace {

// What the child reports through the pipe when a step before exec fails.
struct ChildFailure {
  int step;
  int err;
};
enum Step { kSetsid, kAffinity, kGroups, kSetgid, kSetuid, kChdir, kStdout, kStderr, kExec };
const char* stepName(int s) {
  switch (s) {
    case kSetsid: return "setsid";
    case kAffinity: return "CPU binding (sched_setaffinity)";
    case kGroups: return "setgroups";
    case kSetgid: return "setgid";
    case kSetuid: return "setuid";
    case kChdir: return "chdir to the working directory";
    case kStdout: return "open the output file";
    case kStderr: return "open the error file";
    case kExec: return "exec the script";
  }
  return "?";
}

// Only async-signal-safe calls between fork and exec: everything is prepared by the parent.
[[noreturn]] void fail(int fd, int step) {
  ChildFailure f{step, errno};
  ssize_t ignored = write(fd, &f, sizeof f);
  (void)ignored;
  _exit(127);
}

}  // namespace

Result<pid_t> launchProcess(const LaunchSpec& spec) {
  // Prepare argv/envp, cpu set and groups in the parent.
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : spec.environment) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{spec.program};
  argv_strings.insert(argv_strings.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  for (uint32_t c : spec.cpus)
    if (c < CPU_SETSIZE) CPU_SET(c, &cpus);

  std::vector<gid_t> groups;
  if (spec.switch_user) {
    struct passwd pw{}, *found = nullptr;
    std::vector<char> buf(16384);
    if (getpwuid_r(spec.uid, &pw, buf.data(), buf.size(), &found) == 0 && found) {
      int n = 64;
      groups.resize(n);
      if (getgrouplist(pw.pw_name, spec.gid, groups.data(), &n) < 0) {
        groups.resize(n);
        getgrouplist(pw.pw_name, spec.gid, groups.data(), &n);
      }
      groups.resize(n);
    } else {
      groups = {spec.gid};
    }
  }
  bool same_file = spec.stderr_path.empty() || spec.stderr_path == spec.stdout_path;

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return internalError(std::string("pipe: ") + strerror(errno));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    return unavailable(std::string("fork: ") + strerror(err));
  }
  if (pid == 0) {
    close(pipefd[0]);
    // Default signal dispositions and mask for the task (the daemon blocks some).
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (setsid() < 0) fail(pipefd[1], kSetsid);
    // A task must not outlive a daemon that was killed outright.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(137);
    if (!spec.cpus.empty() && sched_setaffinity(0, sizeof cpus, &cpus) != 0) fail(pipefd[1], kAffinity);
    if (spec.switch_user) {
      if (setgroups(groups.size(), groups.data()) != 0) fail(pipefd[1], kGroups);
      if (setgid(spec.gid) != 0) fail(pipefd[1], kSetgid);
      if (setuid(spec.uid) != 0) fail(pipefd[1], kSetuid);
    }
    if (chdir(spec.work_dir.c_str()) != 0) fail(pipefd[1], kChdir);
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0) {
      dup2(in, 0);
      if (in != 0) close(in);
    }
    int out = open(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) fail(pipefd[1], kStdout);
    dup2(out, 1);
    if (same_file) {
      dup2(out, 2);
    } else {
      int err = open(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err < 0) fail(pipefd[1], kStderr);
      dup2(err, 2);
      if (err > 2) close(err);
    }
    if (out > 2) close(out);
    execve(spec.program.c_str(), argv.data(), envp.data());
    fail(pipefd[1], kExec);
  }
  close(pipefd[1]);
  ChildFailure failure{};
  ssize_t n;
  do {
    n = read(pipefd[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  if (n == static_cast<ssize_t>(sizeof failure))
    return invalidArgument(std::string("cannot ") + stepName(failure.step) + ": " + strerror(failure.err));
  return pid;
}

}  // namespace locus::nodedaemon
