// The controller's web dashboard on a real cluster: /api/ gives the CLI's JSON (the same keys and
// values as `locus show --json`, `locus nodes --json`, `locus share --json`, `locus quota show
// --json`, `locus service list --json` and `locus frameworks --json`), /api/topology the switch
// tree and NUMA layout, unknown jobs and pools are 404 JSON errors, the endpoints are read-only
// (405) but for cancel with an admin's token (`locus token`), /api/events streams the event log
// as Server-Sent Events (the objects of `locus events --json`, resumable), /api/jobs/ID/profile
// is the job's HDF5 profile as JSON, and / is the page with a view for each.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli/framework_client.hpp"
#include "tests/http_get.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

std::set<std::string> keysOf(const nlohmann::json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

nlohmann::json getJson(const std::string& address, const std::string& path, int status = 200) {
  auto r = httpGet(address, path);
  EXPECT_EQ(r.status, status) << path << ": " << r.error << r.body;
  EXPECT_EQ(r.content_type, "application/json") << path;
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

// `locus ARGS... --json`, parsed; null if it fails.
nlohmann::json cliJson(const TestCluster& cluster, std::vector<std::string> args) {
  args.push_back("--json");
  auto r = cluster.locus(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
}

// Waits until the dashboard's `path` and the CLI's `args --json` give the same JSON (both read
// live state, so one pair of reads may straddle a change); false, with both logged, if they
// never agree within `timeout`.
bool sameAsCli(const TestCluster& cluster, const std::string& http, const std::string& path,
               const std::vector<std::string>& args, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  nlohmann::json api, cli;
  bool same = waitUntil(
      [&] {
        api = getJson(http, path);
        cli = cliJson(cluster, args);
        return !api.is_discarded() && api == cli;
      },
      timeout);
  if (!same) ADD_FAILURE() << path << " differs from the CLI\napi: " << api.dump() << "\ncli: " << cli.dump();
  return same;
}

std::string currentUser() {
  const passwd* pw = getpwuid(geteuid());
  return pw ? pw->pw_name : "root";
}

// The job with this id in {"jobs": [...]}, or null.
nlohmann::json findJob(const nlohmann::json& list, uint64_t id) {
  for (const auto& j : list.value("jobs", nlohmann::json::array()))
    if (j.value("id", uint64_t{0}) == id) return j;
  return nullptr;
}

// One Server-Sent Events message: its "id:" (empty if none) and "data:" lines.
struct SseMessage {
  std::string id;
  std::string data;  // "" for a message without data (where a stream starts, a bookmark)
};

// A client of one text/event-stream response over a plain socket (like tests/http_get.hpp, not
// the server's library): sends the GET, then decodes the chunked body and its messages as they
// arrive. Waits are bounded; the destructor hangs up.
class SseReader {
 public:
  SseReader(const std::string& address, const std::string& path,
            const std::string& last_event_id = "") {
    auto colon = address.rfind(':');
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* ai = nullptr;
    if (getaddrinfo(address.substr(0, colon).c_str(), address.substr(colon + 1).c_str(), &hints,
                    &ai) != 0)
      return;
    fd_ = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{0, 100'000};  // reads return every 100 ms, so waits can end on time
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const bool connected = fd_ >= 0 && connect(fd_, ai->ai_addr, ai->ai_addrlen) == 0;
    freeaddrinfo(ai);
    if (!connected) return;
    std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: " + address + "\r\nAccept: text/event-stream\r\n" +
        (last_event_id.empty() ? "" : "Last-Event-ID: " + last_event_id + "\r\n") + "\r\n";
    if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size()))
      return;
    // The status line and headers.
    waitFor([&] { return raw_.find("\r\n\r\n") != std::string::npos; }, std::chrono::seconds(10));
    auto end = raw_.find("\r\n\r\n");
    if (raw_.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return;
    status_ = std::atoi(raw_.c_str() + 9);
    head_ = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    chunked_ = head_.find("Transfer-Encoding: chunked") != std::string::npos;
    if (chunked_)
      decode();  // the first chunks may have come with the headers
    else
      body_ = raw_;  // an error answer: the body so far
  }
  ~SseReader() {
    if (fd_ >= 0) close(fd_);
  }
  int status() const { return status_; }
  const std::string& head() const { return head_; }
  const std::string& body() const { return body_; }
  bool closed() const { return closed_; }
  const std::vector<SseMessage>& messages() const { return messages_; }
  // Messages with data, parsed.
  std::vector<nlohmann::json> events() const {
    std::vector<nlohmann::json> out;
    for (const auto& m : messages_)
      if (!m.data.empty()) out.push_back(nlohmann::json::parse(m.data, nullptr, false));
    return out;
  }
  // Reads until `condition` holds, the server closes or `timeout` passes; returns condition().
  bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
      if (closed_ || fd_ < 0 || std::chrono::steady_clock::now() >= deadline) return condition();
      char buf[8192];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        closed_ = true;
      if (n > 0) {
        raw_.append(buf, static_cast<size_t>(n));
        if (status_ != 0) decode();
      }
    }
    return true;
  }
  // Waits until the server ends the response (the terminating chunk or a closed connection).
  bool waitClosed(std::chrono::milliseconds timeout) {
    return waitFor([&] { return closed_; }, timeout);
  }
  // waitFor on the messages received so far.
  bool waitForMessages(const std::function<bool(const std::vector<SseMessage>&)>& condition,
                       std::chrono::milliseconds timeout) {
    return waitFor(
        [&] {
          parse();
          return condition(messages_);
        },
        timeout);
  }

 private:
  // The chunked body so far -> body_.
  void decode() {
    if (!chunked_) return;
    while (true) {  // "SIZE\r\nDATA\r\n" ...
      auto line = raw_.find("\r\n");
      if (line == std::string::npos) return;
      const size_t size = std::strtoul(raw_.substr(0, line).c_str(), nullptr, 16);
      if (raw_.size() < line + 2 + size + 2) return;
      if (size == 0) {
        closed_ = true;
        return;
      }
      body_ += raw_.substr(line + 2, size);
      raw_.erase(0, line + 2 + size + 2);
    }
  }
  // body_ -> messages_ (each ends with a blank line).
  void parse() {
    size_t end;
    while ((end = body_.find("\n\n", parsed_)) != std::string::npos) {
      SseMessage m;
      bool any = false;
      std::string block = body_.substr(parsed_, end - parsed_);
      parsed_ = end + 2;
      size_t pos = 0;
      while (pos <= block.size()) {
        size_t nl = block.find('\n', pos);
        std::string field =
            block.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? block.size() + 1 : nl + 1;
        if (field.rfind("id: ", 0) == 0) m.id = field.substr(4), any = true;
        if (field.rfind("data: ", 0) == 0) m.data += field.substr(6), any = true;
      }
      if (any) messages_.push_back(std::move(m));
    }
  }

  int fd_ = -1;
  int status_ = 0;
  bool chunked_ = false;
  bool closed_ = false;
  std::string raw_, head_, body_;
  size_t parsed_ = 0;
  std::vector<SseMessage> messages_;
};

// The events of job `id` among `events`, as "kind OLD->NEW".
std::vector<std::string> historyOf(const std::vector<nlohmann::json>& events, uint64_t id) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e["job_id"].is_null() || e["job_id"].get<uint64_t>() != id) continue;
    out.push_back(e["kind"].get<std::string>() + " " +
                  (e["old_state"].is_null() ? "" : e["old_state"].get<std::string>()) + "->" +
                  e["new_state"].get<std::string>());
  }
  return out;
}

bool hasJobEvent(const std::vector<SseMessage>& messages, uint64_t id, const std::string& kind) {
  for (const auto& m : messages) {
    if (m.data.empty()) continue;
    auto e = nlohmann::json::parse(m.data, nullptr, false);
    if (!e.is_discarded() && !e["job_id"].is_null() && e["job_id"].get<uint64_t>() == id &&
        e["kind"] == kind)
      return true;
  }
  return false;
}

// POST PATH with "Authorization: Bearer TOKEN" (none when token is empty).
HttpGetResult postWithToken(const std::string& address, const std::string& path,
                            const std::string& token) {
  return httpRequest("POST", address, path, 10,
                     token.empty() ? "" : "Authorization: Bearer " + token + "\r\n");
}

TEST(Dashboard, ApiGivesTheCliJsonAndThePageIsServed) {
  TestCluster::Options options;
  options.nodes = 2;  // 8 cores each
  options.http = true;
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.startAll());
  const std::string http = cluster.httpAddress();
  ASSERT_FALSE(http.empty()) << "no controller/http.addr";

  // One job that finishes, one that keeps 4 cores busy.
  auto done = cluster.submit({"--wrap", "true"});
  ASSERT_TRUE(done);
  ASSERT_TRUE(cluster.waitTerminal({*done}, std::chrono::seconds(30)));
  auto busy = cluster.submit({"-n", "4", "--wrap", "sleep 300"});
  ASSERT_TRUE(busy);
  ASSERT_TRUE(waitUntil(
      [&] { return findJob(getJson(http, "/api/jobs"), *busy).value("state", "") == "RUNNING"; },
      std::chrono::seconds(30)));

  // /api/jobs?state=all has both, with what `locus show --json` says.
  nlohmann::json all = getJson(http, "/api/jobs?state=all");
  for (uint64_t id : {*done, *busy}) {
    SCOPED_TRACE("job " + std::to_string(id));
    nlohmann::json shown = cluster.job(id);
    nlohmann::json listed = findJob(all, id);
    ASSERT_TRUE(listed.is_object()) << all.dump();
    EXPECT_EQ(keysOf(listed), keysOf(shown));
    for (const char* key : {"id", "state", "user", "name", "account", "nodes", "ntasks"})
      EXPECT_EQ(listed[key], shown[key]) << key;
    nlohmann::json one = getJson(http, "/api/jobs/" + std::to_string(id));
    EXPECT_EQ(keysOf(one), keysOf(shown));
    for (const char* key : {"id", "state", "user", "exit_code", "allocation"})
      EXPECT_EQ(one[key], shown[key]) << key;
  }
  EXPECT_EQ(findJob(all, *done)["state"], "COMPLETED");
  // The default, like `locus queue`: pending and running only.
  EXPECT_TRUE(findJob(getJson(http, "/api/jobs"), *done).is_null());

  // /api/nodes lists both nodes as `locus nodes --json` does, the busy job's 4 cores allocated.
  nlohmann::json nodes = getJson(http, "/api/nodes");
  auto cli = cluster.locus({"nodes", "--json"});
  ASSERT_EQ(cli.exit_code, 0);
  nlohmann::json cli_nodes = nlohmann::json::parse(cli.out);
  ASSERT_EQ(nodes["nodes"].size(), 2u) << nodes.dump();
  ASSERT_EQ(cli_nodes["nodes"].size(), 2u);
  uint64_t allocated = 0;
  std::set<std::string> names;
  for (size_t i = 0; i < 2; ++i) {
    const auto& n = nodes["nodes"][i];
    EXPECT_EQ(keysOf(n), keysOf(cli_nodes["nodes"][i]));
    names.insert(n["name"].get<std::string>());
    EXPECT_EQ(n["cpus"], 8);
    EXPECT_EQ(n["state"], "UP");
    allocated += n["cpus_alloc"].get<uint64_t>();
  }
  EXPECT_EQ(names, (std::set<std::string>{cluster.nodeName(0), cluster.nodeName(1)}));
  EXPECT_EQ(allocated, 4u);

  // Unknown or malformed job ids: 404 with a JSON error.
  for (const char* path : {"/api/jobs/999999", "/api/jobs/abc", "/api/jobs/"}) {
    SCOPED_TRACE(path);
    nlohmann::json error = getJson(http, path, 404);
    EXPECT_TRUE(error.contains("error")) << error.dump();
  }
  EXPECT_EQ(httpGet(http, "/api/nope").status, 404);

  // Read-only: every other method is 405, on known and unknown paths.
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    SCOPED_TRACE(method);
    EXPECT_EQ(httpRequest(method, http, "/api/jobs").status, 405);
    EXPECT_EQ(httpRequest(method, http, "/api/jobs/" + std::to_string(*busy)).status, 405);
    EXPECT_EQ(httpRequest(method, http, "/").status, 405);
  }
  EXPECT_EQ(cluster.job(*busy)["state"], "RUNNING");  // nothing above touched it

  // The page: HTML with its title, fetching the API, self-contained.
  auto page = httpGet(http, "/");
  EXPECT_EQ(page.status, 200) << page.error;
  EXPECT_EQ(page.content_type.rfind("text/html", 0), 0u) << page.content_type;
  EXPECT_NE(page.body.find("<title>Locus dashboard</title>"), std::string::npos);
  EXPECT_NE(page.body.find("api/jobs"), std::string::npos);
  EXPECT_NE(page.body.find("api/nodes"), std::string::npos);
  EXPECT_EQ(page.body.find("<script src="), std::string::npos) << "no external scripts";
  // No CDN: nothing loaded from elsewhere (Chart.js's license comment names its site, that is all).
  for (const char* external : {"src=\"http", "href=\"http", "<link", "import(", "url(http"})
    EXPECT_EQ(page.body.find(external), std::string::npos) << external;
  // The bundle is in: the event stream, the cancel route, the profile plot (Chart.js).
  for (const char* part : {"api/events", "EventSource", "/cancel", "/profile", "Authorization",
                           "sessionStorage", "id=\"token\"", "id=\"job-cancel\"",
                           "id=\"profile-cpu\"", "id=\"profile-rss\"", "Chart.js v3"})
    EXPECT_NE(page.body.find(part), std::string::npos) << part;
  // /metrics is still there.
  EXPECT_EQ(httpGet(http, "/metrics").status, 200);
}

// Two racks of one node each under a spine; an account with a quota in the one pool.
std::string policyConfig() {
  return "[scheduler]\ninterval_ms = 200\n"
         "[[switch]]\nname = \"r1\"\nnodes = \"n1\"\n"
         "[[switch]]\nname = \"r2\"\nnodes = \"n2\"\n"
         "[[switch]]\nname = \"spine\"\nswitches = \"r[1-2]\"\n"
         "[[account]]\nname = \"physics\"\nusers = [\"" + currentUser() + "\"]\n"
         "[[pool]]\nname = \"all\"\nnodes = \"n[1-2]\"\ndefault = true\n"
         "[[pool.quota]]\naccount = \"physics\"\nguaranteed = { cores = 4 }\nmax = { cores = 6 }\n";
}

TEST(Dashboard, SharesQuotasServicesFrameworksAndTopologyAreTheCliJson) {
  TestCluster::Options options;
  options.nodes = 2;  // 8 cores each, in 2 NUMA domains of 4
  options.http = true;
  options.config = policyConfig();
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.startAll());
  const std::string http = cluster.httpAddress();
  ASSERT_FALSE(http.empty()) << "no controller/http.addr";
  ::setenv("LOCUS_MUNGE_SOCKET", cluster.mungeSocket().c_str(), 1);  // for the framework below

  // Nothing yet: empty services and frameworks, the quota row with nothing in use.
  EXPECT_EQ(getJson(http, "/api/services"), nlohmann::json::array());
  EXPECT_EQ(getJson(http, "/api/frameworks"), nlohmann::json::array());

  // A service of one replica and a batch job, both of physics; a registered framework.
  auto created = cluster.locus({"service", "create", "web", "--replicas", "1", "--cpus", "1", "-A", "physics",
                                "--", "sleep 300"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto busy = cluster.submit({"-A", "physics", "-n", "2", "--wrap", "sleep 300"});
  ASSERT_TRUE(busy);
  cli::FrameworkSession framework(cluster.address());
  proto::FrameworkRegister reg;
  reg.set_name("dashfw");
  auto registered = framework.open(reg);
  ASSERT_TRUE(registered.ok()) << registered.error().message;

  // Settled: the replica and the job run (3 of physics' cores in use).
  ASSERT_TRUE(waitUntil(
      [&] {
        nlohmann::json services = getJson(http, "/api/services");
        return services.size() == 1 && services[0].value("running", 0) == 1 &&
               cluster.job(*busy).value("state", "") == "RUNNING";
      },
      std::chrono::seconds(30)))
      << getJson(http, "/api/services").dump();

  // /api/services, /api/quotas (all pools and one), /api/frameworks: exactly the CLI's JSON.
  ASSERT_TRUE(sameAsCli(cluster, http, "/api/services", {"service", "list"}));
  nlohmann::json services = getJson(http, "/api/services");
  EXPECT_EQ(services[0]["name"], "web");
  EXPECT_EQ(services[0]["account"], "physics");
  EXPECT_EQ(services[0]["replica_jobs"].size(), 1u);

  ASSERT_TRUE(sameAsCli(cluster, http, "/api/quotas", {"quota", "show"}));
  ASSERT_TRUE(sameAsCli(cluster, http, "/api/quotas?pool=all", {"quota", "show", "all"}));
  nlohmann::json quotas = getJson(http, "/api/quotas");
  nlohmann::json physics;
  for (const auto& q : quotas)
    if (q["account"] == "physics") physics = q;
  ASSERT_TRUE(physics.is_object()) << quotas.dump();
  EXPECT_EQ(physics["pool"], "all");
  EXPECT_EQ(physics["guaranteed"]["cores"], 4);
  EXPECT_EQ(physics["max"]["cores"], 6);
  EXPECT_TRUE(physics["max"]["gpus"].is_null()) << "unlimited is null";
  EXPECT_EQ(physics["in_use"]["cores"], 3);  // 1 (replica) + 2 (job)
  nlohmann::json no_pool = getJson(http, "/api/quotas?pool=nowhere", 404);
  EXPECT_TRUE(no_pool.contains("error")) << no_pool.dump();

  ASSERT_TRUE(sameAsCli(cluster, http, "/api/frameworks", {"frameworks"}));
  nlohmann::json frameworks = getJson(http, "/api/frameworks");
  ASSERT_EQ(frameworks.size(), 1u);
  EXPECT_EQ(frameworks[0]["name"], "dashfw");
  EXPECT_EQ(frameworks[0]["connected"], true);

  // /api/shares: the CLI's rows, the same tree; usage grows while jobs run, so the numbers
  // are compared by key and the tree by account, user, depth and shares.
  nlohmann::json shares = getJson(http, "/api/shares");
  nlohmann::json cli_shares = cliJson(cluster, {"share"});
  ASSERT_TRUE(shares.contains("rows")) << shares.dump();
  ASSERT_EQ(shares["rows"].size(), cli_shares["rows"].size()) << shares.dump() << "\n" << cli_shares.dump();
  bool physics_row = false;
  for (size_t i = 0; i < shares["rows"].size(); ++i) {
    const auto& a = shares["rows"][i];
    const auto& c = cli_shares["rows"][i];
    SCOPED_TRACE("row " + std::to_string(i));
    EXPECT_EQ(keysOf(a), keysOf(c));
    for (const char* key : {"account", "user", "depth", "raw_shares", "norm_shares"}) EXPECT_EQ(a[key], c[key]) << key;
    if (a["account"] == "physics" && a["user"] == "") physics_row = true;
  }
  EXPECT_TRUE(physics_row) << shares.dump();

  // /api/topology: the configured tree and each node's NUMA domains with their cores.
  nlohmann::json topology = getJson(http, "/api/topology");
  std::map<std::string, nlohmann::json> switches;
  for (const auto& sw : topology["switches"]) switches[sw["name"].get<std::string>()] = sw;
  ASSERT_TRUE(switches.count("r1") && switches.count("r2") && switches.count("spine")) << topology.dump();
  EXPECT_EQ(switches["r1"]["nodes"], nlohmann::json::array({"n1"}));
  EXPECT_EQ(switches["r2"]["nodes"], nlohmann::json::array({"n2"}));
  const auto& all = topology["switches"];
  EXPECT_EQ(all[switches["r1"]["parent"].get<int>()]["name"], "spine");
  EXPECT_EQ(all[switches["r2"]["parent"].get<int>()]["name"], "spine");
  ASSERT_EQ(topology["nodes"].size(), 2u) << topology.dump();
  for (const auto& n : topology["nodes"]) {
    SCOPED_TRACE(n["name"].get<std::string>());
    ASSERT_EQ(n["numa"].size(), 2u) << n.dump();
    std::set<uint32_t> cores;
    for (const auto& d : n["numa"]) {
      EXPECT_EQ(d["cores"].size(), 4u) << d.dump();
      for (const auto& c : d["cores"]) cores.insert(c.get<uint32_t>());
    }
    EXPECT_EQ(cores, (std::set<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  }
  // The running job's allocated cores are among its node's, each in a NUMA domain the
  // allocation names: what the page counts per domain.
  nlohmann::json job = getJson(http, "/api/jobs/" + std::to_string(*busy));
  ASSERT_FALSE(job["allocation"].empty()) << job.dump();
  for (const auto& a : job["allocation"]) {
    for (const auto& n : topology["nodes"]) {
      if (n["name"] != a["node"]) continue;
      for (const auto& c : a["cores"]) {
        bool found = false;
        for (const auto& d : n["numa"])
          for (const auto& dc : d["cores"])
            if (dc == c) {
              found = true;
              EXPECT_NE(std::find(a["numa"].begin(), a["numa"].end(), d["index"]), a["numa"].end())
                  << "core " << c << " in domain " << d["index"] << ", allocation " << a.dump();
            }
        EXPECT_TRUE(found) << "core " << c;
      }
    }
  }

  // Read-only here too.
  for (const char* path : {"/api/shares", "/api/quotas", "/api/services", "/api/frameworks", "/api/topology"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(httpRequest("POST", http, path).status, 405);
    EXPECT_EQ(httpRequest("DELETE", http, path).status, 405);
  }
  EXPECT_EQ(cluster.locus({"service", "list", "--json"}).exit_code, 0);
  EXPECT_EQ(getJson(http, "/api/services").size(), 1u);

  // The page has a view for each, fed by its endpoint, and the job page.
  auto page = httpGet(http, "/");
  ASSERT_EQ(page.status, 200) << page.error;
  for (const char* anchor :
       {"id=\"queue\"", "id=\"nodes\"", "id=\"switch-tree\"", "id=\"shares\"", "id=\"share-tree\"",
        "id=\"quotas\"", "id=\"quota-table\"", "id=\"services\"", "id=\"service-table\"",
        "id=\"frameworks\"", "id=\"framework-table\"", "id=\"job-view\"", "id=\"job-why\"",
        "id=\"job-allocation\"", "href=\"#shares\"", "href=\"#quotas\"", "href=\"#services\"",
        "href=\"#frameworks\"", "\"#job/\"", "api/shares", "api/quotas", "api/services", "api/frameworks",
        "api/topology", "reason_detail"}) {
    EXPECT_NE(page.body.find(anchor), std::string::npos) << anchor;
  }
  EXPECT_EQ(page.body.find("src=\"http"), std::string::npos) << "no CDN";

  framework.close();
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*busy)}).exit_code, 0);
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

using std::chrono::seconds;

// Ids of the messages with data for job `id`.
std::vector<std::string> idsOf(const std::vector<SseMessage>& messages, uint64_t id) {
  std::vector<std::string> out;
  for (const auto& m : messages) {
    if (m.data.empty()) continue;
    auto e = nlohmann::json::parse(m.data, nullptr, false);
    if (!e.is_discarded() && !e["job_id"].is_null() && e["job_id"].get<uint64_t>() == id)
      out.push_back(m.id);
  }
  return out;
}

std::unique_ptr<TestCluster> httpCluster(int nodes) {
  TestCluster::Options options;
  options.nodes = nodes;
  options.http = true;
  auto cluster = std::make_unique<TestCluster>(options);
  return cluster->startAll() ? std::move(cluster) : nullptr;
}

TEST(Dashboard, EventsStreamTheLogAsServerSentEventsAndResume) {
  auto cluster = httpCluster(1);
  ASSERT_TRUE(cluster);
  const std::string http = cluster->httpAddress();

  // A stream from now: its first message says where it starts (an id, no data).
  SseReader all(http, "/api/events");
  ASSERT_EQ(all.status(), 200) << all.head();
  EXPECT_NE(all.head().find("Content-Type: text/event-stream"), std::string::npos) << all.head();
  ASSERT_TRUE(all.waitForMessages([](const auto& m) { return !m.empty(); }, seconds(10)));
  ASSERT_TRUE(all.messages()[0].data.empty());
  const std::string start = all.messages()[0].id;
  ASSERT_FALSE(start.empty());

  // A job's three events arrive as they happen, each "id:" its event's id.
  auto id = cluster->submit({"--wrap", "true"});
  ASSERT_TRUE(id);
  ASSERT_TRUE(all.waitForMessages([&](const auto& m) { return hasJobEvent(m, *id, "completed"); },
                                  seconds(30)));
  const std::vector<nlohmann::json> events = all.events();
  EXPECT_EQ(historyOf(events, *id),
            (std::vector<std::string>{"submitted ->PENDING", "started PENDING->RUNNING",
                                      "completed RUNNING->COMPLETED"}));
  for (const auto& m : all.messages())
    if (!m.data.empty())
      EXPECT_EQ(m.id, std::to_string(nlohmann::json::parse(m.data)["id"].get<uint64_t>()));

  // The same objects as `locus events --json` from the same point.
  {
    std::vector<std::string> argv{binDir() + "/locus",
                                  "--controller",
                                  cluster->address(),
                                  "events",
                                  "--json",
                                  "--after",
                                  start,
                                  "--job",
                                  std::to_string(*id)};
    BackgroundCommand cli(argv, {}, cluster->workDir());
    auto lines = [&] {
      std::vector<nlohmann::json> out;
      std::string text = cli.outSoFar();
      size_t pos = 0;
      for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1)
        out.push_back(nlohmann::json::parse(text.substr(pos, nl - pos), nullptr, false));
      return out;
    };
    ASSERT_TRUE(waitUntil([&] { return lines().size() >= 3; }, seconds(20)))
        << cli.outSoFar() << cli.errSoFar();
    std::vector<nlohmann::json> mine;
    for (const auto& e : events)
      if (e["job_id"] == *id) mine.push_back(e);
    EXPECT_EQ(lines(), mine);
    cli.signal(SIGINT);
    cli.wait(seconds(10));
  }

  // Resuming after the "submitted" event gives the two after it, nothing twice: with
  // Last-Event-ID (which wins over ?after=, as a reconnecting browser sends both), or ?after=.
  const std::vector<std::string> ids = idsOf(all.messages(), *id);
  ASSERT_EQ(ids.size(), 3u);
  for (const auto& [path, header] : std::vector<std::pair<std::string, std::string>>{
           {"/api/events?after=0", ids[0]}, {"/api/events?after=" + ids[0], ""}}) {
    SCOPED_TRACE(path + " Last-Event-ID: " + header);
    SseReader resumed(http, path, header);
    ASSERT_EQ(resumed.status(), 200);
    ASSERT_TRUE(resumed.waitForMessages(
        [&](const auto& m) { return hasJobEvent(m, *id, "completed"); }, seconds(10)));
    EXPECT_EQ(idsOf(resumed.messages(), *id), (std::vector<std::string>{ids[1], ids[2]}));
  }

  // Filters as `locus events`: ?job= gets that job's events only; ?user= the user's.
  auto other = cluster->submit({"--wrap", "true"});
  ASSERT_TRUE(other);
  SseReader one(http, "/api/events?after=" + start + "&job=" + std::to_string(*other));
  ASSERT_TRUE(one.waitForMessages(
      [&](const auto& m) { return hasJobEvent(m, *other, "completed"); }, seconds(30)));
  EXPECT_TRUE(idsOf(one.messages(), *id).empty());
  EXPECT_EQ(historyOf(one.events(), *other).size(), 3u);
  SseReader mine(http, "/api/events?after=" + start + "&user=" + currentUser());
  EXPECT_TRUE(mine.waitForMessages(
      [&](const auto& m) { return hasJobEvent(m, *other, "completed"); }, seconds(10)));
  EXPECT_EQ(idsOf(mine.messages(), *id), ids);

  // A bad filter is 400; a resume id the log does not have (newer than any) is 410: start afresh.
  EXPECT_EQ(httpGet(http, "/api/events?job=abc").status, 400);
  EXPECT_EQ(httpGet(http, "/api/events?after=999999999").status, 410);

  // The controller's shutdown ends open streams at once, not at the next event or heartbeat.
  ASSERT_EQ(kill(cluster->controllerPid(), SIGTERM), 0);
  EXPECT_TRUE(all.waitClosed(seconds(5))) << "the stream outlived the controller's HTTP server";
}

TEST(Dashboard, CancelFromThePageNeedsAnAdminsToken) {
  auto cluster = httpCluster(1);
  ASSERT_TRUE(cluster);
  const std::string http = cluster->httpAddress();
  auto busy = cluster->submit({"--wrap", "sleep 300"});
  ASSERT_TRUE(busy);
  ASSERT_TRUE(
      waitUntil([&] { return cluster->job(*busy).value("state", "") == "RUNNING"; }, seconds(30)));
  const std::string cancel = "/api/jobs/" + std::to_string(*busy) + "/cancel";
  SseReader events(http, "/api/events?job=" + std::to_string(*busy));
  ASSERT_EQ(events.status(), 200);

  // No token, or a wrong one: 401 with a JSON error; nothing changes.
  for (const std::string& token : {std::string(), std::string(64, 'a'), std::string("x")}) {
    SCOPED_TRACE("token '" + token + "'");
    auto r = postWithToken(http, cancel, token);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_TRUE(nlohmann::json::parse(r.body, nullptr, false).contains("error")) << r.body;
  }
  EXPECT_EQ(cluster->job(*busy)["state"], "RUNNING");
  // Other methods on the route are still refused.
  EXPECT_EQ(httpRequest("PUT", http, cancel).status, 405);
  EXPECT_EQ(httpRequest("POST", http, "/api/jobs/" + std::to_string(*busy) + "/requeue").status,
            405);

  // An admin's token: root is one (uid 0, as for every admin-only call).
  if (geteuid() != 0) GTEST_SKIP() << "needs root: the test cluster's admins are root's";
  auto issued = cluster->locus({"token", "--json"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  nlohmann::json token = nlohmann::json::parse(issued.out, nullptr, false);
  ASSERT_TRUE(token.contains("token")) << issued.out;
  EXPECT_EQ(token["token"].get<std::string>().size(), 64u);
  EXPECT_EQ(token["user"], currentUser());
  auto r = postWithToken(http, cancel, token["token"].get<std::string>());
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json done = nlohmann::json::parse(r.body);
  EXPECT_EQ(done["ok"], true);
  EXPECT_EQ(done["user"], currentUser());
  // As `locus cancel` does: the job is cancelled and its event logged.
  EXPECT_TRUE(events.waitForMessages(
      [&](const auto& m) { return hasJobEvent(m, *busy, "cancelled"); }, seconds(10)));
  EXPECT_EQ(cluster->job(*busy)["state"], "CANCELLED");
  // Again: it has finished (409); an unknown job is 404.
  EXPECT_EQ(postWithToken(http, cancel, token["token"].get<std::string>()).status, 409);
  EXPECT_EQ(
      postWithToken(http, "/api/jobs/999999/cancel", token["token"].get<std::string>()).status,
      404);

  // An expired token is refused like none.
  auto second = cluster->submit({"--wrap", "sleep 300"});
  ASSERT_TRUE(second);
  ASSERT_TRUE(waitUntil([&] { return cluster->job(*second).value("state", "") == "RUNNING"; },
                        seconds(30)));
  auto short_lived = cluster->locus({"token", "--ttl", "1", "--json"});
  ASSERT_EQ(short_lived.exit_code, 0) << short_lived.err;
  nlohmann::json brief = nlohmann::json::parse(short_lived.out);
  const std::string expires = brief["expires"].get<std::string>();  // RFC 3339, whole seconds
  ASSERT_TRUE(waitUntil(
      [&] {
        char now[32];
        time_t t = time(nullptr);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
        return std::string(now) > expires;
      },
      seconds(5)));
  auto late = postWithToken(http, "/api/jobs/" + std::to_string(*second) + "/cancel",
                            brief["token"].get<std::string>());
  EXPECT_EQ(late.status, 401) << late.body;
  EXPECT_EQ(cluster->job(*second)["state"], "RUNNING");
  EXPECT_NE(cluster->locus({"token", "--ttl", "0"}).exit_code, 0);
  EXPECT_NE(cluster->locus({"token", "--ttl", "99999999"}).exit_code, 0);

  // A user who is not an admin gets no token (root only: to run the CLI as nobody).
  if (geteuid() == 0) {
    namespace fs = std::filesystem;
    fs::permissions(cluster->dir(), fs::perms::owner_all | fs::perms::group_read |
                                        fs::perms::group_exec | fs::perms::others_read |
                                        fs::perms::others_exec);
    const std::string cli = cluster->dir() + "/locus";
    fs::copy_file(binDir() + "/locus", cli);
    auto denied = runCommand({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups", cli, "--controller", cluster->address(), "token"},
                             {}, "/");
    EXPECT_NE(denied.exit_code, 0);
    EXPECT_NE(denied.err.find("only admins"), std::string::npos) << denied.err;
    EXPECT_TRUE(denied.out.empty()) << denied.out;
  }
  EXPECT_EQ(cluster->locus({"cancel", std::to_string(*second)}).exit_code, 0);
}

TEST(Dashboard, ProfileOfAJobAsJson) {
  auto cluster = httpCluster(1);
  ASSERT_TRUE(cluster);
  const std::string http = cluster->httpAddress();
  auto profiled =
      cluster->submit({"--profile", "task", "--profile-interval", "1", "--wrap", "sleep 3"});
  auto plain = cluster->submit({"--wrap", "true"});
  ASSERT_TRUE(profiled && plain);
  ASSERT_TRUE(cluster->waitTerminal({*profiled, *plain}, seconds(60)));

  // The series of the one task, as many samples as `locus profile --export csv` has rows.
  nlohmann::json p = getJson(http, "/api/jobs/" + std::to_string(*profiled) + "/profile");
  EXPECT_EQ(p["job_id"], *profiled);
  ASSERT_EQ(p["nodes"].size(), 1u) << p.dump();
  const auto& node = p["nodes"][0];
  EXPECT_EQ(node["node"], "n1");
  EXPECT_EQ(node["interval_s"], 1);
  EXPECT_EQ(node["profile"], "task");
  ASSERT_EQ(node["tasks"].size(), 1u) << p.dump();
  const auto& task = node["tasks"][0];
  EXPECT_EQ(task["step"], "batch");
  EXPECT_EQ(task["task"], 0);
  const size_t samples = task["time"].size();
  EXPECT_GE(samples, 2u) << p.dump();
  for (const char* key : {"cpu_percent", "rss_mb", "read_bytes", "write_bytes"})
    EXPECT_EQ(task[key].size(), samples) << key;
  EXPECT_FALSE(task.contains("gpu_util_percent")) << "GPU series only when sampled";
  auto csv = cluster->locus({"profile", std::to_string(*profiled), "--export", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(static_cast<size_t>(std::count(csv.out.begin(), csv.out.end(), '\n')), samples + 1)
      << csv.out;

  // No profile: not asked for, an unknown job, or files the controller cannot read (404s that say
  // so).
  nlohmann::json none = getJson(http, "/api/jobs/" + std::to_string(*plain) + "/profile", 404);
  EXPECT_NE(none.value("error", "").find("was not profiled"), std::string::npos) << none.dump();
  getJson(http, "/api/jobs/999999/profile", 404);
  std::filesystem::remove_all(p["dir"].get<std::string>());
  nlohmann::json gone = getJson(http, "/api/jobs/" + std::to_string(*profiled) + "/profile", 404);
  EXPECT_NE(gone.value("error", "").find("cannot read"), std::string::npos) << gone.dump();
}

}  // namespace
}  // namespace locus::testing
