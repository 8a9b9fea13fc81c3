#pragma once
// Which jobs an accounting query lists: the selection `sacct` (cli/slurm) and `locus acct`
// (cli/acct_format) share, with sacct's semantics. Pure: the clock comes in as `now` (unix
// seconds); times are local, like Slurm's (set TZ for reproducible tests).
//
// The window: a job is listed when it was submitted before the window ends and had not ended
// before it began, i.e. it was pending or running at some instant of [start, end]. Example,
// window 10:00-11:00: a job submitted 09:00 and ended 10:30 is in; one ended 09:59 is out; one
// submitted 11:05 is out; one submitted 09:00 and still running is in.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::slurm {

struct JobFilter {
  std::vector<std::string> jobs;      // "12", "10_3"; an array id ("10") names all its tasks
  std::vector<std::string> users;     // user names or uids
  std::vector<std::string> accounts;  // account names, exact
  std::vector<std::string> states;    // canonical Locus names (from parseJobStates)
  std::optional<int64_t> start;       // unix seconds; unset: windowStart's default
  std::optional<int64_t> end;         // unset: now
};

// sacct's time syntax: YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY], HH:MM[:SS] (today), today, midnight,
// noon, now[{+|-}N[units]] with units s|second(s)|min|minute(s)|h|hour(s)|d|day(s)|w|week(s)
// ("now-1hour", "now-90min"); local time. Also (a Locus addition) unix seconds, 9 digits or
// more ("1700000000"), which no Slurm form can be confused with.
// Error (kInvalidArgument): "Invalid time specification: TEXT".
Result<int64_t> parseSacctTime(std::string_view text, int64_t now);

// State words as users type them, case-insensitive, Slurm's short codes too ("completed", "CD",
// "f") -> canonical names ("COMPLETED", "COMPLETED", "FAILED"), duplicates dropped, in order.
// Error (kInvalidArgument) names the word and lists the valid states.
Result<std::vector<std::string>> parseJobStates(const std::vector<std::string>& words);

// Without a start: 00:00 today (local), or the epoch when jobs are named (-j), as sacct does.
int64_t windowStart(const JobFilter& filter, int64_t now);
// Without an end: now.
int64_t windowEnd(const JobFilter& filter, int64_t now);
// kInvalidArgument when the window starts after it ends (a typo, never an empty answer).
Status checkWindow(const JobFilter& filter, int64_t now);

// True when the job passes every filter that is set and overlaps the window (above).
bool jobSelected(const proto::JobInfo& job, const JobFilter& filter, int64_t now);

}  // namespace locus::slurm
