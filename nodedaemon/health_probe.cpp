#include "nodedaemon/health_probe.hpp"

#include "nodedaemon/child_setup.hpp"

#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <variant>

namespace locus::nodedaemon {
namespace {

using SteadyClock = std::chrono::steady_clock;

// No probe waits longer than this, whatever the interval: probes run one after another on one
// thread, so this bounds how much one hung replica delays the checks of the others.
constexpr auto kMaxProbeTimeout = std::chrono::seconds{10};
// Enough for any status line ("HTTP/1.1 503 Service Unavailable\r\n"); more is not a status line.
constexpr size_t kMaxStatusLineBytes = 1024;

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

ProbeResult failure(std::string detail) { return {false, std::move(detail)}; }
ProbeResult failure(const char* step, int err) {
  return {false, std::string(step) + ": " + std::strerror(err)};
}

enum class Ready { kYes, kTimeout, kError };

// Waits until `fd` has `events` or `deadline` passes; restarts after signals.
Ready waitFor(int fd, short events, SteadyClock::time_point deadline) {
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return Ready::kTimeout;
    pollfd p{fd, events, 0};
    int n = poll(
        &p, 1, static_cast<int>(std::min<int64_t>(left.count(), std::numeric_limits<int>::max())));
    if (n > 0) return Ready::kYes;
    if (n == 0) continue;  // the deadline check above decides
    if (errno != EINTR) return Ready::kError;
  }
}

// A connected non-blocking socket, or why not (the detail of a failed probe).
std::variant<int, ProbeResult> connectWithin(const addrinfo& ai, SteadyClock::time_point deadline) {
  int fd = socket(ai.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) return failure("socket", errno);
  auto fail = [fd](ProbeResult r) -> std::variant<int, ProbeResult> {
    close(fd);
    return r;
  };
  if (connect(fd, ai.ai_addr, ai.ai_addrlen) == 0) return fd;
  if (errno == ECONNREFUSED) return fail(failure("connection refused"));
  if (errno != EINPROGRESS) return fail(failure("connect", errno));
  switch (waitFor(fd, POLLOUT, deadline)) {
    case Ready::kTimeout:
      return fail(failure("timeout"));
    case Ready::kError:
      return fail(failure("poll", errno));
    case Ready::kYes:
      break;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    return fail(failure("getsockopt", errno));
  if (err == ECONNREFUSED) return fail(failure("connection refused"));
  if (err != 0) return fail(failure("connect", err));
  return fd;
}

// "HTTP/1.1 503 Service Unavailable" -> 503; nullopt for anything else.
std::optional<int> statusOf(const std::string& line) {
  if (line.rfind("HTTP/", 0) != 0) return std::nullopt;
  size_t space = line.find(' ');
  if (space == std::string::npos || line.size() < space + 4) return std::nullopt;
  int status = 0;
  for (size_t i = space + 1; i < space + 4; ++i) {
    if (line[i] < '0' || line[i] > '9') return std::nullopt;
    status = status * 10 + (line[i] - '0');
  }
  if (line.size() > space + 4 && line[space + 4] != ' ' && line[space + 4] != '\r')
    return std::nullopt;
  return status;
}

ProbeResult exchange(int fd, const std::string& request, SteadyClock::time_point deadline) {
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto r = waitFor(fd, POLLOUT, deadline); r != Ready::kYes)
        return r == Ready::kTimeout ? failure("timeout") : failure("poll", errno);
    } else if (errno != EINTR) {
      return failure("send", errno);
    }
  }
  std::string received;
  while (received.find('\n') == std::string::npos && received.size() < kMaxStatusLineBytes) {
    if (auto r = waitFor(fd, POLLIN, deadline); r != Ready::kYes)
      return r == Ready::kTimeout ? failure("timeout") : failure("poll", errno);
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;  // closed: judge what came
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return failure("recv", errno);
    }
    received.append(buf, static_cast<size_t>(n));
  }
  auto status = statusOf(received.substr(0, received.find('\n')));
  if (!status) return failure("bad response");
  return {*status >= 200 && *status <= 399, "HTTP " + std::to_string(*status)};
}

// ---------------------------------------------------------------- command probes
//
// Two processes, so that the agent's reaper (wait4(-1) for any child of the daemon) never takes
// the shell from us:
//   daemon thread --clone(CLONE_VM|CLONE_VFORK, exit signal 0)--> watcher
//   watcher       --clone(CLONE_VM|CLONE_VFORK|SIGCHLD)---------> /bin/sh -c CMD
// The shell is the watcher's child, not ours. The watcher never execs, so it stays a "clone"
// child (it signals nothing when it ends; exec would make it an ordinary child again), which
// wait4(-1, ..., 0) skips; we reap it with __WALL. The watcher waits for the shell with the
// timeout, kills its process group, reaps it and writes the outcome into memory we share; the
// calling thread is suspended meanwhile (vfork), so nothing else touches that memory or errno.

// Where a child stops if a step before exec fails.
enum Step { kNone, kSetsid, kGroups, kSetgid, kSetuid, kChdir, kExec, kSpawn, kWait };
const char* stepName(int s) {
  switch (s) {
    case kSetsid:
      return "setsid";
    case kGroups:
      return "setgroups";
    case kSetgid:
      return "setgid";
    case kSetuid:
      return "setuid";
    case kChdir:
      return "chdir to the working directory";
    case kExec:
      return "exec /bin/sh";
    case kSpawn:
      return "clone";
  }
  return "?";
}

// Prepared by the calling thread; the watcher and the shell share its memory until they exit
// or exec, and write their verdicts here.
struct ProbeArgs {
  char** argv;
  char** envp;
  const char* work_dir;  // nullptr: stay
  bool switch_user;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  size_t ngroups;
  int timeout_ms;
  char* shell_stack_top;
  pid_t daemon;       // our pid: the watcher's parent
  pid_t watcher = 0;  // the shell's parent
  int failed_step = kNone;
  int failed_errno = 0;
  bool timed_out = false;
  int status = 0;  // the shell's wait status
};

// The shell's side, up to exec. Only raw system calls, as in launcher.cpp: glibc's
// setuid/setgid would try to synchronise the credentials of the threads whose memory we share.
int shellMain(void* arg) {
  auto* a = static_cast<ProbeArgs*>(arg);
  auto fail = [a](int step) {
    a->failed_errno = errno;
    a->failed_step = step;
    syscall(SYS_exit, 127);
    return 127;
  };
  // Its own process group: a timeout kills everything the shell started, and only that.
  if (!child::startOwnSession()) return fail(kSetsid);
  syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (syscall(SYS_getppid) != a->watcher) syscall(SYS_exit, 137);
  if (a->switch_user) {
    switch (child::becomeUser(a->ngroups, a->groups, a->gid, a->uid)) {
      case child::UserStep::kGroups: return fail(kGroups);
      case child::UserStep::kSetgid: return fail(kSetgid);
      case child::UserStep::kSetuid: return fail(kSetuid);
      case child::UserStep::kDone: break;
    }
  }
  if (a->work_dir && chdir(a->work_dir) != 0) return fail(kChdir);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    for (int fd = 0; fd <= 2; ++fd)
      if (null != fd) dup2(null, fd);
    if (null > 2) close(null);
  }
  execve("/bin/sh", a->argv, a->envp);
  return fail(kExec);
}

int watcherMain(void* arg) {
  auto* a = static_cast<ProbeArgs*>(arg);
  // A copy of the daemon's signal handlers would run on the suspended thread's memory: none.
  sigset_t all;
  sigfillset(&all);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, nullptr, _NSIG / 8);
  // Dies with the daemon, and the shell with it (its own PDEATHSIG).
  syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (syscall(SYS_getppid) != a->daemon) syscall(SYS_exit, 137);
  a->watcher = static_cast<pid_t>(syscall(SYS_getpid));
  int pidfd = -1;
  pid_t shell = clone(shellMain, a->shell_stack_top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
                      a, &pidfd);
  if (shell < 0) {
    a->failed_errno = errno;
    a->failed_step = kSpawn;
    syscall(SYS_exit, 0);
  }
  if (a->failed_step == kNone) {
    pollfd p{pidfd, POLLIN, 0};
    int n;
    do {
      n = poll(&p, 1, a->timeout_ms);  // no signal handlers run here; EINTR only if stopped
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      a->timed_out = n == 0;
      if (n < 0) {  // cannot wait: end it rather than leak it
        a->failed_errno = errno;
        a->failed_step = kWait;
      }
      syscall(SYS_kill, -shell, SIGKILL);
    }
  }
  while (syscall(SYS_wait4, shell, &a->status, 0, nullptr) < 0 && errno == EINTR) {
  }
  // What the shell left behind in its group (a background job): a probe leaves nothing running.
  // The group id cannot have been reused: it stays taken while any member lives.
  syscall(SYS_kill, -shell, SIGKILL);
  if (pidfd >= 0) close(pidfd);
  syscall(SYS_exit, 0);
  return 0;
}

// Both children only make system calls.
constexpr size_t kChildStackBytes = 64 * 1024;

// The user's supplementary groups, as the launcher gives them to its tasks.
std::vector<gid_t> groupsOf(uid_t uid, gid_t gid) {
  struct passwd pw {
  }, *found = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return {gid};
  int n = 64;
  std::vector<gid_t> groups(n);
  if (getgrouplist(pw.pw_name, gid, groups.data(), &n) < 0) {
    groups.resize(n);
    getgrouplist(pw.pw_name, gid, groups.data(), &n);
  }
  groups.resize(n);
  return groups;
}

}  // namespace

ProbeResult probeHttp(const std::string& host, uint16_t port, const std::string& path,
                      std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return failure("resolve " + host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);

  std::string request = "GET " + (path.rfind('/', 0) == 0 ? path : "/" + path) +
                        " HTTP/1.0\r\nHost: " + host + ":" + std::to_string(port) +
                        "\r\nUser-Agent: locus-node\r\nConnection: close\r\n\r\n";
  // Each address until one accepts the connection ("localhost": ::1, then 127.0.0.1).
  ProbeResult last = failure("no address for " + host);
  for (const addrinfo* ai = addresses.get(); ai; ai = ai->ai_next) {
    auto connected = connectWithin(*ai, deadline);
    if (auto* why = std::get_if<ProbeResult>(&connected)) {
      last = std::move(*why);
      if (last.detail == "timeout") return last;
      continue;
    }
    UniqueFd fd(std::get<int>(connected));
    return exchange(fd.get(), request, deadline);
  }
  return last;
}

ProbeResult probeCommand(const std::string& cmd, const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout, const CommandIdentity& identity) {
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "sh", dash_c = "-c", command = cmd;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
  std::vector<gid_t> groups;
  if (identity.switch_user) groups = groupsOf(identity.uid, identity.gid);
  std::vector<char> watcher_stack(kChildStackBytes), shell_stack(kChildStackBytes);

  ProbeArgs args{
      argv,
      envp.data(),
      identity.work_dir.empty() ? nullptr : identity.work_dir.c_str(),
      identity.switch_user,
      identity.uid,
      identity.gid,
      groups.data(),
      groups.size(),
      static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, std::numeric_limits<int>::max())),
      shell_stack.data() + shell_stack.size(),
      getpid()};
  // Returns once the watcher has exited (CLONE_VFORK): the outcome is in `args`.
  pid_t watcher = clone(watcherMain, watcher_stack.data() + watcher_stack.size(),
                        CLONE_VM | CLONE_VFORK, &args);
  if (watcher < 0) return failure(std::string("cannot start: clone: ") + std::strerror(errno));
  int watcher_status = 0;
  while (waitpid(watcher, &watcher_status, __WALL) < 0 && errno == EINTR) {
  }

  if (args.failed_step == kWait) return failure("wait", args.failed_errno);
  if (args.failed_step != kNone)
    return failure(std::string("cannot start: ") + stepName(args.failed_step) + ": " +
                   std::strerror(args.failed_errno));
  if (!WIFEXITED(watcher_status) || WEXITSTATUS(watcher_status) != 0)
    return failure("cannot start: the watcher process ended early");
  if (args.timed_out) return failure("timeout");
  if (WIFEXITED(args.status))
    return {WEXITSTATUS(args.status) == 0, "exit " + std::to_string(WEXITSTATUS(args.status))};
  if (WIFSIGNALED(args.status))
    return failure("killed by signal " + std::to_string(WTERMSIG(args.status)));
  return failure("status " + std::to_string(args.status));
}

// ---------------------------------------------------------------- HealthTracker

void HealthTracker::add(const HealthCheckKey& key, const proto::HealthCheck& check,
                        Clock::time_point start) {
  Check c;
  c.interval_s = std::max<uint32_t>(1, check.interval_s());
  c.max_failures = std::max<uint32_t>(1, check.max_failures());
  c.next_due = start + std::chrono::seconds(check.grace_s());
  checks_[key] = std::move(c);
}

void HealthTracker::remove(const HealthCheckKey& key) { checks_.erase(key); }

std::vector<HealthCheckKey> HealthTracker::due(Clock::time_point now) const {
  std::vector<HealthCheckKey> keys;
  for (const auto& [key, c] : checks_)
    if (c.next_due <= now) keys.push_back(key);
  return keys;
}

std::optional<HealthTracker::Clock::time_point> HealthTracker::nextDue() const {
  std::optional<Clock::time_point> next;
  for (const auto& [key, c] : checks_)
    if (!next || c.next_due < *next) next = c.next_due;
  return next;
}

std::optional<proto::HealthReport> HealthTracker::record(const HealthCheckKey& key,
                                                         const ProbeResult& result,
                                                         Clock::time_point at) {
  auto it = checks_.find(key);
  if (it == checks_.end()) return std::nullopt;
  Check& c = it->second;
  // From the end of this probe, not from when it was due: a slow probe never makes the next one
  // due at once, so a struggling replica is not probed back to back.
  c.next_due = at + std::chrono::seconds(c.interval_s);
  c.detail = result.detail;
  if (result.healthy) {
    c.consecutive_failures = 0;
    if (c.verdict == Verdict::kHealthy) return std::nullopt;
    c.verdict = Verdict::kHealthy;
    return report(key, c);
  }
  if (c.consecutive_failures < std::numeric_limits<uint32_t>::max()) ++c.consecutive_failures;
  if (c.consecutive_failures < c.max_failures || c.verdict == Verdict::kUnhealthy)
    return std::nullopt;
  c.verdict = Verdict::kUnhealthy;
  return report(key, c);
}

std::vector<proto::HealthReport> HealthTracker::allReports() const {
  std::vector<proto::HealthReport> reports;
  for (const auto& [key, c] : checks_)
    if (c.verdict != Verdict::kNone) reports.push_back(report(key, c));
  return reports;
}

proto::HealthReport HealthTracker::report(const HealthCheckKey& key, const Check& check) {
  proto::HealthReport r;
  r.set_job_id(key.first);
  r.set_attempt(key.second);
  r.set_healthy(check.verdict == Verdict::kHealthy);
  r.set_consecutive_failures(check.consecutive_failures);
  r.set_detail(check.detail);
  return r;
}

// ---------------------------------------------------------------- probes of a replica

std::chrono::milliseconds probeTimeout(const proto::HealthCheck& check) {
  return std::min<std::chrono::milliseconds>(
      std::chrono::seconds(std::max<uint32_t>(1, check.interval_s())), kMaxProbeTimeout);
}

ProbeResult runProbe(const ProbeTarget& target, std::chrono::milliseconds timeout) {
  const auto& check = target.check;
  if (!check.cmd().empty())
    return probeCommand(check.cmd(), target.environment, timeout, target.identity);
  uint32_t port = check.port();
  if (port == 0) {
    // The controller sets it; a replica launched without it still has its LOCUS_PORT.
    auto it = target.environment.find("LOCUS_PORT");
    if (it != target.environment.end())
      port = static_cast<uint32_t>(std::strtoul(it->second.c_str(), nullptr, 10));
  }
  if (port == 0 || port > 65535) return failure("no port to probe (LOCUS_PORT unset)");
  return probeHttp("127.0.0.1", static_cast<uint16_t>(port), check.http_path(), timeout);
}

// ---------------------------------------------------------------- HealthProber

HealthProber::HealthProber(ReportFn report, ProbeFn probe)
    : report_(std::move(report)), probe_(std::move(probe)) {}

HealthProber::~HealthProber() { stop(); }

void HealthProber::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { loop(); });
}

void HealthProber::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void HealthProber::add(const HealthCheckKey& key, ProbeTarget target,
                       HealthTracker::Clock::time_point start) {
  std::lock_guard lock(mu_);
  tracker_.add(key, target.check, start);
  targets_[key] = std::move(target);
  cv_.notify_all();  // it may be due before whatever the thread sleeps for
}

void HealthProber::remove(const HealthCheckKey& key) {
  std::lock_guard lock(mu_);
  tracker_.remove(key);
  targets_.erase(key);
}

std::vector<proto::HealthReport> HealthProber::allReports() const {
  std::lock_guard lock(mu_);
  return tracker_.allReports();
}

void HealthProber::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto due = tracker_.due(HealthTracker::Clock::now());
    if (due.empty()) {
      // Woken early by add() and stop(); a spurious wake-up just looks again.
      if (auto next = tracker_.nextDue())
        cv_.wait_until(lock, *next);
      else
        cv_.wait(lock);
      continue;
    }
    for (const auto& key : due) {
      if (stopping_) return;
      auto it = targets_.find(key);
      if (it == targets_.end()) continue;  // removed while an earlier probe ran
      ProbeTarget target = it->second;
      // Unlocked while probing: launches, exits and a reconnect's allReports() do not wait.
      lock.unlock();
      ProbeResult result = probe_(target, probeTimeout(target.check));
      lock.lock();
      auto report = tracker_.record(key, result, HealthTracker::Clock::now());
      if (report) {
        lock.unlock();
        report_(*report);
        lock.lock();
      }
    }
  }
}

}  // namespace locus::nodedaemon
