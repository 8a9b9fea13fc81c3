// The client side of a job step (see step_client.hpp).
#include "cli/step_client.hpp"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/commands.hpp"
#include "cli/submit_request.hpp"
#include "proto/locus.grpc.pb.h"

extern char** environ;

namespace locus::cli {
namespace {

// A second Ctrl-C within this time kills the step instead of forwarding SIGINT again.
constexpr auto kDoubleInterrupt = std::chrono::seconds{1};

// Channels to node daemons, kept for the process's life: a process that runs many steps (the
// MPI relay: one per node's daemon) connects to each node once.
std::shared_ptr<grpc::Channel> nodeChannel(const std::string& address) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  std::lock_guard lock(mu);
  auto& channel = channels[address];
  if (!channel) channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  return channel;
}

// One node's stream and what came back on it.
struct NodeStream {
  proto::StepNode node;
  std::unique_ptr<proto::StepApi::Stub> stub;
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReaderWriter<proto::StepInput, proto::StepEvent>> stream;
  std::mutex write_mu;  // one writer at a time: the main thread, the stdin and signal threads
  bool open = false;    // guarded by write_mu: writes are still possible
  std::string error;
  std::thread reader;

  bool write(const proto::StepInput& in) {
    std::lock_guard lock(write_mu);
    return open && stream->Write(in);
  }
};

// Output in order, whole lines when labelled (a line of task 3 never interleaves with task 4's).
class OutputSink {
 public:
  OutputSink(bool label, int out_fd, int err_fd) : label_(label), out_fd_(out_fd), err_fd_(err_fd) {}
  void write(uint32_t procid, bool is_stderr, const std::string& data) {
    std::lock_guard lock(mu_);
    const int fd = is_stderr ? err_fd_ : out_fd_;
    if (!label_) {
      writeAll(fd, data);
      return;
    }
    std::string& pending = partial_[{procid, is_stderr}];
    pending += data;
    std::string lines;
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
      lines += std::to_string(procid) + ": " + pending.substr(start, nl + 1 - start);
    pending.erase(0, start);
    writeAll(fd, lines);
  }
  // A task ended: what it left without a newline is printed now.
  void flush(uint32_t procid) {
    std::lock_guard lock(mu_);
    for (bool err : {false, true}) {
      auto it = partial_.find({procid, err});
      if (it == partial_.end() || it->second.empty()) continue;
      writeAll(err ? err_fd_ : out_fd_, std::to_string(procid) + ": " + it->second + "\n");
      it->second.clear();
    }
  }

 private:
  // A reader that went away (EPIPE; SIGPIPE is ignored where that can happen) loses the rest.
  static void writeAll(int fd, const std::string& data) {
    for (size_t done = 0; done < data.size();) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

  bool label_;
  int out_fd_;
  int err_fd_;
  std::mutex mu_;
  std::map<std::pair<uint32_t, bool>, std::string> partial_;
};


}  // namespace

int executeStep(Client& client, StepRun& run, const StepIo& io) {
  const uint64_t job_id = run.request.job_id();
  auto step = client.createStep(run.request);
  if (!step.ok()) {
    if (run.own_allocation) {
      proto::CancelJobRequest cancel;
      cancel.add_job_ids(job_id);
      cancel.set_user(currentUserName());
      cancel.set_uid(getuid());
      (void)client.cancel(cancel);
    }
    return fail("step not created: " + step.error().message);
  }

  OutputSink sink(run.label, io.out_fd, io.err_fd);
  std::vector<std::unique_ptr<NodeStream>> nodes;
  std::mutex exit_mu;
  int worst = 0;             // guarded by exit_mu
  bool any_failure = false;  // guarded by exit_mu: a task ended non-zero or a node failed
  std::atomic<bool> killing{false};
  auto killAll = [&] {
    if (killing.exchange(true)) return;
    proto::StepInput in;
    in.set_signal(SIGKILL);
    for (auto& n : nodes) n->write(in);
  };

  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();
  NodeStream* task0 = nullptr;
  for (const auto& sn : step->nodes()) {
    auto n = std::make_unique<NodeStream>();
    n->node = sn;
    n->stub = proto::StepApi::NewStub(nodeChannel(sn.address()));
    n->stream = n->stub->RunTasks(&n->ctx);
    proto::StepInput start;
    auto* s = start.mutable_start();
    s->set_job_id(job_id);
    s->set_step_id(step->step_id());
    s->set_token(step->token());
    for (const auto& a : run.command) s->add_argv(a);
    for (const auto& [k, v] : run.environment) (*s->mutable_environment())[k] = v;
    s->set_work_dir(cwd);
    s->set_container(run.container);
    for (const auto& t : sn.tasks())
      if (t.procid() == 0 && io.in_fd >= 0) {
        s->set_stdin_to_task0(true);
        task0 = n.get();
      }
    n->open = true;
    if (!n->stream->Write(start)) n->error = "cannot reach the node daemon of " + sn.node() + " at " + sn.address();
    nodes.push_back(std::move(n));
  }

  for (auto& np : nodes) {
    NodeStream* n = np.get();
    n->reader = std::thread([&, n] {
      proto::StepEvent e;
      size_t ended = 0;
      while (n->stream->Read(&e)) {
        if (e.has_output()) {
          sink.write(e.output().procid(), e.output().is_stderr(), e.output().data());
        } else if (e.has_ended()) {
          ++ended;
          sink.flush(e.ended().procid());
          if (ended == static_cast<size_t>(n->node.tasks_size())) {
            std::lock_guard lock(n->write_mu);  // nothing more to send: half-close
            if (n->open) n->stream->WritesDone();
            n->open = false;
          }
          const int code = e.ended().exit_code();
          bool bad;
          {
            std::lock_guard lock(exit_mu);
            worst = std::max(worst, code);
            bad = code != 0;
            any_failure = any_failure || bad;
          }
          if (e.ended().term_signal() != 0 && !killing)
            std::fprintf(stderr, "locus: task %u killed by signal %d (%s)\n", e.ended().procid(),
                         e.ended().term_signal(), strsignal(e.ended().term_signal()));
          if (bad && run.kill_on_bad_exit) killAll();
        } else if (e.has_error()) {
          n->error = e.error();
        }
      }
      {
        std::lock_guard lock(n->write_mu);
        n->open = false;
      }
      grpc::Status st = n->stream->Finish();
      if (n->error.empty() && !st.ok()) n->error = st.error_message();
      if (n->error.empty() && ended < static_cast<size_t>(n->node.tasks_size()))
        n->error = "the node daemon of " + n->node.node() + " went away before its tasks ended";
      if (!n->error.empty()) {
        std::lock_guard lock(exit_mu);
        any_failure = true;
        if (run.kill_on_bad_exit) killAll();
      }
    });
  }

  // The helper threads below wait on `wake` too: written once the step is over.
  std::atomic<bool> done{false};
  int wake[2] = {-1, -1};
  if (pipe2(wake, O_CLOEXEC) != 0) {
    killAll();
    for (auto& n : nodes) n->reader.join();
    return fail(std::string("pipe: ") + std::strerror(errno));
  }
  // Waits until `fd` has something (or hung up); false when the step is over first.
  auto awaitInput = [&](int fd, short events) {
    pollfd fds[2] = {{fd, events, 0}, {wake[0], POLLIN, 0}};
    while (poll(fds, 2, -1) < 0 && errno == EINTR) {
    }
    return fds[1].revents == 0;
  };

  // stdin goes to task 0, as srun does by default.
  std::thread stdin_thread([&, task0] {
    if (!task0 || io.in_fd < 0) return;
    std::vector<char> buf(64 * 1024);
    while (awaitInput(io.in_fd, POLLIN)) {
      ssize_t got = read(io.in_fd, buf.data(), buf.size());
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      proto::StepInput in;
      if (got <= 0) {
        in.set_stdin_eof(true);
        task0->write(in);
        return;
      }
      in.set_stdin(std::string(buf.data(), static_cast<size_t>(got)));
      if (!task0->write(in)) return;
    }
  });

  // SIGCHLD (blocked with the others) only wakes this thread: sent to it when the step is over.
  std::thread signal_thread;
  if (io.forwarded) {
    sigset_t waited = *io.forwarded;
    sigaddset(&waited, SIGCHLD);
    signal_thread = std::thread([&, waited] {
      auto last_int = std::chrono::steady_clock::time_point{};
      timespec tick{1, 0};
      while (!done) {
        int sig = sigtimedwait(&waited, nullptr, &tick);
        if (sig <= 0 || sig == SIGCHLD) continue;
        const auto now = std::chrono::steady_clock::now();
        if (sig == SIGINT && now - last_int < kDoubleInterrupt) {
          std::fprintf(stderr, "locus: second interrupt: killing the step\n");
          killAll();
          continue;
        }
        if (sig == SIGINT) {
          last_int = now;
          std::fprintf(stderr, "locus: interrupt: forwarded to the tasks (again within 1 s to kill them)\n");
        }
        proto::StepInput in;
        in.set_signal(sig);
        for (auto& n : nodes) n->write(in);
      }
    });
  }

  // The peer that asked for the step (hangup_fd) going away kills it.
  std::thread hangup_thread;
  if (io.hangup_fd >= 0)
    hangup_thread = std::thread([&] {
      if (awaitInput(io.hangup_fd, POLLIN | POLLRDHUP)) killAll();
    });

  for (auto& n : nodes) n->reader.join();
  done = true;
  (void)::write(wake[1], "x", 1);
  if (signal_thread.joinable()) {
    pthread_kill(signal_thread.native_handle(), SIGCHLD);  // now, not at its next tick
    signal_thread.join();
  }
  if (hangup_thread.joinable()) hangup_thread.join();
  stdin_thread.join();
  close(wake[0]);
  close(wake[1]);
  for (auto& n : nodes)
    if (!n->error.empty()) std::fprintf(stderr, "locus: %s: %s\n", n->node.node().c_str(), n->error.c_str());
  std::lock_guard lock(exit_mu);
  if (worst == 0 && any_failure) return 1;
  return worst;
}

void connectToNodeDaemons(const std::vector<std::string>& addresses) {
  for (const auto& a : addresses) nodeChannel(a)->GetState(/*try_to_connect=*/true);
}

sigset_t blockForwardedSignals() {
  // Signals go to the tasks, not to us: blocked here (and so in every thread started after),
  // taken by the step's signal thread with sigtimedwait.
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&forwarded, s);
  sigset_t blocked = forwarded;
  sigaddset(&blocked, SIGCHLD);  // taken with sigtimedwait too: a child's end, or a wake-up
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  return forwarded;
}

uint64_t jobFromEnvironment() {
  for (const char* var : {"LOCUS_JOB_ID", "SLURM_JOB_ID"})
    if (const char* v = std::getenv(var); v && *v) return std::strtoull(v, nullptr, 10);
  return 0;
}


std::map<std::string, std::string> ownEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}


StepRun openMpiDaemonStep(uint64_t job_id, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& environment) {
  StepRun run;
  run.request.set_job_id(job_id);
  run.request.set_user(currentUserName());
  run.request.set_uid(getuid());
  run.request.add_node_names(args.at(0));
  run.request.set_whole_node(true);
  run.request.set_name("orted");
  // ssh hands the remote shell one command line; so do we.
  std::string line;
  for (size_t i = 1; i < args.size(); ++i) line += (i > 1 ? " " : "") + args[i];
  run.command = {"/bin/sh", "-c", line};
  // The daemon gets a clean environment as over ssh: nothing of mpirun's own Open MPI settings
  // (they come on its command line), but the job's and, on emulated nodes, ours.
  for (const auto& [k, v] : environment) {
    if (k.rfind("OMPI_", 0) == 0 || k.rfind("PMIX_", 0) == 0 || k.rfind("OPAL_", 0) == 0 ||
        k.rfind("ORTE_", 0) == 0)
      continue;
    run.environment[k] = v;
  }
  if (auto dir = environment.find("LOCUS_MPI_SESSION_DIR"); dir != environment.end() && !dir->second.empty()) {
    // Emulated nodes share one machine: each node's daemon gets a session directory of its own,
    // or they race over one.
    std::string mine = dir->second + "/" + args[0];
    std::error_code ec;
    std::filesystem::create_directories(mine, ec);
    run.environment["OMPI_MCA_orte_tmpdir_base"] = mine;
  }
  return run;
}

}  // namespace locus::cli
