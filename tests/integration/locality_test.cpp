// Data locality end to end (docs/locality.md): six emulated nodes in two racks, inputs described
// by a dataset catalog, by a stand-in WebHDFS NameNode, and staged in the nodes' cache
// directories. Dataflow jobs run one real task per split; each task reads its byte range of a
// real file, and the test checks where every task ran against its replicas and the counts
// `locus show --json` reports under "locality".
#include <gtest/gtest.h>

#include "tests/integration/fake_namenode.hpp"  // before any other use of httplib

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kRacks = kTwoRacksOfThree;

std::string rackOf(const std::string& node) { return node <= "n3" ? "r1" : "r2"; }

// A file of `lines` lines of 10 bytes ("000000001\n" ...), so 100-byte blocks hold 10 lines.
void writeLines(const std::string& path, int first, int lines) {
  std::ofstream out(path);
  char buf[16];
  for (int i = 0; i < lines; ++i) {
    std::snprintf(buf, sizeof buf, "%09d\n", first + i);
    out << buf;
  }
}

// The task: count the lines of its byte range, say where it ran, then hold its slot a while.
std::string taskCmd(int sleep_s) {
  return "n=$(tail -c +$((LOCUS_INPUT_OFFSET + 1)) \"$LOCUS_INPUT_PATH\" | head -c \"$LOCUS_INPUT_LENGTH\" | wc -l); "
         "echo \"node=$LOCUS_NODENAME lines=$n replicas=$LOCUS_INPUT_NODES offset=$LOCUS_INPUT_OFFSET "
         "path=$LOCUS_INPUT_PATH\" > task.$LOCUS_ARRAY_TASK_ID.out; sleep " +
         std::to_string(sleep_s);
}

struct TaskRun {
  std::string node;
  int lines = 0;
  std::vector<std::string> replicas;
};

std::vector<std::string> splitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::vector<TaskRun> taskRuns(const TestCluster& c, size_t tasks) {
  std::vector<TaskRun> runs;
  for (size_t i = 0; i < tasks; ++i) {
    auto f = fieldsOf(readFile(c.workDir() + "/task." + std::to_string(i) + ".out"));
    runs.push_back({f["node"], f.count("lines") ? std::stoi(f["lines"]) : -1, splitCommas(f["replicas"])});
  }
  return runs;
}

// The locality of each run as the test sees it: node-local, rack-local or remote.
json expectedCounts(const std::vector<TaskRun>& runs) {
  int node = 0, rack = 0, remote = 0;
  for (const TaskRun& r : runs) {
    bool local = false, same_rack = false;
    for (const auto& n : r.replicas) {
      local = local || n == r.node;
      same_rack = same_rack || rackOf(n) == rackOf(r.node);
    }
    (local ? node : same_rack ? rack : remote)++;
  }
  return {{"node_local", node}, {"rack_local", rack}, {"remote", remote}};
}

json localityOf(const TestCluster& c, uint64_t id) {
  json j = c.job(id);
  EXPECT_TRUE(j.contains("locality")) << j.dump();
  json l = j.value("locality", json::object());
  l.erase("bytes");
  return l;
}

// Catalog: 12 files of 200 bytes (two 100-byte blocks each), 3 replicas per block placed as
// HDFS places them: the first on a "writer" node, the other two on two nodes of the other rack.
std::string writeCatalog(const std::string& dir) {
  json files = json::array();
  int line = 0;
  for (int f = 0; f < 12; ++f) {
    const std::string path = dir + "/part-" + std::to_string(f);
    writeLines(path, line, 20);
    line += 20;
    json blocks = json::array();
    for (int b = 0; b < 2; ++b) {
      const int writer = (f * 2 + b) % 6 + 1;  // n1..n6
      const int other_rack_first = writer <= 3 ? 4 : 1;
      const int second = other_rack_first + (f + b) % 3;
      const int third = other_rack_first + (f + b + 1) % 3;
      blocks.push_back({{"offset", b * 100},
                        {"length", 100},
                        {"hosts", {"n" + std::to_string(writer), "n" + std::to_string(second),
                                   "n" + std::to_string(third)}}});
    }
    files.push_back({{"path", path}, {"size", 200}, {"blocks", blocks}});
  }
  // One dataset whose only replica is on n1, for delay scheduling's fallbacks.
  const std::string hot = dir + "/hot";
  writeLines(hot, 0, 80);
  json hot_blocks = json::array();
  for (int b = 0; b < 8; ++b) hot_blocks.push_back({{"offset", b * 100}, {"length", 100}, {"hosts", {"n1"}}});
  // One whose hosts Locus does not know.
  json catalog = {{"datasets",
                   {{"logs", {{"files", files}}},
                    {"hot", {{"files", {{{"path", hot}, {"size", 800}, {"blocks", hot_blocks}}}}}},
                    {"elsewhere",
                     {{"files", {{{"path", hot}, {"size", 100},
                                  {"blocks", {{{"offset", 0}, {"length", 100}, {"hosts", {"dn9.example.org"}}}}}}}}}}}}};
  const std::string path = dir + "/catalog.json";
  std::ofstream(path) << catalog.dump(2);
  return path;
}

class LocalityCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = fs::temp_directory_path() / ("locus-locality-" + std::to_string(getpid()));
    fs::create_directories(data_);
    const std::string catalog = writeCatalog(data_.string());
    fs::create_directories(data_ / "cache" / "n5");
    writeLines((data_ / "cache" / "n5" / "climate.h5").string(), 0, 30);
    TestCluster::Options o;
    o.nodes = 6;
    o.topology = "pack:1 numa:1 core:2 pu:1";  // 2 cores: 12 slots in all
    o.config = std::string(kRacks) + "[locality]\nlocality_wait_node = " + waitSeconds() +
               "\nlocality_wait_rack = " + waitSeconds() + "\ncatalog = \"" + catalog + "\"\n";
    o.node_args = {"--cache-dir", (data_ / "cache" / "%n").string(), "--cache-rescan", "0.3"};
    cluster_ = std::make_unique<TestCluster>(o);
    ASSERT_TRUE(cluster_->startController());
    for (int i = 0; i < o.nodes; ++i) ASSERT_TRUE(cluster_->startNode(i));
    ASSERT_TRUE(cluster_->waitNodesUp(o.nodes, std::chrono::seconds(30)));
  }
  void TearDown() override {
    cluster_.reset();
    fs::remove_all(data_);
  }
  // Delay scheduling's wait per level: short, so the fallbacks happen within a test.
  virtual std::string waitSeconds() const { return "0.3"; }
  fs::path data_;
  std::unique_ptr<TestCluster> cluster_;
};

// Waits far longer than a task: every task holds out for a node with its block.
class PatientLocalityCluster : public LocalityCluster {
 protected:
  std::string waitSeconds() const override { return "60"; }
};

TEST_F(PatientLocalityCluster, DataflowTasksRunNextToTheirBlocks) {
  auto id = cluster_->submit({"--dataflow", "--input", "dataset:logs", "--task-cmd", taskCmd(1), "-t", "5"});
  ASSERT_TRUE(id.has_value());
  // 24 blocks -> 24 tasks, ids id .. id+23.
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < 24; ++i) ids.push_back(*id + i);
  ASSERT_TRUE(cluster_->waitTerminal(ids, std::chrono::seconds(120)));
  for (uint64_t t : ids) EXPECT_EQ(cluster_->job(t)["state"], "COMPLETED") << t;

  auto runs = taskRuns(*cluster_, 24);
  int lines = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    SCOPED_TRACE("task " + std::to_string(i));
    EXPECT_EQ(runs[i].lines, 10);  // its own block, exactly
    EXPECT_EQ(runs[i].replicas.size(), 3u);
    lines += runs[i].lines;
  }
  EXPECT_EQ(lines, 240);  // every line of every file, once
  // 24 tasks on 12 slots, each block on 3 of the 6 nodes: every task found a local slot in time.
  json want = expectedCounts(runs);
  EXPECT_EQ(localityOf(*cluster_, *id), want);
  EXPECT_EQ(want["node_local"], 24);
  // Bytes: 24 blocks of 100 bytes, all read where they lie.
  json j = cluster_->job(*id);
  EXPECT_EQ(j["locality"]["bytes"]["node_local"], 2400);
  EXPECT_EQ(j["locality"]["bytes"]["remote"], 0);
  // A task's own record names its split.
  json task = cluster_->job(*id + 3);
  EXPECT_EQ(task["input"]["length"], 100);
  EXPECT_EQ(task["input"]["hosts"].size(), 3u);
}

TEST_F(LocalityCluster, DelaySchedulingFallsBackToTheRackThenAnywhere) {
  // Eight blocks, all on n1 alone (2 cores). Two tasks run there; the rest wait 0.3 s, then take
  // the other nodes of n1's rack (4 slots), then, 0.3 s later, anywhere. Tasks hold their slot
  // 4 s, so n1 frees none before everyone has been placed.
  auto id = cluster_->submit({"--dataflow", "--input", "dataset:hot", "--task-cmd", taskCmd(4), "-t", "5"});
  ASSERT_TRUE(id.has_value());
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < 8; ++i) ids.push_back(*id + i);
  ASSERT_TRUE(cluster_->waitTerminal(ids, std::chrono::seconds(60)));
  auto runs = taskRuns(*cluster_, 8);
  json want = expectedCounts(runs);
  EXPECT_EQ(localityOf(*cluster_, *id), want);
  EXPECT_EQ(want, (json{{"node_local", 2}, {"rack_local", 4}, {"remote", 2}}));
  for (const TaskRun& r : runs) EXPECT_EQ(r.lines, 10);
}

TEST_F(LocalityCluster, NodeLocalDatasetAndLocate) {
  // climate.h5 is staged in n5's cache directory only: a job naming it runs there.
  auto id = cluster_->submit({"--input", "dataset:climate.h5", "--wrap", "echo node=$LOCUS_NODENAME inputs=$LOCUS_INPUTS"});
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(cluster_->waitTerminal({*id}, std::chrono::seconds(30)));
  json j = cluster_->job(*id);
  EXPECT_EQ(j["nodes"], json::array({"n5"}));
  EXPECT_EQ(j["locality"]["node_local"], 1);
  EXPECT_EQ(j["locality"]["bytes"]["node_local"], 300);
  auto out = fieldsOf(readFile(j["stdout"].get<std::string>()));
  EXPECT_EQ(out["node"], "n5");
  EXPECT_EQ(out["inputs"], "dataset:climate.h5");

  // locate: the catalog's blocks with their nodes and racks; unknown hosts are warned about.
  auto r = cluster_->locus({"data", "locate", "dataset:logs", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json located = json::parse(r.out);
  EXPECT_EQ(located["files"].size(), 12u);
  const json& replica = located["files"][0]["blocks"][0]["replicas"][0];
  EXPECT_EQ(replica["node"], "n1");
  EXPECT_EQ(replica["rack"], "r1");
  EXPECT_TRUE(located["warnings"].empty());
  r = cluster_->locus({"data", "locate", "dataset:elsewhere"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dn9.example.org -> (no node)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("host dn9.example.org maps to no Locus node"), std::string::npos) << r.err;
  // A submit naming it is accepted, with the warning.
  r = cluster_->locus({"submit", "--input", "dataset:elsewhere", "--wrap", "true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("map to no Locus node (dn9.example.org)"), std::string::npos) << r.err;

  r = cluster_->locus({"data", "locate", "dataset:nope"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("dataset:nope"), std::string::npos) << r.err;
}

TEST_F(LocalityCluster, DatasetsStagedOrRemovedWhileNodesRunAreSeen) {
  // Staged on n2 after the daemons registered: the next rescan (every 0.3 s here) reports it.
  auto r = cluster_->locus({"data", "locate", "dataset:late.h5", "--json"});
  EXPECT_NE(r.exit_code, 0);
  fs::create_directories(data_ / "cache" / "n2");
  writeLines((data_ / "cache" / "n2" / "late.h5").string(), 0, 5);
  ASSERT_TRUE(waitUntil([&] { return cluster_->locus({"data", "locate", "dataset:late.h5"}).exit_code == 0; },
                        std::chrono::seconds(15)));
  r = cluster_->locus({"data", "locate", "dataset:late.h5", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json located = json::parse(r.out);
  EXPECT_EQ(located["source"], "node-local");
  EXPECT_EQ(located["files"][0]["size"], 50);
  EXPECT_EQ(located["files"][0]["blocks"][0]["replicas"][0]["node"], "n2");
  // Removed: gone from the next report.
  fs::remove(data_ / "cache" / "n2" / "late.h5");
  EXPECT_TRUE(waitUntil([&] { return cluster_->locus({"data", "locate", "dataset:late.h5"}).exit_code != 0; },
                        std::chrono::seconds(15)));
}

// The stand-in NameNode's /logs: two files of one 100-byte block each, on hosts named by their
// FQDN (which map to Locus nodes by their short names).
FakeNameNode logsNameNode() {
  return FakeNameNode({{"/logs",
                        {HdfsFile{"/logs/a", 100, {{"n2.example.org", "n4.example.org", "n5.example.org"}}},
                         HdfsFile{"/logs/b", 100, {{"n6.example.org", "n1.example.org", "n2.example.org"}}}}}},
                      134217728);
}

TEST_F(LocalityCluster, WebHdfsInputAndItsErrors) {
  FakeNameNode nn = logsNameNode();
  ASSERT_GT(nn.port(), 0);
  const std::string base = "webhdfs://127.0.0.1:" + std::to_string(nn.port());
  // Hosts "n2.example.org" map to node n2 by their short name.
  auto id = cluster_->submit({"--dataflow", "--input", base + "/logs", "--task-cmd",
                              "echo node=$LOCUS_NODENAME path=$LOCUS_INPUT_PATH hosts=$LOCUS_INPUT_HOSTS "
                              "replicas=$LOCUS_INPUT_NODES > task.$LOCUS_ARRAY_TASK_ID.out"});
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(cluster_->waitTerminal({*id, *id + 1}, std::chrono::seconds(30)));
  auto a = fieldsOf(readFile(cluster_->workDir() + "/task.0.out"));
  auto b = fieldsOf(readFile(cluster_->workDir() + "/task.1.out"));
  EXPECT_EQ(a["path"], "/logs/a");
  EXPECT_EQ(a["hosts"], "n2.example.org,n4.example.org,n5.example.org");
  EXPECT_EQ(a["replicas"], "n2,n4,n5");
  EXPECT_EQ(b["path"], "/logs/b");
  EXPECT_TRUE(a["node"] == "n2" || a["node"] == "n4" || a["node"] == "n5") << a["node"];
  EXPECT_TRUE(b["node"] == "n6" || b["node"] == "n1" || b["node"] == "n2") << b["node"];
  EXPECT_EQ(cluster_->job(*id)["locality"]["node_local"], 2);

  // Errors are the submit's, clear, and store nothing.
  const size_t before = cluster_->jobs("all").size();
  auto r = cluster_->locus({"submit", "--input", base + "/missing", "--wrap", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("FileNotFoundException"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/missing"), std::string::npos) << r.err;
  r = cluster_->locus({"submit", "--input", "webhdfs://127.0.0.1:1/logs", "--wrap", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("namenode http://127.0.0.1:1"), std::string::npos) << r.err;
  // The controller answered (it could not reach the NameNode): not "cannot reach the controller".
  EXPECT_EQ(r.err.find("cannot reach the controller"), std::string::npos) << r.err;
  r = cluster_->locus({"submit", "--input", "hdfs:///logs", "--wrap", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no NameNode configured"), std::string::npos) << r.err;
  EXPECT_EQ(cluster_->jobs("all").size(), before);
}

}  // namespace
}  // namespace locus::testing
