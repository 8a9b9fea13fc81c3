#pragma once
// The node daemon's core: keeps one stream to the controller (reconnecting with back-off),
// launches tasks it is told to, enforces time limits and cancels, reaps them and reports
// their exits until the controller acknowledges each one. Batch tasks run under a supervisor
// process each (supervised_task.hpp), so they outlive a daemon restart and are adopted by the
// next daemon on the same state directory.
//
// Every command carries (job id, attempt): a Launch seen before is ignored, so a retry never
// runs a task twice; a Kill that arrives before its Launch makes that Launch a no-op.
#include <chrono>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "nodedaemon/discovery.hpp"

namespace locus::nodedaemon {

struct AgentOptions {
  std::string name;        // node name the controller knows it by
  std::string controller;  // HOST:PORT
  std::string state_dir;   // spool for job scripts
  DiscoveryOptions discovery;
  // [locality] cache_dirs: datasets staged on this node, reported at registration ("%n" in a
  // path is the node name, so emulated nodes on one machine each have their own).
  std::vector<std::string> cache_dirs;
  std::chrono::milliseconds cache_rescan{30'000};  // how often cache_dirs are scanned again
};

class Agent {
 public:
  // Discovers the hardware (or the emulated machine) and prepares the spool directory.
  static Result<std::unique_ptr<Agent>> create(const AgentOptions& options);
  ~Agent();
  void start();
  // Kills every task still running (SIGKILL to each process group), then stops. Idempotent.
  void stop();
  // Stops without killing the batch tasks: they run on under their supervisors, and the next
  // daemon started on the same state directory adopts them (a restart, an upgrade). Job steps'
  // tasks end. The process must exit right after (the reaper thread is left blocked).
  void detach();
  // Prometheus exposition of this node's metrics (docs/admin-guide.md, "Metrics"): batch
  // scripts running, the cores, memory and GPUs they were given, launches. Thread-safe.
  std::string metricsText() const;

  struct Impl;

 private:
  explicit Agent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus::nodedaemon
