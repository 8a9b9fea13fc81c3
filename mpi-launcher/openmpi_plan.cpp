#include "mpi-launcher/openmpi_plan.hpp"

#include <map>

namespace locus::mpi {

OpenMpiPlan planOpenMpi(const std::vector<RankPlacement>& ranks,
                        const std::vector<std::string>& command, const OpenMpiOptions& o) {
  OpenMpiPlan plan;
  std::vector<std::string> order;
  std::map<std::string, uint32_t> slots;
  for (const RankPlacement& r : ranks) {
    if (!slots.count(r.node)) order.push_back(r.node);
    ++slots[r.node];
  }
  for (const auto& node : order) plan.hostfile += node + " slots=" + std::to_string(slots[node]) + "\n";
  for (size_t i = 0; i < ranks.size(); ++i) {
    std::string cpus;
    for (uint32_t c : ranks[i].cpus) cpus += (cpus.empty() ? "" : ",") + std::to_string(c);
    plan.rankfile += "rank " + std::to_string(i) + "=" + ranks[i].node + " slot=" + cpus + "\n";
  }
  auto& a = plan.argv;
  a = {o.mpirun, "-np", std::to_string(ranks.size()), "--hostfile", o.hostfile_path};
  if (!plan.rankfile.empty() && !o.rankfile_path.empty()) {
    // Slots are the kernel's CPU numbers, as Locus binds them, not hwloc's logical ones.
    a.insert(a.end(), {"--rankfile", o.rankfile_path, "--mca", "rmaps_rank_file_physical", "1"});
  } else {
    // No rank binding of Open MPI's own: each rank keeps its daemon's, the job's cores on that
    // node. (Open MPI would otherwise bind by its own count of the CPUs it sees and refuse
    // more ranks than those.)
    a.insert(a.end(), {"--bind-to", "none"});
  }
  // Daemons start through the agent, all from mpirun (a tree spawn would start some from
  // orteds, which works too but makes a failure harder to read).
  a.insert(a.end(), {"--mca", "plm", "rsh", "--mca", "plm_rsh_agent", o.rsh_agent, "--mca",
                     "plm_rsh_no_tree_spawn", "1"});
  // orted would otherwise daemonize: its step would end at once and its node daemon would take
  // it for a task that left processes behind. Attached, the step lives as long as the orted.
  a.insert(a.end(), {"--mca", "orte_leave_session_attached", "1"});
  if (o.emulated) {
    a.insert(a.end(), {"--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "lo", "--mca",
                       "oob_tcp_if_include", "lo"});
  }
  if (o.as_root) a.push_back("--allow-run-as-root");
  a.insert(a.end(), command.begin(), command.end());
  return plan;
}

}  // namespace locus::mpi
