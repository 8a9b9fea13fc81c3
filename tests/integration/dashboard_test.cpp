// The controller's web dashboard on a real cluster: /api/ gives the CLI's JSON (the same keys and
// values as `locus show --json`, `locus nodes --json`, `locus share --json`, `locus quota show
// --json`, `locus service list --json` and `locus frameworks --json`), /api/topology the switch
// tree and NUMA layout, unknown jobs and pools are 404 JSON errors, the endpoints are read-only
// (405), and / is the page with a view for each.
#include <gtest/gtest.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
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

TEST(Dashboard, ApiGivesTheCliJsonAndThePageIsServed) {
  TestCluster::Options options;
  options.nodes = 2;  // 8 cores each
  options.http = true;
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.startController());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(cluster.startNode(i));
  ASSERT_TRUE(cluster.waitNodesUp(2, std::chrono::seconds(20)));
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
  EXPECT_EQ(page.body.find("https://"), std::string::npos) << "no CDN";
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
  ASSERT_TRUE(cluster.startController());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(cluster.startNode(i));
  ASSERT_TRUE(cluster.waitNodesUp(2, std::chrono::seconds(20)));
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
  EXPECT_EQ(page.body.find("https://"), std::string::npos) << "no CDN";

  framework.close();
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*busy)}).exit_code, 0);
}

}  // namespace
}  // namespace locus::testing
