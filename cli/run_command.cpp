// `locus run`: a job step, like srun. Inside a job (LOCUS_JOB_ID or SLURM_JOB_ID set) it asks
// the controller for a step in that job's allocation; outside one it first gets an allocation of
// its own (a job with no batch script) and gives it back when the step ends. Then it talks to the
// node daemons directly: one RunTasks stream per node carries the command, stdin for task 0 and
// signals one way, the tasks' output and exits the other. Never ssh.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/mpi_command.hpp"
#include "cli/submit_request.hpp"
#include "common/exec_path.hpp"
#include "common/job_options.hpp"
#include "proto/convert.hpp"
#include "proto/locus.grpc.pb.h"

extern char** environ;

namespace locus::cli {
namespace {

constexpr const char* kRunUsage = R"(usage: locus run [options] COMMAND [ARGS...]

Runs COMMAND as a job step: inside a job (LOCUS_JOB_ID set) on that job's nodes and cores,
otherwise in an allocation of its own, made for it and released after it.

  -N, --nodes N              nodes of the job to use (default: as the tasks need)
  -n, --ntasks N             tasks (default: the job's task count)
  --ntasks-per-node K        at most K tasks per node
  -c, --cpus-per-task C      cores per task (default: the job's -c)
  -l, --label                prefix each output line with its task's rank: "3: ..."
  -K, --kill-on-bad-exit     kill the step when a task exits non-zero
  --mpi openmpi|none         how to start the program (default: openmpi for a program linked
                             with Open MPI, else none; pmix and pmi2 mean openmpi)
Outside a job, the sbatch options for the allocation apply too (-t, --mem, -G, -C, -p, -A, ...).

Exit status: the highest task exit code (a task killed by signal S counts as 128+S).
Ctrl-C forwards SIGINT to every task; a second Ctrl-C within a second kills the step.
)";

// How often `locus run` outside a job checks whether its allocation has started.
constexpr auto kAllocationPoll = std::chrono::milliseconds{50};
// A second Ctrl-C within this time kills the step instead of forwarding SIGINT again.
constexpr auto kDoubleInterrupt = std::chrono::seconds{1};

struct RunOptions {
  JobSpec spec;             // the sbatch-style options (geometry, and the allocation outside a job)
  bool cpus_given = false;
  bool label = false;
  bool kill_on_bad_exit = false;
  std::string mpi = "auto";  // --mpi; "auto": openmpi for a program linked with Open MPI
  std::vector<std::string> command;
};

// Whether the program (found as execvp would) is an ELF file that needs Open MPI's libmpi: its
// dynamic string table names Open MPI's sonames (libmpi.so.40 for Open MPI 3 to 5, .20 for 2;
// MPICH and Intel MPI use libmpi.so.12) or Open MPI's runtime libraries.
bool linkedWithOpenMpi(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::error_code ec;
  const std::string path =
      findExecutable(name, env ? env : "/usr/bin:/bin", std::filesystem::current_path(ec).string());
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  // The dynamic string table sits near the start, before the code; a big application's whole
  // file is not read for it.
  constexpr size_t kHeadBytes = 4 << 20;
  std::string bytes(kHeadBytes, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (bytes.size() < 4 || bytes.compare(0, 4, "\x7f" "ELF") != 0) return false;
  for (const char* soname : {"libmpi.so.40", "libmpi.so.20", "libopen-rte.so", "libopen-pal.so"})
    if (bytes.find(soname) != std::string::npos) return true;
  return false;
}

Result<RunOptions> parseRunArgs(const std::vector<std::string>& args) {
  RunOptions o;
  std::vector<std::string> sbatch_words;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "-l" || a == "--label") {
      o.label = true;
    } else if (a == "-K" || a == "--kill-on-bad-exit" || a == "--kill-on-bad-exit=1") {
      o.kill_on_bad_exit = true;
    } else if (a == "--mpi" || a.rfind("--mpi=", 0) == 0) {
      if (a == "--mpi") {
        if (i + 1 >= args.size()) return invalidArgument("--mpi needs a value (openmpi or none)");
        o.mpi = args[++i];
      } else {
        o.mpi = a.substr(6);
      }
      if (o.mpi == "pmix" || o.mpi == "pmi2" || o.mpi == "pmix_v3" || o.mpi == "pmix_v4") o.mpi = "openmpi";
      if (o.mpi != "openmpi" && o.mpi != "none")
        return invalidArgument("--mpi: unsupported value '" + o.mpi + "' (openmpi, none)");
    } else if (a == "--overlap" || a == "--exact" || a == "--unbuffered" || a == "-u") {
      // Steps may always share the job's cores, and output is always passed on as it comes.
    } else if (a.rfind("--cpu-bind", 0) == 0 || a.rfind("--cpu_bind", 0) == 0) {
      // srun's binding choices: Locus always binds each task to its own cores.
      if (a.find('=') == std::string::npos && i + 1 < args.size()) ++i;
    } else if (a == "--pty" || a.rfind("--multi-prog", 0) == 0) {
      return invalidArgument(a + " is not supported by locus run");
    } else {
      const size_t n = optionLength(args, i);
      if (n == 0) break;  // the command starts here
      for (size_t k = 0; k < n; ++k) sbatch_words.push_back(args[i + k]);
      i += n - 1;
    }
  }
  o.command.assign(args.begin() + static_cast<long>(i), args.end());
  if (o.command.empty()) return invalidArgument("no command given\n" + std::string(kRunUsage));
  o.spec.cpus_per_task = 0;  // 0 after parsing: -c not given
  bool parsable = false;
  std::vector<std::string> unknown, positional;
  if (Status st = applyOptions(sbatch_words, o.spec, parsable, unknown, positional, true); !st.ok())
    return st.error();
  if (!unknown.empty()) return invalidArgument("unknown option '" + unknown.front() + "' (see locus run --help)");
  o.cpus_given = o.spec.cpus_per_task > 0;
  if (o.mpi == "auto") o.mpi = linkedWithOpenMpi(o.command[0]) ? "openmpi" : "none";
  if (!o.cpus_given) o.spec.cpus_per_task = 1;
  return o;
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
  explicit OutputSink(bool label) : label_(label) {}
  void write(uint32_t procid, bool is_stderr, const std::string& data) {
    std::lock_guard lock(mu_);
    FILE* out = is_stderr ? stderr : stdout;
    if (!label_) {
      std::fwrite(data.data(), 1, data.size(), out);
      std::fflush(out);
      return;
    }
    std::string& pending = partial_[{procid, is_stderr}];
    pending += data;
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
      std::fprintf(out, "%u: %.*s\n", procid, static_cast<int>(nl - start), pending.data() + start);
    pending.erase(0, start);
    std::fflush(out);
  }
  // A task ended: what it left without a newline is printed now.
  void flush(uint32_t procid) {
    std::lock_guard lock(mu_);
    for (bool err : {false, true}) {
      auto it = partial_.find({procid, err});
      if (it == partial_.end() || it->second.empty()) continue;
      std::fprintf(err ? stderr : stdout, "%u: %s\n", procid, it->second.c_str());
      it->second.clear();
    }
  }

 private:
  bool label_;
  std::mutex mu_;
  std::map<std::pair<uint32_t, bool>, std::string> partial_;
};

// Gets an allocation-only job for a `locus run` outside a job and waits until it runs.
Result<uint64_t> allocate(Client& client, const RunOptions& o) {
  JobSpec spec = o.spec;
  spec.allocation_only = true;
  spec.name = spec.name.empty() ? std::filesystem::path(o.command[0]).filename().string() : spec.name;
  spec.script = "#!/bin/sh\n# allocation of `locus run`: no batch script\n";
  std::error_code ec;
  spec.work_dir = std::filesystem::current_path(ec).string();
  spec.environment = ownEnvironment();
  proto::SubmitJobRequest req;
  proto::toProto(spec, *req.mutable_spec());
  req.set_user(currentUserName());
  req.set_uid(getuid());
  req.set_gid(getgid());
  auto submitted = client.submit(req);
  if (!submitted.ok()) return submitted.error();
  const uint64_t id = submitted->job_id();
  bool told = false;
  const auto since = std::chrono::steady_clock::now();
  while (true) {
    auto job = client.getJob(id);
    if (!job.ok()) return job.error();
    if (job->state() == "RUNNING") return id;
    if (job->state() != "PENDING")
      return unavailable("allocation " + std::to_string(id) + " ended " + job->state() +
                         (job->reason().empty() ? "" : " (" + job->reason() + ")"));
    if (!told && std::chrono::steady_clock::now() - since > std::chrono::seconds(1)) {
      std::fprintf(stderr, "locus: job %lu queued and waiting for resources (%s)\n",
                   static_cast<unsigned long>(id), job->reason().c_str());
      told = true;
    }
    std::this_thread::sleep_for(kAllocationPoll);
  }
}


// What one step needs besides its request.
struct StepRun {
  proto::CreateStepRequest request;
  std::vector<std::string> command;
  std::map<std::string, std::string> environment;  // passed to the tasks (ours, by default)
  bool label = false;
  bool kill_on_bad_exit = false;
  bool own_allocation = false;  // cancel the job if the step cannot be created
};

// Creates the step and runs it to its end: output to ours, stdin to task 0, signals (blocked by
// the caller in `forwarded`) to every task. Returns the exit status `locus run` exits with.
int executeStep(Client& client, StepRun& run, const sigset_t& forwarded) {
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

  OutputSink sink(run.label);
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
    n->stub = proto::StepApi::NewStub(grpc::CreateChannel(sn.address(), grpc::InsecureChannelCredentials()));
    n->stream = n->stub->RunTasks(&n->ctx);
    proto::StepInput start;
    auto* s = start.mutable_start();
    s->set_job_id(job_id);
    s->set_step_id(step->step_id());
    s->set_token(step->token());
    for (const auto& a : run.command) s->add_argv(a);
    for (const auto& [k, v] : run.environment) (*s->mutable_environment())[k] = v;
    s->set_work_dir(cwd);
    for (const auto& t : sn.tasks())
      if (t.procid() == 0) {
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

  // stdin goes to task 0, as srun does by default.
  std::atomic<bool> done{false};
  std::thread stdin_thread([&, task0] {
    if (!task0) return;
    std::vector<char> buf(64 * 1024);
    while (!done) {
      ssize_t got = read(STDIN_FILENO, buf.data(), buf.size());
      if (got < 0 && errno == EINTR) continue;
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
  stdin_thread.detach();  // a read() on a terminal cannot be interrupted; the process exits anyway

  // SIGCHLD (blocked with the others) only wakes this thread: sent to it when the step is over.
  sigset_t waited = forwarded;
  sigaddset(&waited, SIGCHLD);
  std::thread signal_thread([&] {
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

  for (auto& n : nodes) n->reader.join();
  done = true;
  pthread_kill(signal_thread.native_handle(), SIGCHLD);  // now, not at its next tick
  signal_thread.join();
  for (auto& n : nodes)
    if (!n->error.empty()) std::fprintf(stderr, "locus: %s: %s\n", n->node.node().c_str(), n->error.c_str());
  std::lock_guard lock(exit_mu);
  if (worst == 0 && any_failure) return 1;
  return worst;
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

}  // namespace

int runRun(const std::vector<std::string>& args, const Globals& g) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kRunUsage, stdout);
    return 0;
  }
  auto parsed = parseRunArgs(args);
  if (!parsed.ok()) return fail(parsed.error().message, 2);
  RunOptions& o = *parsed;
  const sigset_t forwarded = blockForwardedSignals();
  Client client(g.controller);
  uint64_t job_id = jobFromEnvironment();
  if (o.mpi == "openmpi") {
    if (job_id == 0)
      return fail("--mpi openmpi runs inside a job: submit a script that calls it (locus submit -N 2 -n 8 job.sh)", 2);
    return runMpi(client, job_id, o.spec, o.cpus_given, o.command, forwarded);
  }
  StepRun run;
  if (job_id == 0) {
    auto allocated = allocate(client, o);
    if (!allocated.ok()) return fail(allocated.error().message);
    job_id = *allocated;
    run.own_allocation = true;
  }
  run.request.set_job_id(job_id);
  run.request.set_user(currentUserName());
  run.request.set_uid(getuid());
  // Inside a job, the geometry given here; outside, the allocation was made for it: use it whole.
  if (!run.own_allocation) {
    run.request.set_nodes(o.spec.nodes);
    run.request.set_ntasks(o.spec.ntasks);
    run.request.set_ntasks_per_node(o.spec.ntasks_per_node);
  }
  run.request.set_cpus_per_task(o.cpus_given ? o.spec.cpus_per_task : 0);
  run.request.set_name(std::filesystem::path(o.command[0]).filename().string());
  run.request.set_ends_job(run.own_allocation);
  run.command = o.command;
  run.environment = ownEnvironment();
  run.label = o.label;
  run.kill_on_bad_exit = o.kill_on_bad_exit;
  return executeStep(client, run, forwarded);
}

// `locus-rsh HOST COMMAND...`: what Open MPI's rsh launcher calls instead of ssh to start its
// daemon (orted) on HOST. HOST is a node of the job this runs in; the command runs there as a
// one-task step holding all of the job's cores on that node, through that node's daemon.
int runRshAgent(const std::vector<std::string>& args, const Globals& g) {
  if (args.size() < 2) return fail("usage: locus-rsh HOST COMMAND... (Open MPI's plm_rsh_agent)", 2);
  const uint64_t job_id = jobFromEnvironment();
  if (job_id == 0) return fail("locus-rsh runs inside a job (LOCUS_JOB_ID is not set)", 2);
  const sigset_t forwarded = blockForwardedSignals();
  Client client(g.controller);
  StepRun run;
  run.request.set_job_id(job_id);
  run.request.set_user(currentUserName());
  run.request.set_uid(getuid());
  run.request.add_node_names(args[0]);
  run.request.set_whole_node(true);
  run.request.set_name("orted");
  // ssh hands the remote shell one command line; so do we.
  std::string line;
  for (size_t i = 1; i < args.size(); ++i) line += (i > 1 ? " " : "") + args[i];
  run.command = {"/bin/sh", "-c", line};
  // The daemon gets a clean environment as over ssh: nothing of mpirun's own Open MPI settings
  // (they come on its command line), but ours for emulated nodes.
  for (const auto& [k, v] : ownEnvironment()) {
    if (k.rfind("OMPI_", 0) == 0 || k.rfind("PMIX_", 0) == 0 || k.rfind("OPAL_", 0) == 0 ||
        k.rfind("ORTE_", 0) == 0)
      continue;
    run.environment[k] = v;
  }
  if (const char* dir = std::getenv("LOCUS_MPI_SESSION_DIR"); dir && *dir) {
    // Emulated nodes share one machine: each node's daemon gets a session directory of its own,
    // or they race over one.
    std::string mine = std::string(dir) + "/" + args[0];
    std::filesystem::create_directories(mine);
    run.environment["OMPI_MCA_orte_tmpdir_base"] = mine;
  }
  return executeStep(client, run, forwarded);
}

}  // namespace locus::cli
