#pragma once
// scontrol show job|node|partition: Slurm 22.05's "Key=Value" blocks, each line after the first
// indented three spaces, one blank line after each block. Keys Locus has no value for are printed
// with Slurm's placeholder ("(null)", "N/A", "Unknown") so parsers find every key they expect.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proto/locus.pb.h"

namespace locus::slurm {

// uid/gid -> name ("alice"); the front end uses getpwuid/getgrgid, tests a fixed table.
using IdToName = std::function<std::string(uint32_t)>;

std::string formatScontrolJob(const proto::JobInfo& job, int64_t now, const IdToName& group_name);
std::string formatScontrolNode(const proto::NodeInfo& node);
// The one Locus partition holding `nodes`.
std::string formatScontrolPartition(const std::vector<proto::NodeInfo>& nodes);

}  // namespace locus::slurm
