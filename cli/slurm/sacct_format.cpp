#include "cli/slurm/sacct_format.hpp"

#include <algorithm>
#include <cctype>

#include "cli/slurm/slurm_args.hpp"
#include "cli/slurm/slurm_fields.hpp"
#include "common/job_spec.hpp"
#include "common/slurm_formats.hpp"

namespace locus::slurm {
namespace {

struct FieldDef {
  std::string_view name;
  int width;
};
// sacct's default widths (src/sacct/sacct.c).
constexpr FieldDef kFields[] = {
    {"Account", 10},  {"AllocCPUS", 10}, {"AllocNodes", 10}, {"AllocTRES", 10},
    {"CPUTime", 10},  {"CPUTimeRAW", 10}, {"Elapsed", 10},   {"ElapsedRaw", 10},
    {"End", 19},      {"ExitCode", 8},   {"GID", 6},         {"JobID", -12},
    {"JobIDRaw", -12}, {"JobName", 10},  {"MaxRSS", 10},     {"NCPUS", 10},
    {"NNodes", 8},    {"NodeList", 15},  {"NTasks", 8},      {"Partition", 10},
    {"QOS", 10},      {"Reason", 22},    {"ReqCPUS", 8},     {"ReqMem", 10},
    {"ReqNodes", 8},  {"Start", 19},     {"State", 10},      {"Submit", 19},
    {"Timelimit", 10}, {"UID", 6},       {"User", 9},        {"WorkDir", 20},
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Memory as Slurm's TRES strings print it: whole gibibytes as "4G", else megabytes "1000M".
std::string memText(uint64_t mb) {
  if (mb > 0 && mb % (1024ULL * 1024) == 0) return std::to_string(mb / (1024ULL * 1024)) + "T";
  if (mb > 0 && mb % 1024 == 0) return std::to_string(mb / 1024) + "G";
  return std::to_string(mb) + "M";
}

uint64_t memTotalMb(const proto::JobInfo& job) {
  uint64_t total = 0;
  for (const auto& a : job.allocation()) total += a.mem_mb();
  return total > 0 ? total : job.mem_mb() * nodeCount(job);
}

// One printed row: the job itself, its batch script, or one of its steps (`locus run`).
struct Row {
  enum class Kind { kJob, kBatch, kStep };
  Kind kind;
  const proto::JobInfo* job;
  const proto::StepInfo* step = nullptr;  // kStep only
};

bool allocationOnly(const proto::JobInfo& job) {
  return job.allocation_only() || (job.has_spec() && job.spec().allocation_only());
}

// A step's exit code as sacct shows a wait status: a task killed by a signal (Locus reports
// 128+SIG) is "0:SIG", a task exit code N is "N:0"; "0:0" while the step runs.
std::string stepExitCode(const proto::StepInfo& s) {
  if (s.exit_code() > 128) return "0:" + std::to_string(s.exit_code() - 128);
  return std::to_string(std::max(0, s.exit_code())) + ":0";
}

int64_t stepElapsed(const proto::StepInfo& s, int64_t now) {
  if (s.start_time() == 0) return 0;
  return std::max<int64_t>(0, (s.end_time() > 0 ? s.end_time() : now) - s.start_time());
}

// Step fields that describe the job as a whole (Partition, User, QOS, ...) are empty on step
// lines, as in sacct's print_fields(JOBSTEP); Account is the job's on every line.
std::string stepValue(std::string_view name, const proto::JobInfo& j, const proto::StepInfo& s,
                      int64_t now) {
  // Locus does not report a step's cores: it runs NTasks tasks of the job's cpus per task.
  const uint32_t cpus =
      std::max<uint32_t>(1, s.ntasks()) * std::max<uint32_t>(1, j.cpus_per_task());
  const std::string step_id = "." + std::to_string(s.id());
  if (name == "JobID") return displayJobId(j) + step_id;
  if (name == "JobIDRaw") return std::to_string(j.id()) + step_id;
  if (name == "JobName") return s.name();
  if (name == "State") return s.state();
  if (name == "ExitCode") return stepExitCode(s);
  if (name == "Elapsed") return hmsDuration(stepElapsed(s, now));
  if (name == "ElapsedRaw") return std::to_string(stepElapsed(s, now));
  if (name == "CPUTime") return hmsDuration(stepElapsed(s, now) * cpus);
  if (name == "CPUTimeRAW") return std::to_string(stepElapsed(s, now) * cpus);
  if (name == "Start" || name == "Submit") return timestamp(s.start_time(), "Unknown");
  if (name == "End") return timestamp(s.end_time(), "Unknown");
  if (name == "NNodes" || name == "AllocNodes" || name == "ReqNodes")
    return std::to_string(s.nodes_size());
  if (name == "NCPUS" || name == "AllocCPUS" || name == "ReqCPUS") return std::to_string(cpus);
  if (name == "NTasks") return std::to_string(s.ntasks());
  if (name == "Account") return j.account();
  if (name == "NodeList") {
    if (s.nodes().empty()) return "None assigned";
    return compressHostlist(std::vector<std::string>(s.nodes().begin(), s.nodes().end()));
  }
  if (name == "AllocTRES") {
    // Steps share the job's memory on the nodes they run on.
    uint64_t mem = 0;
    for (const auto& a : j.allocation())
      if (std::find(s.nodes().begin(), s.nodes().end(), a.node()) != s.nodes().end())
        mem += a.mem_mb();
    return "cpu=" + std::to_string(cpus) + (mem > 0 ? ",mem=" + memText(mem) : "") +
           ",node=" + std::to_string(s.nodes_size());
  }
  return "";
}

std::string fieldValue(std::string_view name, const Row& r, int64_t now) {
  const proto::JobInfo& j = *r.job;
  if (r.kind == Row::Kind::kStep) return stepValue(name, j, *r.step, now);
  const bool batch = r.kind == Row::Kind::kBatch;
  const bool started = j.start_time() > 0;
  // The batch script runs on the first node with that node's cores.
  const uint32_t batch_cpus =
      j.allocation_size() > 0 ? static_cast<uint32_t>(j.allocation(0).cores_size()) : cpuCount(j);
  const uint32_t cpus = batch ? batch_cpus : cpuCount(j);
  if (name == "JobID") return displayJobId(j) + (batch ? ".batch" : "");
  if (name == "JobIDRaw") return std::to_string(j.id()) + (batch ? ".batch" : "");
  if (name == "JobName") return batch ? "batch" : j.name();
  if (name == "State") return j.state();
  if (name == "ExitCode") return exitCode(j);
  if (name == "Elapsed") return hmsDuration(elapsedSeconds(j, now));
  if (name == "ElapsedRaw") return std::to_string(elapsedSeconds(j, now));
  if (name == "CPUTime") return hmsDuration(elapsedSeconds(j, now) * cpus);
  if (name == "CPUTimeRAW") return std::to_string(elapsedSeconds(j, now) * cpus);
  if (name == "Start") return timestamp(j.start_time(), "Unknown");
  if (name == "End") return timestamp(j.end_time(), "Unknown");
  // A step's submit time is its start (sacct prints step->start).
  if (name == "Submit") return timestamp(batch ? j.start_time() : j.submit_time(), "Unknown");
  if (name == "NNodes" || name == "AllocNodes")
    return std::to_string(
        batch ? 1 : (started ? nodeCount(j) : (name == "AllocNodes" ? 0 : nodeCount(j))));
  if (name == "NCPUS" || name == "AllocCPUS") {
    if (!started) return name == "AllocCPUS" ? "0" : std::to_string(cpuCount(j));
    return std::to_string(cpus);
  }
  if (name == "ReqCPUS")
    return std::to_string(batch ? batch_cpus
                                : j.ntasks() * std::max<uint32_t>(1, j.cpus_per_task()));
  if (name == "ReqNodes")
    return std::to_string(batch ? 1 : std::max<uint32_t>(1, j.nodes_requested()));
  if (name == "NTasks") return batch ? "1" : "";
  if (name == "Partition") return batch ? "" : partitionOf(j);
  if (name == "Account") return j.account();
  if (name == "QOS") return batch ? "" : (j.qos().empty() ? "normal" : j.qos());
  if (name == "User") return batch ? "" : j.user();
  if (name == "UID") return batch ? "" : std::to_string(j.uid());
  if (name == "GID") return batch ? "" : std::to_string(j.gid());
  // The node measures the batch script's peak RSS when it ends; steps are not sampled yet.
  if (name == "MaxRSS")
    return batch && j.end_time() > 0 && j.max_rss_kb() > 0 ? formatRssKb(j.max_rss_kb()) : "";
  if (name == "ReqMem") return batch ? "" : memText(j.mem_mb());
  if (name == "Timelimit")
    return batch ? "" : (j.time_limit_s() > 0 ? hmsDuration(j.time_limit_s()) : "UNLIMITED");
  if (name == "Reason") return batch ? "" : reasonOf(j);
  if (name == "WorkDir") return batch ? "" : j.work_dir();
  if (name == "NodeList") {
    if (!started) return "None assigned";
    if (batch && j.nodes_size() > 0) return j.nodes(0);
    return nodeListOf(j);
  }
  if (name == "AllocTRES") {
    if (!started) return "";
    if (batch) {
      uint64_t mem = j.allocation_size() > 0 ? j.allocation(0).mem_mb() : j.mem_mb();
      return "cpu=" + std::to_string(batch_cpus) + ",mem=" + memText(mem) + ",node=1";
    }
    return "billing=" + std::to_string(cpuCount(j)) + ",cpu=" + std::to_string(cpuCount(j)) +
           ",mem=" + memText(memTotalMb(j)) + ",node=" + std::to_string(nodeCount(j));
  }
  return "";
}

// print_fields_str: cut with '+' when too long, then pad to the column, followed by a space.
std::string column(const std::string& v, int width) {
  size_t w = static_cast<size_t>(std::abs(width));
  std::string s = v;
  if (s.size() > w) {
    s.resize(w);
    if (w > 0) s[w - 1] = '+';
  }
  std::string pad(w - s.size(), ' ');
  return (width < 0 ? s + pad : pad + s) + " ";
}

bool parseInt(std::string_view s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  out = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

}  // namespace

Result<std::vector<SacctField>> parseSacctFormat(std::string_view format) {
  std::vector<SacctField> out;
  for (const auto& item : splitList(format)) {
    std::string name = item;
    std::optional<int> width;
    if (auto pct = item.find('%'); pct != std::string::npos) {
      name = item.substr(0, pct);
      std::string w = item.substr(pct + 1);
      bool neg = !w.empty() && w[0] == '-';
      int n = 0;
      if (!parseInt(neg ? std::string_view(w).substr(1) : std::string_view(w), n))
        return invalidArgument("Invalid field requested: \"" + item + "\"");
      if (n != 0) width = neg ? -n : n;
    }
    const FieldDef* def = nullptr;
    for (const auto& f : kFields)
      if (iequals(f.name, name)) def = &f;
    if (!def) return invalidArgument("Invalid field requested: \"" + name + "\"");
    out.push_back({std::string(def->name), width.value_or(def->width)});
  }
  if (out.empty()) return invalidArgument("Invalid field requested: \"\"");
  return out;
}

Result<SacctOptions> parseSacctArgs(const std::vector<std::string>& args, int64_t now) {
  static const std::vector<OptionSpec> kSpecs{
      {'j', "jobs", true},      {'u', "user", true},       {'a', "allusers", false},
      {'A', "accounts", true},
      {'s', "state", true},     {'S', "starttime", true},  {'E', "endtime", true},
      {'X', "allocations", false}, {'p', "parsable", false}, {'P', "parsable2", false},
      {'n', "noheader", false}, {'o', "format", true},     {0, "help", false},
      {'b', "brief", false},    {'l', "long", false},      {'L', "allclusters", false},
      {'D', "duplicates", false}, {'r', "partition", true}, {0, "name", true},
      {0, "units", true},       {0, "noconvert", false},   {'v', "verbose", false}};
  auto parsed = parseArgs(args, kSpecs);
  if (!parsed.ok()) return parsed.error();
  if (!parsed->positionals.empty())
    return invalidArgument("Unknown arguments: " + parsed->positionals.front());
  SacctOptions o;
  o.help = parsed->has("help");
  o.jobs = parsed->list("jobs");
  for (auto& j : o.jobs) {
    // "12.batch" or "12.0" selects one step of job 12.
    auto dot = j.find('.');
    if (Status s = checkJobSelector(j.substr(0, dot)); !s.ok()) return s.error();
    std::string step = dot == std::string::npos ? "" : j.substr(dot + 1);
    if (!step.empty() && step != "batch" &&
        !std::all_of(step.begin(), step.end(), [](unsigned char c) { return std::isdigit(c); }))
      return invalidArgument("Invalid job id: " + j);
    o.steps.push_back(step);
    j = j.substr(0, dot);
  }
  o.users = parsed->list("user");
  o.all_users = parsed->has("allusers");
  o.accounts = parsed->list("accounts");
  auto states = parseJobStates(parsed->list("state"));
  if (!states.ok()) return states.error();
  o.states = std::move(*states);
  if (parsed->has("starttime")) {
    auto t = parseSacctTime(parsed->last("starttime"), now);
    if (!t.ok()) return t.error();
    o.start = *t;
  }
  if (parsed->has("endtime")) {
    auto t = parseSacctTime(parsed->last("endtime"), now);
    if (!t.ok()) return t.error();
    o.end = *t;
  }
  if (Status s = checkWindow(o, now); !s.ok()) return s.error();
  o.allocations = parsed->has("allocations");
  o.parsable = parsed->has("parsable");
  o.parsable2 = parsed->has("parsable2");
  o.noheader = parsed->has("noheader");
  std::string format = kSacctDefaultFormat;
  if (parsed->has("brief")) format = "JobID,State,ExitCode";
  if (parsed->has("format")) {
    // sacct accepts several -o options, and spaces as separators too.
    format.clear();
    for (auto v : parsed->values.at("format")) {
      std::replace(v.begin(), v.end(), ' ', ',');
      format += (format.empty() ? "" : ",") + v;
    }
  }
  auto fields = parseSacctFormat(format);
  if (!fields.ok()) return fields.error();
  o.fields = std::move(*fields);
  return o;
}

bool sacctSelects(const proto::JobInfo& job, const SacctOptions& opts, int64_t now) {
  return jobSelected(job, opts, now);
}

std::string formatSacct(const std::vector<proto::JobInfo>& all, const SacctOptions& opts,
                        int64_t now) {
  std::vector<const proto::JobInfo*> jobs;
  for (const auto& job : all)
    if (sacctSelects(job, opts, now)) jobs.push_back(&job);
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const proto::JobInfo* a, const proto::JobInfo* b) { return a->id() < b->id(); });

  std::string out;
  bool parsable = opts.parsable || opts.parsable2;
  auto emit = [&](auto&& text_of) {
    for (size_t i = 0; i < opts.fields.size(); ++i) {
      const auto& f = opts.fields[i];
      std::string v = text_of(f);
      if (!parsable) out += column(v, f.width);
      else if (opts.parsable2 && !opts.parsable && i + 1 == opts.fields.size()) out += v;
      else out += v + "|";
    }
    out += '\n';
  };
  if (!opts.noheader) {
    if (parsable) {
      emit([](const SacctField& f) { return f.name; });
    } else {
      // Titles are cut without the '+' that marks a cut value.
      for (const auto& f : opts.fields)
        out += fitField(f.name, std::abs(f.width), f.width > 0) + " ";
      out += '\n';
    }
    if (!parsable) {
      for (const auto& f : opts.fields) out += std::string(static_cast<size_t>(std::abs(f.width)), '-') + " ";
      out += '\n';
    }
  }
  auto emit_row = [&](const Row& row) {
    emit([&](const SacctField& f) { return fieldValue(f.name, row, now); });
  };
  for (const auto* job : jobs) {
    // Named only as "ID.STEP": just those steps (-X: the job line instead).
    auto named = [&](const std::string& step) {
      for (size_t i = 0; i < opts.jobs.size(); ++i) {
        const std::string& s = i < opts.steps.size() ? opts.steps[i] : std::string();
        if (s == step && jobMatches(*job, opts.jobs[i])) return true;
      }
      return false;
    };
    const bool whole = opts.jobs.empty() || opts.allocations || named("");
    auto wanted = [&](const std::string& step) { return whole || named(step); };
    if (whole) emit_row({Row::Kind::kJob, job});
    if (opts.allocations) continue;
    // The batch line first, then the steps in id order, as sacct lists them.
    if (job->start_time() > 0 && !allocationOnly(*job) && wanted("batch"))
      emit_row({Row::Kind::kBatch, job});
    std::vector<const proto::StepInfo*> steps;
    for (const auto& s : job->steps())
      if (wanted(std::to_string(s.id()))) steps.push_back(&s);
    std::stable_sort(steps.begin(), steps.end(),
                     [](const auto* a, const auto* b) { return a->id() < b->id(); });
    for (const auto* s : steps) emit_row({Row::Kind::kStep, job, s});
  }
  return out;
}

}  // namespace locus::slurm
