#include "cli/slurm/squeue_format.hpp"

#include <algorithm>
#include <cctype>

#include "cli/slurm/slurm_args.hpp"
#include "cli/slurm/slurm_fields.hpp"
#include "common/job_spec.hpp"

namespace locus::slurm {
namespace {

constexpr int kLongFormatWidth = 20;  // squeue -O: a field without a width gets 20 columns

struct TypeInfo {
  char type;
  std::string_view title;
  std::string_view long_name;  // for -O
};
constexpr TypeInfo kTypes[] = {
    {'i', "JOBID", "JobArrayID"},   {'A', "JOBID", "JobID"},
    {'F', "ARRAY_JOB_ID", "ArrayJobID"}, {'K', "ARRAY_TASK_ID", "ArrayTaskID"},
    {'j', "NAME", "Name"},          {'u', "USER", "UserName"},
    {'U', "UID", "UserID"},         {'t', "ST", "StateCompact"},
    {'T', "STATE", "State"},        {'M', "TIME", "TimeUsed"},
    {'l', "TIME_LIMIT", "TimeLimit"}, {'D', "NODES", "NumNodes"},
    {'C', "CPUS", "NumCPUs"},       {'R', "NODELIST(REASON)", "ReasonList"},
    {'r', "REASON", "Reason"},      {'P', "PARTITION", "Partition"},
    {'N', "NODELIST", "NodeList"},  {'S', "START_TIME", "StartTime"},
    {'V', "SUBMIT_TIME", "SubmitTime"}, {'e', "END_TIME", "EndTime"},
    {'a', "ACCOUNT", "Account"},    {'q', "QOS", "QOS"},
    {'Z', "WORK_DIR", "WorkDir"},   {'o', "COMMAND", "Command"},
    {'L', "TIME_LEFT", "TimeLeft"},
};

const TypeInfo* typeInfo(char type) {
  for (const auto& t : kTypes)
    if (t.type == type) return &t;
  return nullptr;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string timeLimit(int64_t s) { return s > 0 ? squeueDuration(s) : "UNLIMITED"; }

std::string value(char type, const proto::JobInfo& job, int64_t now) {
  switch (type) {
    case 'i': return displayJobId(job);
    case 'A': return std::to_string(job.id());
    case 'F': return std::to_string(job.array_task_id() >= 0 ? job.array_job_id() : job.id());
    case 'K': return job.array_task_id() >= 0 ? std::to_string(job.array_task_id()) : "N/A";
    case 'j': return job.name();
    case 'u': return job.user();
    case 'U': return std::to_string(job.uid());
    case 't': return compactState(job.state());
    case 'T': return job.state();
    case 'M': return squeueDuration(elapsedSeconds(job, now));
    case 'l': return timeLimit(job.time_limit_s());
    case 'L': {
      if (job.time_limit_s() <= 0) return "UNLIMITED";
      return squeueDuration(job.time_limit_s() - elapsedSeconds(job, now));
    }
    case 'D': return std::to_string(nodeCount(job));
    case 'C': return std::to_string(cpuCount(job));
    case 'R': {
      // Pending and failed jobs show why; running and completed ones where they ran.
      std::string nodes = nodeListOf(job);
      const std::string& s = job.state();
      if (isPending(job) || s == "FAILED" || s == "TIMEOUT" || s == "NODE_FAIL" ||
          s == "OUT_OF_MEMORY" || nodes.empty())
        return "(" + reasonOf(job) + ")";
      return nodes;
    }
    case 'r': return reasonOf(job);
    case 'P': return partitionOf(job);
    case 'N': return nodeListOf(job);
    case 'S': return timestamp(job.start_time() ? job.start_time() : job.expected_start_time(), "N/A");
    case 'V': return timestamp(job.submit_time(), "N/A");
    case 'e': {
      if (job.end_time()) return timestamp(job.end_time(), "N/A");
      if (job.start_time() && job.time_limit_s() > 0)
        return timestamp(job.start_time() + job.time_limit_s(), "N/A");
      return "N/A";
    }
    case 'a': return job.account().empty() ? "(null)" : job.account();
    case 'q': return job.qos().empty() ? "normal" : job.qos();
    case 'Z': return job.work_dir();
    case 'o': return job.command();
  }
  return "";
}

// Every state name squeue -t accepts. Locus never has the ones without a JobState (COMPLETING,
// SUSPENDED, ...): they are valid and match nothing.
std::optional<std::string> normaliseState(std::string_view word) {
  if (iequals(word, "all")) return "ALL";
  if (auto st = jobStateFromString(word)) return std::string(toString(*st));
  static constexpr std::pair<std::string_view, std::string_view> kOther[] = {
      {"CG", "COMPLETING"}, {"S", "SUSPENDED"},    {"CF", "CONFIGURING"}, {"PR", "PREEMPTED"},
      {"BF", "BOOT_FAIL"},  {"DL", "DEADLINE"},    {"RQ", "REQUEUED"},    {"RS", "RESIZING"},
      {"RV", "REVOKED"},    {"SI", "SIGNALING"},   {"SE", "SPECIAL_EXIT"}, {"SO", "STAGE_OUT"},
      {"ST", "STOPPED"},    {"RD", "RESV_DEL_HOLD"}, {"RF", "REQUEUE_FED"}, {"RH", "REQUEUE_HOLD"}};
  for (const auto& [code, name] : kOther)
    if (iequals(word, code) || iequals(word, name)) return std::string(name);
  return std::nullopt;
}

int stateRank(const proto::JobInfo& job) {
  if (isPending(job)) return 0;
  if (isRunning(job)) return 1;
  return 2;
}

}  // namespace

Result<std::vector<SqueueField>> parseSqueueFormat(std::string_view format) {
  std::vector<SqueueField> fields;
  size_t pos = format.find('%');
  if (pos == std::string_view::npos) pos = format.size();
  if (pos > 0) fields.push_back({0, 0, false, std::string(format.substr(0, pos))});
  while (pos < format.size()) {
    ++pos;  // past '%'
    SqueueField f;
    if (pos < format.size() && format[pos] == '.') {
      f.right = true;
      ++pos;
    } else if (pos < format.size() && format[pos] == '-') {
      ++pos;  // left is the default
    }
    while (pos < format.size() && std::isdigit(static_cast<unsigned char>(format[pos])))
      f.width = f.width * 10 + (format[pos++] - '0');
    if (pos >= format.size()) return invalidArgument("Invalid job format specification: incomplete field");
    f.type = format[pos++];
    if (!typeInfo(f.type))
      return invalidArgument(std::string("Invalid job format specification: ") + f.type);
    size_t next = format.find('%', pos);
    if (next == std::string_view::npos) next = format.size();
    f.suffix = std::string(format.substr(pos, next - pos));
    fields.push_back(std::move(f));
    pos = next;
  }
  return fields;
}

Result<std::vector<SqueueField>> parseSqueueLongFormat(std::string_view format) {
  std::vector<SqueueField> fields;
  for (const auto& item : splitList(format)) {
    std::string name = item, spec;
    if (auto colon = item.find(':'); colon != std::string::npos) {
      name = item.substr(0, colon);
      spec = item.substr(colon + 1);
    }
    const TypeInfo* info = nullptr;
    for (const auto& t : kTypes)
      if (iequals(t.long_name, name)) info = &t;
    if (!info) return invalidArgument("Invalid job format specification: " + name);
    SqueueField f;
    f.type = info->type;
    size_t pos = 0;
    if (pos < spec.size() && spec[pos] == '.') {
      f.right = true;
      ++pos;
    }
    bool has_width = false;
    while (pos < spec.size() && std::isdigit(static_cast<unsigned char>(spec[pos]))) {
      f.width = f.width * 10 + (spec[pos++] - '0');
      has_width = true;
    }
    if (!has_width) f.width = kLongFormatWidth;
    f.suffix = spec.substr(pos);
    fields.push_back(std::move(f));
  }
  if (fields.empty()) return invalidArgument("Invalid job format specification: empty");
  return fields;
}

Result<SqueueOptions> parseSqueueArgs(const std::vector<std::string>& args) {
  static const std::vector<OptionSpec> kSpecs{
      {'h', "noheader", false}, {'u', "user", true},   {'j', "jobs", true},
      {'t', "states", true},    {'p', "partition", true}, {'o', "format", true},
      {'O', "Format", true},    {'a', "all", false},   {'l', "long", false},
      {'r', "array", false},    {0, "me", false},      {0, "help", false},
      {0, "usage", false},      {'v', "verbose", false}, {0, "state", true},
      {0, "job", true},         {0, "name", true},     {'n', "names", true}};
  auto parsed = parseArgs(args, kSpecs);
  if (!parsed.ok()) return parsed.error();
  SqueueOptions o;
  o.help = parsed->has("help");
  o.usage = parsed->has("usage");
  o.noheader = parsed->has("noheader");
  o.users = parsed->list("user");
  o.jobs = parsed->list("jobs");
  for (auto& j : parsed->list("job")) o.jobs.push_back(j);
  // squeue also takes job ids as a plain argument list ("squeue 12 13" is an error in 22.05,
  // but "-j" with a trailing list is common); be strict like Slurm.
  if (!parsed->positionals.empty())
    return invalidArgument("Unrecognized option: " + parsed->positionals.front());
  for (const auto& j : o.jobs)
    if (Status s = checkJobSelector(j); !s.ok()) return s.error();
  std::vector<std::string> states = parsed->list("states");
  for (auto& s : parsed->list("state")) states.push_back(s);
  for (const auto& s : states) {
    auto norm = normaliseState(s);
    if (!norm) return invalidArgument("Invalid job state specified: " + s);
    o.states.push_back(*norm);
  }
  o.partitions = parsed->list("partition");
  if (parsed->has("Format")) {
    auto f = parseSqueueLongFormat(parsed->last("Format"));
    if (!f.ok()) return f.error();
    o.fields = std::move(*f);
  } else {
    auto f = parseSqueueFormat(parsed->last("format", kSqueueDefaultFormat));
    if (!f.ok()) return f.error();
    o.fields = std::move(*f);
  }
  return o;
}

bool squeueNeedsAllStates(const SqueueOptions& opts) {
  return !opts.states.empty() || !opts.jobs.empty();
}

std::string formatSqueue(const std::vector<proto::JobInfo>& all, const SqueueOptions& opts,
                         int64_t now) {
  std::vector<const proto::JobInfo*> jobs;
  bool all_states = std::find(opts.states.begin(), opts.states.end(), "ALL") != opts.states.end();
  for (const auto& job : all) {
    if (!opts.users.empty() &&
        std::none_of(opts.users.begin(), opts.users.end(), [&](const std::string& u) {
          return u == job.user() || u == std::to_string(job.uid());
        }))
      continue;
    if (!opts.jobs.empty() && std::none_of(opts.jobs.begin(), opts.jobs.end(), [&](const std::string& j) {
          return jobMatches(job, j);
        }))
      continue;
    if (!opts.partitions.empty() &&
        std::find(opts.partitions.begin(), opts.partitions.end(), partitionOf(job)) == opts.partitions.end())
      continue;
    if (!all_states) {
      if (opts.states.empty()) {
        // The live queue by default; -j alone shows its jobs in any state.
        if (opts.jobs.empty() && !isPending(job) && !isRunning(job)) continue;
      } else if (std::find(opts.states.begin(), opts.states.end(), job.state()) == opts.states.end()) {
        continue;
      }
    }
    jobs.push_back(&job);
  }
  std::stable_sort(jobs.begin(), jobs.end(), [](const proto::JobInfo* a, const proto::JobInfo* b) {
    auto pa = partitionOf(*a), pb = partitionOf(*b);
    if (pa != pb) return pa < pb;
    if (stateRank(*a) != stateRank(*b)) return stateRank(*a) < stateRank(*b);
    return a->id() < b->id();
  });

  std::string out;
  auto line = [&](auto&& text_of) {
    for (const auto& f : opts.fields) {
      if (f.type != 0) out += fitField(text_of(f.type), f.width, f.right);
      out += f.suffix;
    }
    out += '\n';
  };
  if (!opts.noheader) line([](char t) { return std::string(typeInfo(t)->title); });
  for (const auto* job : jobs) line([&](char t) { return value(t, *job, now); });
  return out;
}

}  // namespace locus::slurm
