// /metrics of a real controller and real node daemons: exact values for a known state (2 jobs
// running, 1 pending), counters that move with what happens, and text that is valid Prometheus
// exposition format, checked line by line by a strict parser written here.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "tests/http_get.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // family -> counter|gauge|histogram
  std::vector<std::string> errors;           // empty: valid

  // The value of the one sample with this name and exactly these labels.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels) return s.value;
    return std::nullopt;
  }
};

bool nameChar(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

std::optional<double> parseValue(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') return std::nullopt;
  return v;
}

// The text format (version 0.0.4) as Prometheus reads it, strictly: HELP and TYPE once per family
// and before its samples, a family's samples together, label values quoted and escaped, counters
// named _total, and each histogram series with ascending cumulative buckets ending at le="+Inf"
// equal to its _count, and a _sum.
Exposition parseExposition(const std::string& text) {
  Exposition e;
  std::set<std::string> helped, finished;
  std::string current;  // the family whose samples come now
  auto error = [&](size_t n, const std::string& line, const std::string& what) {
    e.errors.push_back("line " + std::to_string(n) + " '" + line + "': " + what);
  };
  auto familyOf = [&](const std::string& name) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s = suffix;
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        std::string base = name.substr(0, name.size() - s.size());
        if (e.types.count(base) && e.types[base] == "histogram") return base;
      }
    }
    return name;
  };
  if (text.empty() || text.back() != '\n') e.errors.push_back("the text must end with a newline");
  std::istringstream in(text);
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      if (kind != "HELP" && kind != "TYPE") continue;  // a plain comment
      if (name != current && finished.count(name))
        error(n, line, "family announced after its samples");
      if (kind == "HELP") {
        if (!helped.insert(name).second) error(n, line, "second HELP");
      } else {
        std::string type;
        words >> type;
        if (e.types.count(name)) error(n, line, "second TYPE");
        if (type != "counter" && type != "gauge" && type != "histogram")
          error(n, line, "unexpected type " + type);
        if (type == "counter" && name.size() < 6) error(n, line, "counter name too short");
        if (type == "counter" && name.compare(name.size() - 6, 6, "_total") != 0)
          error(n, line, "a counter's name ends in _total");
        e.types[name] = type;
      }
      if (current != name && !current.empty()) finished.insert(current);
      current = name;
      continue;
    }
    Sample s;
    size_t i = 0;
    while (i < line.size() && nameChar(line[i], i == 0)) ++i;
    s.name = line.substr(0, i);
    if (s.name.empty()) {
      error(n, line, "no metric name");
      continue;
    }
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t start = i;
        while (i < line.size() && nameChar(line[i], i == start) && line[i] != ':') ++i;
        std::string label = line.substr(start, i - start);
        if (label.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          error(n, line, "bad label at " + std::to_string(start));
          break;
        }
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            char c = line[++i];
            if (c != '\\' && c != '"' && c != 'n') error(n, line, "bad escape");
            value += c == 'n' ? '\n' : c;
          } else {
            value += line[i];
          }
          ++i;
        }
        if (i >= line.size()) {
          error(n, line, "unterminated label value");
          break;
        }
        ++i;  // the closing quote
        if (!s.labels.emplace(label, value).second) error(n, line, "label " + label + " twice");
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size() || line[i] != '}') {
        error(n, line, "no closing brace");
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      error(n, line, "no space before the value");
      continue;
    }
    auto v = parseValue(line.substr(i + 1));
    if (!v) {
      error(n, line, "value does not parse");
      continue;
    }
    s.value = *v;
    std::string family = familyOf(s.name);
    if (family != current)
      error(n, line, "sample outside its family's block (current: " + current + ")");
    if (!helped.count(family) || !e.types.count(family))
      error(n, line, "sample without HELP and TYPE");
    if (e.types[family] == "histogram" && s.name == family)
      error(n, line, "bare sample of a histogram");
    e.samples.push_back(std::move(s));
  }

  // Histogram series: group by labels without le.
  for (const auto& [family, type] : e.types) {
    if (type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, std::optional<double>> sums, counts;
    for (const auto& s : e.samples) {
      auto labels = s.labels;
      if (s.name == family + "_bucket") {
        if (!labels.count("le")) {
          e.errors.push_back(family + ": bucket without le");
          continue;
        }
        auto le = parseValue(labels["le"]);
        if (!le) e.errors.push_back(family + ": le does not parse: " + labels["le"]);
        labels.erase("le");
        buckets[labels].emplace_back(le.value_or(NAN), s.value);
      } else if (s.name == family + "_sum") {
        sums[labels] = s.value;
      } else if (s.name == family + "_count") {
        counts[labels] = s.value;
      }
    }
    for (const auto& [labels, series] : buckets) {
      for (size_t k = 1; k < series.size(); ++k) {
        if (!(series[k - 1].first < series[k].first))
          e.errors.push_back(family + ": le not ascending");
        if (series[k - 1].second > series[k].second)
          e.errors.push_back(family + ": buckets not cumulative");
      }
      if (series.empty() || !std::isinf(series.back().first))
        e.errors.push_back(family + ": no le=\"+Inf\" bucket");
      if (!counts[labels] || series.empty() || *counts[labels] != series.back().second)
        e.errors.push_back(family + ": _count missing or not the +Inf bucket");
      if (!sums[labels]) e.errors.push_back(family + ": _sum missing");
    }
    if (buckets.size() != counts.size() || buckets.size() != sums.size())
      e.errors.push_back(family + ": a _sum or _count without buckets");
  }
  return e;
}

std::string errorsOf(const Exposition& e) {
  std::string out;
  for (const auto& err : e.errors) out += err + "\n";
  return out;
}

// The parser itself must reject what Prometheus rejects, or the checks below prove nothing.
TEST(MetricsFormat, TheParserRejectsInvalidText) {
  const char* bad[] = {
      "locus_x 1\n",                                                 // no HELP/TYPE
      "# HELP locus_x x\n# TYPE locus_x gauge\nlocus_x{a=\"1} 1\n",  // unterminated
      "# HELP locus_x x\n# TYPE locus_x counter\nlocus_x 1\n",       // counter without _total
      "# HELP locus_x x\n# TYPE locus_x gauge\nlocus_x one\n",       // value
      "# HELP locus_h h\n# TYPE locus_h histogram\n"                 // no +Inf bucket
      "locus_h_bucket{le=\"1\"} 1\nlocus_h_sum 1\nlocus_h_count 1\n",
      "# HELP locus_h h\n# TYPE locus_h histogram\n"  // not cumulative
      "locus_h_bucket{le=\"1\"} 2\nlocus_h_bucket{le=\"+Inf\"} 1\nlocus_h_sum 1\nlocus_h_count 1\n",
      "# HELP locus_x x\n# TYPE locus_x gauge\nlocus_x 1\n"  // family split in two
      "# HELP locus_y y\n# TYPE locus_y gauge\nlocus_y 1\nlocus_x 2\n",
  };
  for (const char* text : bad) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parseExposition(text).errors.empty());
  }
  auto good = parseExposition(
      "# HELP locus_h h\n# TYPE locus_h histogram\nlocus_h_bucket{m=\"a\",le=\"1\"} 1\n"
      "locus_h_bucket{m=\"a\",le=\"+Inf\"} 2\nlocus_h_sum{m=\"a\"} 3.5\nlocus_h_count{m=\"a\"} "
      "2\n");
  EXPECT_TRUE(good.errors.empty()) << errorsOf(good);
  EXPECT_EQ(good.value("locus_h_sum", {{"m", "a"}}), 3.5);
}

Exposition scrape(const std::string& address) {
  auto r = httpGet(address, "/metrics");
  EXPECT_EQ(r.status, 200) << address << ": " << r.error;
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u) << r.content_type;
  return parseExposition(r.body);
}

TEST(Metrics, ControllerAndNodesReportTheStateExactly) {
  TestCluster::Options options;
  options.nodes = 2;  // 8 cores each
  options.http = true;
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.startAll());
  const std::string http = cluster.httpAddress();
  ASSERT_FALSE(http.empty()) << "no controller/http.addr";
  ASSERT_NE(http, "127.0.0.1:0");

  Exposition before = scrape(http);
  ASSERT_TRUE(before.errors.empty()) << errorsOf(before);
  EXPECT_EQ(before.value("locus_nodes", {{"state", "UP"}}), 2);
  EXPECT_EQ(before.value("locus_nodes", {{"state", "DOWN"}}), 0);
  EXPECT_EQ(before.value("locus_nodes_connected"), 2);
  EXPECT_EQ(before.value("locus_jobs", {{"state", "RUNNING"}}), 0);
  EXPECT_EQ(before.value("locus_jobs_submitted_total"), 0);
  EXPECT_EQ(before.value("locus_pool_nodes", {{"pool", "locus"}}), 2);
  EXPECT_EQ(before.value("locus_pool_cores", {{"pool", "locus"}}), 16);
  EXPECT_EQ(before.value("locus_pool_allocated_cores", {{"pool", "locus"}}), 0);

  // Two jobs that fill a node each, and a third that must wait for one of them.
  std::vector<uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto id = cluster.submit({"-n", "8", "--mem", "100M", "--wrap", "sleep 300"});
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  Exposition now;
  ASSERT_TRUE(waitUntil(
      [&] {
        now = scrape(http);
        return now.value("locus_jobs", {{"state", "RUNNING"}}) == 2 &&
               now.value("locus_jobs_started_total") == 2;
      },
      std::chrono::seconds(30)))
      << "RUNNING: " << now.value("locus_jobs", {{"state", "RUNNING"}}).value_or(-1);
  ASSERT_TRUE(now.errors.empty()) << errorsOf(now);
  const std::string account = cluster.job(ids[0])["account"];
  EXPECT_EQ(now.value("locus_jobs", {{"state", "PENDING"}}), 1);
  EXPECT_EQ(now.value("locus_jobs", {{"state", "COMPLETED"}}), 0);
  EXPECT_EQ(now.value("locus_queue_depth"), 1);
  EXPECT_EQ(now.value("locus_jobs_submitted_total"), 3);
  EXPECT_EQ(now.value("locus_pool_allocated_cores", {{"pool", "locus"}}), 16);
  EXPECT_EQ(now.value("locus_pool_allocated_memory_bytes", {{"pool", "locus"}}),
            2 * 100.0 * 1024 * 1024);
  EXPECT_EQ(now.value("locus_account_running_jobs", {{"account", account}}), 2) << account;
  EXPECT_EQ(now.value("locus_account_pending_jobs", {{"account", account}}), 1);
  EXPECT_EQ(now.value("locus_account_allocated_cores", {{"account", account}}), 16);
  // Three submits through the CLI: three SubmitJob calls timed.
  EXPECT_EQ(now.value("locus_rpc_duration_seconds_count", {{"method", "SubmitJob"}}), 3);
  // At least the pass that started the two jobs was timed.
  EXPECT_GE(now.value("locus_scheduler_pass_duration_seconds_count").value_or(0), 1);

  // Each node runs one of the jobs' scripts, on all its 8 cores.
  double tasks = 0, cores = 0, launches = 0;
  for (int i = 0; i < 2; ++i) {
    const std::string node_http = cluster.nodeHttpAddress(i);
    ASSERT_FALSE(node_http.empty()) << "no http.addr for " << cluster.nodeName(i);
    Exposition node = scrape(node_http);
    ASSERT_TRUE(node.errors.empty()) << errorsOf(node);
    const std::map<std::string, std::string> me{{"node", cluster.nodeName(i)}};
    EXPECT_EQ(node.value("locus_node_connected", me), 1);
    EXPECT_EQ(node.value("locus_node_cores", me), 8);
    EXPECT_EQ(node.value("locus_node_tasks_running", me), 1);
    EXPECT_EQ(node.value("locus_node_allocated_cores", me), 8);
    EXPECT_EQ(node.value("locus_node_allocated_memory_bytes", me), 100.0 * 1024 * 1024);
    tasks += node.value("locus_node_tasks_running", me).value_or(0);
    cores += node.value("locus_node_allocated_cores", me).value_or(0);
    launches += node.value("locus_node_launches_total", me).value_or(0);
  }
  EXPECT_EQ(tasks, 2);
  EXPECT_EQ(cores, 16);
  EXPECT_EQ(launches, 2);

  // Counters move: one more submit (pending too), then a cancel lets the third job start.
  ASSERT_TRUE(cluster.submit({"-n", "8", "--wrap", "sleep 300"}));
  ASSERT_EQ(cluster.locus({"cancel", std::to_string(ids[0])}).exit_code, 0);
  ASSERT_TRUE(waitUntil(
      [&] {
        now = scrape(http);
        return now.value("locus_jobs_started_total") == 3;
      },
      std::chrono::seconds(30)));
  ASSERT_TRUE(now.errors.empty()) << errorsOf(now);
  EXPECT_EQ(now.value("locus_jobs_submitted_total"), 4);
  EXPECT_EQ(now.value("locus_rpc_duration_seconds_count", {{"method", "SubmitJob"}}), 4);
  EXPECT_EQ(now.value("locus_rpc_duration_seconds_count", {{"method", "CancelJob"}}), 1);
  EXPECT_EQ(now.value("locus_jobs", {{"state", "RUNNING"}}), 2);
  EXPECT_EQ(now.value("locus_jobs", {{"state", "CANCELLED"}}), 1);
  EXPECT_EQ(now.value("locus_jobs", {{"state", "PENDING"}}), 1);
}

TEST(Metrics, NoHttpWithoutTheFlag) {
  TestCluster cluster({});
  ASSERT_TRUE(cluster.startController());
  EXPECT_EQ(cluster.httpAddress(), "");
}

}  // namespace
}  // namespace locus::testing
