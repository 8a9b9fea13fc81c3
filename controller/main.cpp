// locus-controller: loads the config and the store, serves the gRPC API, runs the scheduler.
#include <CLI/CLI.hpp>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <thread>
#include <unistd.h>
#include <cstdio>
#include <fstream>

#include "common/address_list.hpp"
#include "common/config.hpp"
#include "common/http_server.hpp"
#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "controller/controller.hpp"
#include "controller/dashboard/dashboard.hpp"
#include "controller/rpc/gatekeeper.hpp"
#include "controller/rpc/server.hpp"
#include "controller/store/controller_members.hpp"
#include "controller/store/etcd_store.hpp"
#include "controller/store/leader_election.hpp"
#include "common/time_util.hpp"

namespace {

// What clients are told to reach us at: a wildcard listen address is no address to connect to,
// the host name is.
std::string reachableAddress(const std::string& listen, int port) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  if (host == "0.0.0.0" || host == "[::]" || host == "::" || host.empty()) {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    return std::string(name) + ":" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

// "HOST:PORT" of `listen` with the port a server got.
std::string withPort(const std::string& listen, int port) {
  return listen.substr(0, listen.rfind(':')) + ":" + std::to_string(port);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"locus-controller: the Locus cluster controller"};
  std::string config_path, listen, state_dir, log_level = "info", http_listen;
  app.add_option("--config", config_path, "locus.toml");
  app.add_option("--listen", listen, "HOST:PORT to serve on (port 0 picks one; default 127.0.0.1:6450)");
  app.add_option("--state", state_dir, "state directory (SQLite store)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  app.add_option("--http", http_listen,
                 "HOST:PORT to serve /metrics on, for Prometheus (port 0 picks one; default: none)");
  std::string store_kind, etcd_endpoints;
  app.add_option("--store", store_kind, "sqlite (default) | etcd: [controller] store");
  app.add_option("--etcd", etcd_endpoints, "etcd endpoints, comma-separated: [controller] etcd_endpoints");
  app.set_version_flag("--version", std::string("locus-controller ") + LOCUS_VERSION);
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
  if (!store_kind.empty()) config.store = store_kind;
  if (!etcd_endpoints.empty()) config.etcd_endpoints = locus::splitAddressList(etcd_endpoints);
  if (config.store != "sqlite" && config.store != "etcd") {
    std::fprintf(stderr, "locus-controller: --store must be sqlite or etcd\n");
    return 2;
  }
  if (config.store == "etcd" && config.etcd_endpoints.empty()) {
    std::fprintf(stderr, "locus-controller: store etcd needs --etcd HOST:PORT[,...] or [controller] etcd_endpoints\n");
    return 2;
  }
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
  // High availability (store = "etcd"): campaign for leadership first, meanwhile a standby that
  // serves only ControllerApi on our port. The elected controller loads the cluster's state from
  // etcd and serves on the same port; its writes are fenced by its term, so a deposed leader
  // that has not noticed yet writes nothing.
  std::unique_ptr<locus::controller::Store> store;
  std::unique_ptr<locus::controller::LeaderElection> election;
  std::unique_ptr<locus::controller::ControllerMembers> members;  // HA: who the jobs are told of
  locus::controller::ControllerIdentity identity;
  identity.store = config.store;
  if (config.store == "etcd") {
    namespace lc = locus::controller;
    lc::EtcdOptions etcd;
    etcd.endpoints = config.etcd_endpoints;
    auto client = lc::EtcdClient::create(etcd);
    if (!client.ok()) {
      std::fprintf(stderr, "locus-controller: etcd: %s\n", client.error().message.c_str());
      return 2;
    }
    std::shared_ptr<lc::EtcdClient> shared_client = std::move(*client);
    // Our port, bound now: the standby holds it until we lead.
    lc::ControllerIdentity standby_identity;
    standby_identity.store = "etcd";
    lc::LeaderElection* elected = nullptr;  // set below; the lambda runs only once serving
    standby_identity.leader_address = [&elected]() -> std::string {
      if (!elected) return "";
      auto leader = elected->currentLeader();
      return leader.ok() && *leader ? (*leader)->address : std::string();
    };
    auto standby = lc::StandbyServer::start(config.listen, standby_identity);
    if (!standby.ok()) {
      std::fprintf(stderr, "locus-controller: %s\n", standby.error().message.c_str());
      return 1;
    }
    config.listen = withPort(config.listen, (*standby)->port());
    members = std::make_unique<lc::ControllerMembers>(
        shared_client, config.etcd_prefix, reachableAddress(config.listen, (*standby)->port()));
    if (locus::Status joined = members->join(); !joined.ok())
      locus::logger("controller")->warn("etcd: not listed among the controllers: {}", joined.error().message);
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    lc::LeaderElectionOptions options;
    options.etcd = etcd;
    options.key = config.etcd_prefix + "leader";
    options.id = std::string(host) + ":" + std::to_string(getpid());
    options.address = config.listen;
    options.ttl = std::chrono::seconds{config.etcd_lease_ttl_s};
    options.on_lost = [](const std::string& why) {
      // Its writes are fenced already; stopping at once is the one safe answer (a supervisor,
      // or `locus up`'s operator, starts it again as a standby).
      locus::logger("controller")->error("leadership lost ({}): exiting", why);
      std::fflush(nullptr);
      _exit(3);
    };
    auto created = lc::LeaderElection::create(options);
    if (!created.ok()) {
      std::fprintf(stderr, "locus-controller: %s\n", created.error().message.c_str());
      return 2;
    }
    election = std::move(*created);
    elected = election.get();
    std::printf("locus-controller standby on %s, campaigning in etcd (%s)\n", config.listen.c_str(),
                options.key.c_str());
    std::fflush(stdout);
    {
      // For `locus up`: where this standby is (controller.addr comes once it leads).
      std::remove((config.state_dir + "/controller.addr").c_str());
      std::string tmp = config.state_dir + "/standby.addr.tmp";
      std::ofstream(tmp) << config.listen << "\n";
      std::rename(tmp.c_str(), (config.state_dir + "/standby.addr").c_str());
    }
    locus::logger("controller")->info("standby on {}: campaigning for {}", config.listen, options.key);
    while (true) {
      locus::Status won = election->campaign(std::chrono::seconds{1});
      if (won.ok()) break;
      const timespec zero{0, 0};
      if (sigtimedwait(&signals, nullptr, &zero) > 0) {
        locus::logger("controller")->info("signal while standby: exiting");
        members->leave();
        return 0;
      }
    }
    (*standby)->shutdown();
    lc::EtcdStoreOptions store_options;
    store_options.prefix = config.etcd_prefix;
    store_options.max_txn_ops = config.etcd_max_txn_ops;
    store_options.fence = election->fence();
    auto opened = lc::EtcdStore::open(shared_client, store_options);
    if (!opened.ok()) {
      std::fprintf(stderr, "locus-controller: etcd store: %s\n", opened.error().message.c_str());
      return 1;
    }
    store = std::move(*opened);
    locus::logger("controller")->info("elected leader: loading the cluster's state from etcd");
  }
  identity.leader_since = locus::unixNow();
  auto controller = locus::controller::Controller::create(config, std::move(store));
  if (!controller.ok()) {
    std::fprintf(stderr, "locus-controller: %s\n", controller.error().message.c_str());
    return 1;
  }
  auto server = locus::controller::RpcServer::start(**controller, config.listen, identity);
  if (!server.ok()) {
    std::fprintf(stderr, "locus-controller: %s\n", server.error().message.c_str());
    return 1;
  }
  std::string host = config.listen.substr(0, config.listen.rfind(':'));
  std::string address = host + ":" + std::to_string((*server)->port());
  // What jobs are told to reach us at (LOCUS_CONTROLLER, for locus run inside them).
  (*controller)->setAddress(reachableAddress(config.listen, (*server)->port()));
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

  // HA: jobs are told of every controller (ours first), refreshed as standbys come and go.
  std::mutex members_mu;
  std::condition_variable members_cv;
  bool members_stop = false;
  std::thread members_thread;
  if (members) {
    members_thread = std::thread([&] {
      std::string told;
      std::unique_lock lock(members_mu);
      while (!members_stop) {
        lock.unlock();
        if (auto list = members->addressList(); list.ok() && *list != told) {
          (*controller)->setAddress(*list);
          locus::logger("controller")->info("jobs are told LOCUS_CONTROLLER={}", *list);
          told = *list;
        }
        lock.lock();
        members_cv.wait_for(lock, std::chrono::seconds(5), [&] { return members_stop; });
      }
    });
  }

  int sig = 0;
  sigwait(&signals, &sig);
  locus::logger("controller")->info("signal {}: shutting down", sig);
  if (members) {
    {
      std::lock_guard lock(members_mu);
      members_stop = true;
    }
    members_cv.notify_all();
    members_thread.join();
    members->leave();
  }
  http.stop();
  (*controller)->stop();
  (*server)->shutdown();
  return 0;
}
