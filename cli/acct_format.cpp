#include "cli/acct_format.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <tuple>

#include "cli/slurm/slurm_args.hpp"
#include "cli/slurm/slurm_fields.hpp"
#include "common/time_util.hpp"

namespace locus::cli {
namespace {

struct FieldDef {
  std::string_view name;
  bool right;  // right-aligned in the table (numbers and durations)
};
constexpr FieldDef kFields[] = {
    {"JobID", false},    {"JobIDRaw", true}, {"JobName", false},   {"User", false},
    {"UID", true},       {"Account", false}, {"Partition", false}, {"QOS", false},
    {"State", false},    {"Reason", false},  {"Submit", false},    {"Start", false},
    {"End", false},      {"Elapsed", true},  {"ElapsedRaw", true}, {"Timelimit", true},
    {"AllocCPUS", true}, {"CPUTime", true},  {"CPUTimeRAW", true}, {"TotalCPU", true},
    {"MaxRSS", true},    {"ExitCode", true}, {"NNodes", true},     {"NodeList", false},
    {"GPUs", true},      {"Billing", true},
};

const FieldDef* findField(std::string_view name) {
  auto iequals = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  for (const auto& f : kFields)
    if (iequals(f.name, name)) return &f;
  return nullptr;
}

bool started(const proto::JobInfo& job) { return job.start_time() > 0; }
// The node's figures (CPU time, peak RSS) come with the batch script's end.
bool measured(const proto::JobInfo& job) { return started(job) && job.end_time() > 0; }
uint32_t allocCpus(const proto::JobInfo& job) { return started(job) ? slurm::cpuCount(job) : 0; }
int64_t cpuSeconds(const proto::JobInfo& job, int64_t now) {
  return allocCpus(job) * slurm::elapsedSeconds(job, now);
}
uint32_t gpuCount(const proto::JobInfo& job) {
  uint32_t n = 0;
  for (const auto& a : job.allocation()) n += static_cast<uint32_t>(a.gpus_size());
  return n;
}

std::string joinedFields(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

std::string table(const std::vector<const proto::JobInfo*>& jobs, const AcctOptions& opts,
                  int64_t now) {
  std::vector<std::vector<std::string>> rows;
  if (!opts.noheader) rows.push_back(opts.fields);
  for (const auto* job : jobs) {
    std::vector<std::string> row;
    for (const auto& f : opts.fields) row.push_back(acctField(f, *job, now));
    rows.push_back(std::move(row));
  }
  std::vector<size_t> width(opts.fields.size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string pad(width[i] - row[i].size(), ' ');
      if (i > 0) line += "  ";
      line += findField(opts.fields[i])->right ? pad + row[i] : row[i] + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string csv(const std::vector<const proto::JobInfo*>& jobs, const AcctOptions& opts,
                int64_t now) {
  std::string out;
  auto emit = [&](auto&& value_of) {
    for (size_t i = 0; i < opts.fields.size(); ++i)
      out += (i > 0 ? "," : "") + csvField(value_of(opts.fields[i]));
    out += "\n";
  };
  if (!opts.noheader) emit([](const std::string& f) { return f; });
  for (const auto* job : jobs) emit([&](const std::string& f) { return acctField(f, *job, now); });
  return out;
}

}  // namespace

const std::vector<std::string>& acctFieldNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& f : kFields) v.emplace_back(f.name);
    return v;
  }();
  return names;
}

Result<std::vector<std::string>> parseAcctFields(std::string_view list) {
  std::vector<std::string> out;
  for (const auto& item : slurm::splitList(list)) {
    const FieldDef* f = findField(item);
    if (!f)
      return invalidArgument("unknown field '" + item +
                             "' (valid: " + joinedFields(acctFieldNames()) + ")");
    out.emplace_back(f->name);
  }
  if (out.empty())
    return invalidArgument("no field given (valid: " + joinedFields(acctFieldNames()) + ")");
  return out;
}

Result<AcctOptions> parseAcctArgs(const std::vector<std::string>& args, int64_t now) {
  static const std::vector<slurm::OptionSpec> kSpecs{
      {'u', "user", true},   {0, "users", true},       {'A', "account", true},
      {0, "accounts", true}, {'S', "starttime", true}, {'E', "endtime", true},
      {'s', "state", true},  {'j', "jobs", true},      {'o', "format", true},
      {0, "json", false},    {0, "csv", false},        {'n', "noheader", false},
      {'h', "help", false}};
  auto parsed = slurm::parseArgs(args, kSpecs);
  if (!parsed.ok()) return parsed.error();
  if (!parsed->positionals.empty())
    return invalidArgument("unexpected argument '" + parsed->positionals.front() + "'");
  AcctOptions o;
  o.help = parsed->has("help");
  auto both = [&](std::string_view a, std::string_view b) {
    auto v = parsed->list(a);
    for (auto& x : parsed->list(b)) v.push_back(std::move(x));
    return v;
  };
  slurm::JobFilter& f = o.filter;
  f.users = both("user", "users");
  f.accounts = both("account", "accounts");
  f.jobs = parsed->list("jobs");
  for (const auto& j : f.jobs)
    if (Status s = slurm::checkJobSelector(j); !s.ok())
      return invalidArgument("-j: invalid job id '" + j + "'");
  auto states = slurm::parseJobStates(parsed->list("state"));
  if (!states.ok()) return invalidArgument("--state: " + states.error().message);
  f.states = std::move(*states);
  for (auto [key, slot, flag] : {std::tuple{"starttime", &f.start, "-S/--starttime"},
                                 std::tuple{"endtime", &f.end, "-E/--endtime"}}) {
    if (!parsed->has(key)) continue;
    auto t = slurm::parseSacctTime(parsed->last(key), now);
    if (!t.ok())
      return invalidArgument(
          std::string(flag) + ": invalid time '" + parsed->last(key) +
          "' (YYYY-MM-DD[THH:MM[:SS]], HH:MM[:SS], now, now-1hour, today, unix seconds)");
    *slot = *t;
  }
  if (Status s = slurm::checkWindow(f, now); !s.ok()) return s.error();
  const bool json = parsed->has("json"), csv = parsed->has("csv");
  if (json && csv) return invalidArgument("--json and --csv cannot be used together");
  o.output = json  ? AcctOptions::Output::kJson
             : csv ? AcctOptions::Output::kCsv
                   : AcctOptions::Output::kTable;
  o.noheader = parsed->has("noheader");
  if (json && (parsed->has("format") || o.noheader))
    return invalidArgument(
        "--format and --noheader apply to the table and --csv; --json prints every field");
  std::string format(kAcctDefaultFields);
  if (parsed->has("format")) format = joinedFields(parsed->list("format"));
  auto fields = parseAcctFields(format);
  if (!fields.ok()) return invalidArgument("--format: " + fields.error().message);
  o.fields = std::move(*fields);
  return o;
}

std::string acctField(std::string_view name, const proto::JobInfo& j, int64_t now) {
  using namespace slurm;
  if (name == "JobID") return displayJobId(j);
  if (name == "JobIDRaw") return std::to_string(j.id());
  if (name == "JobName") return j.name();
  if (name == "User") return j.user();
  if (name == "UID") return std::to_string(j.uid());
  if (name == "Account") return j.account();
  if (name == "Partition") return partitionOf(j);
  if (name == "QOS") return j.qos().empty() ? "normal" : j.qos();
  if (name == "State") return j.state();
  if (name == "Reason") return j.reason();
  if (name == "Submit") return timestamp(j.submit_time(), "Unknown");
  if (name == "Start") return timestamp(j.start_time(), "Unknown");
  if (name == "End") return timestamp(j.end_time(), "Unknown");
  if (name == "Elapsed") return hmsDuration(elapsedSeconds(j, now));
  if (name == "ElapsedRaw") return std::to_string(elapsedSeconds(j, now));
  if (name == "Timelimit")
    return j.time_limit_s() > 0 ? hmsDuration(j.time_limit_s()) : "UNLIMITED";
  if (name == "AllocCPUS") return std::to_string(allocCpus(j));
  if (name == "CPUTime") return hmsDuration(cpuSeconds(j, now));
  if (name == "CPUTimeRAW") return std::to_string(cpuSeconds(j, now));
  if (name == "TotalCPU") return measured(j) ? hmsDuration(std::llround(j.cpu_time_s())) : "";
  if (name == "MaxRSS") return measured(j) ? slurm::formatRssKb(j.max_rss_kb()) : "";
  if (name == "ExitCode") return exitCode(j);
  if (name == "NNodes") return std::to_string(nodeCount(j));
  if (name == "NodeList") return started(j) ? nodeListOf(j) : "None assigned";
  if (name == "GPUs") return std::to_string(gpuCount(j));
  if (name == "Billing") return formatBilling(j.billing());
  return "";
}

nlohmann::json acctJson(const proto::JobInfo& j, int64_t now) {
  using nlohmann::json;
  auto time = [](int64_t t) { return t > 0 ? json(formatRfc3339(t)) : json(nullptr); };
  const bool known = measured(j);
  // exit_code and signal are ExitCode's two halves: a job killed by a signal has code 0.
  json code = j.term_signal() > 0  ? json(0)
              : j.exit_code() >= 0 ? json(j.exit_code())
                                   : json(nullptr);
  const bool array = j.array_task_id() >= 0;
  return {
      {"job_id", j.id()},
      {"array_job_id", array ? json(j.array_job_id()) : json(nullptr)},
      {"array_task_id", array ? json(j.array_task_id()) : json(nullptr)},
      {"name", j.name()},
      {"user", j.user()},
      {"uid", j.uid()},
      {"account", j.account()},
      {"partition", slurm::partitionOf(j)},
      {"qos", j.qos().empty() ? "normal" : j.qos()},
      {"state", j.state()},
      {"reason", j.reason()},
      {"submit_time", time(j.submit_time())},
      {"start_time", time(j.start_time())},
      {"end_time", time(j.end_time())},
      {"elapsed_s", slurm::elapsedSeconds(j, now)},
      {"time_limit_s", j.time_limit_s() > 0 ? json(j.time_limit_s()) : json(nullptr)},
      {"alloc_cpus", allocCpus(j)},
      {"cpu_time_s", cpuSeconds(j, now)},
      {"total_cpu_s", known ? json(j.cpu_time_s()) : json(nullptr)},
      {"max_rss_kb", known ? json(j.max_rss_kb()) : json(nullptr)},
      {"max_rss_mb", known ? json(static_cast<double>(j.max_rss_kb()) / 1024.0) : json(nullptr)},
      {"exit_code", code},
      {"signal", j.term_signal()},
      {"nodes", slurm::nodeCount(j)},
      {"node_list", slurm::nodeListOf(j)},
      {"gpus", gpuCount(j)},
      {"billing", j.billing()},
  };
}

std::string formatAcct(const std::vector<proto::JobInfo>& all, const AcctOptions& opts,
                       int64_t now) {
  std::vector<const proto::JobInfo*> jobs;
  for (const auto& job : all)
    if (slurm::jobSelected(job, opts.filter, now)) jobs.push_back(&job);
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const auto* a, const auto* b) { return a->id() < b->id(); });
  switch (opts.output) {
    case AcctOptions::Output::kJson: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto* job : jobs) out.push_back(acctJson(*job, now));
      return out.dump(2) + "\n";
    }
    case AcctOptions::Output::kCsv:
      return csv(jobs, opts, now);
    case AcctOptions::Output::kTable:
      break;
  }
  return table(jobs, opts, now);
}

std::string formatBilling(double billing) {
  const double r = std::round(billing * 100) / 100;
  char buf[64];
  if (r == std::floor(r)) {
    std::snprintf(buf, sizeof buf, "%.0f", r);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.2f", r);
  std::string s = buf;
  if (s.back() == '0') s.pop_back();  // "12.50" -> "12.5"
  return s;
}

std::string csvField(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace locus::cli
