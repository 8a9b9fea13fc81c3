// A real Prometheus server (Debian's `prometheus`, which `make deps` installs) scraping a cluster
// started by `locus up`: the controller at the LOCUS_HTTP address `up` prints, each node daemon
// at the address in its http.addr. Prometheus's HTTP API must then answer that two jobs run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/http_get.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {
namespace fs = std::filesystem;

std::string findProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

// The value after `export NAME=` in `locus up --detach`'s output.
std::string exported(const std::string& out, const std::string& name) {
  auto at = out.find("export " + name + "=");
  if (at == std::string::npos) return {};
  at += 8 + name.size();
  return out.substr(at, out.find('\n', at) - at);
}

std::string urlEncode(const std::string& s) {
  std::string out;
  const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A temporary directory with a `locus up` cluster in it: `locus down` and removal at the end,
// whatever the test did.
struct UpCluster {
  std::string dir;
  UpCluster() {
    char tmpl[] = "/tmp/locus-prom-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~UpCluster() {
    runCommand({binDir() + "/locus", "down", "--state", dir + "/cluster"});
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// The value of an instant query's single result, or nullopt (no result yet, several, an error).
std::optional<double> query(const std::string& prometheus, const std::string& promql) {
  auto r = httpGet(prometheus, "/api/v1/query?query=" + urlEncode(promql), 5);
  if (r.status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || j["status"] != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.size() != 1) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

TEST(Prometheus, ScrapesALocusUpClusterAndCountsRunningJobs) {
  const std::string prometheus_bin = findProgram("prometheus");
  if (prometheus_bin.empty())
    GTEST_SKIP()
        << "no prometheus binary on PATH (Debian package `prometheus`; `make deps` installs it)";

  UpCluster up;
  auto started =
      runCommand({binDir() + "/locus", "up", "--nodes", "2", "--state", up.dir + "/cluster",
                  "--topology", "pack:1 numa:1 core:4 pu:1", "--detach"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  const std::string controller = exported(started.out, "LOCUS_CONTROLLER");
  const std::string http = exported(started.out, "LOCUS_HTTP");
  ASSERT_EQ(http.rfind("127.0.0.1:", 0), 0u) << started.out;
  ASSERT_NE(http, "127.0.0.1:0");
  std::vector<std::string> nodes;
  for (const char* name : {"n1", "n2"}) {
    std::string address = readFile(up.dir + "/cluster/nodes/" + name + "/http.addr");
    address.erase(address.find_last_not_of("\n") + 1);
    ASSERT_FALSE(address.empty()) << "no http.addr for " << name;
    nodes.push_back(address);
  }

  // Scrape every second: the test waits for at most a few scrapes.
  fs::create_directories(up.dir + "/prometheus");
  std::ofstream(up.dir + "/prometheus/prometheus.yml") << "global:\n"
                                                          "  scrape_interval: 1s\n"
                                                          "  evaluation_interval: 1s\n"
                                                          "scrape_configs:\n"
                                                          "  - job_name: locus-controller\n"
                                                          "    static_configs:\n"
                                                          "      - targets: ['"
                                                       << http
                                                       << "']\n"
                                                          "  - job_name: locus-node\n"
                                                          "    static_configs:\n"
                                                          "      - targets: ['"
                                                       << nodes[0] << "', '" << nodes[1] << "']\n";
  BackgroundCommand prometheus(
      {prometheus_bin, "--config.file=" + up.dir + "/prometheus/prometheus.yml",
       "--storage.tsdb.path=" + up.dir + "/prometheus/data", "--web.listen-address=127.0.0.1:0"},
      {}, up.dir);
  // Port 0: Prometheus logs the address it got ('msg="Listening on" address=127.0.0.1:PORT').
  std::string api;
  ASSERT_TRUE(waitUntil(
      [&] {
        std::string log = prometheus.errSoFar() + prometheus.outSoFar();
        auto at = log.find("msg=\"Listening on\" address=");
        if (at == std::string::npos) return false;
        at += 27;
        api = log.substr(at, log.find_first_of(" \n", at) - at);
        return true;
      },
      std::chrono::seconds(30)))
      << "prometheus did not start: " << prometheus.errSoFar();
  ASSERT_EQ(api.rfind("127.0.0.1:", 0), 0u) << api;

  // All three targets scraped, and no job running yet.
  ASSERT_TRUE(waitUntil([&] { return query(api, "sum(up)") == 3; }, std::chrono::seconds(30)))
      << "targets: " << httpGet(api, "/api/v1/targets").body;
  EXPECT_EQ(query(api, "locus_jobs{state=\"RUNNING\"}"), 0);

  // Two jobs fill the two 4-core nodes; a third waits.
  std::map<std::string, std::string> env{{"LOCUS_CONTROLLER", controller},
                                         {"LOCUS_MUNGE_SOCKET", exported(started.out, "LOCUS_MUNGE_SOCKET")}};
  for (int i = 0; i < 3; ++i) {
    auto r =
        runCommand({binDir() + "/locus", "submit", "-n", "4", "--wrap", "sleep 300"}, env, up.dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::optional<double> running;
  EXPECT_TRUE(waitUntil(
      [&] {
        running = query(api, "locus_jobs{job=\"locus-controller\",state=\"RUNNING\"}");
        return running == 2;
      },
      std::chrono::seconds(30)))
      << "running: " << running.value_or(-1);
  EXPECT_TRUE(waitUntil([&] { return query(api, "locus_jobs{state=\"PENDING\"}") == 1; },
                        std::chrono::seconds(15)));
  EXPECT_TRUE(waitUntil([&] { return query(api, "sum(locus_node_tasks_running)") == 2; },
                        std::chrono::seconds(15)));
  EXPECT_EQ(query(api, "locus_jobs_submitted_total"), 3);

  prometheus.signal(SIGTERM);
  EXPECT_TRUE(prometheus.wait(std::chrono::seconds(30)).has_value())
      << "prometheus did not stop on SIGTERM";
}

}  // namespace
}  // namespace locus::testing
