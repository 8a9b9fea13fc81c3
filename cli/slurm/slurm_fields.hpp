#pragma once
// Values as Slurm 22.05's commands print them, computed from Locus's JobInfo/NodeInfo. Pure: no
// I/O, and the clock comes in as `now` (unix seconds), so golden tests need no cluster.
// Timestamps are local time (set TZ for reproducible output), like Slurm's.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::slurm {

// Locus has no partitions yet: every job and node is in this one, shown as `locus*` by sinfo.
// A job submitted with -p keeps and shows the name it was given.
inline constexpr std::string_view kDefaultPartition = "locus";

// PENDING -> PD, RUNNING -> R, COMPLETED -> CD, FAILED -> F, CANCELLED -> CA, TIMEOUT -> TO,
// NODE_FAIL -> NF, OUT_OF_MEMORY -> OOM; anything else is returned unchanged.
std::string compactState(std::string_view state);
bool isPending(const proto::JobInfo& job);
bool isRunning(const proto::JobInfo& job);

// squeue's elapsed format: "M:SS", "H:MM:SS", "D-HH:MM:SS" (59 -> "0:59", 3600 -> "1:00:00").
std::string squeueDuration(int64_t seconds);
// scontrol/sacct's format: "HH:MM:SS", "D-HH:MM:SS" (59 -> "00:00:59").
std::string hmsDuration(int64_t seconds);
// "YYYY-MM-DDTHH:MM:SS" in local time; `none` when t == 0 ("Unknown", "N/A", ...).
std::string timestamp(int64_t t, std::string_view none);

// "12" or, for an array task, "ARRAYID_TASK" ("10_3").
std::string displayJobId(const proto::JobInfo& job);
// The job's partition, or kDefaultPartition when it gave none.
std::string partitionOf(const proto::JobInfo& job);
// Allocated nodes as a Slurm hostlist ("n[1-3]"), "" when none.
std::string nodeListOf(const proto::JobInfo& job);
// Allocated nodes, else the requested count (at least 1) for jobs that never ran.
uint32_t nodeCount(const proto::JobInfo& job);
// Allocated cores, else ntasks * cpus_per_task (at least 1).
uint32_t cpuCount(const proto::JobInfo& job);
// Run time so far: 0 before start, end - start once ended, now - start while running.
int64_t elapsedSeconds(const proto::JobInfo& job, int64_t now);
// "EXIT:SIGNAL" ("0:0" before the job ends, "0:15" when killed by SIGTERM).
std::string exitCode(const proto::JobInfo& job);
// A Slurm-style reason word: "Priority", "Resources", "TimeLimit", "NonZeroExitCode",
// "RaisedSignal:9", "None". Never contains spaces, since scripts split squeue output on them.
std::string reasonOf(const proto::JobInfo& job);

// squeue/sinfo's field printing: width 0 prints the whole value; otherwise the value is cut to
// `width` and padded, on the left when `right`, else on the right.
std::string fitField(std::string_view value, int width, bool right);

// Splits "a,b,,c" into {"a","b","c"}.
std::vector<std::string> splitList(std::string_view text, char sep = ',');

// True when `selector` ("12", or "10_3" for an array task) names this job; an array job id
// ("10") names every task of the array, as in squeue -j / sacct -j.
bool jobMatches(const proto::JobInfo& job, std::string_view selector);
// Checks a -j selector's syntax ("12", "10_3"); the error names the bad word.
Status checkJobSelector(std::string_view selector);

// Memory as sacct prints MaxRSS: KiB scaled to the largest unit that keeps it >= 1, two
// decimals unless whole (980 -> "980K", 102400 -> "100M", 1572864 -> "1.50G").
std::string formatRssKb(uint64_t kb);

}  // namespace locus::slurm
