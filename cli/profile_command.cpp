// locus profile JOBID [--merge OUT.h5 | --export csv [-o FILE]]: a job's HDF5 profiles
// (--profile task[,gpu]), one file per node in the cluster's profile directory, which the
// controller names (JobInfo.profile_dir, from locus.toml's [profile] dir). The CLI reads the
// files directly: the directory is on a filesystem every node and this machine share (one
// machine, or NFS and the like), as with Slurm's ProfileHDF5Dir and sh5util.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "common/time_util.hpp"
#include "profile/profile_reader.hpp"
#include "proto/locus.pb.h"

namespace locus::cli {
namespace {

constexpr const char* kUsage =
    R"(usage: locus profile JOBID                      what was sampled, per node, step and task
       locus profile JOBID --merge OUT.h5       one HDF5 file with a group per node (like sh5util)
       locus profile JOBID --export csv [-o FILE]   every sample as CSV (stdout by default)
The job must have been submitted with --profile task[,gpu]. See docs/user-guide.md, "Profiles".
)";

void printSummary(const proto::JobInfo& job, const std::string& dir,
                  const std::vector<profile::NodeProfile>& nodes) {
  const profile::NodeProfile& first = nodes.front();
  const std::string gpu =
      first.profile.find("gpu") != std::string::npos ? " (GPU: " + first.gpu + ")" : "";
  std::printf("Job %lu: %zu node file%s in %s, every %u s, %s%s\n",
              static_cast<unsigned long>(job.id()), nodes.size(), nodes.size() == 1 ? "" : "s",
              dir.c_str(), first.interval_s, first.profile.c_str(), gpu.c_str());
  std::printf("%-10s %-6s %5s %7s %-20s %8s %9s %8s %10s %12s %12s\n", "NODE", "STEP", "TASK",
              "SAMPLES", "FIRST", "SECONDS", "CPU%MEAN", "CPU%MAX", "RSS_MB_MAX", "READ_BYTES",
              "WRITE_BYTES");
  for (const auto& n : nodes) {
    if (n.tasks.empty())
      std::printf("%-10s (no samples: the job ran less than one interval here)\n", n.node.c_str());
    for (const auto& t : n.tasks) {
      if (t.samples.empty()) continue;
      double cpu_sum = 0, cpu_max = 0, rss_max = 0;
      for (const auto& s : t.samples) {
        cpu_sum += s.cpu_percent;
        cpu_max = std::max(cpu_max, s.cpu_percent);
        rss_max = std::max(rss_max, s.rss_mb);
      }
      const auto& last = t.samples.back();
      std::printf("%-10s %-6s %5u %7zu %-20s %8.1f %9.1f %8.1f %10.1f %12llu %12llu\n",
                  n.node.c_str(), t.step.c_str(), t.task, t.samples.size(),
                  formatRfc3339(static_cast<int64_t>(t.samples.front().time)).c_str(),
                  last.time - t.samples.front().time,
                  cpu_sum / static_cast<double>(t.samples.size()), cpu_max, rss_max,
                  static_cast<unsigned long long>(last.read_bytes),
                  static_cast<unsigned long long>(last.write_bytes));
    }
  }
}

}  // namespace

int runProfile(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  if (args.flag("--help") || args.flag("-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  auto merge = args.value("--merge");
  auto format = args.value("--export");
  auto output = args.value("--output", "-o");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (rest.size() != 1)
    return fail("usage: locus profile JOBID [--merge OUT.h5 | --export csv [-o FILE]]", 2);
  if (merge && format) return fail("--merge and --export are separate runs", 2);
  if (format && *format != "csv")
    return fail("--export: unknown format '" + *format + "' (csv)", 2);
  if (output && !format) return fail("-o goes with --export csv (--merge names its own file)", 2);
  if (merge && merge->empty()) return fail("--merge needs a file name", 2);
  char* end = nullptr;
  errno = 0;
  const unsigned long long id = std::strtoull(rest[0].c_str(), &end, 10);
  if (rest[0].empty() || *end != '\0' || errno != 0 || id == 0 || rest[0][0] == '-')
    return fail("invalid job id '" + rest[0] + "'", 2);

  Client client(g.controller);
  auto job = client.getJob(id);
  if (!job.ok()) return fail(job.error().message);
  if (job->spec().profile().empty() || job->profile_dir().empty())
    return fail("job " + rest[0] + " was not profiled (submit it with --profile task or task,gpu)");
  const std::string dir = job->profile_dir() + "/" + std::to_string(id);
  const std::vector<std::string> files = profile::jobFiles(dir);
  if (files.empty()) {
    if (job->state() == "PENDING")
      return fail("job " + rest[0] + " has not started: no profile yet");
    return fail("no profile of job " + rest[0] + " in " + dir +
                " (is [profile] dir on a filesystem this machine shares with the nodes?)");
  }

  if (merge) {
    Status st = profile::mergeProfiles(files, *merge);
    if (!st.ok()) return fail(st.error().message);
    std::printf("merged %zu node file%s of job %s into %s\n", files.size(),
                files.size() == 1 ? "" : "s", rest[0].c_str(), merge->c_str());
    return 0;
  }
  std::vector<profile::NodeProfile> nodes;
  for (const std::string& f : files) {
    auto read = profile::readProfiles(f);
    if (!read.ok()) return fail(read.error().message);
    for (auto& p : *read) nodes.push_back(std::move(p));
  }
  if (format) {
    const std::string csv = profile::toCsv(nodes);
    if (!output || *output == "-") {
      std::fwrite(csv.data(), 1, csv.size(), stdout);
      return 0;
    }
    std::ofstream out(*output, std::ios::binary | std::ios::trunc);
    out << csv;
    out.close();
    if (!out) return fail("cannot write " + *output);
    return 0;
  }
  printSummary(*job, dir, nodes);
  return 0;
}

}  // namespace locus::cli
