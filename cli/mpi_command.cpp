#include "cli/mpi_command.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "cli/commands.hpp"
#include "cli/rsh_relay.hpp"
#include "cli/step_client.hpp"
#include "cli/submit_request.hpp"
#include "mpi-launcher/openmpi_plan.hpp"

extern char** environ;

namespace locus::cli {
namespace {

// After mpirun exits, how long its daemons' steps may take to end by themselves before they are
// killed (they normally end with mpirun, or just after).
constexpr auto kDaemonGrace = std::chrono::seconds{2};

// This binary's directory: locus-rsh and locus-mpi-agent are beside it.
std::string selfDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

}  // namespace

int runMpi(Client& client, uint64_t job_id, const JobSpec& spec, bool cpus_given,
           const std::vector<std::string>& command, const sigset_t& forwarded) {
  // The controller lays the ranks out exactly as it would a step's tasks, and records nothing.
  proto::CreateStepRequest plan_req;
  plan_req.set_job_id(job_id);
  plan_req.set_user(currentUserName());
  plan_req.set_uid(getuid());
  plan_req.set_nodes(spec.nodes);
  plan_req.set_ntasks(spec.ntasks);
  plan_req.set_ntasks_per_node(spec.ntasks_per_node);
  plan_req.set_cpus_per_task(cpus_given ? spec.cpus_per_task : 0);
  plan_req.set_plan_only(true);
  auto layout = client.createStep(plan_req);
  if (!layout.ok()) return fail("MPI layout: " + layout.error().message);
  // The daemons' steps will run there: connecting now overlaps with what follows.
  std::vector<std::string> addresses;
  for (const auto& sn : layout->nodes()) addresses.push_back(sn.address());
  connectToNodeDaemons(addresses);
  auto nodes = client.listNodes();
  if (!nodes.ok()) return fail(nodes.error().message);
  std::map<std::string, const proto::NodeInfo*> by_name;
  for (const auto& n : nodes->nodes()) by_name[n.name()] = &n;

  // Emulated nodes run on this machine: their cores map onto its CPUs the way their daemons bind
  // them, and they talk over loopback.
  bool emulated = false;
  for (const auto& sn : layout->nodes())
    if (auto it = by_name.find(sn.node()); it != by_name.end() && it->second->emulated()) emulated = true;
  const long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);

  std::vector<mpi::RankPlacement> ranks(static_cast<size_t>(layout->ntasks()));
  for (const auto& sn : layout->nodes()) {
    auto it = by_name.find(sn.node());
    if (it == by_name.end()) return fail("node " + sn.node() + " is not known to the controller");
    std::map<uint32_t, std::vector<uint32_t>> pus_of_core;
    for (const auto& d : it->second->topology().numa())
      for (const auto& c : d.cores()) pus_of_core[c.id()] = {c.pus().begin(), c.pus().end()};
    for (const auto& t : sn.tasks()) {
      std::set<uint32_t> cpus;
      for (uint32_t core : t.cores())
        for (uint32_t pu : pus_of_core[core]) cpus.insert(emulated ? pu % static_cast<uint32_t>(host_cpus) : pu);
      ranks.at(t.procid()) = {sn.node(), {cpus.begin(), cpus.end()}};
    }
  }

  char tmpl[] = "/tmp/locus-mpi-XXXXXX";
  if (!mkdtemp(tmpl)) return fail("cannot create a directory for the MPI host files");
  const std::string dir = tmpl;
  mpi::OpenMpiOptions options;
  // The daemons start through this process (RshRelay) when the small agent is there; else each
  // through a locus-rsh of its own.
  std::unique_ptr<RshRelay> relay;
  const std::string agent = selfDir() + "/locus-mpi-agent";
  if (access(agent.c_str(), X_OK) == 0) {
    auto started = RshRelay::start(client, job_id, dir + "/rsh.sock");
    if (started.ok()) relay = std::move(*started);
    else std::fprintf(stderr, "locus: %s; using locus-rsh\n", started.error().message.c_str());
  }
  options.rsh_agent = relay ? agent : selfDir() + "/locus-rsh";
  options.hostfile_path = dir + "/hostfile";
  options.rankfile_path = dir + "/rankfile";
  options.emulated = emulated;
  options.as_root = geteuid() == 0;
  // Two ranks of one emulated node can land on one host CPU (the emulated machine is bigger than
  // this one): a rankfile would overload it, so then the ranks keep their daemon's binding (all
  // of the node's cores) instead of one each.
  std::map<std::string, std::set<uint32_t>> used;
  for (const auto& r : ranks)
    for (uint32_t c : r.cpus)
      if (!used[r.node].insert(c).second) options.rankfile_path.clear();
  mpi::OpenMpiPlan plan = mpi::planOpenMpi(ranks, command, options);
  std::ofstream(options.hostfile_path) << plan.hostfile;
  if (!options.rankfile_path.empty()) std::ofstream(options.rankfile_path) << plan.rankfile;

  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  if (relay) env.push_back("LOCUS_RSH_SOCKET=" + relay->socketPath());
  if (emulated) {
    std::filesystem::create_directories(dir + "/sessions");
    env.push_back("LOCUS_MPI_SESSION_DIR=" + dir + "/sessions");
  }
  if (relay) {
    // Each node's daemon step starts now, while mpirun starts up. Not on the node this runs on
    // when that is a real host: mpirun starts that node's daemon itself, without an agent.
    std::map<std::string, std::string> env_map;
    for (const auto& e : env)
      if (auto eq = e.find('='); eq != std::string::npos) env_map[e.substr(0, eq)] = e.substr(eq + 1);
    const char* here = std::getenv("LOCUS_NODENAME");
    std::vector<std::string> hosts;
    for (const auto& sn : layout->nodes())
      if (emulated || !here || sn.node() != here) hosts.push_back(sn.node());
    relay->prepare(hosts, env_map, agent);
  }
  if (const char* v = std::getenv("LOCUS_RUN_VERBOSE"); v && *v == '1') {
    std::string line;
    for (const auto& a : plan.argv) line += (line.empty() ? "" : " ") + a;
    std::fprintf(stderr, "locus: %s\nlocus: hostfile:\n%s", line.c_str(), plan.hostfile.c_str());
  }
  std::vector<char*> argv, envp;
  for (auto& a : plan.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  // mpirun gets our signals' default handling back (the relay ignores SIGPIPE); it forwards
  // SIGINT/SIGTERM to the ranks.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, pipe_signal;
  sigemptyset(&none);
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe_signal);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, plan.argv[0].c_str(), nullptr, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    relay.reset();
    std::filesystem::remove_all(dir);
    return fail("cannot start " + plan.argv[0] + ": " + std::strerror(rc));
  }
  // Signals are forwarded to mpirun until it exits; its SIGCHLD (blocked by the caller) ends
  // the wait at once.
  sigset_t waited = forwarded;
  sigaddset(&waited, SIGCHLD);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    timespec tick{1, 0};
    int sig = sigtimedwait(&waited, nullptr, &tick);
    if (sig > 0 && sig != SIGCHLD) kill(pid, sig);
  }
  if (relay) relay->finish(kDaemonGrace);
  relay.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace locus::cli
