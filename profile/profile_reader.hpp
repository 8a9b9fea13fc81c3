#pragma once
// Reading profiles back, merging the files of one job (like Slurm's sh5util) and flattening them
// to CSV. HDF5 stays inside the .cpp files.
#include <string>
#include <vector>

#include "common/result.hpp"
#include "profile/profile_data.hpp"

namespace locus::profile {

// The node files of one job in `dir` (DIR/JOBID: NODE.h5 each), sorted by name; none when the
// directory is missing or unreadable (the caller says what that means).
std::vector<std::string> jobFiles(const std::string& dir);

// Every node profile in `path`: one for a node's file, one per node group for a merged file.
// Opens the file without HDF5's file locking, so a file a node daemon still writes can be read
// (every flushed sample is there). Errors: kNotFound (no such file), kInvalidArgument (not an
// HDF5 file, or not a Locus profile: the message says which).
Result<std::vector<NodeProfile>> readProfiles(const std::string& path);

// Writes `output` (truncated) with one group per node, "/<node>", holding a copy of that node's
// file (its attributes, groups, datasets and units), and root attributes job_id, nodes (comma
// separated, in input order) and merged_files. Errors: kInvalidArgument for inputs of different
// jobs, two inputs of the same node, or an input that is not a node profile; kUnavailable when
// `output` cannot be written.
Status mergeProfiles(const std::vector<std::string>& inputs, const std::string& output);

// One CSV row per sample:
//   job_id,node,step,task,time,cpu_percent,rss_mb,read_bytes,write_bytes,gpu_util_percent,gpu_mem_mb
// with a header line; GPU columns are empty where not sampled. Nodes in the given order, then
// steps and tasks as stored.
std::string toCsv(const std::vector<NodeProfile>& profiles);

}  // namespace locus::profile
