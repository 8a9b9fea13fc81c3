#include "nodedaemon/launcher.hpp"

#include "nodedaemon/child_setup.hpp"

#include <fcntl.h>
#include <time.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace locus::nodedaemon {
namespace {

// Where the child stops if a step before exec fails.
enum Step { kNone, kSetsid, kCgroup, kMemBind, kAffinity, kGroups, kSetgid, kSetuid, kChdir, kStdout, kStderr, kExec };
const char* stepName(int s) {
  switch (s) {
    case kSetsid: return "setsid";
    case kCgroup: return "join the task's cgroup";
    case kMemBind: return "memory binding (set_mempolicy)";
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

// set_mempolicy(2)'s MPOL_BIND (linux/mempolicy.h) and the node mask size we pass: 1,024 nodes.
constexpr int kMpolBind = 2;
constexpr size_t kMemMaskWords = 1024 / (sizeof(unsigned long) * 8);

// Everything the child needs, prepared by the parent. The child shares the parent's memory
// (CLONE_VM) until it execs, so it writes its failure straight into `failed_step`/`failed_errno`.
struct ChildArgs {
  const char* program;
  char** argv;
  char** envp;
  const char* work_dir;
  const char* stdout_path;
  const char* stderr_path;  // nullptr: same file as stdout
  const char* pid_file;     // nullptr: none
  int stdin_fd, stdout_fd, stderr_fd;  // -1: /dev/null, the output files
  const cpu_set_t* cpus;    // nullptr: no binding
  const unsigned long* mem_mask;  // nullptr: no memory binding; else kMemMaskWords words
  const char* const* cgroup_procs;  // nullptr-terminated
  bool die_with_parent;
  bool switch_user;
  bool fs_as_user;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  size_t ngroups;
  pid_t parent;
  int failed_step = kNone;
  int failed_errno = 0;
};

// Runs in the child on its own stack. Only raw system calls: glibc's setuid/setgid would try to
// synchronise the credentials of the parent's threads, whose memory this child shares.
int childMain(void* arg) {
  auto* a = static_cast<ChildArgs*>(arg);
  auto fail = [a](int step) {
    a->failed_errno = errno;
    a->failed_step = step;
    syscall(SYS_exit, 127);
    return 127;
  };
  if (!child::startOwnSession()) return fail(kSetsid);
  if (a->pid_file) {
    // Written before anything of the task runs: a daemon killed at any instant leaves it behind.
    int fd = open(a->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      char buf[24];
      long pid = syscall(SYS_getpid);
      int n = 0;
      char digits[24];
      do {
        digits[n++] = static_cast<char>('0' + pid % 10);
        pid /= 10;
      } while (pid > 0);
      for (int i = 0; i < n; ++i) buf[i] = digits[n - 1 - i];
      buf[n] = '\n';
      ssize_t ignored = write(fd, buf, static_cast<size_t>(n + 1));
      (void)ignored;
      close(fd);
    }
  }
  // A task must not outlive its parent (its supervisor, or the daemon for a step's task) if
  // that is killed outright.
  if (a->die_with_parent) {
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (syscall(SYS_getppid) != a->parent) syscall(SYS_exit, 137);
  }
  // Joined while still root, before anything of the task runs or allocates.
  for (const char* const* p = a->cgroup_procs; p && *p; ++p) {
    int fd = open(*p, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(kCgroup);
    bool ok = write(fd, "0", 1) == 1;
    close(fd);
    if (!ok) return fail(kCgroup);
  }
  // The policy is the task's own (not its address space's), so it survives exec and is
  // inherited by everything the task starts.
  if (a->mem_mask &&
      syscall(SYS_set_mempolicy, kMpolBind, a->mem_mask, kMemMaskWords * sizeof(unsigned long) * 8 + 1) != 0)
    return fail(kMemBind);
  if (a->cpus && syscall(SYS_sched_setaffinity, 0, sizeof(cpu_set_t), a->cpus) != 0)
    return fail(kAffinity);
  if (a->switch_user) {
    switch (child::becomeUser(a->ngroups, a->groups, a->gid, a->uid)) {
      case child::UserStep::kGroups: return fail(kGroups);
      case child::UserStep::kSetgid: return fail(kSetgid);
      case child::UserStep::kSetuid: return fail(kSetuid);
      case child::UserStep::kDone: break;
    }
  }
  // Path checks (chdir, open) use the filesystem credentials: the user's, root's again after.
  if (a->fs_as_user) {
    if (syscall(SYS_setgroups, a->ngroups, a->groups) != 0) return fail(kGroups);
    syscall(SYS_setfsgid, a->gid);
    syscall(SYS_setfsuid, a->uid);
  }
  if (chdir(a->work_dir) != 0) return fail(kChdir);
  if (a->stdin_fd >= 0) {
    dup2(a->stdin_fd, 0);  // dup2 clears O_CLOEXEC on the copy
  } else {
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0 && in != 0) {
      dup2(in, 0);
      close(in);
    }
  }
  if (a->stdout_fd >= 0) {
    dup2(a->stdout_fd, 1);
    dup2(a->stderr_fd >= 0 ? a->stderr_fd : a->stdout_fd, 2);
  } else {
    int out = open(a->stdout_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) return fail(kStdout);
    dup2(out, 1);
    if (!a->stderr_path) {
      dup2(out, 2);
    } else {
      int err = open(a->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (err < 0) return fail(kStderr);
      dup2(err, 2);
    }
  }
  if (a->fs_as_user) {
    syscall(SYS_setfsuid, 0);
    syscall(SYS_setfsgid, 0);
    if (syscall(SYS_setgroups, 0, nullptr) != 0) return fail(kGroups);
  }
  // Only 0-2 go to the task: a descriptor the daemon's libraries opened without O_CLOEXEC
  // (cpp-httplib's accepted /metrics connections) would otherwise live as long as the task, and
  // the scraper would never see that connection close. Raw syscall (Linux 5.11+); where the
  // kernel lacks it, nothing changes.
  constexpr unsigned kCloseRangeCloexec = 1U << 2;  // CLOSE_RANGE_CLOEXEC
  syscall(SYS_close_range, 3U, ~0U, kCloseRangeCloexec);
  execve(a->program, a->argv, a->envp);
  // A script another thread's child still holds open for writing (in the instant between its
  // fork and its exec) is "busy": that passes within microseconds, so try a few more times.
  for (int tries = 0; errno == ETXTBSY && tries < 50; ++tries) {
    struct timespec pause = {0, 2 * 1000 * 1000};
    nanosleep(&pause, nullptr);
    execve(a->program, a->argv, a->envp);
  }
  return fail(kExec);
}

// The child's stack while it shares our memory: small, it only makes system calls.
constexpr size_t kChildStackBytes = 64 * 1024;

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

  unsigned long mem_mask[kMemMaskWords] = {};
  for (uint32_t node : spec.mem_nodes)
    if (node < kMemMaskWords * sizeof(unsigned long) * 8)
      mem_mask[node / (sizeof(unsigned long) * 8)] |= 1UL << (node % (sizeof(unsigned long) * 8));
  std::vector<const char*> cgroup_procs;
  for (const auto& p : spec.cgroup_procs) cgroup_procs.push_back(p.c_str());
  cgroup_procs.push_back(nullptr);

  std::vector<gid_t> groups;
  if (spec.switch_user || spec.fs_as_user) {
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

  ChildArgs args{spec.program.c_str(),
                 argv.data(),
                 envp.data(),
                 spec.work_dir.c_str(),
                 spec.stdout_path.c_str(),
                 same_file ? nullptr : spec.stderr_path.c_str(),
                 spec.pid_file.empty() ? nullptr : spec.pid_file.c_str(),
                 spec.stdin_fd,
                 spec.stdout_fd,
                 spec.stderr_fd,
                 spec.cpus.empty() ? nullptr : &cpus,
                 spec.mem_nodes.empty() ? nullptr : mem_mask,
                 cgroup_procs.data(),
                 spec.die_with_parent,
                 spec.switch_user,
                 spec.fs_as_user,
                 spec.uid,
                 spec.gid,
                 groups.data(),
                 groups.size(),
                 getpid()};
  // CLONE_VM|CLONE_VFORK, as posix_spawn does: no copy of the daemon's page tables (a fork of a
  // gRPC process costs milliseconds of system time), and we resume once the child has exec'd or
  // failed, so its verdict is already in `args`.
  std::vector<char> stack(kChildStackBytes);
  pid_t pid = clone(childMain, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  if (pid < 0) return unavailable(std::string("clone: ") + strerror(errno));
  if (args.failed_step != kNone)
    return invalidArgument(std::string("cannot ") + stepName(args.failed_step) + ": " +
                           strerror(args.failed_errno));
  return pid;
}

}  // namespace locus::nodedaemon
