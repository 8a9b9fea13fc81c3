// `locus run`: a job step, like srun. Inside a job (LOCUS_JOB_ID or SLURM_JOB_ID set) it asks
// the controller for a step in that job's allocation; outside one it first gets an allocation of
// its own (a job with no batch script) and gives it back when the step ends. Then it talks to the
// node daemons directly (cli/step_client.cpp). Never ssh.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/mpi_command.hpp"
#include "cli/step_client.hpp"
#include "cli/submit_request.hpp"
#include "common/exec_path.hpp"
#include "common/job_options.hpp"
#include "proto/convert.hpp"

namespace locus::cli {
namespace {

constexpr const char* kRunUsage = R"(usage: locus run [options] COMMAND [ARGS...]

Runs COMMAND as a job step: inside a job (LOCUS_JOB_ID set) on that job's nodes and cores,
otherwise in an allocation of its own, made for it and released after it.

  -N, --nodes N              nodes of the job to use (default: as the tasks need)
  -n, --ntasks N             tasks (default: the job's task count)
  --ntasks-per-node K        at most K tasks per node
  -c, --cpus-per-task C      exactly C cores per task (default: the job's cores on each node,
                             split evenly among the step's tasks there)
  -l, --label                prefix each output line with its task's rank: "3: ..."
  -K, --kill-on-bad-exit     kill the step when a task exits non-zero
  --mpi openmpi|none         how to start the program (default: openmpi for a program linked
                             with Open MPI, else none; pmix and pmi2 mean openmpi)
  --container BUNDLE         run each task in this OCI bundle or image layout (DIR[:TAG])
                             through runc (docs/containers.md)
Outside a job, the sbatch options for the allocation apply too (-t, --mem, -G, -C, -p, -A, ...).

Exit status: the highest task exit code (a task killed by signal S counts as 128+S).
Ctrl-C forwards SIGINT to every task; a second Ctrl-C within a second kills the step.
)";

// How often `locus run` outside a job checks whether its allocation has started.
constexpr auto kAllocationPoll = std::chrono::milliseconds{50};

struct RunOptions {
  JobSpec spec;             // the sbatch-style options (geometry, and the allocation outside a job)
  bool cpus_given = false;
  bool label = false;
  bool kill_on_bad_exit = false;
  std::string mpi = "auto";  // --mpi; "auto": openmpi for a program linked with Open MPI
  bool cpu_bind_none = false;  // --cpu-bind=none: tasks share the job's cores on their node
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
      // srun's binding choices: Locus binds each task to its own cores, except with "none"
      // (what Open MPI's mpirun passes when it starts its daemons through srun): then each
      // node's tasks share all of the job's cores there.
      std::string value;
      if (auto eq = a.find('='); eq != std::string::npos) value = a.substr(eq + 1);
      else if (i + 1 < args.size()) value = args[++i];
      if (("," + value + ",").find(",none,") != std::string::npos) o.cpu_bind_none = true;
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


// The step is over and its output flushed: exit without tearing down gRPC (its threads and
// channels), which costs several milliseconds a launcher's caller waits for. The kernel closes
// the connections; nothing else is left to release.
[[noreturn]] void exitNow(int status) {
  std::fflush(nullptr);
  _exit(status);
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
  if (o.mpi == "openmpi" && job_id != 0)
    exitNow(runMpi(client, job_id, o.spec, o.cpus_given, o.command, forwarded));
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
  // As srun without --exact: a step without -c uses all of the job's cores on each of its
  // nodes, split evenly among its tasks there (`srun --ntasks-per-node=1 ./openmp_app` gets
  // the whole node; Open MPI's daemons started through srun get every core their ranks need).
  run.request.set_whole_node(!o.cpus_given || o.cpu_bind_none);
  run.request.set_name(std::filesystem::path(o.command[0]).filename().string());
  run.request.set_ends_job(run.own_allocation);
  run.command = o.command;
  if (o.mpi == "openmpi") {
    // Outside a job, the MPI launch itself (mpirun's host) is a one-task step on the
    // allocation's first node: this same `locus run`, now inside the job. Its end ends the
    // allocation, with its status.
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) return fail("cannot find the locus binary (/proc/self/exe): " + ec.message());
    run.request.set_nodes(1);
    run.request.set_ntasks(1);
    run.request.set_cpus_per_task(0);
    run.request.set_whole_node(true);
    run.command = {self, "run"};
    run.command.insert(run.command.end(), args.begin(), args.end());
  }
  if (!o.spec.container.empty()) {
    // The node daemons resolve it: absolute, from where `locus run` was started.
    std::error_code ec;
    run.container = std::filesystem::absolute(o.spec.container, ec).lexically_normal().string();
  }
  run.environment = ownEnvironment();
  run.label = o.label && o.mpi != "openmpi";  // every line would be the launcher's, task 0
  run.kill_on_bad_exit = o.kill_on_bad_exit;
  StepIo io;
  io.forwarded = &forwarded;
  exitNow(executeStep(client, run, io));
}

// `locus-rsh HOST COMMAND...`: what Open MPI's rsh launcher calls instead of ssh to start its
// daemon (orted) on HOST. HOST is a node of the job this runs in; the command runs there as a
// one-task step holding all of the job's cores on that node, through that node's daemon.
// (`locus run --mpi openmpi` uses the lighter locus-mpi-agent, which asks it to do the same.)
int runRshAgent(const std::vector<std::string>& args, const Globals& g) {
  if (args.size() < 2) return fail("usage: locus-rsh HOST COMMAND... (Open MPI's plm_rsh_agent)", 2);
  const uint64_t job_id = jobFromEnvironment();
  if (job_id == 0) return fail("locus-rsh runs inside a job (LOCUS_JOB_ID is not set)", 2);
  StepIo io;
  const sigset_t forwarded = blockForwardedSignals();
  io.forwarded = &forwarded;
  Client client(g.controller);
  StepRun run = openMpiDaemonStep(job_id, args, ownEnvironment());
  return executeStep(client, run, io);
}

}  // namespace locus::cli
