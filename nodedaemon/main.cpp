// locus-node: one per machine. Discovers the hardware, registers with the controller, runs tasks.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/logging.hpp"
#include "nodedaemon/agent.hpp"

int main(int argc, char** argv) {
  CLI::App app{"locus-node: the Locus node daemon"};
  locus::nodedaemon::AgentOptions options;
  std::string log_level = "info";
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  options.name = host;
  options.controller = "127.0.0.1:6450";
  app.add_option("--controller", options.controller, "controller HOST:PORT");
  app.add_option("--name", options.name, "node name (default: hostname)");
  app.add_option("--state", options.state_dir, "spool directory (default /tmp/locus-node-NAME)");
  auto* xml = app.add_option("--topology-xml", options.discovery.xml_path,
                             "emulate the machine of this hwloc XML export");
  app.add_option("--topology", options.discovery.synthetic,
                 "emulate an hwloc synthetic machine, e.g. \"pack:2 numa:4 core:16 pu:1\"")
      ->excludes(xml);
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  CLI11_PARSE(app, argc, argv);
  locus::setLogLevel(log_level);
  if (options.state_dir.empty()) options.state_dir = "/tmp/locus-node-" + options.name;

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Orphans of tasks (an MPI daemon's ranks, a script's background jobs) become ours, not
  // init's: the reaper collects them, and no zombie outlives its step.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  auto agent = locus::nodedaemon::Agent::create(options);
  if (!agent.ok()) {
    std::fprintf(stderr, "locus-node: %s\n", agent.error().message.c_str());
    return 1;
  }
  (*agent)->start();
  int sig = 0;
  sigwait(&signals, &sig);
  locus::logger("node")->info("signal {}: stopping (running tasks are killed)", sig);
  (*agent)->stop();
  return 0;
}
