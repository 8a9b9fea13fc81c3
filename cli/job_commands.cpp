// locus submit | queue | show | cancel | wait
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/event_stream.hpp"
#include "cli/submit_request.hpp"
#include "common/job_options.hpp"
#include "common/slurm_formats.hpp"
#include "common/time_util.hpp"
#include "proto/convert.hpp"

namespace locus::cli {
namespace {

std::string currentUser() {
  if (struct passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return std::to_string(getuid());
}

Result<std::vector<uint64_t>> parseJobIds(const std::vector<std::string>& words) {
  std::vector<uint64_t> ids;
  for (const auto& w : words) {
    // "12_3" (array task notation) is not supported yet: ask for the task's own id.
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(w.c_str(), &end, 10);
    if (w.empty() || *end != '\0' || errno != 0 || v == 0 || w[0] == '-')
      return invalidArgument("invalid job id '" + w + "'");
    ids.push_back(v);
  }
  if (ids.empty()) return invalidArgument("no job id given");
  return ids;
}

// The queue's TIME column, as squeue prints it.
std::string elapsed(const proto::JobInfo& job) {
  if (job.start_time() == 0) return "0:00";
  int64_t end = job.end_time() > 0 ? job.end_time() : unixNow();
  return formatElapsed(end - job.start_time());
}

std::string displayId(const proto::JobInfo& job) {
  if (job.array_task_id() >= 0)
    return std::to_string(job.array_job_id()) + "_" + std::to_string(job.array_task_id());
  return std::to_string(job.id());
}

constexpr const char* kSubmitUsage = R"(usage: locus submit [options] SCRIPT [ARGS...]
       locus submit [options] --wrap "COMMAND"

Options (also read from #LOCUS and #SBATCH lines at the top of SCRIPT; the command line wins):
  -J, --job-name NAME        -N, --nodes N             -n, --ntasks N
  --ntasks-per-node N        -c, --cpus-per-task N     --mem SIZE (512M, 4G)
  --mem-per-cpu SIZE         -t, --time LIMIT (MM, MM:SS, HH:MM:SS, D-HH[:MM[:SS]])
  -o, --output PATTERN       -e, --error PATTERN (%j %A %a %N %u %x)
  -D, --chdir DIR            --array SPEC (1-100, 1,3,5, 0-15:4, 1-100%10)
  --requeue                  --export ALL|NONE|VAR[=val],...
  --parsable                 print only the job id
  -G, --gpus [TYPE:]N        per job (spread evenly over -N nodes; one node without -N)
  --gpus-per-node [TYPE:]N   --gpus-per-task [TYPE:]N   --gres gpu[:TYPE][:N]
  --gpu-bind closest|none    --mem-bind local|none
  -C, --constraint EXPR      node features: "ib&nvme", "a|b", "(a|b)&c"
  --switches N[@TIME]        at most N leaf switches, waiting up to TIME (default 5:00)
  -d, --dependency SPEC      -p, --partition P   -A, --account A   --qos Q
  --profile task[,gpu]|none  sample the tasks into HDF5 (locus profile JOBID)
  --profile-interval SECONDS between samples (default: locus.toml [profile] interval_s, 10)
See docs/user-guide.md.
)";

}  // namespace

int fail(const std::string& message, int status) {
  std::fprintf(stderr, "locus: %s\n", message.c_str());
  return status;
}

int runSubmit(const std::vector<std::string>& args, const Globals& g) {
  if (std::find(args.begin(), args.end(), "--help") != args.end() ||
      std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::fputs(kSubmitUsage, stdout);
    return 0;
  }
  auto built = buildSubmitRequest(args);
  if (!built.ok())
    return fail(built.error().message, built.error().code == ErrorCode::kInvalidArgument ? 2 : 1);
  for (const auto& w : built->warnings) std::fprintf(stderr, "locus: warning: %s\n", w.c_str());
  // g.controllers: the whole list, so that a retry finds a new leader.
  const auto patience = submitPatience();
  auto reply = submitRetrying(g.controller, g.controllers, built->request, patience, [&](const Error& e) {
    std::fprintf(stderr, "locus: %s; trying again for up to %lld s\n", e.message.c_str(),
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(patience).count()));
  });
  if (!reply.ok()) return fail("submit failed: " + reply.error().message);
  // The controller's own warnings (input hosts it cannot map, ...); the request's were said above.
  for (const auto& w : reply->warnings())
    if (std::find(built->warnings.begin(), built->warnings.end(), w) == built->warnings.end())
      std::fprintf(stderr, "locus: warning: %s\n", w.c_str());
  if (built->parsable) std::printf("%lu\n", static_cast<unsigned long>(reply->job_id()));
  else std::printf("Submitted job %lu\n", static_cast<unsigned long>(reply->job_id()));
  return 0;
}

int runQueue(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  bool json = args.flag("--json");
  auto user = args.value("--user", "-u");
  auto state = args.value("--state", "-t");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (!rest.empty()) return fail("unexpected argument '" + rest[0] + "'", 2);
  proto::ListJobsRequest req;
  if (user) req.set_user(*user);
  if (state) {
    // Comma-separated states, like squeue -t.
    std::string s = *state;
    size_t pos = 0;
    while (pos <= s.size()) {
      size_t comma = s.find(',', pos);
      std::string one = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (one != "all" && one != "ALL" && !jobStateFromString(one))
        return fail("unknown job state '" + one + "'", 2);
      req.add_states(one == "all" ? "ALL" : one);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  Client client(g.controller);
  auto reply = client.listJobs(req);
  if (!reply.ok()) return fail(reply.error().message);
  if (json) {
    nlohmann::json out{{"jobs", nlohmann::json::array()}};
    for (const auto& job : reply->jobs()) out["jobs"].push_back(jobToJson(job));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%12s %-12s %-10s %-10s %10s %5s %s\n", "JOBID", "NAME", "USER", "STATE", "TIME",
              "NODES", "NODELIST(REASON)");
  for (const auto& job : reply->jobs()) {
    std::vector<std::string> nodes(job.nodes().begin(), job.nodes().end());
    std::string where = nodes.empty() ? "(" + job.reason() + ")" : compressHostlist(nodes);
    uint32_t n = nodes.empty() ? std::max<uint32_t>(1, job.nodes_requested()) : static_cast<uint32_t>(nodes.size());
    std::printf("%12s %-12.12s %-10.10s %-10s %10s %5u %s\n", displayId(job).c_str(), job.name().c_str(),
                job.user().c_str(), job.state().c_str(), elapsed(job).c_str(), n, where.c_str());
  }
  return 0;
}

int runShow(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  bool json = args.flag("--json");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (rest.size() != 1) return fail("usage: locus show JOBID [--json]", 2);
  auto ids = parseJobIds(rest);
  if (!ids.ok()) return fail(ids.error().message, 2);
  Client client(g.controller);
  auto job = client.getJob(ids->front());
  if (!job.ok()) return fail(job.error().message);
  if (json) {
    std::printf("%s\n", jobToJson(*job).dump(2).c_str());
    return 0;
  }
  std::vector<std::string> nodes(job->nodes().begin(), job->nodes().end());
  auto t = [](int64_t v) { return v > 0 ? formatRfc3339(v) : std::string("None"); };
  std::printf("JobId=%lu JobName=%s\n", static_cast<unsigned long>(job->id()), job->name().c_str());
  if (job->array_task_id() >= 0)
    std::printf("   ArrayJobId=%lu ArrayTaskId=%ld\n", static_cast<unsigned long>(job->array_job_id()),
                static_cast<long>(job->array_task_id()));
  std::printf("   User=%s(%u) JobState=%s Reason=%s ExitCode=%s Attempt=%u\n", job->user().c_str(),
              job->uid(), job->state().c_str(), job->reason().empty() ? "None" : job->reason().c_str(),
              job->exit_code() >= 0 ? (std::to_string(job->exit_code()) + ":" + std::to_string(job->term_signal())).c_str() : "-",
              job->attempt());
  std::printf("   SubmitTime=%s StartTime=%s EndTime=%s RunTime=%s TimeLimit=%s\n", t(job->submit_time()).c_str(),
              t(job->start_time() ? job->start_time() : job->expected_start_time()).c_str(), t(job->end_time()).c_str(), elapsed(*job).c_str(),
              job->time_limit_s() > 0 ? formatDuration(job->time_limit_s()).c_str() : "UNLIMITED");
  std::printf("   NumNodes=%zu NumTasks=%u CpusPerTask=%u MemPerNode=%luM NodeList=%s\n",
              nodes.empty() ? static_cast<size_t>(std::max<uint32_t>(1, job->nodes_requested())) : nodes.size(),
              job->ntasks(), job->cpus_per_task(), static_cast<unsigned long>(job->mem_mb()),
              nodes.empty() ? "(null)" : compressHostlist(nodes).c_str());
  for (const auto& a : job->allocation()) {
    std::vector<uint32_t> cores(a.cores().begin(), a.cores().end());
    std::vector<uint32_t> numa(a.numa().begin(), a.numa().end());
    std::vector<uint32_t> gpus(a.gpus().begin(), a.gpus().end());
    std::printf("     Node=%s Cores=%s Numa=%s Gpus=%s Mem=%luM Tasks=%u\n", a.node().c_str(),
                formatCpuList(cores).c_str(), numa.empty() ? "-" : formatCpuList(numa).c_str(),
                gpus.empty() ? "-" : formatCpuList(gpus).c_str(), static_cast<unsigned long>(a.mem_mb()),
                a.ntasks());
  }
  std::printf("   Partition=%s QOS=%s Account=%s\n", job->partition().c_str(),
              job->qos().empty() ? "normal" : job->qos().c_str(), job->account().c_str());
  if (!job->reason_detail().empty()) std::printf("   ReasonDetail=%s\n", job->reason_detail().c_str());
  if (!job->preemption().empty()) std::printf("   Preemption=%s\n", job->preemption().c_str());
  if (job->spec().inputs_size() > 0) {
    std::string inputs;
    for (const auto& in : job->spec().inputs()) inputs += (inputs.empty() ? "" : ",") + in;
    const auto& l = job->locality();
    std::printf("   Input=%s%s\n   Locality=node_local:%u,rack_local:%u,remote:%u Bytes=node_local:%llu,rack_local:%llu,remote:%llu\n",
                inputs.c_str(), job->spec().dataflow() ? " Dataflow=yes" : "", l.node_local(), l.rack_local(), l.remote(),
                static_cast<unsigned long long>(l.bytes().node_local()),
                static_cast<unsigned long long>(l.bytes().rack_local()),
                static_cast<unsigned long long>(l.bytes().remote()));
  }
  if (!job->input_path().empty())
    std::printf("   InputSplit=%s@%llu+%llu\n", job->input_path().c_str(),
                static_cast<unsigned long long>(job->input_offset()),
                static_cast<unsigned long long>(job->input_length()));
  std::printf("   WorkDir=%s\n   StdOut=%s\n   StdErr=%s\n", job->work_dir().c_str(),
              job->stdout().empty() ? "(not started)" : job->stdout().c_str(),
              job->stderr().empty() ? "(not started)" : job->stderr().c_str());
  if (!job->spec().script_path().empty()) std::printf("   Command=%s\n", job->spec().script_path().c_str());
  // Steps as sacct shows them: JOBID.STEP, name, state, exit code.
  for (const auto& s : job->steps())
    std::printf("   Step=%lu.%u Name=%s State=%s ExitCode=%s NumTasks=%u NodeList=%s\n",
                static_cast<unsigned long>(job->id()), s.id(), s.name().c_str(), s.state().c_str(),
                s.exit_code() >= 0 ? std::to_string(s.exit_code()).c_str() : "-", s.ntasks(),
                compressHostlist(std::vector<std::string>(s.nodes().begin(), s.nodes().end())).c_str());
  return 0;
}

int runCancel(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  auto signal_name = args.value("--signal", "-s");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  auto ids = parseJobIds(rest);
  if (!ids.ok()) return fail(ids.error().message, 2);
  proto::CancelJobRequest req;
  if (signal_name) {
    auto sig = parseSignal(*signal_name);
    if (!sig.ok()) return fail(sig.error().message, 2);
    req.set_signal(*sig);
  }
  for (uint64_t id : *ids) req.add_job_ids(id);
  req.set_user(currentUser());
  req.set_uid(getuid());
  Client client(g.controller);
  auto reply = client.cancel(req);
  if (!reply.ok()) return fail(reply.error().message);
  int status = 0;
  for (const auto& r : reply->results())
    if (!r.ok()) status = fail(r.message());
  return status;
}

// locus hold | release | requeue JOBID...
static int runUpdate(proto::UpdateJobsRequest::Action action, const std::vector<std::string>& raw,
                     const Globals& g) {
  Args args(raw);
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  auto ids = parseJobIds(rest);
  if (!ids.ok()) return fail(ids.error().message, 2);
  proto::UpdateJobsRequest req;
  req.set_action(action);
  for (uint64_t id : *ids) req.add_job_ids(id);
  req.set_user(currentUser());
  req.set_uid(getuid());
  Client client(g.controller);
  auto reply = client.update(req);
  if (!reply.ok()) return fail(reply.error().message);
  int status = 0;
  for (const auto& r : reply->results())
    if (!r.ok()) status = fail(r.message());
  return status;
}

int runHold(const std::vector<std::string>& args, const Globals& g) {
  return runUpdate(proto::UpdateJobsRequest::HOLD, args, g);
}
int runRelease(const std::vector<std::string>& args, const Globals& g) {
  return runUpdate(proto::UpdateJobsRequest::RELEASE, args, g);
}
int runRequeue(const std::vector<std::string>& args, const Globals& g) {
  return runUpdate(proto::UpdateJobsRequest::REQUEUE, args, g);
}

int runWait(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  auto timeout = args.value("--timeout");
  bool quiet = args.flag("--quiet") || args.flag("-q");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  auto ids = parseJobIds(rest);
  if (!ids.ok()) return fail(ids.error().message, 2);
  double timeout_s = 0;
  if (timeout) {
    char* end = nullptr;
    timeout_s = std::strtod(timeout->c_str(), &end);
    if (timeout->empty() || *end != '\0' || timeout_s < 0) return fail("--timeout: invalid seconds '" + *timeout + "'", 2);
  }
  // On the event log: every stream (the first, and one after a controller restart) starts with
  // each job's state at a bookmark, then the events after it; so a job that ended before the
  // wait, or while the controller was away, is seen once and only once.
  StopSignal never;  // Ctrl-C ends a wait as it always did
  using clock = std::chrono::system_clock;
  const auto deadline = timeout_s > 0 ? clock::now() + std::chrono::duration_cast<clock::duration>(
                                                           std::chrono::duration<double>(timeout_s))
                                      : clock::time_point::max();
  std::set<uint64_t> pending, done;  // the jobs the ids cover (array tasks one by one)
  bool all_completed = true;
  auto ended = [](const proto::Event& e) {
    auto state = jobStateFromString(e.new_state());
    return state && isTerminal(*state);
  };
  auto finish = [&](const proto::Event& e) {
    pending.erase(e.job_id());
    done.insert(e.job_id());
    if (e.new_state() != "COMPLETED") all_completed = false;
    if (!quiet) {
      std::string id = e.array_task_id() >= 0
                           ? std::to_string(e.array_job_id()) + "_" + std::to_string(e.array_task_id())
                           : std::to_string(e.job_id());
      std::printf("job %s %s exit_code=%d\n", id.c_str(), e.new_state().c_str(), e.exit_code());
    }
    std::fflush(stdout);
  };
  Status s = followEvents(
      g.controller, never, deadline,
      [&](std::optional<uint64_t>) {
        proto::WatchEventsRequest req;
        for (uint64_t id : *ids) req.add_job_ids(id);
        req.set_current_state(true);
        return req;
      },
      [&](const proto::Event& e) {
        if (e.kind() == "bookmark") return !pending.empty();  // the states "now" are all in
        if (done.count(e.job_id())) return true;
        if (e.kind() == "current") {
          if (ended(e)) finish(e);
          else pending.insert(e.job_id());
          return true;
        }
        if (pending.count(e.job_id()) && ended(e)) finish(e);
        return !pending.empty();
      });
  // 0: all COMPLETED; 1: all ended, some not COMPLETED; 124: timeout (like timeout(1)); 2: error.
  if (!s.ok() && s.error().message == "timed out") return fail("timed out waiting for jobs", 124);
  if (!s.ok()) return fail(s.error().message, 2);
  return all_completed ? 0 : 1;
}

// locus why JOBID: the pending reason in words, and when the plan expects the job to start.
int runWhy(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (rest.size() != 1) return fail("usage: locus why JOBID", 2);
  auto ids = parseJobIds(rest);
  if (!ids.ok()) return fail(ids.error().message, 2);
  Client client(g.controller);
  auto job = client.getJob(ids->front());
  if (!job.ok()) return fail(job.error().message);
  std::string id = displayId(*job);
  if (job->state() == "RUNNING") {
    std::vector<std::string> nodes(job->nodes().begin(), job->nodes().end());
    std::printf("job %s is RUNNING on %s since %s\n", id.c_str(), compressHostlist(nodes).c_str(),
                formatRfc3339(job->start_time()).c_str());
    if (!job->preemption().empty()) std::printf("%s\n", job->preemption().c_str());
    return 0;
  }
  if (job->state() != "PENDING") {
    std::printf("job %s ended %s%s%s\n", id.c_str(), job->state().c_str(),
                job->reason().empty() ? "" : ": ", job->reason().c_str());
    if (!job->preemption().empty()) std::printf("%s\n", job->preemption().c_str());
    return 0;
  }
  const std::string& reason = job->reason();
  uint32_t cores = job->ntasks() * std::max<uint32_t>(1, job->cpus_per_task());
  std::string need = std::to_string(cores) + " cores";
  if (job->nodes_min() > 0) need += " on " + std::to_string(job->nodes_min()) + " nodes";
  if (job->mem_mb() > 0) need += ", " + std::to_string(job->mem_mb()) + " MB per node";
  if (reason == "Resources") {
    std::printf("job %s is PENDING (Resources): not enough free resources now for %s\n", id.c_str(),
                need.c_str());
  } else if (reason == "Priority") {
    std::printf("job %s is PENDING (Priority): not considered by a scheduling pass yet\n", id.c_str());
  } else if (reason == "Dependency") {
    std::printf("job %s is PENDING (Dependency): waiting until --dependency=%s holds\n", id.c_str(),
                job->spec().dependency().c_str());
  } else if (reason == "Preempting") {
    std::printf("job %s is PENDING (Preempting): room is being made for it: %s\n", id.c_str(),
                job->reason_detail().empty() ? "its victims are ending" : job->reason_detail().c_str());
  } else if (reason == "Preempted") {
    std::printf("job %s is PENDING (Preempted): back in the queue after %s\n", id.c_str(),
                job->preemption().empty() ? "a preemption" : job->preemption().c_str());
  } else if (reason == "PoolQuotaMaxLimit") {
    std::printf("job %s is PENDING (PoolQuotaMaxLimit): %s\n", id.c_str(),
                job->reason_detail().empty() ? "its account is at its max in the pool" : job->reason_detail().c_str());
  } else if (reason == "JobArrayTaskLimit") {
    std::printf("job %s is PENDING (JobArrayTaskLimit): array %lu runs as many tasks at once as its "
                "%%N limit allows\n",
                id.c_str(), static_cast<unsigned long>(job->array_job_id()));
  } else {
    std::printf("job %s is PENDING (%s)\n", id.c_str(), reason.c_str());
  }
  if (reason != "Preempted" && !job->preemption().empty()) std::printf("earlier: %s\n", job->preemption().c_str());
  if (job->expected_start_time() > 0)
    std::printf("expected start: %s (a reservation in the backfill plan; earlier if running jobs end "
                "before their time limits)\n",
                formatRfc3339(job->expected_start_time()).c_str());
  else if (reason == "Resources")
    std::printf("expected start: unknown (no reservation: it is not among the first blocked jobs, or "
                "what holds the resources has no time limit)\n");
  return 0;
}

// locus eff JOBID: CPU and memory efficiency, as Slurm's seff prints them. What the node measured
// for the batch script and the processes it waited for (rusage at its end): CPU time, peak RSS.
// Steps (`locus run`) run under the node daemons, not the script, and are not in these figures.
int runEff(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (rest.size() != 1) return fail("usage: locus eff JOBID", 2);
  auto ids = parseJobIds(rest);
  if (!ids.ok()) return fail(ids.error().message, 2);
  Client client(g.controller);
  auto job = client.getJob(ids->front());
  if (!job.ok()) return fail(job.error().message);
  auto hms = [](double seconds) {
    const long s = static_cast<long>(seconds + 0.5);
    char buf[32];
    if (s >= 86400) std::snprintf(buf, sizeof buf, "%ld-%02ld:%02ld:%02ld", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    return std::string(buf);
  };
  auto size = [](double mb) {
    char buf[32];
    if (mb >= 1024) std::snprintf(buf, sizeof buf, "%.2f GB", mb / 1024);
    else std::snprintf(buf, sizeof buf, "%.2f MB", mb);
    return std::string(buf);
  };
  const uint32_t nodes = static_cast<uint32_t>(std::max(1, job->nodes_size()));
  uint32_t cores = 0;
  for (const auto& a : job->allocation()) cores += static_cast<uint32_t>(a.cores_size());
  if (cores == 0) cores = job->ntasks() * std::max<uint32_t>(1, job->cpus_per_task());
  std::printf("Job ID: %s\nCluster: locus\nUser/Group: %s/%u\n", displayId(*job).c_str(), job->user().c_str(),
              job->gid());
  if (job->state() == "PENDING" || job->state() == "RUNNING" || job->state() == "SUSPENDED") {
    std::printf("State: %s\nEfficiency is reported once the job has ended.\n", job->state().c_str());
    return 0;
  }
  std::printf("State: %s (exit code %d)\n", job->state().c_str(), job->exit_code());
  std::printf("Nodes: %u\nCores per node: %u\n", nodes, (cores + nodes - 1) / nodes);
  const double wall = job->start_time() > 0 && job->end_time() >= job->start_time()
                          ? static_cast<double>(job->end_time() - job->start_time())
                          : 0.0;
  const double core_wall = wall * cores;
  std::printf("CPU Utilized: %s\n", hms(job->cpu_time_s()).c_str());
  if (core_wall > 0)
    std::printf("CPU Efficiency: %.2f%% of %s core-walltime\n", 100.0 * job->cpu_time_s() / core_wall,
                hms(core_wall).c_str());
  else
    std::printf("CPU Efficiency: 0.00%% of 00:00:00 core-walltime\n");
  std::printf("Job Wall-clock time: %s\n", hms(wall).c_str());
  const double used_mb = static_cast<double>(job->max_rss_kb()) / 1024.0;
  std::printf("Memory Utilized: %s\n", size(used_mb).c_str());
  const double asked_mb = static_cast<double>(job->mem_mb()) * nodes;
  if (asked_mb > 0)
    std::printf("Memory Efficiency: %.2f%% of %s\n", 100.0 * used_mb / asked_mb, size(asked_mb).c_str());
  else
    std::printf("Memory Efficiency: no memory was requested (--mem)\n");
  return 0;
}

}  // namespace locus::cli
