#include "nodedaemon/step_service.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/exec_path.hpp"
#include "common/logging.hpp"
#include "gpu/visible_devices.hpp"
#include "nodedaemon/cgroups.hpp"
#include "nodedaemon/discovery.hpp"
#include "nodedaemon/launcher.hpp"
#include "nodedaemon/oci_container.hpp"
#include "proto/locus.grpc.pb.h"

namespace locus::nodedaemon {
namespace {

auto log() {
  static auto l = logger("node.steps");
  return l;
}

// How long a client that arrived before its grant waits for it: the grant leaves the controller
// before the controller answers the client, so it is normally here first; a busy stream may
// delay it by a few milliseconds.
constexpr auto kGrantWait = std::chrono::seconds{10};
// After a task's process ended, how long its output pipes may stay open (held by something it
// left running in another session) before the step stops reading them.
constexpr auto kPipeDrain = std::chrono::seconds{2};
constexpr size_t kReadChunk = 64 * 1024;
// After the last task ended, how long the client has to close its side of the stream.
constexpr auto kClientClose = std::chrono::seconds{5};

using StepKey = std::pair<uint64_t, uint32_t>;  // (job id, step id)

struct Task {
  uint32_t procid = 0;
  pid_t pid = 0;
  int out = -1, err = -1;  // our ends of its stdout/stderr pipes; -1 once closed
  int in = -1;             // our end of its stdin pipe (task 0 with forwarded stdin), -1 if none
  std::string container_id;  // runc's id when it runs in a container; "" = bare
  bool exited = false;
  int status = 0;
  std::chrono::steady_clock::time_point exited_at{};
  bool reported = false;
};

// One step on this node, from its grant to its last task's end.
struct Step {
  proto::StepGrant grant;
  bool claimed = false;  // a RunTasks stream took it (a token is good once)
  bool killed = false;   // SIGKILLed by us: client gone, job ended, daemon stopping
  std::vector<Task> tasks;  // guarded by Impl::mu_ (exit fields written by the reaper)
  int wake[2] = {-1, -1};   // the reaper writes a byte here when one of the tasks exits
};

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

void closeFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

struct StepService::Impl final : public proto::StepApi::Service {
  StepHost host;
  std::unique_ptr<grpc::Server> server;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                               // guarded by mu_
  std::map<StepKey, std::shared_ptr<Step>> steps_;      // guarded by mu_
  std::map<pid_t, std::shared_ptr<Step>> by_pid_;       // guarded by mu_

  // Tasks are started from this one long-lived thread: PR_SET_PDEATHSIG fires when the thread
  // that forked a child ends, and gRPC's handler threads come and go.
  std::mutex spawn_mu_;
  std::condition_variable spawn_cv_;
  std::deque<std::function<void()>> spawn_queue_;  // guarded by spawn_mu_
  bool spawn_stop_ = false;                        // guarded by spawn_mu_
  std::thread spawner_;
  // Detached steps running (each on a detached thread); stop() waits for them. Guarded by mu_,
  // signalled on cv_.
  size_t detached_running_ = 0;

  void spawnLoop() {
    std::unique_lock lock(spawn_mu_);
    while (true) {
      spawn_cv_.wait(lock, [this] { return spawn_stop_ || !spawn_queue_.empty(); });
      if (spawn_queue_.empty()) return;
      auto job = std::move(spawn_queue_.front());
      spawn_queue_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  // Runs `fn` on the spawner thread and waits for it.
  void onSpawner(const std::function<void()>& fn) {
    std::mutex done_mu;
    std::condition_variable done_cv;
    bool done = false;
    {
      std::lock_guard lock(spawn_mu_);
      spawn_queue_.push_back([&] {
        fn();
        std::lock_guard l(done_mu);
        done = true;
        done_cv.notify_all();
      });
    }
    spawn_cv_.notify_all();
    std::unique_lock l(done_mu);
    done_cv.wait(l, [&] { return done; });
  }

  std::shared_ptr<Step> awaitGrant(const StepKey& key) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kGrantWait, [&] { return stopping_ || steps_.count(key); });
    auto it = steps_.find(key);
    return it == steps_.end() ? nullptr : it->second;
  }

  // SIGKILL to every running task's process group. Requires mu_.
  void killLocked(Step& step) {
    step.killed = true;
    for (const Task& t : step.tasks)
      if (t.pid > 0 && !t.exited) ::kill(-t.pid, SIGKILL);
  }

  grpc::Status RunTasks(grpc::ServerContext* ctx,
                        grpc::ServerReaderWriter<proto::StepEvent, proto::StepInput>* stream) override {
    proto::StepInput first;
    if (!stream->Read(&first) || !first.has_start())
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must start the step");
    const proto::StepStart& start = first.start();
    const StepKey key{start.job_id(), start.step_id()};
    auto refuse = [&](const std::string& why) {
      proto::StepEvent e;
      e.set_error(why);
      stream->Write(e);
      return grpc::Status::OK;
    };
    std::shared_ptr<Step> step = awaitGrant(key);
    if (!step) return refuse("step " + std::to_string(key.first) + "." + std::to_string(key.second) +
                             " is not granted on " + host.node_name);
    {
      std::lock_guard lock(mu_);
      // A token is a capability: compared in full, usable once.
      if (step->grant.token().size() != start.token().size() ||
          !std::equal(start.token().begin(), start.token().end(), step->grant.token().begin()))
        return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "bad step token");
      if (step->claimed) return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "step already started here");
      // Refused before it is claimed: a claimed step always reports its end.
      if (start.argv().empty()) return refuse("no command");
      step->claimed = true;
    }
    const std::string group = groupOf(step->grant);
    std::string error = launchAll(*step, start, group);
    if (!error.empty()) {
      proto::StepEvent e;
      e.set_error(error);
      stream->Write(e);
    }

    // Input from the client: stdin for task 0, signals, and its disappearance.
    std::atomic<bool> finished{false};
    std::mutex reader_mu;
    std::condition_variable reader_cv;
    bool reader_done = false;
    std::thread reader([&] {
      proto::StepInput in;
      while (stream->Read(&in)) {
        std::lock_guard lock(mu_);
        if (in.has_signal()) {
          for (const Task& t : step->tasks)
            if (t.pid > 0 && !t.exited) ::kill(-t.pid, in.signal());
        } else if (in.msg_case() == proto::StepInput::kStdin) {
          for (Task& t : step->tasks) {
            if (t.in < 0) continue;
            const std::string& data = in.stdin();
            size_t off = 0;
            while (off < data.size()) {
              ssize_t n = write(t.in, data.data() + off, data.size() - off);
              if (n <= 0) break;  // the task closed its stdin: the rest is dropped
              off += static_cast<size_t>(n);
            }
          }
        } else if (in.has_stdin_eof()) {
          for (Task& t : step->tasks) closeFd(t.in);
        }
      }
      // The stream is over. Before the tasks ended, that means the client is gone: nothing may
      // outlive it.
      if (!finished) {
        std::lock_guard lock(mu_);
        if (std::any_of(step->tasks.begin(), step->tasks.end(), [](const Task& t) { return t.pid > 0 && !t.exited; })) {
          log()->info("job={} step={} client gone: killing its tasks", key.first, key.second);
          killLocked(*step);
        }
      }
      std::lock_guard lock(reader_mu);
      reader_done = true;
      reader_cv.notify_all();
    });

    pump(*step, [&](const proto::StepEvent& e) { stream->Write(e); });
    finished = true;
    finishStep(key, *step, group);
    // The client half-closes once it has every task's end; one that does not is cut off.
    {
      std::unique_lock lock(reader_mu);
      if (!reader_cv.wait_for(lock, kClientClose, [&] { return reader_done; })) ctx->TryCancel();
    }
    reader.join();
    return grpc::Status::OK;
  }

  // Every task of the step has ended: the controller is told, the step forgotten here.
  void finishStep(const StepKey& key, Step& step, const std::string& group) {
    proto::StepEnded ended;
    ended.set_job_id(key.first);
    ended.set_step_id(key.second);
    {
      std::lock_guard lock(mu_);
      ended.set_killed(step.killed);
      for (const Task& t : step.tasks) {
        auto* e = ended.add_tasks();
        e->set_procid(t.procid);
        e->set_exit_code(t.pid > 0 ? exitCodeOf(t.status) : 127);
        e->set_term_signal(t.pid > 0 && WIFSIGNALED(t.status) ? WTERMSIG(t.status) : 0);
        by_pid_.erase(t.pid);
      }
      steps_.erase(key);
    }
    if (host.cgroups) host.cgroups->finish(group);
    closeFd(step.wake[0]);
    closeFd(step.wake[1]);
    if (host.report) host.report(ended);
  }

  static std::string groupOf(const proto::StepGrant& g) {
    return "job_" + std::to_string(g.job_id()) + "." + std::to_string(g.attempt()) + ".step_" +
           std::to_string(g.step_id());
  }

  // A detached step, on a thread of its own: started, waited for, reported. Nobody reads its
  // output (it goes to the files its start names) or forwards signals to it.
  void runDetached(std::shared_ptr<Step> step) {
    const StepKey key{step->grant.job_id(), step->grant.step_id()};
    const std::string group = groupOf(step->grant);
    std::string error;
    if (step->grant.detached_start().argv().empty()) {
      std::lock_guard lock(mu_);
      addNeverStarted(*step);  // ends at once, as an exec failure
      error = "no command";
    } else {
      error = launchAll(*step, step->grant.detached_start(), group);
    }
    if (!error.empty()) log()->warn("job={} step={} could not start: {}", key.first, key.second, error);
    pump(*step, [](const proto::StepEvent&) {});
    finishStep(key, *step, group);
  }

  // Starts every task of the step on this node; returns "" or why a task could not start (the
  // tasks started before it are killed then).
  // Tasks of the grant that never started count as ended with 127 (exec failure): the step
  // ends, and fails, whatever stopped them. Requires mu_.
  void addNeverStarted(Step& step) {
    for (const auto& t : step.grant.node().tasks()) {
      bool started = std::any_of(step.tasks.begin(), step.tasks.end(),
                                 [&](const Task& s) { return s.procid == t.procid(); });
      if (started) continue;
      Task never;
      never.procid = t.procid();
      never.exited = true;
      never.status = 127 << 8;
      step.tasks.push_back(never);
    }
  }

  std::string launchAll(Step& step, const proto::StepStart& start, const std::string& group) {
    const proto::StepGrant& g = step.grant;
    const NodeTopology& topo = *host.topology;
    auto failBeforeStart = [&](std::string why) {
      std::lock_guard lock(mu_);
      addNeverStarted(step);
      return why;
    };
    if (pipe2(step.wake, O_CLOEXEC | O_NONBLOCK) != 0)
      return failBeforeStart(std::string("pipe: ") + std::strerror(errno));

    std::vector<uint32_t> all_cpus;
    for (const auto& t : g.node().tasks()) {
      std::vector<uint32_t> cores(t.cores().begin(), t.cores().end());
      auto cpus = hostCpusForCores(topo, cores, host.host_pus);
      all_cpus.insert(all_cpus.end(), cpus.begin(), cpus.end());
    }
    std::vector<uint32_t> domains(g.numa().begin(), g.numa().end());
    std::vector<uint32_t> mems = hostMemsForNuma(topo, domains, host.host_numa_nodes);
    std::vector<std::string> procs;
    if (host.cgroups) {
      TaskLimits limits;
      limits.mem_mb = g.mem_mb();
      limits.cpus = all_cpus;
      limits.mems = mems;
      limits.cores = 0;
      for (const auto& t : g.node().tasks()) limits.cores += static_cast<uint32_t>(t.cores_size());
      auto created = host.cgroups->create(group, limits);
      if (!created.ok()) return failBeforeStart(created.error().message);
      procs = std::move(*created);
    }
    std::vector<uint32_t> gpus(g.gpus().begin(), g.gpus().end());
    const auto gpu_env = gpu::visibleDevicesEnvironment(topo.gpus, gpus);
    // --container: resolved here, off the spawner (an image layout is unpacked the first time).
    std::string bundle;
    if (!start.container().empty()) {
      if (!host.containers) return failBeforeStart("containers are not supported here");
      auto resolved = host.containers->resolveBundle(start.container());
      if (!resolved.ok()) return failBeforeStart(resolved.error().message);
      bundle = *resolved;
    }
    const bool root = geteuid() == 0;
    std::map<uint32_t, uint32_t> domain_of_core;  // logical core -> position in topo.numa
    for (uint32_t d = 0; d < topo.numa.size(); ++d)
      for (const auto& core : topo.numa[d].cores) domain_of_core[core.id] = d;

    std::string error;
    onSpawner([&] {
      std::lock_guard lock(mu_);
      if (stopping_) {
        error = "node daemon stopping";
        return;
      }
      // A detached step's output goes to files: nobody streams it.
      const bool detached = g.has_detached_start();
      for (const auto& t : g.node().tasks()) {
        Task task;
        task.procid = t.procid();
        int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
        if (!detached && (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)) {
          error = std::string("pipe: ") + std::strerror(errno);
          break;
        }
        const bool stdin_here = start.stdin_to_task0() && t.procid() == 0;
        if (stdin_here && pipe2(in, O_CLOEXEC) != 0) {
          error = std::string("pipe: ") + std::strerror(errno);
          break;
        }
        LaunchSpec spec;
        spec.environment.insert(start.environment().begin(), start.environment().end());
        for (const auto& [k, v] : g.environment()) spec.environment[k] = v;
        for (const auto& [k, v] : host.default_environment) spec.environment.try_emplace(k, v);
        if (!host.orted_session_base.empty() &&
            std::filesystem::path(start.argv(0)).filename() == "orted")
          spec.environment.try_emplace("OMPI_MCA_orte_tmpdir_base", host.orted_session_base);
        for (const auto& [k, v] : gpu_env) spec.environment[k] = v;
        std::vector<uint32_t> cores(t.cores().begin(), t.cores().end());
        spec.cpus = hostCpusForCores(topo, cores, host.host_pus);
        const std::string procid = std::to_string(t.procid());
        const std::string localid = std::to_string(t.localid());
        const std::string nodeid = std::to_string(g.node().nodeid());
        for (const char* prefix : {"LOCUS_", "SLURM_"}) {
          spec.environment[std::string(prefix) + "PROCID"] = procid;
          spec.environment[std::string(prefix) + "LOCALID"] = localid;
          spec.environment[std::string(prefix) + "NODEID"] = nodeid;
        }
        spec.environment["LOCUS_NODENAME"] = host.node_name;
        spec.environment["SLURMD_NODENAME"] = host.node_name;
        spec.environment["LOCUS_CPU_BIND_LIST"] = formatCpuList(spec.cpus);
        if (g.mem_bind() != "none") {
          std::vector<uint32_t> task_domains;
          for (uint32_t c : cores)
            if (auto it = domain_of_core.find(c); it != domain_of_core.end()) task_domains.push_back(it->second);
          spec.mem_nodes = hostMemsForNuma(topo, task_domains, host.host_numa_nodes);
        }
        spec.work_dir = start.work_dir().empty() ? "/" : start.work_dir();
        // execvp's search, done here: the launch child may not allocate.
        auto path = spec.environment.find("PATH");
        spec.program = findExecutable(start.argv(0),
                                      path == spec.environment.end() ? "/usr/local/bin:/usr/bin:/bin" : path->second,
                                      spec.work_dir);
        spec.args.assign(start.argv().begin() + 1, start.argv().end());
        spec.stdin_fd = stdin_here ? in[0] : -1;
        spec.stdout_fd = out[1];
        spec.stderr_fd = err[1];
        if (detached) {
          spec.stdout_path = start.stdout_path().empty() ? "/dev/null" : start.stdout_path();
          spec.stderr_path = start.stderr_path().empty() ? spec.stdout_path : start.stderr_path();
        }
        spec.cgroup_procs = procs;
        spec.switch_user = root && g.uid() != 0;
        spec.uid = g.uid();
        spec.gid = g.gid();
        Result<LaunchSpec> run = spec;
        std::string container_id;
        if (!bundle.empty()) {
          container_id = host.containers->stepTaskId(g.job_id(), g.attempt(), g.step_id(), t.procid());
          spec.program = start.argv(0);  // searched in the container's PATH, not the host's
          ContainerTask ct;
          ct.bundle = bundle;
          ct.id = container_id;
          ct.mem_mb = g.mem_mb();
          ct.gpus = !gpus.empty();
          run = host.containers->wrap(spec, ct);
        }
        auto pid = run.ok() ? launchProcess(*run) : Result<pid_t>(run.error());
        if (!pid.ok() && !container_id.empty()) host.containers->remove(container_id);
        closeFd(out[1]);
        closeFd(err[1]);
        if (in[0] >= 0) close(in[0]);
        if (!pid.ok()) {
          closeFd(out[0]);
          closeFd(err[0]);
          if (in[1] >= 0) close(in[1]);
          error = "task " + procid + ": " + pid.error().message;
          break;
        }
        task.pid = *pid;
        task.container_id = container_id;
        task.out = out[0];
        task.err = err[0];
        task.in = in[1];
        step.tasks.push_back(task);
        by_pid_[*pid] = steps_.at({g.job_id(), g.step_id()});
      }
      // A step that could not start whole does not run in part. It failed (127 for the tasks
      // that never started), it was not killed: `killed` stays for a client gone or a job ended.
      if (!error.empty())
        for (const Task& t : step.tasks)
          if (t.pid > 0 && !t.exited) ::kill(-t.pid, SIGKILL);
      addNeverStarted(step);
    });
    if (host.spawned) host.spawned();
    return error;
  }

  // Streams the tasks' output until every task has exited and its pipes are drained.
  void pump(Step& step, const std::function<void(const proto::StepEvent&)>& write) {
    std::vector<char> buf(kReadChunk);
    while (true) {
      std::vector<pollfd> fds;
      std::vector<std::pair<size_t, bool>> owner;  // task index, is stderr
      bool all_done = true;
      {
        std::lock_guard lock(mu_);
        const auto now = std::chrono::steady_clock::now();
        for (size_t i = 0; i < step.tasks.size(); ++i) {
          Task& t = step.tasks[i];
          if (t.exited && now - t.exited_at > kPipeDrain && t.pid > 0) {
            closeFd(t.out);  // something it left behind holds the pipe: stop waiting for it
            closeFd(t.err);
          }
          if (t.out >= 0) {
            fds.push_back({t.out, POLLIN, 0});
            owner.emplace_back(i, false);
          }
          if (t.err >= 0) {
            fds.push_back({t.err, POLLIN, 0});
            owner.emplace_back(i, true);
          }
          if (t.exited && t.out < 0 && t.err < 0 && !t.reported) {
            t.reported = true;
            proto::StepEvent e;
            e.mutable_ended()->set_procid(t.procid);
            e.mutable_ended()->set_exit_code(t.pid > 0 ? exitCodeOf(t.status) : 127);
            e.mutable_ended()->set_term_signal(t.pid > 0 && WIFSIGNALED(t.status) ? WTERMSIG(t.status) : 0);
            write(e);
          }
          all_done = all_done && t.reported;
        }
      }
      if (all_done) return;
      fds.push_back({step.wake[0], POLLIN, 0});
      int n = poll(fds.data(), fds.size(), 200);
      if (n < 0 && errno != EINTR) return;
      char drain[64];
      while (read(step.wake[0], drain, sizeof drain) > 0) {
      }
      for (size_t f = 0; f + 1 < fds.size(); ++f) {
        if (!(fds[f].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t got = read(fds[f].fd, buf.data(), buf.size());
        auto [index, is_err] = owner[f];
        if (got > 0) {
          proto::StepEvent e;
          e.mutable_output()->set_procid(step.tasks[index].procid);
          e.mutable_output()->set_is_stderr(is_err);
          e.mutable_output()->set_data(buf.data(), static_cast<size_t>(got));
          write(e);
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          std::lock_guard lock(mu_);
          closeFd(is_err ? step.tasks[index].err : step.tasks[index].out);
        }
      }
    }
  }
};

StepService::StepService(StepHost host) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->spawner_ = std::thread([this] { impl_->spawnLoop(); });
}

StepService::~StepService() { stop(); }

Result<std::string> StepService::start(const std::string& host) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(host + ":0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(impl_.get());
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || port == 0) return unavailable("cannot serve job steps on " + host);
  return host + ":" + std::to_string(port);
}

void StepService::stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu_);
    if (m.stopping_) return;
    m.stopping_ = true;
    for (auto& [key, step] : m.steps_) m.killLocked(*step);
    m.cv_.notify_all();
  }
  // The handlers finish once the killed tasks are reaped (the agent's reaper still runs).
  if (m.server) m.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  {
    // Their tasks were killed above; they end once those are reaped.
    std::unique_lock lock(m.mu_);
    m.cv_.wait(lock, [&] { return m.detached_running_ == 0; });
  }
  {
    std::lock_guard lock(m.spawn_mu_);
    m.spawn_stop_ = true;
  }
  m.spawn_cv_.notify_all();
  if (m.spawner_.joinable()) m.spawner_.join();
}

void StepService::grant(const proto::StepGrant& grant) {
  std::lock_guard lock(impl_->mu_);
  StepKey key{grant.job_id(), grant.step_id()};
  if (impl_->steps_.count(key)) return;  // a repeated grant: the first stands
  auto step = std::make_shared<Step>();
  step->grant = grant;
  impl_->steps_[key] = step;
  impl_->cv_.notify_all();
  if (grant.has_detached_start() && !impl_->stopping_) {
    step->claimed = true;  // no client may take it over
    impl_->detached_running_ += 1;
    std::thread([this, step] {
      impl_->runDetached(step);
      std::lock_guard lock(impl_->mu_);
      impl_->detached_running_ -= 1;
      impl_->cv_.notify_all();
    }).detach();
  }
}

void StepService::endStep(uint64_t job_id, uint32_t step_id) {
  std::lock_guard lock(impl_->mu_);
  auto it = impl_->steps_.find({job_id, step_id});
  if (it == impl_->steps_.end()) return;
  if (it->second->claimed) impl_->killLocked(*it->second);
  else impl_->steps_.erase(it);
}

void StepService::endJob(uint64_t job_id) {
  std::lock_guard lock(impl_->mu_);
  for (auto it = impl_->steps_.begin(); it != impl_->steps_.end();) {
    if (it->first.first != job_id) {
      ++it;
      continue;
    }
    if (it->second->claimed) {
      impl_->killLocked(*it->second);
      ++it;
    } else {
      it = impl_->steps_.erase(it);  // never started: nothing to kill, nobody to tell
    }
  }
}

void StepService::signalJob(uint64_t job_id, int signal) {
  std::lock_guard lock(impl_->mu_);
  for (auto& [key, step] : impl_->steps_) {
    if (key.first != job_id) continue;
    for (const Task& t : step->tasks)
      if (t.pid > 0 && !t.exited) ::kill(-t.pid, signal);
  }
}

bool StepService::reaped(pid_t pid, int status) {
  // A task in a container: the container, and whatever runs on in it, goes before the task counts
  // as ended (when the step's end is seen, nothing of it runs), outside mu_ (runc takes
  // milliseconds).
  std::string container;
  {
    std::lock_guard lock(impl_->mu_);
    auto it = impl_->by_pid_.find(pid);
    if (it == impl_->by_pid_.end()) return false;
    for (const Task& t : it->second->tasks)
      if (t.pid == pid) container = t.container_id;
  }
  if (!container.empty() && impl_->host.containers) impl_->host.containers->remove(container);
  std::lock_guard lock(impl_->mu_);
  auto it = impl_->by_pid_.find(pid);
  if (it == impl_->by_pid_.end()) return false;
  Step& step = *it->second;
  for (Task& t : step.tasks) {
    if (t.pid != pid) continue;
    t.exited = true;
    t.status = status;
    t.exited_at = std::chrono::steady_clock::now();
    ::kill(-pid, SIGKILL);  // what the task left in its process group goes with it
  }
  if (step.wake[1] >= 0) {
    char c = 1;
    ssize_t ignored = write(step.wake[1], &c, 1);
    (void)ignored;
  }
  return true;
}

std::vector<StepService::LiveTask> StepService::liveTasks() const {
  std::vector<LiveTask> out;
  std::lock_guard lock(impl_->mu_);
  for (const auto& [key, step] : impl_->steps_)
    for (const Task& t : step->tasks)
      if (t.pid > 0 && !t.exited) out.push_back({key.first, key.second, t.procid, t.pid});
  return out;
}

std::string localAddressToward(const std::string& controller) {
  const size_t colon = controller.rfind(':');
  std::string host = colon == std::string::npos ? controller : controller.substr(0, colon);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  std::string out = "127.0.0.1";
  if (getaddrinfo(host.c_str(), "9", &hints, &res) != 0 || !res) return out;
  // A UDP connect sends nothing; it only makes the kernel choose the route and source address.
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
    sockaddr_in local{};
    socklen_t len = sizeof local;
    char text[INET_ADDRSTRLEN];
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
        inet_ntop(AF_INET, &local.sin_addr, text, sizeof text))
      out = text;
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(res);
  return out;
}

}  // namespace locus::nodedaemon
