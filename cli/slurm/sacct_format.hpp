#pragma once
// sacct: options and output in Slurm 22.05's layout, from ListJobs(state ALL).
// Columns have sacct's default widths (JobID -12 i.e. left-aligned, JobName 10, State 10,
// ExitCode 8, Start/End/Submit 19, NodeList 15, ...); a value longer than its column is cut
// with a '+' in the last column; every column is followed by one space. -P prints fields joined
// by '|', -p the same with a trailing '|'. Unless -X, each job line is followed by its step lines:
// "ID.batch" for a job that ran a batch script (not for allocation-only jobs of `locus run`;
// the batch step is the whole script, so it shares the job's state and exit code), then one
// "ID.N" line per step in step id order. Step lines leave the job's own fields (Partition, User,
// QOS, ReqMem, Timelimit, ...) empty and show the step's name, state, exit code, times, nodes
// and tasks, as sacct does.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/slurm/job_filter.hpp"
#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::slurm {

struct SacctField {
  std::string name;  // canonical spelling ("JobID")
  int width = 0;     // < 0: left-aligned, > 0: right-aligned
};

// Which jobs (JobFilter, shared with locus acct: -j "12", "10_3" (of "12.batch": "12"), -u, -A,
// -s, -S, -E), and how to print them.
struct SacctOptions : JobFilter {
  // Beside jobs[i]: the step it names ("batch", "0") or "" for the whole job. A job named only
  // with steps prints just those step lines, without its job line, as sacct does.
  std::vector<std::string> steps;
  bool all_users = false;           // -a
  bool allocations = false;         // -X: no step lines
  bool parsable = false;            // -p: '|' after every field
  bool parsable2 = false;           // -P: '|' between fields
  bool noheader = false;            // -n
  std::vector<SacctField> fields;
  bool help = false;
};

inline constexpr const char* kSacctDefaultFormat =
    "JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode";

// "JobID,JobName%30,State%-12". Field names are case-insensitive. Error: "Invalid field requested: X".
Result<std::vector<SacctField>> parseSacctFormat(std::string_view format);
// Times: parseSacctTime (job_filter.hpp). Errors name the bad option, field, state or time.
Result<SacctOptions> parseSacctArgs(const std::vector<std::string>& args, int64_t now);

// The window and filters are job_filter.hpp's: without -S, 00:00 today (local), or the epoch
// when -j is given; without -E, now. An allocation-only job (JobInfo.allocation_only: made by
// `locus run` outside a job) has no ID.batch line.
// True when formatSacct lists this job (jobSelected).
bool sacctSelects(const proto::JobInfo& job, const SacctOptions& opts, int64_t now);
std::string formatSacct(const std::vector<proto::JobInfo>& jobs, const SacctOptions& opts,
                        int64_t now);

}  // namespace locus::slurm
