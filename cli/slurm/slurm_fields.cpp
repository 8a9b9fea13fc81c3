#include "cli/slurm/slurm_fields.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/job_spec.hpp"
#include "common/slurm_formats.hpp"

namespace locus::slurm {

std::string compactState(std::string_view state) {
  // Only full state names: jobStateFromString would also map a code to itself.
  auto parsed = jobStateFromString(state);
  if (!parsed || toString(*parsed) != state) return std::string(state);
  return std::string(shortCode(*parsed));
}

bool isPending(const proto::JobInfo& job) { return job.state() == "PENDING"; }
bool isRunning(const proto::JobInfo& job) { return job.state() == "RUNNING"; }

std::string squeueDuration(int64_t s) { return formatElapsed(s); }

std::string hmsDuration(int64_t s) { return formatDuration(std::max<int64_t>(0, s)); }

std::string timestamp(int64_t t, std::string_view none) {
  if (t == 0) return std::string(none);
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

std::string displayJobId(const proto::JobInfo& job) {
  if (job.array_task_id() >= 0)
    return std::to_string(job.array_job_id()) + "_" + std::to_string(job.array_task_id());
  return std::to_string(job.id());
}

std::string partitionOf(const proto::JobInfo& job) {
  return job.partition().empty() ? std::string(kDefaultPartition) : job.partition();
}

std::string nodeListOf(const proto::JobInfo& job) {
  if (job.nodes().empty()) return "";
  return compressHostlist(std::vector<std::string>(job.nodes().begin(), job.nodes().end()));
}

uint32_t nodeCount(const proto::JobInfo& job) {
  if (job.nodes_size() > 0) return static_cast<uint32_t>(job.nodes_size());
  return std::max<uint32_t>(1, job.nodes_requested());
}

uint32_t cpuCount(const proto::JobInfo& job) {
  uint32_t cores = 0;
  for (const auto& a : job.allocation()) cores += static_cast<uint32_t>(a.cores_size());
  if (cores > 0) return cores;
  return std::max<uint32_t>(1, job.ntasks() * std::max<uint32_t>(1, job.cpus_per_task()));
}

int64_t elapsedSeconds(const proto::JobInfo& job, int64_t now) {
  if (job.start_time() == 0) return 0;
  int64_t end = job.end_time() > 0 ? job.end_time() : now;
  return std::max<int64_t>(0, end - job.start_time());
}

std::string exitCode(const proto::JobInfo& job) {
  // A job killed by a signal shows "0:SIG" (scancel: "0:15"), whatever its shell returned.
  if (job.term_signal() > 0) return "0:" + std::to_string(job.term_signal());
  return std::to_string(std::max(0, job.exit_code())) + ":" + std::to_string(job.term_signal());
}

std::string reasonOf(const proto::JobInfo& job) {
  const std::string& state = job.state();
  if (state == "TIMEOUT") return "TimeLimit";
  if (state == "OUT_OF_MEMORY") return "OutOfMemory";
  if (state == "NODE_FAIL") return "NodeDown";
  if (state == "FAILED") {
    if (job.term_signal() > 0) return "RaisedSignal:" + std::to_string(job.term_signal());
    if (job.reason().rfind("LaunchFailed", 0) == 0) return "JobLaunchFailure";
    return "NonZeroExitCode";
  }
  if (job.reason().empty() || state == "COMPLETED" || state == "RUNNING") return "None";
  // Locus reasons are Slurm's words already ("Priority", "Resources", "Cancelled"); keep only the
  // leading word of longer ones so the column stays one token.
  std::string word;
  for (char c : job.reason()) {
    if (c == ' ' || c == ',' || c == ':') break;
    word += c;
  }
  return word.empty() ? "None" : word;
}

std::string fitField(std::string_view value, int width, bool right) {
  if (width <= 0) return std::string(value);
  std::string v(value.substr(0, static_cast<size_t>(width)));
  std::string pad(static_cast<size_t>(width) - v.size(), ' ');
  return right ? pad + v : v + pad;
}

std::vector<std::string> splitList(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t next = text.find(sep, pos);
    if (next == std::string_view::npos) next = text.size();
    if (next > pos) out.emplace_back(text.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

namespace {
bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}
}  // namespace

Status checkJobSelector(std::string_view selector) {
  auto us = selector.find('_');
  if (us == std::string_view::npos ? allDigits(selector)
                                   : allDigits(selector.substr(0, us)) && allDigits(selector.substr(us + 1)))
    return {};
  return invalidArgument("Invalid job id: " + std::string(selector));
}

bool jobMatches(const proto::JobInfo& job, std::string_view selector) {
  auto us = selector.find('_');
  if (us == std::string_view::npos) {
    std::string id = std::to_string(job.id());
    if (id == selector) return true;
    return job.array_task_id() >= 0 && std::to_string(job.array_job_id()) == selector;
  }
  return job.array_task_id() >= 0 && std::to_string(job.array_job_id()) == selector.substr(0, us) &&
         std::to_string(job.array_task_id()) == selector.substr(us + 1);
}

std::string formatRssKb(uint64_t kb) {
  static constexpr char kUnits[] = {'K', 'M', 'G', 'T', 'P'};
  double v = static_cast<double>(kb);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < sizeof kUnits) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f%c", v, kUnits[unit]);
  else
    std::snprintf(buf, sizeof buf, "%.2f%c", v, kUnits[unit]);
  return buf;
}

}  // namespace locus::slurm
