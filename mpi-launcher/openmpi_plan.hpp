#pragma once
// How `locus run --mpi openmpi` starts an Open MPI program: Open MPI's own mpirun, with its rsh
// launcher's agent pointed at `locus-rsh`, which starts each node's orted as a job step through
// that node's daemon (never ssh). The host list and slots come from the step's layout, and a
// rankfile binds each rank to the cores Locus chose for it.
//
// Why mpirun and not direct launch through PMIx: Debian's Open MPI 4.1 ships its own PMIx server
// inside orted; making the node daemons a PMIx server (Slurm's --mpi=pmix) would need libpmix
// wired into locus-node and Open MPI built against the same PMIx, which this platform does not
// give us. The rsh agent needs nothing from Open MPI but its documented MCA parameters.
#include <cstdint>
#include <string>
#include <vector>

namespace locus::mpi {

struct RankPlacement {
  std::string node;             // Locus node name (a host name only Locus resolves)
  std::vector<uint32_t> cpus;   // host CPUs of the rank's cores
};

struct OpenMpiOptions {
  std::string mpirun = "mpirun";
  std::string rsh_agent;        // absolute path of locus-rsh
  std::string hostfile_path;    // where the caller writes OpenMpiPlan::hostfile
  std::string rankfile_path;    // and OpenMpiPlan::rankfile; empty: no rankfile, --bind-to none
  // Several emulated nodes on one machine: TCP over loopback between all ranks (the shared
  // memory transport between ranks of different emulated nodes crashes), daemons talk over
  // loopback. Real clusters keep Open MPI's defaults.
  bool emulated = false;
  bool as_root = false;         // mpirun refuses root without --allow-run-as-root
};

struct OpenMpiPlan {
  std::string hostfile;         // "n1 slots=2\nn2 slots=2\n", nodes in first-rank order
  std::string rankfile;         // "rank 0=n1 slot=0,1\n": physical CPU ids
  std::vector<std::string> argv;  // mpirun ... COMMAND...
};

// Ranks are numbered by their position in `ranks`. Precondition: ranks and command non-empty.
OpenMpiPlan planOpenMpi(const std::vector<RankPlacement>& ranks,
                        const std::vector<std::string>& command, const OpenMpiOptions& options);

}  // namespace locus::mpi
