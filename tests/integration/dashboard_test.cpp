// The controller's web dashboard on a real cluster: /api/ gives the CLI's JSON (the same keys and
// values as `locus show --json` and `locus nodes --json`), unknown jobs are 404 JSON errors, the
// endpoints are read-only (405), and / is the page.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

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

}  // namespace
}  // namespace locus::testing
