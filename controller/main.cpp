// locus-controller: loads the config and the store, serves the gRPC API, runs the scheduler.
#include <CLI/CLI.hpp>
#include <csignal>
#include <unistd.h>
#include <cstdio>
#include <fstream>

#include "common/config.hpp"
#include "common/http_server.hpp"
#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "controller/controller.hpp"
#include "controller/dashboard/dashboard.hpp"
#include "controller/rpc/gatekeeper.hpp"
#include "controller/rpc/server.hpp"

int main(int argc, char** argv) {
  CLI::App app{"locus-controller: the Locus cluster controller"};
  std::string config_path, listen, state_dir, log_level = "info", http_listen;
  app.add_option("--config", config_path, "locus.toml");
  app.add_option("--listen", listen, "HOST:PORT to serve on (port 0 picks one; default 127.0.0.1:6450)");
  app.add_option("--state", state_dir, "state directory (SQLite store)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  app.add_option("--http", http_listen,
                 "HOST:PORT to serve /metrics on, for Prometheus (port 0 picks one; default: none)");
  CLI11_PARSE(app, argc, argv);
  locus::setLogLevel(log_level);

  locus::Config config;
  if (!config_path.empty()) {
    auto loaded = locus::loadConfig(config_path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "locus-controller: %s\n", loaded.error().message.c_str());
      return 2;
    }
    config = std::move(*loaded);
  }
  if (!listen.empty()) config.listen = listen;
  if (!state_dir.empty()) config.state_dir = state_dir;
  if (config.state_dir.empty()) {
    std::fprintf(stderr, "locus-controller: no state directory: give --state DIR or controller.state_dir\n");
    return 2;
  }

  // Signals are taken synchronously by the main thread, so handlers need no async-safety.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Authentication first: a controller that cannot tell who calls must not serve at all.
  if (locus::Status auth = locus::controller::Gatekeeper(config).selfTest(); !auth.ok()) {
    std::fprintf(stderr,
                 "locus-controller: authentication (auth = \"munge\") does not work: %s. Start munged "
                 "(Debian package munge), point [controller] munge_socket or LOCUS_MUNGE_SOCKET at its "
                 "socket, or set [controller] auth = \"none\" (unsafe: any client may act as any user)\n",
                 auth.error().message.c_str());
    return 1;
  }
  if (config.auth == "none")
    std::fprintf(stderr, "locus-controller: warning: auth = \"none\": requests are trusted as they come; "
                         "development only\n");
  auto controller = locus::controller::Controller::create(config);
  if (!controller.ok()) {
    std::fprintf(stderr, "locus-controller: %s\n", controller.error().message.c_str());
    return 1;
  }
  auto server = locus::controller::RpcServer::start(**controller, config.listen);
  if (!server.ok()) {
    std::fprintf(stderr, "locus-controller: %s\n", server.error().message.c_str());
    return 1;
  }
  std::string host = config.listen.substr(0, config.listen.rfind(':'));
  std::string address = host + ":" + std::to_string((*server)->port());
  {
    // What jobs are told to reach us at (LOCUS_CONTROLLER, for locus run inside them): a
    // wildcard listen address is no address to connect to, the host name is.
    std::string reachable = address;
    if (host == "0.0.0.0" || host == "[::]" || host == "::" || host.empty()) {
      char name[256] = {};
      gethostname(name, sizeof name - 1);
      reachable = std::string(name) + ":" + std::to_string((*server)->port());
    }
    (*controller)->setAddress(reachable);
  }
  locus::HttpServer http;
  std::remove((config.state_dir + "/http.addr").c_str());  // a previous run's
  if (!http_listen.empty()) {
    http.get("/metrics", [&c = **controller](const locus::HttpRequest&) {
      return locus::HttpResponse{200, locus::metrics::kContentType, c.metricsText()};
    });
    locus::controller::addDashboardRoutes(http, **controller);
    auto port = http.start(http_listen);
    if (!port.ok()) {
      std::fprintf(stderr, "locus-controller: --http: %s\n", port.error().message.c_str());
      return 1;
    }
    // Like controller.addr, and written before it: who sees that file finds this one too.
    std::string http_address =
        http_listen.substr(0, http_listen.rfind(':')) + ":" + std::to_string(*port);
    std::string tmp = config.state_dir + "/http.addr.tmp";
    std::ofstream(tmp) << http_address << "\n";
    std::rename(tmp.c_str(), (config.state_dir + "/http.addr").c_str());
    std::printf("locus-controller serving HTTP (/metrics, dashboard /) on %s\n", http_address.c_str());
    locus::logger("controller")->info("http on {}", http_address);
  }
  (*controller)->start();
  {
    // Written after the port is bound, so a reader of this file can connect at once.
    std::string tmp = config.state_dir + "/controller.addr.tmp";
    std::ofstream(tmp) << address << "\n";
    std::rename(tmp.c_str(), (config.state_dir + "/controller.addr").c_str());
  }
  std::printf("locus-controller listening on %s\n", address.c_str());
  std::fflush(stdout);
  locus::logger("controller")->info("listening on {} state={}", address, config.state_dir);

  int sig = 0;
  sigwait(&signals, &sig);
  locus::logger("controller")->info("signal {}: shutting down", sig);
  http.stop();
  (*controller)->stop();
  (*server)->shutdown();
  return 0;
}
