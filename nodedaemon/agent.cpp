#include "nodedaemon/agent.hpp"

#include <grpcpp/grpcpp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "common/munge_auth.hpp"
#include "common/time_util.hpp"
#include "gpu/visible_devices.hpp"
#include "locality/local_datasets.hpp"
#include "nodedaemon/cgroups.hpp"
#include "nodedaemon/health_probe.hpp"
#include "common/address_list.hpp"
#include "nodedaemon/step_service.hpp"
#include "nodedaemon/launcher.hpp"
#include "nodedaemon/oci_container.hpp"
#include "nodedaemon/profiler.hpp"
#include "nodedaemon/supervised_task.hpp"
#include "proto/convert.hpp"
#include "proto/locus.grpc.pb.h"

namespace locus::nodedaemon {
namespace {

auto log() {
  static auto l = logger("node");
  return l;
}

using Clock = std::chrono::steady_clock;
using TaskKey = std::pair<uint64_t, uint32_t>;  // (job id, attempt)

// Reconnect back-off: quick first retries (a controller restarting), capped so a long outage
// costs little.
constexpr auto kMinBackoff = std::chrono::milliseconds{100};
constexpr auto kMaxBackoff = std::chrono::seconds{2};

// A batch task. It runs under its supervisor (locus-supervise, supervised_task.hpp), the
// daemon's child; or, adopted from a predecessor daemon, under a supervisor that is not.
struct Task {
  TaskKey key;
  pid_t supervisor = 0;  // the key of tasks_
  pid_t pid = 0;         // the task itself, its process group: what signals go to
  TaskFiles files;
  bool adopted = false;  // not our child: its end shows on `pidfd`, not in wait4
  int pidfd = -1;
  std::string container_id;  // --container: runc's id for it; "" = a bare process
  std::optional<Clock::time_point> deadline;  // the time limit; SIGTERM then
  std::optional<Clock::time_point> kill_at;   // SIGKILL then (grace after SIGTERM)
  std::chrono::seconds grace{10};
  bool timed_out = false;
  bool cancelled = false;
  // Killed because this daemon is stopping (SIGTERM): not the job's end. Its exit is not
  // reported; the controller sees a restarted daemon without the task and requeues or fails
  // the job as for a node failure.
  bool killed_by_stop = false;
  uint32_t cores = 0;  // what it was launched with, for /metrics
  uint64_t mem_mb = 0;
  uint32_t gpus = 0;
};

// How often the daemon says it is alive to its tasks' supervisors (the alive file), and the
// fence timeout it asks for before the controller has said its node_timeout_s (its default,
// less a heartbeat).
constexpr auto kAliveEvery = std::chrono::milliseconds{250};
constexpr auto kFenceMargin = std::chrono::milliseconds{500};
constexpr auto kDefaultFence = std::chrono::milliseconds{30'000 - 2'000} - kFenceMargin;
// How often an adopted task's supervisor (not our child: no SIGCHLD) is looked at.
constexpr auto kAdoptedPollEvery = std::chrono::milliseconds{200};

// A pidfd for `pid` if it is the supervisor of `base` (checked after opening the pidfd, so a
// reused pid cannot pass), else -1.
int openSupervisor(pid_t pid, const std::string& base) {
  if (pid <= 1) return -1;
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return -1;
  if (supervisedBase(pid) != base) {
    close(fd);
    return -1;
  }
  return fd;
}

// Every running locus-supervise by its BASE (its one argument): how a successor daemon finds the
// supervisors of its predecessor's tasks.
std::map<std::string, pid_t> runningSupervisors() {
  std::map<std::string, pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
    if (std::string base = supervisedBase(pid); !base.empty()) out[base] = pid;
  }
  return out;
}

// What a task's supervisor has recorded in its spec (supervised_task.hpp).
SupervisorState supervisorState(const TaskFiles& files) {
  auto spec = decodeSpec(readWholeFile(files.spec()).value_or(""));
  return spec.ok() ? decodeState(spec->state) : SupervisorState{};
}

bool pidfdEnded(int fd) {
  struct pollfd p {fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

// The supervisor program: beside this daemon's own executable.
std::string supervisorProgram() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::filesystem::path(".") : self.parent_path()) / "locus-supervise";
}

}  // namespace

struct Agent::Impl {
  AgentOptions options;
  NodeTopology topology;
  uint32_t host_pus = 1;
  std::vector<uint32_t> host_numa_nodes;  // libnuma's mems_allowed
  uint64_t boot_id = 0;
  std::unique_ptr<TaskCgroups> cgroups;   // null: no cgroup support, binding only
  std::string limits;                     // how tasks are confined, for the controller
  std::unique_ptr<StepService> steps;     // job steps (locus run) served here
  std::unique_ptr<HealthProber> health;   // service replicas' checks; its own thread and lock
  std::unique_ptr<Profiler> profiler;     // --profile jobs' HDF5 files; its own thread and lock
  std::unique_ptr<OciRuntime> containers; // --container tasks (runc)
  std::string step_address;
  std::string supervisor_program;         // locus-supervise, beside this daemon
  std::string alive_file;                 // STATE/alive (supervised_task.hpp: fencing)
  std::mutex alive_mu_;                   // one writer of alive_file at a time
  std::map<std::string, std::string> default_environment;  // emulatedNodeEnvironment(), or none
  uint64_t spawns_ = 0;                   // guarded by mu_: step tasks started, for the reaper

  std::mutex mu_;
  std::condition_variable cv_;              // reaper and timer wait here
  bool stopping_ = false;                   // guarded by mu_
  std::map<pid_t, Task> tasks_;             // guarded by mu_
  std::map<TaskKey, pid_t> by_key_;         // guarded by mu_
  std::set<TaskKey> seen_;                  // guarded by mu_: every launch ever received
  std::set<TaskKey> killed_early_;          // guarded by mu_: Kill before its Launch
  std::map<TaskKey, proto::TaskExited> unacked_;  // guarded by mu_
  std::chrono::milliseconds heartbeat_interval{2000};  // guarded by mu_
  std::chrono::milliseconds fence_after{kDefaultFence};  // guarded by mu_: what supervisors wait

  std::mutex stream_mu_;
  grpc::ClientReaderWriter<proto::NodeToController, proto::ControllerToNode>* stream_ = nullptr;  // guarded by stream_mu_
  grpc::ClientContext* context_ = nullptr;  // guarded by stream_mu_

  std::thread connect_thread_, reaper_thread_, timer_thread_, heartbeat_thread_, alive_thread_;
  std::mutex datasets_mu_;          // guards the two below (registration and heartbeat threads)
  std::string reported_datasets_;   // what the last scan found, as text
  bool datasets_changed_ = false;   // the last scan found something else than the one before

  // /metrics counters (their own atomics, no lock).
  metrics::Counter launches_;         // batch scripts started
  metrics::Counter launch_failures_;  // launches that failed (script, cgroup, exec)
  metrics::Counter exits_;            // batch scripts reaped

  void send(const proto::NodeToController& msg) {
    std::lock_guard lock(stream_mu_);
    if (stream_) stream_->Write(msg);  // a failed write shows up as a failed Read, then reconnect
  }

  // ---------------------------------------------------------------- connection

  void connectLoop() {
    auto backoff = kMinBackoff;
    // --controller may list several controllers (sharing an etcd store): one leads, the others
    // refuse the stream (UNIMPLEMENTED), so each attempt tries the next until one takes it.
    std::vector<std::string> controllers = splitAddressList(options.controller);
    if (controllers.empty()) controllers.push_back(options.controller);
    size_t attempt = 0;
    while (true) {
      {
        std::unique_lock lock(mu_);
        if (stopping_) return;
      }
      const std::string target = controllers[attempt++ % controllers.size()];
      auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
      auto stub = proto::NodeApi::NewStub(channel);
      grpc::ClientContext ctx;
      // The controller checks who opens the stream: a node daemon runs as root (or as the
      // controller's user), under the cluster's MUNGE key.
      std::string no_credential;
      if (std::string cred = callCredential(&no_credential); !cred.empty()) ctx.AddMetadata(kMungeMetadataKey, cred);
      else log()->debug("no MUNGE credential: {}", no_credential);
      std::unique_ptr<grpc::ClientReaderWriter<proto::NodeToController, proto::ControllerToNode>> stream;
      {
        std::lock_guard lock(stream_mu_);
        {
          std::lock_guard state(mu_);
          if (stopping_) return;
        }
        context_ = &ctx;
        stream = stub->Connect(&ctx);
      }
      proto::NodeToController hello = registration();
      bool registered = stream->Write(hello);
      if (registered) {
        {
          std::lock_guard lock(stream_mu_);
          stream_ = stream.get();
        }
        proto::ControllerToNode cmd;
        bool first = true;
        while (stream->Read(&cmd)) {
          if (first) {
            log()->info("registered with controller {}", target);
            backoff = kMinBackoff;
            first = false;
          }
          handle(cmd);
        }
      }
      {
        std::lock_guard lock(stream_mu_);
        stream_ = nullptr;
        context_ = nullptr;
      }
      ctx.TryCancel();
      const grpc::Status finished = stream->Finish();
      if (finished.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
          finished.error_code() == grpc::StatusCode::UNAUTHENTICATED)
        log()->error("controller {} refused this node: {}", target, finished.error_message());
      std::unique_lock lock(mu_);
      if (stopping_) return;
      log()->debug("controller {} unreachable; retry in {} ms", target, backoff.count());
      // The next of a list at once; the back-off after each round.
      if (attempt % controllers.size() != 0) continue;
      cv_.wait_for(lock, backoff, [this] { return stopping_; });
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
    }
  }

  proto::NodeToController registration() {
    proto::NodeToController msg;
    auto* reg = msg.mutable_register_();
    reg->set_name(options.name);
    proto::toProto(topology, *reg->mutable_topology());
    reg->set_boot_id(boot_id);
    reg->set_limits(limits);
    reg->set_step_address(step_address);
    reg->set_emulated(!options.discovery.xml_path.empty() || !options.discovery.synthetic.empty());
    // Scanned at each registration, and again every cache_rescan (heartbeatLoop).
    for (const proto::LocalDataset& d : scanDatasets(true)) *reg->add_datasets() = d;
    std::lock_guard lock(mu_);
    for (const auto& [key, pid] : by_key_) {
      auto* t = reg->add_running();
      t->set_job_id(key.first);
      t->set_attempt(key.second);
    }
    for (const auto& [key, exited] : unacked_) *reg->add_unacked() = exited;
    return msg;
  }

  void handle(const proto::ControllerToNode& cmd) {
    switch (cmd.msg_case()) {
      case proto::ControllerToNode::kLaunch: launch(cmd.launch()); break;
      case proto::ControllerToNode::kKill: kill(cmd.kill()); break;
      case proto::ControllerToNode::kStepGrant:
        if (cmd.step_grant().has_profile()) {
          const auto& g = cmd.step_grant();
          profiler->enable(g.job_id(), profileJob(g.attempt(), g.profile(), g.gpus()));
        }
        steps->grant(cmd.step_grant());
        break;
      case proto::ControllerToNode::kEndSteps:
        if (cmd.end_steps().step_ids_size() > 0) {  // some steps only: the job goes on
          for (uint32_t step : cmd.end_steps().step_ids()) steps->endStep(cmd.end_steps().job_id(), step);
          break;
        }
        steps->endJob(cmd.end_steps().job_id());
        profiler->finish(cmd.end_steps().job_id());
        break;
      case proto::ControllerToNode::kSignal: signalJob(cmd.signal()); break;
      case proto::ControllerToNode::kAck: {
        std::lock_guard lock(mu_);
        // Acknowledged means stored terminal: the controller never relaunches it, so the
        // launch record can go too (keeps seen_ bounded by the tasks in flight).
        for (const auto& t : cmd.ack().tasks()) {
          unacked_.erase({t.job_id(), t.attempt()});
          seen_.erase({t.job_id(), t.attempt()});
        }
        break;
      }
      case proto::ControllerToNode::kRegistered: {
        {
          std::lock_guard lock(mu_);
          heartbeat_interval = std::chrono::milliseconds(
              std::max<int64_t>(10, cmd.registered().heartbeat_interval_ms()));
          // Supervisors kill their tasks before the controller would give up on this node (and
          // run its jobs elsewhere): a heartbeat (the controller counts from the last one it
          // got) and half a second (their polling, its scheduling pass) sooner; never sooner
          // than two heartbeats.
          if (cmd.registered().node_timeout_ms() > 0)
            fence_after = std::max(2 * heartbeat_interval,
                                   std::chrono::milliseconds(cmd.registered().node_timeout_ms()) -
                                       heartbeat_interval - kFenceMargin);
          cv_.notify_all();
        }
        // At once: a task launched next must not be left with the default until the next tick.
        writeAliveNow();
        // The controller keeps no replica health across its restarts, and reports sent while
        // the stream was down are lost: say every verdict again.
        for (const auto& report : health->allReports()) {
          proto::NodeToController msg;
          *msg.mutable_health() = report;
          send(msg);
        }
        break;
      }
      default: break;
    }
  }

  // The datasets staged in the cache directories ("%n" is the node name). `log_warnings`: at
  // registration only, not at every rescan. Remembers what it found (reported_datasets_).
  std::vector<proto::LocalDataset> scanDatasets(bool log_warnings) {
    std::vector<std::string> dirs;
    for (std::string dir : options.cache_dirs) {
      for (size_t at; (at = dir.find("%n")) != std::string::npos;) dir.replace(at, 2, options.name);
      dirs.push_back(std::move(dir));
    }
    std::vector<std::string> warnings;
    std::vector<proto::LocalDataset> out;
    std::string signature;
    for (const locality::LocalDataset& d : locality::scanCacheDirs(dirs, &warnings)) {
      proto::LocalDataset p;
      p.set_name(d.name);
      p.set_path(d.path);
      p.set_bytes(d.bytes);
      out.push_back(std::move(p));
      signature += d.name + '\0' + d.path + '\0' + std::to_string(d.bytes) + '\n';
    }
    if (log_warnings)
      for (const std::string& w : warnings) log()->warn("cache_dirs: {}", w);
    std::lock_guard lock(datasets_mu_);
    datasets_changed_ = signature != reported_datasets_;
    reported_datasets_ = std::move(signature);
    return out;
  }

  void heartbeatLoop() {
    std::unique_lock lock(mu_);
    auto next_rescan = std::chrono::steady_clock::now() + options.cache_rescan;
    while (!stopping_) {
      cv_.wait_for(lock, heartbeat_interval, [this] { return stopping_; });
      if (stopping_) return;
      lock.unlock();
      proto::NodeToController msg;
      msg.mutable_heartbeat()->set_time(unixNow());
      // Datasets staged (or removed) while the node runs: the controller hears of a change
      // within cache_rescan, not only at the next registration.
      if (!options.cache_dirs.empty() && std::chrono::steady_clock::now() >= next_rescan) {
        next_rescan = std::chrono::steady_clock::now() + options.cache_rescan;
        auto datasets = scanDatasets(false);
        bool changed = false;
        {
          std::lock_guard d(datasets_mu_);
          changed = datasets_changed_;
        }
        if (changed) {
          msg.mutable_heartbeat()->set_datasets_changed(true);
          for (auto& ds : datasets) *msg.mutable_heartbeat()->add_datasets() = std::move(ds);
        }
      }
      send(msg);
      lock.lock();
    }
  }

  // Rewrites the alive file (supervised_task.hpp) on a thread of its own: a heartbeat blocked
  // on a slow controller must not look like a dead daemon to the supervisors.
  void aliveLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      writeAliveNow();
      lock.lock();
      cv_.wait_for(lock, kAliveEvery, [this] { return stopping_; });
    }
  }

  void writeAliveNow() {
    std::chrono::milliseconds fence;
    {
      std::lock_guard lock(mu_);
      fence = fence_after;
    }
    static std::atomic<bool> warned{false};
    std::lock_guard writing(alive_mu_);  // two writers would share the temporary file
    if (Status s = writeAliveFile(alive_file, fence); !s.ok() && !warned.exchange(true))
      log()->error("{}: task supervisors will kill their tasks", s.error().message);
  }

  // ---------------------------------------------------------------- tasks

  void reportExit(const proto::TaskExited& exited) {
    if (!exited.launch_error().empty()) launch_failures_.add();
    {
      std::lock_guard lock(mu_);
      unacked_[{exited.job_id(), exited.attempt()}] = exited;
    }
    proto::NodeToController msg;
    *msg.mutable_exited() = exited;
    send(msg);
  }

  // What the profiler samples of a job: its settings from the controller, the job's GPUs here.
  ProfileJob profileJob(uint32_t attempt, const proto::ProfileSettings& p,
                        const google::protobuf::RepeatedField<uint32_t>& gpus) const {
    ProfileJob job;
    job.attempt = attempt;
    job.gpu = p.types().find("gpu") != std::string::npos;
    job.interval = std::chrono::seconds(p.interval_s());
    job.dir = p.dir();
    for (uint32_t index : gpus)
      for (const auto& g : topology.gpus)
        if (g.index == index && !g.pci_bus_id.empty()) job.gpu_bus_ids.push_back(g.pci_bus_id);
    return job;
  }

  // Every task the profiler may sample: batch scripts and job steps' tasks.
  std::vector<ProfiledTask> profiledTasks() {
    std::vector<ProfiledTask> out;
    {
      std::lock_guard lock(mu_);
      for (const auto& [supervisor, task] : tasks_) out.push_back({task.key.first, "batch", 0, task.pid});
    }
    for (const auto& t : steps->liveTasks())
      out.push_back({t.job_id, std::to_string(t.step_id), t.procid, t.pid});
    return out;
  }

  proto::TaskExited exitRecord(const TaskKey& key) {
    proto::TaskExited e;
    e.set_job_id(key.first);
    e.set_attempt(key.second);
    e.set_exit_code(-1);
    e.set_end_time(unixNow());
    return e;
  }

  void launch(const proto::LaunchTask& l) {
    TaskKey key{l.job_id(), l.attempt()};
    // Before taking mu_: an image layout is unpacked here the first time (seconds).
    Result<std::string> bundle = std::string();
    if (!l.container().empty()) bundle = containers->resolveBundle(l.container());
    std::unique_lock lock(mu_);
    if (seen_.count(key)) return;  // a retried command: never run a task twice
    seen_.insert(key);
    if (killed_early_.erase(key)) {
      lock.unlock();
      auto e = exitRecord(key);
      e.set_cancelled(true);
      reportExit(e);
      return;
    }

    const TaskFiles files = taskFiles(options.state_dir + "/jobs", key.first, key.second);
    const std::string script_path = files.script();
    LaunchSpec spec;
    {
      // Close-on-exec: a task forked meanwhile by another thread must not keep this file open
      // for writing, or exec'ing it fails with ETXTBSY ("Text file busy"; seen when 16 service
      // replicas started at once).
      const std::string& text = l.script();
      int fd = open(script_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
      bool ok = fd >= 0;
      for (size_t done = 0; ok && done < text.size();) {
        ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        done += n > 0 ? static_cast<size_t>(n) : 0;
      }
      if (fd >= 0 && close(fd) != 0) ok = false;
      if (!ok) {
        lock.unlock();
        auto e = exitRecord(key);
        e.set_launch_error("cannot write script " + script_path);
        reportExit(e);
        return;
      }
    }
    chmod(script_path.c_str(), 0755);
    bool root = geteuid() == 0;
    if (root && chown(script_path.c_str(), l.uid(), l.gid()) != 0)
      log()->warn("job={} chown {}: {}", key.first, script_path, strerror(errno));
    if (l.script().rfind("#!", 0) == 0) {
      spec.program = script_path;
    } else {
      spec.program = "/bin/sh";  // like sbatch, a script without #! is a shell script
      spec.args.push_back(script_path);
    }
    spec.args.insert(spec.args.end(), l.args().begin(), l.args().end());
    spec.environment.insert(l.environment().begin(), l.environment().end());
    for (const auto& [k, v] : default_environment) spec.environment.try_emplace(k, v);
    spec.work_dir = l.work_dir();
    spec.stdout_path = l.stdout_path();
    spec.stderr_path = l.stderr_path();
    std::vector<uint32_t> cores(l.cores().begin(), l.cores().end());
    spec.cpus = hostCpusForCores(topology, cores, host_pus);
    spec.environment["LOCUS_CPU_BIND_LIST"] = formatCpuList(spec.cpus);
    // --mem-bind=local (the default): memory from the NUMA domains of the allocated cores only.
    std::vector<uint32_t> domains(l.numa().begin(), l.numa().end());
    std::vector<uint32_t> mems = hostMemsForNuma(topology, domains, host_numa_nodes);
    if (l.mem_bind() != "none") spec.mem_nodes = mems;
    if (!spec.mem_nodes.empty()) spec.environment["LOCUS_MEM_BIND_LIST"] = formatCpuList(spec.mem_nodes);
    // Exactly the allocated GPUs are visible (a job without GPUs sees none of the node's). For
    // the batch script, --gpu-bind closest and none expose the same set: all of the node's
    // allocation; they differ per task in job steps.
    std::vector<uint32_t> gpus(l.gpus().begin(), l.gpus().end());
    for (auto& [k, v] : gpu::visibleDevicesEnvironment(topology.gpus, gpus)) spec.environment[k] = v;
    if (cgroups) {
      TaskLimits limits;
      limits.mem_mb = l.mem_mb();
      limits.cpus = spec.cpus;
      limits.mems = mems;
      limits.cores = static_cast<uint32_t>(cores.size());
      auto procs = cgroups->create(key.first, key.second, limits);
      if (!procs.ok()) {
        log()->warn("job={} cgroup: {}", key.first, procs.error().message);
        lock.unlock();
        std::filesystem::remove(script_path);
        auto e = exitRecord(key);
        e.set_launch_error(procs.error().message);
        reportExit(e);
        return;
      }
      spec.cgroup_procs = std::move(*procs);
    }
    spec.switch_user = root && l.uid() != 0;
    spec.uid = l.uid();
    spec.gid = l.gid();
    // --container: the same command through runc (spec stays the bare view: health checks run
    // on the host, in the task's environment).
    std::string container_id;
    Result<LaunchSpec> run = spec;
    if (!l.container().empty()) {
      container_id = containers->batchId(key.first, key.second);
      ContainerTask ct;
      ct.id = container_id;
      ct.script = script_path;
      ct.mem_mb = l.mem_mb();
      ct.gpus = l.gpus_size() > 0;
      if (bundle.ok()) ct.bundle = *bundle;
      run = bundle.ok() ? containers->wrap(spec, ct) : Result<LaunchSpec>(bundle.error());
    }

    // Started under mu_: the reaper cannot look up the supervisor before it is in tasks_.
    auto started = run.ok() ? startSupervised(*run, files, l) : Result<std::pair<pid_t, pid_t>>(run.error());
    if (!started.ok()) {
      log()->warn("job={} launch failed: {}", key.first, started.error().message);
      lock.unlock();
      if (!container_id.empty()) containers->remove(container_id);
      if (cgroups) cgroups->finish(key.first, key.second);
      removeTaskFiles(files);
      auto e = exitRecord(key);
      e.set_launch_error(started.error().message);
      reportExit(e);
      return;
    }
    Task task;
    task.key = key;
    task.supervisor = started->first;
    task.pid = started->second;
    task.files = files;
    task.container_id = container_id;
    task.grace = std::chrono::seconds(l.kill_grace_s());
    if (l.time_limit_s() > 0) task.deadline = Clock::now() + std::chrono::seconds(l.time_limit_s());
    task.cores = static_cast<uint32_t>(cores.size());
    task.mem_mb = l.mem_mb();
    task.gpus = static_cast<uint32_t>(gpus.size());
    tasks_[task.supervisor] = task;
    launches_.add();
    by_key_[key] = task.supervisor;
    if (l.has_profile()) profiler->enable(key.first, profileJob(key.second, l.profile(), l.gpus()));
    // Checked from now (its grace counts from here), in the environment the task got: the
    // controller's LOCUS_PORT is in it, and a check command sees what the replica sees.
    if (l.has_health()) {
      ProbeTarget target;
      target.check = l.health();
      target.environment = spec.environment;
      target.identity = {spec.switch_user, spec.uid, spec.gid, spec.work_dir};
      health->add(key, std::move(target), Clock::now());
    }
    log()->debug("job={} attempt={} pid={} supervisor={} cpus={}", key.first, key.second, task.pid,
                 task.supervisor, formatCpuList(spec.cpus));
    cv_.notify_all();
  }

  // scancel --signal: the batch script's process group here, and the job's step tasks.
  void signalJob(const proto::SignalJob& s) {
    {
      std::lock_guard lock(mu_);
      if (auto it = by_key_.find({s.job_id(), s.attempt()}); it != by_key_.end())
        ::kill(-tasks_.at(it->second).pid, s.signal());
    }
    steps->signalJob(s.job_id(), s.signal());
  }

  void kill(const proto::KillTask& k) {
    TaskKey key{k.job_id(), k.attempt()};
    std::lock_guard lock(mu_);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
      if (!seen_.count(key)) killed_early_.insert(key);
      return;
    }
    Task& task = tasks_.at(it->second);
    task.cancelled = k.cancel();
    terminate(task);
  }

  // SIGTERM to the whole process group now, SIGKILL after the grace period. Requires mu_.
  void terminate(Task& task) {
    if (task.kill_at) return;  // already on its way out
    // A replica shutting down fails its checks; that must not read as "unhealthy".
    health->remove(task.key);
    ::kill(-task.pid, SIGCONT);
    ::kill(-task.pid, SIGTERM);
    task.kill_at = Clock::now() + task.grace;
    cv_.notify_all();
  }

  void timerLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      auto now = Clock::now();
      auto next = Clock::time_point::max();
      std::vector<Task> ended;  // adopted tasks whose supervisor is gone
      for (auto it = tasks_.begin(); it != tasks_.end();) {
        Task& task = it->second;
        if (task.adopted) {
          if (pidfdEnded(task.pidfd)) {
            ended.push_back(task);
            by_key_.erase(task.key);
            health->remove(task.key);
            it = tasks_.erase(it);
            continue;
          }
          next = std::min(next, now + kAdoptedPollEvery);
        }
        if (task.kill_at) {
          if (*task.kill_at <= now) {
            ::kill(-task.pid, SIGKILL);
            task.kill_at = Clock::time_point::max();  // sent; the reaper finishes it
          } else {
            next = std::min(next, *task.kill_at);
          }
        } else if (task.deadline) {
          if (*task.deadline <= now) {
            task.timed_out = true;
            log()->info("job={} time limit reached", task.key.first);
            terminate(task);
            next = std::min(next, *task.kill_at);
          } else {
            next = std::min(next, *task.deadline);
          }
        }
        ++it;
      }
      if (!ended.empty()) {
        lock.unlock();
        for (const Task& task : ended) finishTask(task, std::nullopt);
        lock.lock();
        continue;
      }
      if (next == Clock::time_point::max()) cv_.wait(lock);
      else cv_.wait_until(lock, next);
    }
  }

  void reaperLoop() {
    uint64_t spawns_seen = 0;
    while (true) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, 0);
      if (pid < 0) {
        std::unique_lock lock(mu_);
        if (errno == ECHILD) {
          if (stopping_) return;
          // No children: wait until a launch adds one (or a short while, to be safe).
          cv_.wait_for(lock, std::chrono::milliseconds(200),
                       [&] { return stopping_ || !tasks_.empty() || spawns_ != spawns_seen; });
          spawns_seen = spawns_;
          if (stopping_ && tasks_.empty()) return;
        }
        continue;
      }
      std::unique_lock lock(mu_);
      auto it = tasks_.find(pid);
      if (it == tasks_.end()) {
        lock.unlock();
        // A step task; an orphan; or a supervisor that failed to start its task (reported).
        steps->reaped(pid, status);
        continue;
      }
      Task task = it->second;
      tasks_.erase(it);
      by_key_.erase(task.key);
      health->remove(task.key);
      lock.unlock();
      finishTask(task, status);
    }
  }

  // Starts `run` under a supervisor. Returns (supervisor pid, task pid) once the task has
  // exec'd; a failure to start it (cgroup, user, working directory, exec) is an error naming
  // the step, and the supervisor exits (reaped like any child).
  Result<std::pair<pid_t, pid_t>> startSupervised(const LaunchSpec& run, const TaskFiles& files,
                                                  const proto::LaunchTask& l) {
    // With what a successor daemon needs to adopt the task (the LaunchTask), written before the
    // supervisor starts: a daemon killed at any instant leaves a task it can find.
    SupervisedSpec spec{run, alive_file, unixNow(), l.SerializeAsString()};
    if (Status st = writeWholeFile(files.spec(), encodeSpec(spec)); !st.ok()) return st.error();
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return unavailable(std::string("pipe: ") + strerror(errno));
    LaunchSpec supervisor;
    supervisor.program = supervisor_program;
    supervisor.args = {files.base};
    supervisor.environment = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
    supervisor.work_dir = "/";
    supervisor.stdout_fd = report[1];
    supervisor.stderr_fd = STDERR_FILENO;  // its few lines go to the daemon's log
    supervisor.die_with_parent = false;    // the point: it outlives a daemon restart
    auto pid = launchProcess(supervisor);
    close(report[1]);
    if (!pid.ok()) {
      close(report[0]);
      return unavailable("cannot start the task supervisor " + supervisor_program + ": " + pid.error().message);
    }
    // One line: "started PID" or "error MESSAGE". The supervisor only launches (milliseconds);
    // the bound is for a machine in trouble.
    std::string line;
    char buf[512];
    struct pollfd p {report[0], POLLIN, 0};
    const auto give_up = Clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos && Clock::now() < give_up) {
      if (poll(&p, 1, 1000) <= 0) continue;
      const ssize_t n = read(report[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    close(report[0]);
    line = line.substr(0, line.find('\n'));
    if (line.rfind("started ", 0) == 0) {
      const pid_t task = static_cast<pid_t>(std::atol(line.c_str() + 8));
      if (task > 1) return std::make_pair(*pid, task);
    }
    ::kill(*pid, SIGKILL);  // a supervisor that said nothing useful: its task dies with it
    if (line.rfind("error ", 0) == 0) return invalidArgument(line.substr(6));
    return unavailable("the task supervisor ended without starting the task" +
                       (line.empty() ? std::string() : ": " + line));
  }

  void removeTaskFiles(const TaskFiles& files) {
    std::error_code ec;
    for (const std::string& f : {files.script(), files.spec()})
      std::filesystem::remove(f, ec);
  }

  // A task whose supervisor has ended (reaped: `supervisor_status`; adopted: nullopt): its exit
  // from BASE.state, its cgroup's verdict, its container and files cleaned up, then reported.
  void finishTask(const Task& task, std::optional<int> supervisor_status) {
    if (task.pidfd >= 0) close(task.pidfd);
    if (task.pid > 1) ::kill(-task.pid, SIGKILL);  // what the script left in its group
    exits_.add();
    auto e = exitRecord(task.key);
    const std::optional<SupervisedExit> recorded = supervisorState(task.files).ended;
    if (recorded) {
      const int status = recorded->wait_status;
      if (WIFEXITED(status)) e.set_exit_code(WEXITSTATUS(status));
      if (WIFSIGNALED(status)) e.set_term_signal(WTERMSIG(status));
      e.set_cpu_time_s(recorded->cpu_time_s);
      e.set_max_rss_kb(recorded->max_rss_kb);
      if (recorded->fenced)
        log()->warn("job={} attempt={} was killed by its supervisor while this daemon was away "
                    "(fenced)", task.key.first, task.key.second);
    } else {
      // Killed itself (its task then died with it: PR_SET_PDEATHSIG).
      log()->warn("job={} attempt={} supervisor ended without an exit record{}: the task was "
                  "killed with it", task.key.first, task.key.second,
                  supervisor_status ? fmt::format(" (status {})", *supervisor_status) : "");
      e.set_term_signal(SIGKILL);
    }
    e.set_timed_out(task.timed_out);
    e.set_cancelled(task.cancelled && !task.timed_out);
    if (cgroups) {
      TaskCgroups::Outcome outcome = cgroups->finish(task.key.first, task.key.second);
      e.set_oom_killed(outcome.oom_killed);
      if (outcome.oom_killed) log()->info("job={} ran out of memory (cgroup OOM kill)", task.key.first);
    }
    // What runc left of the container (all of it if runc was killed) goes before the exit is
    // reported: once the job has ended, nothing of it runs here.
    if (!task.container_id.empty()) containers->remove(task.container_id);
    // Closed before the exit is reported: once the controller has the job's end, its
    // profile here is complete (a cancelled job's too).
    profiler->finish(task.key.first);
    removeTaskFiles(task.files);
    if (task.killed_by_stop) {
      log()->info("job={} attempt={} killed: the daemon is stopping", task.key.first, task.key.second);
      return;
    }
    log()->debug("job={} exited", task.key.first);
    reportExit(e);
  }

  // At start, before anything runs: the batch tasks a predecessor daemon on this spool left.
  // A task whose supervisor still runs is adopted (its time limit, health check and cgroup
  // carry on; the controller hears of it at registration); one that ended meanwhile is
  // reported at registration; whatever else is there (its supervisor killed too) is killed.
  // Returns the adopted tasks' keys (their cgroups and containers stay).
  std::set<TaskKey> recoverTasks(const std::string& jobs_dir) {
    std::set<TaskKey> adopted;
    std::map<TaskKey, TaskFiles> found;
    std::error_code ec;
    std::vector<std::filesystem::path> others;
    for (const auto& entry : std::filesystem::directory_iterator(jobs_dir, ec)) {
      const std::string name = entry.path().filename().string();
      unsigned long long job = 0;
      unsigned attempt = 0;
      int used = 0;
      if (std::sscanf(name.c_str(), "%llu.%u.%n", &job, &attempt, &used) == 2 && used > 0)
        found.emplace(TaskKey{job, attempt}, taskFiles(jobs_dir, job, attempt));
      else
        others.push_back(entry.path());
    }
    for (const auto& path : others) std::filesystem::remove_all(path, ec);
    const std::map<std::string, pid_t> supervisors = runningSupervisors();
    for (const auto& [key, files] : found) {
      auto spec = decodeSpec(readWholeFile(files.spec()).value_or(""));
      proto::LaunchTask l;
      const bool have_launch = spec.ok() && l.ParseFromString(spec->launch);
      const std::string container_id = have_launch && !l.container().empty() ? containers->batchId(key.first, key.second) : "";
      SupervisorState state = spec.ok() ? decodeState(spec->state) : SupervisorState{};
      Task task;
      task.key = key;
      task.files = files;
      task.container_id = container_id;
      task.pid = state.task;
      if (state.ended) {
        log()->info("job={} attempt={} ended while the daemon was away: reported at registration", key.first, key.second);
        finishTask(task, std::nullopt);  // the exit waits in unacked_ for registration
        continue;
      }
      const auto running = supervisors.find(files.base);
      task.supervisor = running == supervisors.end() ? state.supervisor : running->second;
      const int pidfd = have_launch ? openSupervisor(task.supervisor, files.base) : -1;
      if (pidfd < 0) {
        // No supervisor (killed too, or never started): the task died with it; its group's
        // stragglers go. The controller finds the job missing and ends or requeues it.
        if (task.pid > 1 && ::kill(-task.pid, SIGKILL) == 0)
          log()->warn("killed leftover process group {} of job {} (its supervisor is gone)", task.pid, key.first);
        if (cgroups) cgroups->finish(key.first, key.second);
        removeTaskFiles(files);
        continue;
      }
      // A supervisor caught between its start and its "started" line: a moment more.
      for (int i = 0; i < 100 && task.pid <= 1; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        state = supervisorState(files);
        task.pid = state.task;
      }
      const pid_t supervisor = task.supervisor;
      task.adopted = true;
      task.pidfd = pidfd;
      task.grace = std::chrono::seconds(l.kill_grace_s());
      if (l.time_limit_s() > 0)
        task.deadline = Clock::now() + std::chrono::seconds(spec->started + l.time_limit_s() - unixNow());
      task.cores = static_cast<uint32_t>(l.cores_size());
      task.mem_mb = l.mem_mb();
      task.gpus = static_cast<uint32_t>(l.gpus_size());
      if (cgroups) cgroups->adopt(key.first, key.second);
      if (l.has_health()) {
        ProbeTarget target;
        target.check = l.health();
        target.environment = spec->task.environment;
        target.identity = {spec->task.switch_user, spec->task.uid, spec->task.gid, spec->task.work_dir};
        health->add(key, std::move(target), Clock::now());
      }
      log()->info("job={} attempt={} adopted: pid={} supervisor={}", key.first, key.second, task.pid, supervisor);
      std::lock_guard lock(mu_);
      seen_.insert(key);
      by_key_[key] = supervisor;
      tasks_[supervisor] = std::move(task);
      adopted.insert(key);
    }
    return adopted;
  }
};

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Agent::~Agent() { stop(); }

namespace {

// What every task of an emulated node gets (unless its job sets them), so that an Open MPI
// program started any way at all (plain `mpirun` in a batch script, which starts its daemons
// through srun; `locus run --mpi openmpi` passes the same on mpirun's command line) works when
// several emulated nodes share this machine: ranks of different nodes must not use the shared
// memory transport between them (vader crashes), and Open MPI talks over loopback. Real nodes
// get nothing. (Each node's orted also needs a session directory of its own: StepHost.)
std::map<std::string, std::string> emulatedNodeEnvironment() {
  return {{"OMPI_MCA_btl", "tcp,self"},
          {"OMPI_MCA_btl_tcp_if_include", "lo"},
          {"OMPI_MCA_oob_tcp_if_include", "lo"}};
}

}  // namespace

Result<std::unique_ptr<Agent>> Agent::create(const AgentOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto topology = discoverTopology(options.discovery);
  if (!topology.ok()) return topology.error();
  impl->topology = std::move(*topology);
  impl->host_pus = hostPuCount();
  impl->host_numa_nodes = hostNumaNodes();
  std::string why_not;
  // The cgroup subtree is this daemon's alone: named after the node and its spool, so a daemon
  // restarted on the same spool finds (and clears) its predecessor's groups, while two
  // clusters on one machine that both have a node "n1" (tests, emulation) never touch each
  // other's tasks.
  char spool_tag[16];
  std::snprintf(spool_tag, sizeof spool_tag, "%06zx",
                std::hash<std::string>{}(std::filesystem::absolute(options.state_dir).string()) & 0xffffff);
  impl->cgroups = TaskCgroups::detect(options.name + "-" + spool_tag, &why_not);
  impl->containers = std::make_unique<OciRuntime>(options.state_dir, options.name + "-" + spool_tag);
  if (!options.discovery.xml_path.empty() || !options.discovery.synthetic.empty()) {
    impl->default_environment = emulatedNodeEnvironment();
    std::error_code ec;
    std::filesystem::create_directories(options.state_dir + "/ompi", ec);
    // Like /tmp: every job's user writes its session directory there.
    std::filesystem::permissions(options.state_dir + "/ompi", std::filesystem::perms::all | std::filesystem::perms::sticky_bit, ec);
  }
  Impl* raw = impl.get();
  StepHost step_host;
  step_host.node_name = options.name;
  step_host.default_environment = impl->default_environment;
  if (!impl->default_environment.empty())
    step_host.orted_session_base = std::filesystem::absolute(options.state_dir).string() + "/ompi";
  step_host.topology = &raw->topology;
  step_host.host_pus = raw->host_pus;
  step_host.host_numa_nodes = raw->host_numa_nodes;
  step_host.cgroups = raw->cgroups.get();
  step_host.containers = raw->containers.get();
  step_host.report = [raw](const proto::StepEnded& ended) {
    proto::NodeToController msg;
    *msg.mutable_step_ended() = ended;
    raw->send(msg);
  };
  step_host.spawned = [raw] {
    std::lock_guard lock(raw->mu_);
    ++raw->spawns_;
    raw->cv_.notify_all();
  };
  impl->steps = std::make_unique<StepService>(std::move(step_host));
  impl->health = std::make_unique<HealthProber>([raw](const proto::HealthReport& report) {
    proto::NodeToController msg;
    *msg.mutable_health() = report;
    raw->send(msg);  // dropped while disconnected: the re-registration says it again
  });
  impl->profiler = std::make_unique<Profiler>(options.name, [raw] { return raw->profiledTasks(); });
  auto served = impl->steps->start(localAddressToward(options.controller.substr(0, options.controller.find(','))));
  if (!served.ok()) return served.error();
  impl->step_address = *served;
  if (impl->cgroups) {
    impl->limits = impl->cgroups->describe();
  } else {
    impl->limits = "binding only (" + why_not + ")";
    log()->warn("node={} no usable cgroups, tasks are bound to their CPUs and NUMA nodes but "
                "their memory is not limited: {}", options.name, why_not);
  }
  std::random_device rd;
  impl->boot_id = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(getpid());
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir + "/jobs", ec);
  if (ec) return unavailable("cannot create " + options.state_dir + "/jobs: " + ec.message());
  impl->supervisor_program = supervisorProgram();
  if (access(impl->supervisor_program.c_str(), X_OK) != 0)
    return unavailable("cannot run the task supervisor " + impl->supervisor_program + ": " + strerror(errno) +
                       " (it is installed beside locus-node)");
  // Said before anything else: a predecessor's supervisors are waiting to hear from a daemon.
  impl->alive_file = std::filesystem::absolute(options.state_dir).string() + "/alive";
  if (Status st = writeAliveFile(impl->alive_file, kDefaultFence); !st.ok()) return st.error();
  // A predecessor's tasks: adopted, reported or killed; then its other leftovers go.
  const std::set<TaskKey> adopted = impl->recoverTasks(options.state_dir + "/jobs");
  std::set<std::string> adopted_containers;
  for (const auto& key : adopted) adopted_containers.insert(impl->containers->batchId(key.first, key.second));
  if (impl->cgroups) impl->cgroups->removeAll(false, adopted);
  impl->containers->removeAll(adopted_containers);  // a predecessor's, stopped or not
  // Users' scripts live here; they must be able to reach (not list) them.
  chmod(options.state_dir.c_str(), 0711);
  chmod((options.state_dir + "/jobs").c_str(), 0711);
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

std::string Agent::metricsText() const {
  Impl& i = *impl_;  // the pointer is const, not what it points to
  size_t tasks = 0;
  uint64_t cores = 0, mem_mb = 0, gpus = 0;
  {
    std::lock_guard lock(i.mu_);
    tasks = i.tasks_.size();
    for (const auto& [pid, task] : i.tasks_) {
      cores += task.cores;
      mem_mb += task.mem_mb;
      gpus += task.gpus;
    }
  }
  bool connected = false;
  {
    std::lock_guard lock(i.stream_mu_);
    connected = i.stream_ != nullptr;
  }
  using metrics::MetricType;
  metrics::ExpositionWriter w;
  const metrics::Labels node{{"node", i.options.name}};
  auto gauge = [&](const char* name, const char* help, double value) {
    w.family(name, MetricType::kGauge, help);
    w.sample(node, value);
  };
  auto counter = [&](const char* name, const char* help, const metrics::Counter& c) {
    w.family(name, MetricType::kCounter, help);
    w.sample(node, static_cast<double>(c.value()));
  };
  constexpr double kBytesPerMb = 1024.0 * 1024.0;
  gauge("locus_node_connected", "1 while the daemon's stream to the controller is open.",
        connected ? 1 : 0);
  gauge("locus_node_tasks_running", "Batch scripts running on this node.",
        static_cast<double>(tasks));
  gauge("locus_node_cores", "Cores of this node (emulated ones included).", i.topology.coreCount());
  gauge("locus_node_allocated_cores", "Cores bound to the batch scripts running here.",
        static_cast<double>(cores));
  gauge("locus_node_memory_bytes", "Memory of this node.", i.topology.mem_mb * kBytesPerMb);
  gauge("locus_node_allocated_memory_bytes", "Memory allocated to the batch scripts running here.",
        mem_mb * kBytesPerMb);
  gauge("locus_node_gpus", "GPUs of this node.", static_cast<double>(i.topology.gpus.size()));
  gauge("locus_node_allocated_gpus", "GPUs given to the batch scripts running here.",
        static_cast<double>(gpus));
  counter("locus_node_launches_total", "Batch scripts started since the daemon started.",
          i.launches_);
  counter("locus_node_launch_failures_total", "Launches that failed (script, cgroup or exec).",
          i.launch_failures_);
  counter("locus_node_task_exits_total", "Batch scripts that ended since the daemon started.",
          i.exits_);
  return w.text();
}

void Agent::start() {
  Impl& i = *impl_;
  log()->info("node={} cores={} pus={} numa={} gpus={} host_pus={} limits={}", i.options.name,
              i.topology.coreCount(), i.topology.puCount(), i.topology.numa.size(),
              i.topology.gpus.size(), i.host_pus, i.limits);
  i.reaper_thread_ = std::thread([&i] { i.reaperLoop(); });
  i.timer_thread_ = std::thread([&i] { i.timerLoop(); });
  i.heartbeat_thread_ = std::thread([&i] { i.heartbeatLoop(); });
  i.alive_thread_ = std::thread([&i] { i.aliveLoop(); });
  i.health->start();
  i.profiler->start();
  i.connect_thread_ = std::thread([&i] { i.connectLoop(); });
}

void Agent::stop() {
  Impl& i = *impl_;
  {
    std::lock_guard lock(i.mu_);
    if (i.stopping_) return;
    i.stopping_ = true;
    for (auto& [supervisor, task] : i.tasks_) {
      task.killed_by_stop = true;
      ::kill(-task.pid, SIGKILL);
    }
    i.cv_.notify_all();
  }
  // Its thread finishes the probe in progress first (at most 10 s); the tasks are already dead.
  i.health->stop();
  i.profiler->stop();  // every profile closed: its tasks are dead
  i.steps->stop();  // before the reaper goes: it reaps the step tasks this kills
  {
    std::lock_guard lock(i.stream_mu_);
    if (i.context_) i.context_->TryCancel();
  }
  for (auto* t : {&i.connect_thread_, &i.heartbeat_thread_, &i.alive_thread_, &i.timer_thread_,
                  &i.reaper_thread_})
    if (t->joinable()) t->join();
  // Adopted tasks' supervisors are not our children (the reaper did not wait for them): each
  // ends within moments of its task's SIGKILL above.
  std::vector<Task> adopted;
  {
    std::lock_guard lock(i.mu_);
    for (auto& [supervisor, task] : i.tasks_)
      if (task.adopted) adopted.push_back(task);
    i.tasks_.clear();
    i.by_key_.clear();
  }
  const auto give_up = Clock::now() + std::chrono::seconds(2);
  for (const Task& task : adopted) {
    struct pollfd p {task.pidfd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now());
    poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    i.finishTask(task, std::nullopt);
  }
  if (i.cgroups) i.cgroups->removeAll(/*and_subtree=*/true);
  i.containers->removeAll();  // every task was reaped and removed its own: a safety net
}

void Agent::detach() {
  Impl& i = *impl_;
  size_t left = 0;
  {
    std::lock_guard lock(i.mu_);
    if (i.stopping_) return;
    i.stopping_ = true;
    left = i.tasks_.size();
    i.cv_.notify_all();
  }
  i.health->stop();
  i.profiler->stop();  // profiles are closed cleanly; a successor does not sample adopted tasks
  i.steps->stop();     // job steps' tasks are this process's children: they end here
  {
    std::lock_guard lock(i.stream_mu_);
    if (i.context_) i.context_->TryCancel();
  }
  for (auto* t : {&i.connect_thread_, &i.heartbeat_thread_, &i.alive_thread_, &i.timer_thread_})
    if (t->joinable()) t->join();
  // Blocked in waitpid() while supervisors live; the process exits without it.
  if (i.reaper_thread_.joinable()) i.reaper_thread_.detach();
  log()->info("node={} leaving {} batch task(s) to their supervisors for the next daemon", i.options.name, left);
}

}  // namespace locus::nodedaemon
