#pragma once
// `locus run --mpi openmpi`: starts an Open MPI program across the job's allocation with Open
// MPI's mpirun and locus-rsh (see mpi-launcher/openmpi_plan.hpp).
#include <signal.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "common/job_spec.hpp"

namespace locus::cli {

// Lays the ranks out as a step would be (the controller plans it), writes the host and rank
// files, runs mpirun to its end forwarding `forwarded` signals to it, and returns its status.
int runMpi(Client& client, uint64_t job_id, const JobSpec& spec, bool cpus_given,
           const std::vector<std::string>& command, const sigset_t& forwarded);

}  // namespace locus::cli
