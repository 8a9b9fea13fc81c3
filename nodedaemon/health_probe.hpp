#pragma once
// Health checks of the service replicas a node runs (LaunchTask.health): the probes themselves
// (an HTTP GET to the replica's port, or a shell command), HealthTracker, the state machine that
// decides when to probe and what to tell the controller, and HealthProber, the one thread of the
// node daemon that runs the due probes and hands the reports to its controller stream.
//
// Example: grace_s 30, interval_s 10, max_failures 3 for a replica started at t=0: probes at
// t=30, 40, 50, ... (each `interval` after the previous one finished); the first passing probe
// reports healthy; three failures in a row report unhealthy once; the next pass reports healthy.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "proto/locus.pb.h"

namespace locus::nodedaemon {

struct ProbeResult {
  bool healthy = false;
  std::string detail;  // "HTTP 200", "connection refused", "exit 3", "timeout", ...
};

// GET http://HOST:PORT/PATH over HTTP/1.0 on a plain TCP socket; reads only the status line.
// Healthy: status 200-399. Detail: "HTTP <status>", "connection refused", "timeout" (connecting,
// sending or waiting for the status line took longer than `timeout`), "bad response" (no
// HTTP status line), or "<step>: <strerror>" for other socket errors. A `path` without a leading
// '/' gets one. Name resolution (getaddrinfo) is not bounded by `timeout`: pass a numeric host.
// Thread-safe; never throws.
ProbeResult probeHttp(const std::string& host, uint16_t port, const std::string& path,
                      std::chrono::milliseconds timeout);

// Who a command probe runs as and where. Defaults: the daemon's own user, its working directory.
struct CommandIdentity {
  bool switch_user = false;  // setgroups/setgid/setuid to uid/gid first (the daemon is root)
  uid_t uid = 0;
  gid_t gid = 0;
  std::string work_dir;  // empty: the daemon's working directory
};

// Runs /bin/sh -c CMD with exactly `env` as its environment, stdin/stdout/stderr on /dev/null,
// in a session (and process group) of its own, and waits at most `timeout`. On timeout the
// whole process group is SIGKILLed and the shell reaped; after a normal exit whatever the
// shell left running in its group is SIGKILLed too. Nothing of a probe runs on after it returns;
// the killed members of its group other than the shell are reaped by whoever inherits them
// (in locus-node, a subreaper: the agent's reaper).
// Healthy: exit status 0. Detail: "exit <n>", "killed by signal <n>", "timeout", or
// "cannot start: <why>".
//
// The shell is not a child of this process but of a short-lived watcher process that is a
// "clone" child (it signals nothing when it ends), so a reaper elsewhere in the process that
// waits for any child (the agent's wait4(-1)) takes neither. Thread-safe; blocks the calling
// thread for up to `timeout` (plus the time to kill and reap the shell).
ProbeResult probeCommand(const std::string& cmd, const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout, const CommandIdentity& identity = {});

using HealthCheckKey = std::pair<uint64_t, uint32_t>;  // (job id, attempt)

// The state machine of every check on a node: no threads, no I/O, no clock (time comes in).
// Not thread-safe: its owner serialises calls.
class HealthTracker {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts tracking `key`, whose task started at `start`: its first probe is due at
  // start + grace_s, the next ones interval_s after each recorded result. interval_s and
  // max_failures below 1 count as 1. Replaces a check already tracked under `key`.
  void add(const HealthCheckKey& key, const proto::HealthCheck& check, Clock::time_point start);
  // Stops tracking `key`. A no-op if it is not tracked.
  void remove(const HealthCheckKey& key);

  // The checks whose probe is due at `now`, in key order.
  std::vector<HealthCheckKey> due(Clock::time_point now) const;
  // When the earliest probe is due; nullopt while nothing is tracked.
  std::optional<Clock::time_point> nextDue() const;

  // Records the outcome of `key`'s probe, finished at `at`, and schedules the next one at
  // at + interval_s. Returns the report for the controller when the verdict changes: healthy on
  // the first pass and on every pass after an unhealthy verdict; unhealthy when the consecutive
  // failures reach max_failures (once, not again while they go on). nullopt otherwise, and for
  // a key not tracked (removed while its probe ran).
  std::optional<proto::HealthReport> record(const HealthCheckKey& key, const ProbeResult& result,
                                            Clock::time_point at);

  // The current verdict of every check that has one (a check with no result yet, or only
  // failures below max_failures since it started, has none), with its current consecutive
  // failures and last detail: what a controller that just (re)connected needs. Key order.
  std::vector<proto::HealthReport> allReports() const;

  size_t size() const { return checks_.size(); }

 private:
  enum class Verdict { kNone, kHealthy, kUnhealthy };
  struct Check {
    uint32_t interval_s = 1;
    uint32_t max_failures = 1;
    Clock::time_point next_due;
    Verdict verdict = Verdict::kNone;  // last reported
    uint32_t consecutive_failures = 0;
    std::string detail;  // of the last probe
  };
  static proto::HealthReport report(const HealthCheckKey& key, const Check& check);

  std::map<HealthCheckKey, Check> checks_;
};

// What the prober needs to probe one replica.
struct ProbeTarget {
  proto::HealthCheck check;
  std::map<std::string, std::string> environment;  // the task's; also where LOCUS_PORT is
  CommandIdentity identity;                        // the task's user and working directory
};

// One probe of `target`: the command if check.cmd is set, else GET 127.0.0.1:PORT/http_path
// (the replica runs on this machine), PORT being check.port or else the task's LOCUS_PORT.
ProbeResult runProbe(const ProbeTarget& target, std::chrono::milliseconds timeout);

// The per-probe timeout: the interval, at most 10 s, so that one hung replica delays the other
// checks of the node by a bounded time (probes run one after another).
std::chrono::milliseconds probeTimeout(const proto::HealthCheck& check);

// The node daemon's prober: one thread that sleeps until the next probe is due (or a check is
// added, or stop), runs the due probes one after another without holding its lock, and calls
// `report` with each report HealthTracker produces. `report` is called from the prober thread
// only and must not call back into the prober. add/remove/allReports may be called from any
// thread, concurrently with a running probe.
class HealthProber {
 public:
  using ReportFn = std::function<void(const proto::HealthReport&)>;
  using ProbeFn = std::function<ProbeResult(const ProbeTarget&, std::chrono::milliseconds)>;

  explicit HealthProber(ReportFn report, ProbeFn probe = runProbe);
  ~HealthProber();  // stop()
  HealthProber(const HealthProber&) = delete;
  HealthProber& operator=(const HealthProber&) = delete;

  void start();
  // Wakes the thread and joins it; a probe in progress finishes first (at most its timeout).
  // Idempotent.
  void stop();

  // Tracks the replica `key` started at `start` (see HealthTracker::add).
  void add(const HealthCheckKey& key, ProbeTarget target, HealthTracker::Clock::time_point start);
  // A no-op if `key` is not tracked; a probe of it already running reports nothing.
  void remove(const HealthCheckKey& key);
  std::vector<proto::HealthReport> allReports() const;

 private:
  void loop();

  ReportFn report_;
  ProbeFn probe_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                          // guarded by mu_
  HealthTracker tracker_;                          // guarded by mu_
  std::map<HealthCheckKey, ProbeTarget> targets_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace locus::nodedaemon
