#pragma once
// The environment a job's batch script sees: the exported submit environment, then the LOCUS_*
// variables and their SLURM_* twins (so existing scripts and tools keep working).
#include <map>
#include <string>

#include "controller/job.hpp"

namespace locus::controller {

// Precondition: the job has an allocation (it is being started). `exported` is the submit
// environment it starts from: the job's own, or for a later array task its array's first task's
// (which alone holds it).
std::map<std::string, std::string> jobEnvironment(const Job& job, const Job::Environment& exported);
inline std::map<std::string, std::string> jobEnvironment(const Job& job) {
  return jobEnvironment(job, job.environment());
}

}  // namespace locus::controller
