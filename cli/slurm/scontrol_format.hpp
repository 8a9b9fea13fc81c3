#pragma once
// scontrol show job|node|partition: Slurm 22.05's "Key=Value" blocks, each line after the first
// indented three spaces, one blank line after each block. Keys Locus has no value for are printed
// with Slurm's placeholder ("(null)", "N/A", "Unknown") so parsers find every key they expect.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "proto/locus.pb.h"

namespace locus::slurm {

// uid/gid -> name ("alice"); the front end uses getpwuid/getgrgid, tests a fixed table.
using IdToName = std::function<std::string(uint32_t)>;

std::string formatScontrolJob(const proto::JobInfo& job, int64_t now, const IdToName& group_name);
std::string formatScontrolNode(const proto::NodeInfo& node);
// The one Locus partition holding `nodes`.
std::string formatScontrolPartition(const std::vector<proto::NodeInfo>& nodes);

// scontrol show config: "Configuration data as of TIME" and "%-23s = %s" lines, in Slurm's key
// order, for the keys tools read. Values come from `config` (the cluster's locus.toml when the
// front end can read it, else Locus's defaults), the controller address the commands talk to
// ("host:port" -> SlurmctldHost[0], SlurmctldPort) and the nodes (MaxTasksPerNode = most cores
// of a node). Keys Locus has no setting for carry Slurm 22.05's defaults (SchedulerTimeSlice =
// 30 sec, MaxJobCount = 10000, MinJobAge = 300 sec, ...), so parsers find every key they expect.
std::string formatScontrolConfig(const Config& config, std::string_view controller,
                                 const std::vector<proto::NodeInfo>& nodes, int64_t now);

}  // namespace locus::slurm
