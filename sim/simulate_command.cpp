#include "sim/simulate_command.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "sim/simulator.hpp"
#include "sim/swf_reader.hpp"

namespace locus::sim {
namespace {

constexpr const char* kUsage =
    "usage: locus simulate --trace FILE.swf[.gz] [--nodes N --cores-per-node C] "
    "[--policy easy-predict|easy|fcfs|conservative|firstfit] [--json OUT] [--jobs-csv OUT] "
    "[--limit JOBS] [--reserve-depth D] [--protect-after SECONDS]";

struct Options {
  std::string trace;
  SimConfig config;
  std::string json;
  std::string jobs_csv;
};

int usageError(const std::string& message) {
  std::fprintf(stderr, "locus: %s\n", message.c_str());
  return 2;
}

std::optional<uint64_t> positive(const std::string& text) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v == 0) return std::nullopt;
  return v;
}

// Parses the flags; returns an exit status on error or help.
std::optional<int> parse(const std::vector<std::string>& args, Options& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("%s\n", kUsage);
      return 0;
    }
    if (i + 1 >= args.size()) return usageError(flag + " needs a value (" + kUsage + ")");
    const std::string& value = args[++i];
    if (flag == "--trace") {
      o.trace = value;
    } else if (flag == "--json") {
      o.json = value;
    } else if (flag == "--jobs-csv") {
      o.jobs_csv = value;
    } else if (flag == "--policy") {
      const auto p = scheduler::parsePolicy(value);
      if (!p) return usageError("unknown policy '" + value + "' (fcfs, easy, easy-predict, conservative, firstfit)");
      o.config.policy = *p;
    } else if (flag == "--protect-after") {
      // easy-predict's starvation guard in seconds; 0 turns it off.
      const auto v = value == "0" ? std::optional<uint64_t>(0) : positive(value);
      if (!v || *v > INT64_MAX)
        return usageError(flag + " needs a number of seconds (0: off), not '" + value + "'");
      o.config.protect_after_s = static_cast<int64_t>(*v);
    } else if (flag == "--nodes" || flag == "--cores-per-node" || flag == "--limit" ||
               flag == "--reserve-depth") {
      const auto v = positive(value);
      if (!v || *v > UINT32_MAX)
        return usageError(flag + " needs a positive number, not '" + value + "'");
      if (flag == "--nodes") o.config.nodes = static_cast<uint32_t>(*v);
      if (flag == "--cores-per-node") o.config.cores_per_node = static_cast<uint32_t>(*v);
      if (flag == "--limit") o.config.limit = *v;
      if (flag == "--reserve-depth") o.config.reserve_depth = static_cast<uint32_t>(*v);
    } else {
      return usageError("unknown option " + flag + " (" + kUsage + ")");
    }
  }
  if (o.trace.empty()) return usageError(std::string("no trace given (") + kUsage + ")");
  if ((o.config.nodes == 0) != (o.config.cores_per_node == 0)) {
    return usageError("give both --nodes and --cores-per-node, or neither");
  }
  return std::nullopt;
}

bool writeJson(const std::string& path, const SimResult& r) {
  const nlohmann::ordered_json j = {
      {"jobs", r.jobs},
      {"skipped", r.skipped},
      {"makespan_s", r.makespan_s},
      {"utilization", r.utilization},
      {"wait_mean_s", r.wait_mean_s},
      {"wait_median_s", r.wait_median_s},
      {"wait_p95_s", r.wait_p95_s},
      {"bsld_mean", r.bsld_mean},
      {"decisions_per_s", r.wall_s > 0 ? static_cast<double>(r.decisions) / r.wall_s : 0.0},
      {"wall_s", r.wall_s},
  };
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  return static_cast<bool>(out.flush());
}

bool writeCsv(const std::string& path, const SimResult& r) {
  std::ofstream out(path);
  out << "id,submit,start,end,procs\n";
  for (const SimJob& j : r.schedule) {
    out << j.id << ',' << j.submit << ',' << j.start << ',' << j.end << ',' << j.procs << '\n';
  }
  return static_cast<bool>(out.flush());
}

}  // namespace

int runSimulate(const std::vector<std::string>& args) {
  Options o;
  if (auto status = parse(args, o)) return *status;

  auto trace = readSwf(o.trace);
  if (!trace.ok()) {
    std::fprintf(stderr, "locus: %s\n", trace.error().message.c_str());
    return 1;
  }
  for (const std::string& p : trace->problems) {
    std::fprintf(stderr, "locus: %s: skipped %s\n", o.trace.c_str(), p.c_str());
  }
  if (trace->malformed > trace->problems.size()) {
    std::fprintf(stderr, "locus: %s: %zu malformed lines skipped in all\n", o.trace.c_str(),
                 trace->malformed);
  }

  const bool tty = isatty(STDERR_FILENO) != 0;
  Progress bar;
  if (tty) {
    bar = [](double f) {
      constexpr int kWidth = 40;
      const int filled = static_cast<int>(f * kWidth);
      std::fprintf(stderr, "\r[%.*s%*s] %3d%%", filled, "########################################",
                   kWidth - filled, "", static_cast<int>(f * 100));
      std::fflush(stderr);
    };
  }
  auto result = simulate(*trace, o.config, bar);
  if (tty) std::fprintf(stderr, "\r%*s\r", 48, "");
  if (!result.ok()) {
    std::fprintf(stderr, "locus: %s\n", result.error().message.c_str());
    return 1;
  }
  const SimResult& r = *result;
  const double decisions_per_s = r.wall_s > 0 ? static_cast<double>(r.decisions) / r.wall_s : 0;
  std::printf("trace        %s\n", o.trace.c_str());
  std::printf("cluster      %u nodes x %u cores\n", r.nodes, r.cores_per_node);
  std::printf("policy       %s\n", std::string(scheduler::policyName(o.config.policy)).c_str());
  std::printf(
      "jobs         %zu (skipped %zu, of which %zu larger than the machine; %zu malformed lines)\n",
      r.jobs, r.skipped, r.skipped_too_big, trace->malformed);
  std::printf("makespan     %lld s\n", static_cast<long long>(r.makespan_s));
  std::printf("utilization  %.4f\n", r.utilization);
  std::printf("wait         mean %.0f s, median %.0f s, p95 %.0f s\n", r.wait_mean_s,
              r.wait_median_s, r.wait_p95_s);
  std::printf("bsld         mean %.2f (tau 10 s)\n", r.bsld_mean);
  std::printf("scheduler    %llu passes, %llu decisions, %.0f decisions/s, wall %.2f s\n",
              static_cast<unsigned long long>(r.passes),
              static_cast<unsigned long long>(r.decisions), decisions_per_s, r.wall_s);

  if (!o.json.empty() && !writeJson(o.json, r)) {
    std::fprintf(stderr, "locus: cannot write %s\n", o.json.c_str());
    return 1;
  }
  if (!o.jobs_csv.empty() && !writeCsv(o.jobs_csv, r)) {
    std::fprintf(stderr, "locus: cannot write %s\n", o.jobs_csv.c_str());
    return 1;
  }
  return 0;
}

}  // namespace locus::sim
