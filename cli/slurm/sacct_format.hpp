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

#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::slurm {

struct SacctField {
  std::string name;  // canonical spelling ("JobID")
  int width = 0;     // < 0: left-aligned, > 0: right-aligned
};

struct SacctOptions {
  std::vector<std::string> jobs;    // -j: "12", "10_3" (of "12.batch": "12")
  // Beside jobs[i]: the step it names ("batch", "0") or "" for the whole job. A job named only
  // with steps prints just those step lines, without its job line, as sacct does.
  std::vector<std::string> steps;
  std::vector<std::string> users;   // -u
  bool all_users = false;           // -a
  std::vector<std::string> states;  // -s, normalised Locus state names
  std::optional<int64_t> start;     // -S (unix seconds); unset: see resolveSacctWindow
  std::optional<int64_t> end;       // -E
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
// sacct's time syntax: YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY], HH:MM[:SS] (today), now[{+|-}N[units]]
// with units seconds/minutes/hours/days/weeks, today, midnight, noon; local time.
Result<int64_t> parseSacctTime(std::string_view text, int64_t now);
Result<SacctOptions> parseSacctArgs(const std::vector<std::string>& args, int64_t now);


// Without -S: 00:00 today (local), or the epoch when -j is given, as sacct does. Without -E: now.
// A job is listed when it was submitted before the window ends and had not ended before it began.
// An allocation-only job (JobInfo.allocation_only: made by `locus run` outside a job) has no
// ID.batch line.
// True when formatSacct lists this job (the filters and the window above).
bool sacctSelects(const proto::JobInfo& job, const SacctOptions& opts, int64_t now);
std::string formatSacct(const std::vector<proto::JobInfo>& jobs, const SacctOptions& opts,
                        int64_t now);

}  // namespace locus::slurm
