// locus up | down: a whole cluster on this machine (controller + N node daemons on loopback).
//
// Layout of DIR (default $TMPDIR/locus-UID):
//   controller/          the controller's state (locus.db, controller.addr, http.addr)
//   controller-N/        with --controllers N: the others' (standby.addr until one leads)
//   etcd/                with --store etcd: a private etcd's data (and its ports, etcd.ports)
//   nodes/NAME/          each node daemon's spool (http.addr: its /metrics)
//   logs/*.log           daemon logs
//   pids/controller.pid, pids/controller-N.pid, pids/etcd.pid, pids/node-NAME.pid
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "common/config.hpp"
#include "common/exec_path.hpp"
#include "common/loopback_port.hpp"
#include "common/munge_auth.hpp"
#include "common/private_munged.hpp"

extern char** environ;

namespace locus::cli {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
// How long `up` waits for the daemons to come up, and `down` for them to exit after SIGTERM.
constexpr auto kStartTimeout = std::chrono::seconds{30};
constexpr auto kStopTimeout = std::chrono::seconds{15};
constexpr auto kPollInterval = std::chrono::milliseconds{20};

std::string defaultStateDir() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/locus-" + std::to_string(getuid());
}

fs::path binDir() { return fs::read_symlink("/proc/self/exe").parent_path(); }

// Starts a daemon in its own session (it outlives `locus up --detach`), output to `log`.
Result<pid_t> spawnDaemon(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return unavailable("cannot start " + argv[0] + ": " + strerror(rc));
  return pid;
}

bool writePid(const fs::path& file, pid_t pid) {
  std::ofstream out(file);
  out << pid << "\n";
  return static_cast<bool>(out);
}

// True if `pid` runs (not a zombie). Reaps it first if it is our child.
bool running(pid_t pid) {
  int status;
  if (waitpid(pid, &status, WNOHANG) == pid) return false;
  if (kill(pid, 0) != 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

// True if `pid` runs one of our daemons' executables: a pid file may outlive its process and
// the pid be recycled, and then it must be left alone.
bool alive(pid_t pid) {
  if (!running(pid)) return false;
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).filename().string();
  return exe.rfind("locus-controller", 0) == 0 || exe.rfind("locus-node", 0) == 0 || exe == "munged" ||
         exe == "etcd";
}

std::optional<pid_t> readPid(const fs::path& file) {
  std::ifstream in(file);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

// SIGTERM, then SIGKILL after the timeout. Returns false if it had to SIGKILL.
bool stopProcess(pid_t pid) {
  if (!alive(pid)) return true;
  kill(pid, SIGTERM);
  auto deadline = Clock::now() + kStopTimeout;
  while (Clock::now() < deadline) {
    if (!alive(pid)) return true;
    std::this_thread::sleep_for(kPollInterval);
  }
  kill(pid, SIGKILL);
  return false;
}

// A private single-member etcd for --store etcd, its data in DIR/etcd (kept across `up`s, with
// the ports it was created with: its membership names them). Large transactions allowed: one
// scheduling pass may store thousands of job transitions at once (docs/reliability.md).
Result<std::string> startEtcd(const fs::path& dir) {
  const std::string etcd = findExecutable("etcd", "/usr/bin:/usr/local/bin:/bin", "/");
  if (!fs::exists(etcd)) return unavailable("etcd not found: install Debian's etcd-server (make deps)");
  fs::create_directories(dir / "etcd");
  int client = 0, peer = 0;
  std::ifstream(dir / "etcd/etcd.ports") >> client >> peer;
  if (client <= 0 || peer <= 0) {
    client = freeLoopbackPort();
    peer = freeLoopbackPort();
    std::ofstream(dir / "etcd/etcd.ports") << client << " " << peer << "\n";
  }
  const std::string c = "http://127.0.0.1:" + std::to_string(client);
  const std::string pe = "http://127.0.0.1:" + std::to_string(peer);
  auto pid = spawnDaemon({etcd, "--name", "locus", "--data-dir", (dir / "etcd/data").string(), "--listen-client-urls", c,
                          "--advertise-client-urls", c, "--listen-peer-urls", pe, "--initial-advertise-peer-urls", pe,
                          "--initial-cluster", "locus=" + pe, "--max-txn-ops", "10000", "--max-request-bytes",
                          "16777216", "--auto-compaction-mode", "periodic", "--auto-compaction-retention", "10m"},
                         (dir / "logs/etcd.log").string());
  if (!pid.ok()) return pid.error();
  writePid(dir / "pids/etcd.pid", *pid);
  return "127.0.0.1:" + std::to_string(client);
}

int stopCluster(const fs::path& dir) {
  fs::path pids = dir / "pids";
  if (!fs::exists(pids)) return fail("no cluster state in " + dir.string());
  int stopped = 0;
  // Nodes first (they kill their tasks), then the controllers, then what they stand on: etcd,
  // and a private munged (authentication) last.
  std::vector<fs::path> files, controllers;
  for (const auto& e : fs::directory_iterator(pids)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".pid" || name == "munged.pid" || name == "etcd.pid") continue;
    (name.rfind("controller", 0) == 0 ? controllers : files).push_back(e.path());
  }
  files.insert(files.end(), controllers.begin(), controllers.end());
  files.push_back(pids / "etcd.pid");
  files.push_back(pids / "munged.pid");
  for (const auto& f : files) {
    if (!fs::exists(f)) continue;
    if (auto pid = readPid(f)) {
      if (alive(*pid)) {
        stopProcess(*pid);
        ++stopped;
      }
    }
    fs::remove(f);
  }
  std::fprintf(stderr, "locus: stopped %d daemons in %s\n", stopped, dir.c_str());
  return 0;
}

}  // namespace

int runUp(const std::vector<std::string>& raw, const Globals&) {
  Args args(raw);
  auto nodes_arg = args.value("--nodes", "-N");
  auto state = args.value("--state");
  auto port = args.value("--port");
  auto http_port = args.value("--http-port");
  auto config_path = args.value("--config");
  auto xml = args.value("--topology-xml");
  auto synthetic = args.value("--topology");
  auto controllers_arg = args.value("--controllers");
  auto store_arg = args.value("--store");
  bool detach = args.flag("--detach");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (!rest.empty()) return fail("unexpected argument '" + rest[0] + "'", 2);
  if (xml && synthetic) return fail("give --topology-xml or --topology, not both", 2);
  int controllers = 1;
  if (controllers_arg) {
    char* end = nullptr;
    long v = std::strtol(controllers_arg->c_str(), &end, 10);
    if (controllers_arg->empty() || *end != '\0' || v < 1 || v > 5)
      return fail("--controllers: expected a count from 1 to 5, got '" + *controllers_arg + "'", 2);
    controllers = static_cast<int>(v);
  }

  Config config;
  if (config_path) {
    auto loaded = loadConfig(*config_path);
    if (!loaded.ok()) return fail(loaded.error().message, 2);
    config = std::move(*loaded);
    *config_path = fs::absolute(*config_path).string();
  }
  const std::string store = store_arg ? *store_arg : config.store;
  if (store != "sqlite" && store != "etcd") return fail("--store: expected sqlite or etcd, got '" + store + "'", 2);
  if (controllers > 1 && store != "etcd")
    return fail("--controllers " + std::to_string(controllers) +
                    " needs --store etcd: a SQLite store serves one controller", 2);
  std::vector<std::string> names = config.configuredNodeNames();
  int count = 0;
  if (nodes_arg) {
    char* end = nullptr;
    long v = std::strtol(nodes_arg->c_str(), &end, 10);
    if (nodes_arg->empty() || *end != '\0' || v < 1 || v > 1024)
      return fail("--nodes: expected a count from 1 to 1024, got '" + *nodes_arg + "'", 2);
    count = static_cast<int>(v);
  } else if (!names.empty()) {
    count = static_cast<int>(names.size());
  } else {
    return fail("--nodes N is required", 2);
  }
  if (!names.empty() && static_cast<int>(names.size()) < count)
    return fail("the config names " + std::to_string(names.size()) + " nodes, fewer than --nodes " +
                std::to_string(count), 2);
  if (names.empty())
    for (int i = 1; i <= count; ++i) names.push_back("n" + std::to_string(i));
  names.resize(count);
  int listen_port = 0;
  if (port) {
    char* end = nullptr;
    long v = std::strtol(port->c_str(), &end, 10);
    if (port->empty() || *end != '\0' || v < 0 || v > 65535) return fail("--port: invalid port '" + *port + "'", 2);
    listen_port = static_cast<int>(v);
  }
  // The controller's HTTP port (/metrics); 0, the default, picks a free one.
  int http_listen_port = 0;
  if (http_port) {
    char* end = nullptr;
    long v = std::strtol(http_port->c_str(), &end, 10);
    if (http_port->empty() || *end != '\0' || v < 0 || v > 65535)
      return fail("--http-port: invalid port '" + *http_port + "'", 2);
    http_listen_port = static_cast<int>(v);
  }

  fs::path dir = fs::absolute(state ? *state : defaultStateDir());
  std::error_code ec;
  for (const char* sub : {"controller", "nodes", "logs", "pids"}) fs::create_directories(dir / sub, ec);
  if (ec) return fail("cannot create " + dir.string() + ": " + ec.message());
  if (auto pid = readPid(dir / "pids/controller.pid"); pid && alive(*pid))
    return fail("a cluster is already running in " + dir.string() + " (locus down --state " + dir.string() + ")");
  // Controller i keeps its files in controller/ (the first) or controller-i/.
  auto controllerDir = [&](int i) { return dir / (i == 0 ? std::string("controller") : "controller-" + std::to_string(i + 1)); };
  auto controllerPid = [&](int i) {
    return dir / "pids" / (i == 0 ? std::string("controller.pid") : "controller-" + std::to_string(i + 1) + ".pid");
  };
  for (int i = 0; i < controllers; ++i) {
    fs::create_directories(controllerDir(i), ec);
    fs::remove(controllerDir(i) / "controller.addr");
    fs::remove(controllerDir(i) / "standby.addr");
  }

  // Authentication: the system's munged when it answers, else a private one for this cluster
  // (its own key under DIR/munge). The daemons started below inherit LOCUS_MUNGE_SOCKET.
  std::string munge_socket;
  if (config.auth != "none") {
    const std::string existing = config.munge_socket.empty() ? mungeSocket() : config.munge_socket;
    if (mungedWorks(existing)) {
      munge_socket = existing;
    } else {
      auto munged = startPrivateMunged((dir / "munge").string());
      if (!munged.ok())
        return fail(munged.error().message + " (or set [controller] auth = \"none\" in a --config: unsafe)");
      writePid(dir / "pids/munged.pid", munged->pid);
      munge_socket = munged->socket;
    }
    setenv("LOCUS_MUNGE_SOCKET", munge_socket.c_str(), 1);
  }

  // etcd: the configured one, else a private one for this cluster.
  std::string etcd_endpoints;
  if (store == "etcd") {
    for (const std::string& e : config.etcd_endpoints) etcd_endpoints += (etcd_endpoints.empty() ? "" : ",") + e;
    if (etcd_endpoints.empty()) {
      auto started = startEtcd(dir);
      if (!started.ok()) {
        stopCluster(dir);
        return fail(started.error().message);
      }
      etcd_endpoints = *started;
    }
  }

  fs::path bin = binDir();
  std::vector<pid_t> cpids;
  for (int i = 0; i < controllers; ++i) {
    std::vector<std::string> cargv{(bin / "locus-controller").string(), "--listen",
                                   "127.0.0.1:" + std::to_string(i == 0 ? listen_port : 0), "--state",
                                   controllerDir(i).string(), "--http",
                                   "127.0.0.1:" + std::to_string(i == 0 ? http_listen_port : 0)};
    if (config_path) {
      cargv.push_back("--config");
      cargv.push_back(*config_path);
    }
    if (store == "etcd") {
      cargv.insert(cargv.end(), {"--store", "etcd", "--etcd", etcd_endpoints});
    }
    const std::string log = (dir / "logs" / (controllerDir(i).filename().string() + ".log")).string();
    auto cpid = spawnDaemon(cargv, log);
    if (!cpid.ok()) {
      stopCluster(dir);
      return fail(cpid.error().message);
    }
    writePid(controllerPid(i), *cpid);
    cpids.push_back(*cpid);
  }

  // Each controller writes its address once it listens: controller.addr when it leads,
  // standby.addr while it stands by (store etcd).
  std::vector<std::string> addresses(controllers);
  std::string address;  // the leader's
  std::string http_address;  // the leader's, written before its controller.addr
  auto deadline = Clock::now() + kStartTimeout;
  while (Clock::now() < deadline) {
    int known = 0;
    for (int i = 0; i < controllers; ++i) {
      std::string a;
      if (std::ifstream in(controllerDir(i) / "controller.addr"); in >> a) {
        address = addresses[i] = a;
        std::ifstream(controllerDir(i) / "http.addr") >> http_address;
      } else if (std::ifstream sb(controllerDir(i) / "standby.addr"); sb >> a) {
        addresses[i] = a;
      }
      known += addresses[i].empty() ? 0 : 1;
      if (!running(cpids[i])) {
        stopCluster(dir);
        return fail("a controller exited at start; see " + (dir / "logs" / (controllerDir(i).filename().string() + ".log")).string());
      }
    }
    if (!address.empty() && known == controllers) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  if (address.empty() || std::count(addresses.begin(), addresses.end(), std::string()) > 0) {
    stopCluster(dir);
    return fail("the controllers did not start within 30 s; see " + (dir / "logs").string());
  }
  // What clients and nodes are given: every controller; they find the leader.
  std::string all_addresses;
  for (const std::string& a : addresses) all_addresses += (all_addresses.empty() ? "" : ",") + a;

  for (const auto& name : names) {
    fs::create_directories(dir / "nodes" / name, ec);
    std::vector<std::string> nargv{(bin / "locus-node").string(), "--controller", all_addresses, "--name", name,
                                   "--state", (dir / "nodes" / name).string(), "--http", "127.0.0.1:0"};
    if (xml) {
      nargv.push_back("--topology-xml");
      nargv.push_back(fs::absolute(*xml).string());
    }
    if (synthetic) {
      nargv.push_back("--topology");
      nargv.push_back(*synthetic);
    }
    for (const std::string& cache : config.locality.cache_dirs) {
      nargv.push_back("--cache-dir");
      nargv.push_back(cache);
    }
    auto npid = spawnDaemon(nargv, (dir / "logs" / ("node-" + name + ".log")).string());
    if (!npid.ok()) {
      stopCluster(dir);
      return fail(npid.error().message);
    }
    writePid(dir / "pids" / ("node-" + name + ".pid"), *npid);
  }

  // Up means every node has registered.
  Client client(address);
  size_t up = 0;
  while (Clock::now() < deadline) {
    auto reply = client.listNodes(std::chrono::seconds{2});
    up = 0;
    if (reply.ok())
      for (const auto& n : reply->nodes())
        if (n.state() == "UP" && std::find(names.begin(), names.end(), n.name()) != names.end()) ++up;
    if (up == names.size()) break;
    for (const auto& name : names) {
      auto pid = readPid(dir / "pids" / ("node-" + name + ".pid"));
      if (pid && !running(*pid)) {
        stopCluster(dir);
        return fail("node " + name + " exited at start; see " + (dir / "logs" / ("node-" + name + ".log")).string());
      }
    }
    std::this_thread::sleep_for(kPollInterval * 5);
  }
  if (up != names.size()) {
    stopCluster(dir);
    return fail("only " + std::to_string(up) + " of " + std::to_string(names.size()) + " nodes registered within 30 s");
  }

  if (detach) {
    std::printf("export LOCUS_CONTROLLER=%s\n", all_addresses.c_str());
    std::printf("export LOCUS_HTTP=%s\n", http_address.c_str());
    if (!munge_socket.empty()) std::printf("export LOCUS_MUNGE_SOCKET=%s\n", munge_socket.c_str());
    std::fprintf(stderr, "locus: cluster up: controller %s, %zu nodes, state %s (stop: locus down --state %s)\n",
                 all_addresses.c_str(), names.size(), dir.c_str(), dir.c_str());
    return 0;
  }
  std::printf("locus: cluster up: controller %s, %zu nodes, state %s\n", address.c_str(), names.size(), dir.c_str());
  std::printf("locus: metrics at http://%s/metrics\n", http_address.c_str());
  std::printf("locus: in another shell: export LOCUS_CONTROLLER=%s%s%s ; Ctrl-C here stops the cluster\n",
              all_addresses.c_str(), munge_socket.empty() ? "" : " LOCUS_MUNGE_SOCKET=", munge_socket.c_str());
  std::fflush(stdout);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int sig = 0;
  sigwait(&signals, &sig);
  return stopCluster(dir);
}

int runDown(const std::vector<std::string>& raw, const Globals&) {
  Args args(raw);
  auto state = args.value("--state");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (!rest.empty()) return fail("unexpected argument '" + rest[0] + "'", 2);
  return stopCluster(fs::absolute(state ? *state : defaultStateDir()));
}

}  // namespace locus::cli
