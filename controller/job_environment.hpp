#pragma once
// The environment a job's batch script sees: the exported submit environment, then the LOCUS_*
// variables and their SLURM_* twins (so existing scripts and tools keep working).
#include <map>
#include <string>

#include "controller/job.hpp"

namespace locus::controller {

// Precondition: the job has an allocation (it is being started).
std::map<std::string, std::string> jobEnvironment(const Job& job);

}  // namespace locus::controller
