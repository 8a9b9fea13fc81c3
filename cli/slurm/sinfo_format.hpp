#pragma once
// sinfo: options and output in Slurm 22.05's layout. Locus has one partition, kDefaultPartition,
// shown as "locus*" (the default), holding every node, with no time limit ("infinite").
//   default: "%9P %.5a %.10l %.6D %.6t %N"; one line per group of nodes whose printed fields
//            (other than %D and %N) agree, e.g. one line per state.
//   -N:      "%N %.6D %.9P %6t", one line per node; %N is as wide as the longest name.
// Node states: idle (no cores allocated), mix (some), alloc (all), down (DOWN or UNKNOWN).
// Lines are ordered by state as sinfo's default sort does: mix, alloc, idle, down.
#include <string>
#include <vector>

#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::slurm {

struct SinfoOptions {
  bool node_oriented = false;  // -N
  bool noheader = false;       // -h
  std::string format;          // -o; empty = the default for the mode
  std::vector<std::string> partitions;  // -p
  std::vector<std::string> nodes;       // -n (hostlists)
  std::vector<std::string> states;      // -t, compact names
  bool summarize = false;               // -s
  bool help = false;
};

Result<SinfoOptions> parseSinfoArgs(const std::vector<std::string>& args);
// Fields: %P %a %l %D %t %T %N %c %m %G %C %O %e %f %n %z. Errors name a bad field.
Result<std::string> formatSinfo(const std::vector<proto::NodeInfo>& nodes, const SinfoOptions& opts);

// "idle" / "mix" / "alloc" / "down", and the long forms "idle" / "mixed" / "allocated" / "down".
std::string nodeStateCompact(const proto::NodeInfo& node);
std::string nodeStateLong(const proto::NodeInfo& node);

}  // namespace locus::slurm
