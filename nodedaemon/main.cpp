// locus-node: one per machine. Discovers the hardware, registers with the controller, runs tasks.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/http_server.hpp"
#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "nodedaemon/agent.hpp"

int main(int argc, char** argv) {
  CLI::App app{"locus-node: the Locus node daemon"};
  locus::nodedaemon::AgentOptions options;
  std::string log_level = "info";
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  options.name = host;
  options.controller = "127.0.0.1:6450";
  app.add_option("--controller", options.controller, "controller HOST:PORT, or a comma-separated list (HA: the leader is found)");
  app.add_option("--name", options.name, "node name (default: hostname)");
  app.add_option("--state", options.state_dir, "spool directory (default /tmp/locus-node-NAME)");
  double rescan_s = 30;
  app.add_option("--cache-rescan", rescan_s, "seconds between scans of the cache directories (default 30)")
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--cache-dir", options.cache_dirs,
                 "a directory of datasets staged on this node, reported for data locality "
                 "(repeatable; %n is the node name)");
  auto* xml = app.add_option("--topology-xml", options.discovery.xml_path,
                             "emulate the machine of this hwloc XML export");
  app.add_option("--topology", options.discovery.synthetic,
                 "emulate an hwloc synthetic machine, e.g. \"pack:2 numa:4 core:16 pu:1\"")
      ->excludes(xml);
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  std::string http_listen;
  app.add_option("--http", http_listen,
                 "HOST:PORT to serve /metrics on, for Prometheus (port 0 picks one; default: none)");
  app.set_version_flag("--version", std::string("locus-node ") + LOCUS_VERSION);
  CLI11_PARSE(app, argc, argv);
  options.cache_rescan = std::chrono::milliseconds(static_cast<int64_t>(rescan_s * 1000));
  locus::setLogLevel(log_level);
  if (options.state_dir.empty()) options.state_dir = "/tmp/locus-node-" + options.name;

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGQUIT);
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
  locus::HttpServer http;
  std::remove((options.state_dir + "/http.addr").c_str());  // a previous run's
  if (!http_listen.empty()) {
    http.get("/metrics", [&a = **agent](const locus::HttpRequest&) {
      return locus::HttpResponse{200, locus::metrics::kContentType, a.metricsText()};
    });
    auto port = http.start(http_listen);
    if (!port.ok()) {
      std::fprintf(stderr, "locus-node: --http: %s\n", port.error().message.c_str());
      return 1;
    }
    // The bound port (port 0 picks one), for `locus up` and tests: STATE/http.addr, written
    // before the node registers.
    std::string address =
        http_listen.substr(0, http_listen.rfind(':')) + ":" + std::to_string(*port);
    std::string tmp = options.state_dir + "/http.addr.tmp";
    std::ofstream(tmp) << address << "\n";
    std::rename(tmp.c_str(), (options.state_dir + "/http.addr").c_str());
    locus::logger("node")->info("http on {}", address);
  }
  (*agent)->start();
  int sig = 0;
  sigwait(&signals, &sig);
  http.stop();
  if (sig == SIGQUIT) {
    // A restart or an upgrade: batch tasks run on under their supervisors and the next daemon
    // on this state directory adopts them.
    locus::logger("node")->info("SIGQUIT: stopping, batch tasks keep running");
    (*agent)->detach();
    std::fflush(nullptr);
    std::_Exit(0);
  }
  locus::logger("node")->info("signal {}: stopping (running tasks are killed)", sig);
  (*agent)->stop();
  return 0;
}
