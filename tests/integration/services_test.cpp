// Services (`locus service`, controller/services.hpp) on a live cluster, with real replicas: each
// replica is `python3 -m http.server $LOCUS_PORT` serving a directory that holds `version` (the
// replica's $VERSION), health-checked over HTTP by its node daemon.
// - a created service gets its replicas healthy, `endpoints` lists them and each answers HTTP
//   200, `list` shows it; `delete` makes it disappear and leaves no replica process;
// - a replica killed with SIGKILL is replaced by a new replica job, and the restart is counted;
// - a replica whose node daemon dies is requeued and becomes healthy on the other node;
// - a rolling update (min-healthy 0.5 of 4) never has fewer than 2 healthy replicas, runs both
//   revisions side by side for a while, and ends with every replica on the new revision; a
//   rollback brings the old revision (and its environment) back;
// - a controller restart keeps the replicas (same jobs, same processes) and they turn healthy
//   again once the nodes re-report, with nothing restarted;
// - on a full cluster the replicas preempt the youngest normal batch jobs, which run again after
//   the service is deleted;
// - bad input (no command, an HTTP check without a port, an unknown service) is refused with a
//   clear message and a non-zero exit.
// Each cluster takes its own 16-port service_ports range, chosen at run time below the ephemeral
// ports, so that test processes running side by side (emulated nodes share 127.0.0.1) never meet.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <climits>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using nlohmann::json;

const std::string kTopology = "pack:1 numa:1 core:4 pu:1";  // 4 cores per node
constexpr int kPortSpan = 16;

// A replica: writes $VERSION into www-PORT/version and serves that directory over HTTP (exec: the
// server is the replica's task itself, so it dies with its node daemon like any task).
const std::string kServe =
    "mkdir -p www-$LOCUS_PORT && echo \"$VERSION\" > www-$LOCUS_PORT/version && cd www-$LOCUS_PORT && "
    "exec python3 -m http.server $LOCUS_PORT --bind 127.0.0.1";

// A replica's server as `ps` shows it. Its argv[0] is not always "python3": a pyenv shim, for
// one, execs the interpreter by its full path. So: any argv[0] ending in "python3", then this.
std::string serverArguments(int port) { return "-m http.server " + std::to_string(port) + " --bind 127.0.0.1"; }

// True if nothing on this machine listens on (or holds bound) 127.0.0.1:port. SO_REUSEADDR, as
// the replica's server sets it: the TIME_WAIT connections an earlier test left there are no
// obstacle to it, and must not push this process into another one's range.
bool portFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// [first, first + kPortSpan): below the kernel's ephemeral range (whose ports the CLI's and the
// daemons' connections take), in a slot picked by this process's pid (spread by a prime, so that
// the nearby pids of test processes started together land far apart), moving on past slots
// where some port is taken. Every test of one process gets the same range.
int pickPortRange() {
  int ephemeral_low = 32768;
  std::istringstream(readFile("/proc/sys/net/ipv4/ip_local_port_range")) >> ephemeral_low;
  const int low = 12000;
  const int slots = std::max(1, (ephemeral_low - low) / kPortSpan);
  const int home = static_cast<int>((static_cast<int64_t>(getpid()) * 7919) % slots);
  for (int k = 0; k < slots; ++k) {
    const int first = low + ((home + k) % slots) * kPortSpan;
    bool free = true;
    for (int p = first; p < first + kPortSpan && free; ++p) free = portFree(p);
    if (free) return first;
  }
  return low;
}

struct HttpReply {
  int status = 0;  // 0: no HTTP answer
  std::string body;
  std::string error;
};

// GET http://host:port/path over HTTP/1.0, 5 s at most for each socket operation.
HttpReply httpGet(const std::string& host, int port, const std::string& path) {
  HttpReply reply;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {0, "", "socket failed"};
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    close(fd);
    return {0, "", "not an IPv4 address: " + host};
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return {0, "", "connect to " + host + ":" + std::to_string(port) + " failed"};
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return {0, "", "send failed"};
  }
  std::string raw;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, n);
  close(fd);
  // "HTTP/1.0 200 OK\r\n...\r\n\r\nbody"
  if (raw.rfind("HTTP/", 0) != 0 || raw.find(' ') == std::string::npos) return {0, "", "bad response: " + raw};
  reply.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  auto body = raw.find("\r\n\r\n");
  if (body != std::string::npos) reply.body = raw.substr(body + 4);
  return reply;
}

// Pids of the live (not zombie) replica servers of `port`: python3 (any path) with
// serverArguments(port).
std::vector<pid_t> serverPids(int port) {
  const std::string args = " " + serverArguments(port);
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (!proc) return out;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string base = std::string("/proc/") + e->d_name;
    std::string cmd = readFile(base + "/cmdline");
    const std::string argv0 = cmd.substr(0, cmd.find('\0'));
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    const bool python = argv0.size() >= 7 && argv0.compare(argv0.size() - 7, 7, "python3") == 0;
    if (!python || cmd.size() != argv0.size() + args.size() || cmd.compare(argv0.size(), args.size(), args) != 0)
      continue;
    const std::string stat = readFile(base + "/stat");
    const size_t close_paren = stat.rfind(')');
    if (close_paren != std::string::npos && close_paren + 2 < stat.size() && stat[close_paren + 2] != 'Z')
      out.push_back(std::stoi(e->d_name));
  }
  closedir(proc);
  return out;
}

// The command lines of the live processes that contain `part`, one per line (for messages).
std::string processesWith(const std::string& part) {
  std::string out;
  DIR* proc = opendir("/proc");
  if (!proc) return out;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string cmd = readFile(std::string("/proc/") + e->d_name + "/cmdline");
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(part) != std::string::npos) out += std::string(e->d_name) + ": " + cmd + "\n";
  }
  closedir(proc);
  return out;
}

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::vector<std::string> wordsOf(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::set<uint64_t> replicaIds(const json& service) {
  std::set<uint64_t> out;
  if (service.is_object())
    for (const auto& r : service["replica_jobs"]) out.insert(r["job_id"].get<uint64_t>());
  return out;
}

// `replicas` replicas, all RUNNING on `revision` and healthy.
bool settled(const json& service, size_t replicas, uint32_t revision) {
  if (!service.is_object() || service["healthy"] != replicas || service["replica_jobs"].size() != replicas)
    return false;
  for (const auto& r : service["replica_jobs"])
    if (r["state"] != "RUNNING" || r["revision"] != revision || r["health"] != "healthy") return false;
  return true;
}

class Services : public ::testing::Test {
 protected:
  void start(int nodes, const std::string& extra = "") {
    ports_ = pickPortRange();
    TestCluster::Options options;
    options.nodes = nodes;
    options.topology = kTopology;
    // First: still inside the test config's [controller] table.
    options.config = "service_ports = \"" + std::to_string(ports_) + "-" + std::to_string(ports_ + kPortSpan - 1) +
                     "\"\n[scheduler]\ninterval_ms = 200\n" + extra;
    cluster_ = std::make_unique<TestCluster>(options);
    ASSERT_TRUE(cluster_->startController());
    for (int i = 0; i < nodes; ++i) ASSERT_TRUE(cluster_->startNode(i));
    ASSERT_TRUE(cluster_->waitNodesUp(nodes, seconds(20)));
  }

  // `locus service create NAME --replicas R` with an HTTP check every second, serving kServe.
  CommandResult create(const std::string& name, int replicas, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"service", "create", name, "--replicas", std::to_string(replicas), "--cpus", "1",
                                  "--port", "auto", "--health-http", "/", "--health-interval", "1",
                                  "--health-grace", "1", "--health-max-failures", "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("--");
    args.push_back(kServe);
    return cluster_->locus(args);
  }

  json show(const std::string& name) const {
    auto r = cluster_->locus({"service", "show", name, "--json"});
    if (r.exit_code != 0) return nullptr;
    return json::parse(r.out, nullptr, false);
  }

  bool waitSettled(const std::string& name, size_t replicas, uint32_t revision, seconds timeout = seconds(60)) {
    return waitUntil([&] { return settled(show(name), replicas, revision); }, timeout);
  }

  // The endpoints' "host:port" lines.
  std::vector<std::string> endpoints(const std::string& name) const {
    auto r = cluster_->locus({"service", "endpoints", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return linesOf(r.out);
  }

  static HttpReply get(const std::string& endpoint, const std::string& path) {
    const auto colon = endpoint.rfind(':');
    if (colon == std::string::npos) return {0, "", "not host:port: " + endpoint};
    return httpGet(endpoint.substr(0, colon), std::stoi(endpoint.substr(colon + 1)), path);
  }

  // Every endpoint of `name` (there are `count`) serves `version`.
  void expectVersionServed(const std::string& name, size_t count, const std::string& version) {
    auto eps = endpoints(name);
    EXPECT_EQ(eps.size(), count) << show(name).dump();
    for (const auto& ep : eps) {
      auto reply = get(ep, "/version");
      EXPECT_EQ(reply.status, 200) << ep << ": " << reply.error;
      EXPECT_EQ(reply.body, version + "\n") << ep;
    }
  }

  // The jobs of all states named `name` (replicas carry their service's name).
  std::vector<json> jobsNamed(const std::string& name) const {
    std::vector<json> out;
    for (const auto& j : cluster_->jobs("all"))
      if (j["name"] == name) out.push_back(j);
    return out;
  }

  // "service=NAME replica job=ID revision=REV" lines of the controller's log (one per replica
  // created, across the controller's runs: the log is appended to).
  // For messages: each job named `name`, its state, reason and the tail of its output.
  std::string describeJobs(const std::string& name) const {
    std::string out;
    for (const auto& j : jobsNamed(name)) {
      out += "job " + j["id"].dump() + " " + j["state"].get<std::string>() + " reason=" + j["reason"].dump() +
             " exit=" + j["exit_code"].dump() + " attempt=" + j["attempt"].dump() + " nodes=" + j["nodes"].dump() +
             "\n";
      if (j["stdout"].is_string()) {
        const std::string text = readFile(j["stdout"]);
        out += "  output: " + text.substr(text.size() > 600 ? text.size() - 600 : 0) + "\n";
      }
    }
    return out;
  }

  int replicasLogged(const std::string& name) const {
    std::istringstream log(readFile(cluster_->dir() + "/logs/controller.log"));
    const std::string needle = "service=" + name + " replica job=";
    int n = 0;
    for (std::string line; std::getline(log, line);) {
      const auto at = line.find(needle);
      if (at == std::string::npos) continue;
      const auto id_end = line.find_first_not_of("0123456789", at + needle.size());
      if (id_end != std::string::npos && line.compare(id_end, 10, " revision=") == 0) ++n;
    }
    return n;
  }

  // What `locus service show --json` said every ~100 ms during a rollout.
  struct Rollout {
    int samples = 0;
    int fewest_healthy = INT_MAX;
    std::string fewest_healthy_sample;
    bool both_revisions = false;  // some sample held replicas of the target and another revision
    bool done = false;
    std::string last;
  };

  Rollout watchRollout(const std::string& name, size_t replicas, uint32_t target, seconds timeout) {
    Rollout w;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const json s = show(name);
      if (s.is_object()) {
        ++w.samples;
        w.last = s.dump();
        const int healthy = s["healthy"];
        if (healthy < w.fewest_healthy) {
          w.fewest_healthy = healthy;
          w.fewest_healthy_sample = w.last;
        }
        std::set<uint32_t> revisions;
        for (const auto& r : s["replica_jobs"]) revisions.insert(r["revision"].get<uint32_t>());
        if (revisions.count(target) && revisions.size() > 1) w.both_revisions = true;
        if (settled(s, replicas, target)) {
          w.done = true;
          break;
        }
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return w;
  }

  std::unique_ptr<TestCluster> cluster_;
  int ports_ = 0;
};

TEST_F(Services, ACreatedServiceServesOnEveryEndpointAndDeleteStopsIt) {
  ASSERT_NO_FATAL_FAILURE(start(2));
  auto created = create("web", 2);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find("service web created: 2 replicas"), std::string::npos) << created.out;
  ASSERT_TRUE(waitSettled("web", 2, 1)) << show("web").dump();

  const json s = show("web");
  EXPECT_EQ(s["status"], "stable") << s.dump();
  EXPECT_EQ(s["running"], 2) << s.dump();
  EXPECT_EQ(s["restarts"], 0) << s.dump();
  EXPECT_EQ(s["port"], true) << s.dump();
  std::set<int> ports;
  for (const auto& r : s["replica_jobs"]) {
    const int port = r["port"];
    EXPECT_GE(port, ports_) << s.dump();
    EXPECT_LT(port, ports_ + kPortSpan) << s.dump();
    ports.insert(port);
    const json job = cluster_->job(r["job_id"]);
    EXPECT_EQ(job["qos"], "service") << job.dump();
    EXPECT_EQ(job["name"], "web") << job.dump();
  }
  EXPECT_EQ(ports.size(), 2u) << "two replicas share a port: " << s.dump();
  for (int port : ports)
    EXPECT_EQ(serverPids(port).size(), 1u) << port << "; servers:\n" << processesWith("http.server");

  // Two endpoints, host:port of the two replicas, each answering 200.
  const auto eps = endpoints("web");
  ASSERT_EQ(eps.size(), 2u) << s.dump();
  std::set<int> endpoint_ports;
  for (const auto& ep : eps) {
    const auto colon = ep.rfind(':');
    ASSERT_NE(colon, std::string::npos) << ep;
    EXPECT_EQ(ep.substr(0, colon), "127.0.0.1") << ep;
    endpoint_ports.insert(std::stoi(ep.substr(colon + 1)));
    const auto reply = get(ep, "/");
    EXPECT_EQ(reply.status, 200) << ep << ": " << reply.error;
  }
  EXPECT_EQ(endpoint_ports, ports);

  // `list`: NAME USER REPLICAS RUNNING HEALTHY REV STATUS.
  auto list = cluster_->locus({"service", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  bool listed = false;
  for (const auto& line : linesOf(list.out)) {
    auto w = wordsOf(line);
    if (w.empty() || w[0] != "web") continue;
    listed = true;
    ASSERT_EQ(w.size(), 7u) << line;
    EXPECT_EQ(w[2], "2") << line;
    EXPECT_EQ(w[3], "2") << line;
    EXPECT_EQ(w[4], "2") << line;
    EXPECT_EQ(w[5], "1") << line;
    EXPECT_EQ(w[6], "stable") << line;
  }
  EXPECT_TRUE(listed) << list.out;

  // Delete: gone from `list`, its replicas stopped as the service's own doing, no process left.
  const auto ids = replicaIds(s);
  auto deleted = cluster_->locus({"service", "delete", "web"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  ASSERT_TRUE(waitUntil(
      [&] {
        auto r = cluster_->locus({"service", "list", "--json"});
        return r.exit_code == 0 && json::parse(r.out, nullptr, false) == json::array();
      },
      seconds(20)))
      << cluster_->locus({"service", "list", "--json"}).out;
  EXPECT_NE(cluster_->locus({"service", "show", "web"}).exit_code, 0);
  for (uint64_t id : ids) {
    const json job = cluster_->job(id);
    EXPECT_EQ(job["state"], "CANCELLED") << job.dump();
    EXPECT_EQ(job["reason"], "ServiceStopped") << job.dump();
  }
  for (int port : ports)
    EXPECT_TRUE(waitUntil([&] { return serverPids(port).empty(); }, seconds(20)))
        << "a replica process still serves port " << port;
  EXPECT_EQ(jobsNamed("web").size(), 2u) << "no replica was created after the delete\n" << describeJobs("web");
}

TEST_F(Services, AReplicaKilledWithSigkillIsReplacedAndTheRestartIsCounted) {
  ASSERT_NO_FATAL_FAILURE(start(2));
  ASSERT_EQ(create("web", 2).exit_code, 0);
  ASSERT_TRUE(waitSettled("web", 2, 1)) << show("web").dump();
  const json before = show("web");
  const auto ids_before = replicaIds(before);
  const json victim = before["replica_jobs"][0];
  const uint64_t victim_id = victim["job_id"];
  const int victim_port = victim["port"];

  const auto pids = serverPids(victim_port);
  ASSERT_EQ(pids.size(), 1u) << "no single server process on port " << victim_port << "; servers:\n" << processesWith("http.server");
  ASSERT_EQ(kill(pids[0], SIGKILL), 0);

  // A new replica job takes its place and turns healthy; the other one is untouched.
  ASSERT_TRUE(waitUntil(
      [&] {
        const json s = show("web");
        return settled(s, 2, 1) && !replicaIds(s).count(victim_id);
      },
      seconds(60)))
      << show("web").dump();
  const json after = show("web");
  EXPECT_GE(after["restarts"].get<int>(), 1) << after.dump();
  const auto ids_after = replicaIds(after);
  std::vector<uint64_t> kept, fresh;
  for (uint64_t id : ids_after) (ids_before.count(id) ? kept : fresh).push_back(id);
  EXPECT_EQ(kept.size(), 1u) << after.dump();
  ASSERT_EQ(fresh.size(), 1u) << after.dump();
  EXPECT_GT(fresh[0], *ids_before.rbegin()) << after.dump();
  const json dead = cluster_->job(victim_id);
  EXPECT_TRUE(dead["state"] == "FAILED" || dead["state"] == "CANCELLED") << dead.dump();
  EXPECT_EQ(dead["attempt"], 0) << "the killed replica is replaced, not requeued: " << dead.dump();
  EXPECT_EQ(endpoints("web").size(), 2u);
  for (const auto& ep : endpoints("web")) EXPECT_EQ(get(ep, "/").status, 200) << ep;
  EXPECT_EQ(jobsNamed("web").size(), 3u) << describeJobs("web");
  ASSERT_EQ(cluster_->locus({"service", "delete", "web"}).exit_code, 0);
}

TEST_F(Services, ReplicasOfADeadNodeAreRequeuedAndTurnHealthyOnTheOtherNode) {
  ASSERT_NO_FATAL_FAILURE(start(2));  // node_timeout_s = 3 in the test config
  ASSERT_EQ(create("web", 2).exit_code, 0);
  ASSERT_TRUE(waitSettled("web", 2, 1)) << show("web").dump();
  const json before = show("web");
  const std::string dead_node = before["replica_jobs"][0]["node"];
  const int dead = dead_node == cluster_->nodeName(0) ? 0 : 1;
  const std::string survivor = cluster_->nodeName(1 - dead);
  std::vector<uint64_t> moved;
  for (const auto& r : before["replica_jobs"])
    if (r["node"] == dead_node) moved.push_back(r["job_id"]);

  cluster_->killNode(dead);
  ASSERT_TRUE(waitUntil(
      [&] {
        const json s = show("web");
        if (!settled(s, 2, 1)) return false;
        for (const auto& r : s["replica_jobs"])
          if (r["node"] != survivor) return false;
        return true;
      },
      seconds(60)))
      << show("web").dump();

  // The same jobs, requeued (attempt 1): a node failure is not the replica's.
  const json after = show("web");
  EXPECT_EQ(replicaIds(after), replicaIds(before)) << after.dump();
  for (uint64_t id : moved) {
    const json job = cluster_->job(id);
    EXPECT_EQ(job["attempt"], 1) << job.dump();
    EXPECT_EQ(job["nodes"], json::array({survivor})) << job.dump();
  }
  EXPECT_EQ(jobsNamed("web").size(), 2u) << describeJobs("web");
  const auto eps = endpoints("web");
  EXPECT_EQ(eps.size(), 2u);
  for (const auto& ep : eps) EXPECT_EQ(get(ep, "/").status, 200) << ep;
  ASSERT_EQ(cluster_->locus({"service", "delete", "web"}).exit_code, 0);
}

TEST_F(Services, ARollingUpdateKeepsTheHealthyMinimumAndRollbackBringsTheOldRevisionBack) {
  ASSERT_NO_FATAL_FAILURE(start(2));  // 8 cores: 4 replicas and the surge fit
  ASSERT_EQ(create("web", 4, {"--min-healthy", "0.5", "--env", "VERSION=1"}).exit_code, 0);
  ASSERT_TRUE(waitSettled("web", 4, 1)) << show("web").dump();
  ASSERT_NO_FATAL_FAILURE(expectVersionServed("web", 4, "1"));
  EXPECT_EQ(show("web")["min_healthy"], 0.5);

  auto update = cluster_->locus({"service", "update", "web", "--env", "VERSION=2"});
  ASSERT_EQ(update.exit_code, 0) << update.err;
  EXPECT_NE(update.out.find("service web: revision 2"), std::string::npos) << update.out;
  Rollout w = watchRollout("web", 4, 2, seconds(120));
  ASSERT_TRUE(w.done) << "rollout not finished after " << w.samples << " samples: " << w.last;
  EXPECT_GE(w.fewest_healthy, 2) << w.fewest_healthy_sample;
  EXPECT_TRUE(w.both_revisions) << "no sample of " << w.samples << " saw revisions 1 and 2 at once";
  ASSERT_NO_FATAL_FAILURE(expectVersionServed("web", 4, "2"));
  json s = show("web");
  EXPECT_EQ(s["revision"], 2) << s.dump();
  EXPECT_EQ(s["revisions"], json::array({1, 2})) << s.dump();
  EXPECT_EQ(s["environment"]["VERSION"], "2") << s.dump();
  EXPECT_EQ(s["restarts"], 0) << "a rollout is no failure: " << s.dump();

  auto rollback = cluster_->locus({"service", "rollback", "web"});
  ASSERT_EQ(rollback.exit_code, 0) << rollback.err;
  EXPECT_NE(rollback.out.find("service web: back to revision 1"), std::string::npos) << rollback.out;
  w = watchRollout("web", 4, 1, seconds(120));
  ASSERT_TRUE(w.done) << "rollback not finished after " << w.samples << " samples: " << w.last;
  EXPECT_GE(w.fewest_healthy, 2) << w.fewest_healthy_sample;
  ASSERT_NO_FATAL_FAILURE(expectVersionServed("web", 4, "1"));
  s = show("web");
  EXPECT_EQ(s["revision"], 1) << s.dump();
  EXPECT_EQ(s["revisions"], json::array({1, 2})) << s.dump();
  EXPECT_EQ(s["environment"]["VERSION"], "1") << s.dump();
  // 4 of revision 1, 4 of revision 2, 4 of revision 1 again.
  EXPECT_EQ(jobsNamed("web").size(), 12u) << describeJobs("web");
  ASSERT_EQ(cluster_->locus({"service", "delete", "web"}).exit_code, 0);
}

TEST_F(Services, ReplicasKeepRunningThroughAControllerRestartAndTurnHealthyAgain) {
  ASSERT_NO_FATAL_FAILURE(start(2));
  ASSERT_EQ(create("web", 2).exit_code, 0);
  ASSERT_TRUE(waitSettled("web", 2, 1)) << show("web").dump();
  const json before = show("web");
  std::map<uint64_t, pid_t> server_of;
  for (const auto& r : before["replica_jobs"]) {
    const auto pids = serverPids(r["port"].get<int>());
    ASSERT_EQ(pids.size(), 1u) << r.dump() << "\nservers:\n" << processesWith("http.server");
    server_of[r["job_id"].get<uint64_t>()] = pids[0];
  }

  cluster_->killController();
  ASSERT_TRUE(cluster_->startController());
  ASSERT_TRUE(cluster_->waitNodesUp(2, seconds(20)));
  ASSERT_TRUE(waitSettled("web", 2, 1, seconds(30))) << show("web").dump();

  const json after = show("web");
  EXPECT_EQ(replicaIds(after), replicaIds(before)) << after.dump();
  EXPECT_EQ(after["restarts"], 0) << after.dump();
  for (const auto& [id, pid] : server_of) {
    const json job = cluster_->job(id);
    EXPECT_EQ(job["state"], "RUNNING") << job.dump();
    EXPECT_EQ(job["attempt"], 0) << job.dump();
    EXPECT_EQ(kill(pid, 0), 0) << "the server of job " << id << " (pid " << pid << ") is gone";
  }
  for (const auto& r : after["replica_jobs"]) {
    const auto pids = serverPids(r["port"].get<int>());
    EXPECT_EQ(pids, std::vector<pid_t>{server_of[r["job_id"].get<uint64_t>()]}) << r.dump();
  }
  EXPECT_EQ(jobsNamed("web").size(), 2u) << describeJobs("web");
  EXPECT_EQ(replicasLogged("web"), 2) << "replica jobs created, across both controller runs";
  for (const auto& ep : endpoints("web")) EXPECT_EQ(get(ep, "/").status, 200) << ep;
  ASSERT_EQ(cluster_->locus({"service", "delete", "web"}).exit_code, 0);
}

TEST_F(Services, AServiceOnAFullClusterPreemptsTheYoungestBatchJobsWhichRunAgainAfterItsDeletion) {
  ASSERT_NO_FATAL_FAILURE(start(2));  // 8 cores in all
  // Eight 1-core normal jobs fill the cluster, oldest to youngest.
  std::vector<uint64_t> batch;
  for (int i = 0; i < 8; ++i) {
    auto id = cluster_->submit({"-c", "1", "--wrap", "sleep 300"});
    ASSERT_TRUE(id);
    ASSERT_TRUE(waitUntil([&] { return cluster_->job(*id)["state"] == "RUNNING"; }, seconds(20)))
        << cluster_->job(*id).dump();
    batch.push_back(*id);
  }

  ASSERT_EQ(create("web", 2).exit_code, 0);
  ASSERT_TRUE(waitSettled("web", 2, 1)) << show("web").dump();
  const auto replicas = replicaIds(show("web"));
  for (uint64_t id : replicas) EXPECT_EQ(cluster_->job(id)["qos"], "service");

  // The two youngest were requeued for the two replicas, one each; the others run on.
  std::set<uint64_t> preempted_by;
  for (size_t i = 0; i < batch.size(); ++i) {
    const json j = cluster_->job(batch[i]);
    if (i >= 6) {
      EXPECT_EQ(j["state"], "PENDING") << j.dump();
      EXPECT_EQ(j["attempt"], 1) << j.dump();
      ASSERT_TRUE(j["preempted_by"].is_number()) << j.dump();
      EXPECT_TRUE(replicas.count(j["preempted_by"].get<uint64_t>())) << j.dump();
      preempted_by.insert(j["preempted_by"].get<uint64_t>());
    } else {
      EXPECT_EQ(j["state"], "RUNNING") << j.dump();
      EXPECT_EQ(j["attempt"], 0) << j.dump();
      EXPECT_TRUE(j["preempted_by"].is_null()) << j.dump();
    }
  }
  EXPECT_EQ(preempted_by, replicas);

  // Deleted, the service gives the cores back: the requeued jobs run again (attempt 1).
  ASSERT_EQ(cluster_->locus({"service", "delete", "web"}).exit_code, 0);
  for (size_t i = 6; i < batch.size(); ++i)
    EXPECT_TRUE(waitUntil([&] { return cluster_->job(batch[i])["state"] == "RUNNING"; }, seconds(30)))
        << cluster_->job(batch[i]).dump();
  for (uint64_t id : batch) EXPECT_EQ(cluster_->job(id)["state"], "RUNNING") << cluster_->job(id).dump();

  std::vector<std::string> cancel{"cancel"};
  for (uint64_t id : batch) cancel.push_back(std::to_string(id));
  EXPECT_EQ(cluster_->locus(cancel).exit_code, 0);
  EXPECT_TRUE(cluster_->waitTerminal(batch, seconds(30)));
}

// The scenario: a batch array of account `batch` (no guarantee) fills the cluster by
// borrowing; a service of account `web`, guaranteed 4 cores in the pool, is created: borrowers
// are preempted (requeued), the replicas start and pass their checks, and the preempted tasks run
// again later: every task finishes, nothing is lost.
TEST_F(Services, AGuaranteedServiceTakesItsCoresFromBorrowersAndTheirWorkStillFinishes) {
  const passwd* pw = getpwuid(geteuid());
  const std::string user = pw ? pw->pw_name : "root";
  ASSERT_NO_FATAL_FAILURE(start(2, "[[account]]\nname = \"web\"\nusers = [\"" + user +
                                       "\"]\n[[account]]\nname = \"batch\"\nusers = [\"" + user +
                                       "\"]\n[[pool]]\nname = \"main\"\ndefault = true\n"
                                       "[[pool.quota]]\naccount = \"web\"\nguaranteed = { cores = 4 }\n"));
  const std::string w = cluster_->workDir();
  // Each task records its runs and ends once the gate exists.
  auto array = cluster_->submit({"-A", "batch", "-c", "1", "--array", "1-8", "-o", "/dev/null", "--wrap",
                                 "echo run >> " + w + "/runs-$LOCUS_ARRAY_TASK_ID\n"
                                 "while [ ! -e " + w + "/gate ]; do sleep 0.1; done\n"
                                 "echo done >> " + w + "/done-$LOCUS_ARRAY_TASK_ID\n"});
  ASSERT_TRUE(array);
  std::vector<uint64_t> tasks;
  for (const auto& j : cluster_->jobs("all"))
    if (j["array_job_id"] == *array) tasks.push_back(j["id"].get<uint64_t>());
  ASSERT_EQ(tasks.size(), 8u);
  ASSERT_TRUE(waitUntil([&] {
    for (uint64_t t : tasks)
      if (cluster_->job(t)["state"] != "RUNNING") return false;
    return true;
  }, seconds(30)));
  // The quota view: batch borrows all 8 cores, web's idle guarantee of 4 is lent.
  auto quota = cluster_->locus({"quota", "show", "--json"});
  ASSERT_EQ(quota.exit_code, 0) << quota.err;
  json rows = json::parse(quota.out, nullptr, false);
  bool saw_lent = false;
  for (const auto& r : rows)
    if (r["account"] == "web") saw_lent = r["lent"]["cores"] == 4;
  EXPECT_TRUE(saw_lent) << quota.out;

  ASSERT_EQ(create("web", 2, {"-A", "web"}).exit_code, 0);
  ASSERT_TRUE(waitSettled("web", 2, 1)) << show("web").dump();
  int requeued = 0;
  for (uint64_t t : tasks) {
    const json j = cluster_->job(t);
    if (j["attempt"] == 1) {
      ++requeued;
      EXPECT_TRUE(j["preempted_by"].is_number()) << j.dump();
    }
  }
  EXPECT_EQ(requeued, 2);  // exactly what the replicas need

  // The gate opens: the running tasks finish, the requeued ones run again and finish too.
  std::ofstream(w + "/gate").put('\n');
  ASSERT_TRUE(cluster_->waitTerminal(tasks, seconds(60)));
  for (uint64_t t : tasks) {
    const json j = cluster_->job(t);
    EXPECT_EQ(j["state"], "COMPLETED") << j.dump();
    const std::string task = std::to_string(j["array_task_id"].get<int>());
    EXPECT_EQ(readFile(w + "/done-" + task), "done\n") << "task " << task;
    EXPECT_EQ(readFile(w + "/runs-" + task), j["attempt"] == 1 ? "run\nrun\n" : "run\n") << "task " << task;
  }
  EXPECT_EQ(show("web")["healthy"], 2);
  ASSERT_EQ(cluster_->locus({"service", "delete", "web"}).exit_code, 0);
}

TEST_F(Services, BadRequestsAreRefusedWithAClearMessageAndANonZeroExit) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"service", "create", "web", "--replicas", "1"}, "the command goes after --"},
      {{"service", "create", "web", "--replicas", "1", "--"}, "the command goes after --"},
      {{"service", "create", "web", "--replicas", "1", "--health-http", "/", "--", "sleep 300"},
       "--health-http needs --port auto"},
      {{"service", "show", "nosuch"}, "no service 'nosuch'"},
      {{"service", "endpoints", "nosuch"}, "no service 'nosuch'"},
      {{"service", "scale", "nosuch", "3"}, "no service 'nosuch'"},
      {{"service", "update", "nosuch", "--env", "A=B"}, "no service 'nosuch'"},
      {{"service", "rollback", "nosuch"}, "no service 'nosuch'"},
      {{"service", "delete", "nosuch"}, "no service 'nosuch'"},
  };
  for (const auto& c : cases) {
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    auto r = cluster_->locus(c.args);
    EXPECT_NE(r.exit_code, 0) << line << "\n" << r.out;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << line << "\nstderr: " << r.err;
  }
  // Nothing was created.
  auto list = cluster_->locus({"service", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out, nullptr, false), json::array()) << list.out;
  EXPECT_TRUE(cluster_->jobs("all").empty());
}

}  // namespace
}  // namespace locus::testing
