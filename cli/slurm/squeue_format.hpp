#pragma once
// squeue: options, filtering, sorting and output in Slurm 22.05's layout.
//   default:  "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"
//   -o FMT:   "%[.][-][width]type[suffix]..." where '.' right-aligns; values and titles are cut
//             to the width. Types: i j u t T M l D C R P N S V A F K r.
//   -O LIST:  "Name[:[.][width][suffix]],..." with long names (JobID, Name, UserName, State,
//             StateCompact, TimeUsed, TimeLimit, NumNodes, NumCPUs, ReasonList, Partition,
//             NodeList, StartTime, SubmitTime, ...), 20 columns when no width is given.
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::slurm {

struct SqueueField {
  char type = 0;          // 0: literal text only (the prefix before the first '%')
  int width = 0;          // 0: as wide as the value
  bool right = false;
  std::string suffix;     // printed after the field as is
};

struct SqueueOptions {
  bool noheader = false;                 // -h
  std::vector<std::string> users;        // -u: names or uids
  std::vector<std::string> jobs;         // -j: "12", "10_3"; also positional-less --jobs
  std::vector<std::string> states;       // -t: normalised to Locus state names; "ALL" for all
  std::vector<std::string> partitions;   // -p
  std::vector<SqueueField> fields;       // from -o, -O or the default
  bool help = false;
  bool usage = false;
};

inline constexpr const char* kSqueueDefaultFormat = "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R";

Result<std::vector<SqueueField>> parseSqueueFormat(std::string_view format);      // -o
Result<std::vector<SqueueField>> parseSqueueLongFormat(std::string_view format);  // -O
// Errors read like squeue's ("Invalid job state specified: XY", "Invalid job id: abc").
Result<SqueueOptions> parseSqueueArgs(const std::vector<std::string>& args);

// True when ListJobs must be asked for every state (a -t or -j filter), else the live queue.
bool squeueNeedsAllStates(const SqueueOptions& opts);
// Filters (-u -j -t -p; with -j and no -t every state is shown, as squeue does), sorts
// (partition, pending before running, then job id) and prints, header included unless -h.
std::string formatSqueue(const std::vector<proto::JobInfo>& jobs, const SqueueOptions& opts,
                         int64_t now);

}  // namespace locus::slurm
