// locus: the command line client. `locus SUBCOMMAND [options]`.
#include <cstdio>
#include <cstring>
#include <map>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "sim/simulate_command.hpp"

namespace {

constexpr const char* kUsage = R"(usage: locus [--controller HOST:PORT] COMMAND [options]
       locus --version

Jobs:
  submit [options] SCRIPT [ARGS...] | --wrap CMD   submit a batch job (sbatch options)
  run [options] COMMAND [ARGS...]                  a job step: tasks on the job's cores (like srun)
  queue [--json] [--user U] [--state S]            pending and running jobs
  show JOBID [--json]                              one job in detail
  cancel JOBID... [--signal SIG]                   cancel jobs (an array id: all its tasks), or
                                                   send SIG to their scripts and steps
  wait JOBID... [--timeout S]                      wait until jobs end; 0 only if all COMPLETED
  events [--job ID]... [--user U] [--nodes] [--after ID] [--json]
                                                   job and node state changes as they happen
  hold | release JOBID...                          keep pending jobs from starting / let them go
  requeue JOBID...                                 kill a running job and queue it again (attempt + 1)
  why JOBID                                        why a job is pending, and its expected start
  eff JOBID                                        CPU and memory efficiency of an ended job (like seff)
  profile JOBID [--merge OUT.h5 | --export csv [-o FILE]]
                                                   a --profile job's HDF5 samples: summary, merged
                                                   file (like sh5util), or CSV
  acct [-u U] [-A A] [-S T] [-E T] [--state S] [--format F] [--json|--csv]
                                                   jobs and what they used: elapsed, CPU time, max
                                                   RSS, exit code, nodes, GPUs, billing (like sacct)
Data:
  data locate URI [--json]                         an input's files, blocks, replica hosts and the Locus
                                                   nodes they map to (hdfs:///P, webhdfs://H:P/P, dataset:N)
Policy:
  account add|modify|remove NAME [--parent P] [--shares N] [--users|--add-users|--remove-users a,b]
  account list [--json]                            the account tree (admins change it)
  share [--json]                                   the fair-share tree: shares, usage, factors (like sshare)
  quota show [POOL] [--json]                       pool quotas: guaranteed, max, in use, borrowed, lent
Services:
  service create NAME --replicas R --cpus C --mem M [--port auto] [--health-http PATH | --health-cmd CMD] -- COMMAND...
  service list | show NAME | endpoints NAME | scale NAME R | update NAME ... | rollback NAME | delete NAME
  quota set POOL ACCOUNT [--guaranteed R] [--max R] | --remove    change a quota (admins)
  token [--ttl SECONDS] [--json]                   a dashboard token: cancel from the web page (admins)
  priority [JOBID...] [--json]                     pending jobs' priority and its factors (like sprio)
Frameworks:
  frameworks [--json]                              frameworks (two-level scheduling), leases, usage
Cluster:
  nodes [--json | --topology]                      nodes and their resources; the switch tree
  controllers [--json]                             the controllers (one leads; the others stand by)
  up --nodes N [--state DIR] [--port P] [--http-port P] [--config F] [--topology-xml F | --topology S] [--detach]
     [--controllers N --store etcd]                a local cluster; N > 1 controllers share a private etcd
  down [--state DIR]                               stop a cluster started by `locus up`
Scheduling:
  simulate --trace FILE.swf[.gz] [--nodes N --cores-per-node C] [--policy fcfs|easy|easy-predict|conservative]
           [--json OUT] [--jobs-csv OUT] [--limit JOBS]   replay a workload trace offline

The controller is --controller, else $LOCUS_CONTROLLER, else 127.0.0.1:6450.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace locus::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  // Installed as `srun` too (a link to this binary): Slurm's step launcher is `locus run`.
  const char* slash = std::strrchr(argv[0], '/');
  if (std::strcmp(slash ? slash + 1 : argv[0], "srun") == 0) return runRun(args, Globals{controllerAddress(""), ""});
  // And as `locus-rsh`, the agent Open MPI's mpirun starts its node daemons with.
  if (std::strcmp(slash ? slash + 1 : argv[0], "locus-rsh") == 0)
    return runRshAgent(args, Globals{controllerAddress(""), ""});
  std::string controller_flag;
  // Global options come before the command.
  while (!args.empty() && args[0].rfind("--", 0) == 0) {
    if (args[0] == "--help" || args[0] == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args[0] == "--version") {  // LOCUS_VERSION: the project() version, set in CMakeLists.txt
      std::printf("locus %s\n", LOCUS_VERSION);
      return 0;
    }
    if (args[0] == "--controller" && args.size() >= 2) {
      controller_flag = args[1];
      args.erase(args.begin(), args.begin() + 2);
    } else if (args[0].rfind("--controller=", 0) == 0) {
      controller_flag = args[0].substr(std::strlen("--controller="));
      args.erase(args.begin());
    } else {
      return fail("unknown option " + args[0] + "\n" + kUsage, 2);
    }
  }
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string command = args[0];
  args.erase(args.begin());
  Globals g{controllerAddress(controller_flag), controller_flag};
  if (g.controllers.empty())
    if (const char* env = std::getenv("LOCUS_CONTROLLER"); env && *env) g.controllers = env;
  if (g.controllers.empty()) g.controllers = g.controller;
  if (command == "simulate") return locus::sim::runSimulate(args);  // needs no controller
  static const std::map<std::string, int (*)(const std::vector<std::string>&, const Globals&)> kCommands{
      {"submit", runSubmit}, {"queue", runQueue}, {"show", runShow},   {"cancel", runCancel},
      {"wait", runWait},     {"events", runEvents},     {"hold", runHold},     {"release", runRelease}, {"requeue", runRequeue},     {"share", runShare},   {"quota", runQuota}, {"token", runToken}, {"data", runData}, {"service", runService}, {"frameworks", runFrameworks},   {"account", runAccount},   {"priority", runPriority},     {"why", runWhy}, {"eff", runEff}, {"profile", runProfile}, {"acct", runAcct},     {"nodes", runNodes}, {"controllers", runControllers}, {"up", runUp},       {"down", runDown}, {"run", runRun},
  };
  auto it = kCommands.find(command);
  if (it == kCommands.end()) {
    if (command == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    return fail("unknown command '" + command + "' (see locus --help)", 2);
  }
  return it->second(args, g);
}
