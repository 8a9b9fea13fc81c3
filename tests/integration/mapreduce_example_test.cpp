// The example framework (examples/mapreduce, docs/frameworks.md) end to end: six emulated nodes
// in two racks, a stand-in WebHDFS NameNode whose block replicas name those nodes, and
// examples/mapreduce/run.sh run as a user would run it, with the cluster's LOCUS_CONTROLLER and
// LOCUS_MUNGE_SOCKET. The files are real (emulated nodes share this machine), so the total it
// prints can be checked against the real line count; its last line gives the locality counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fake_namenode.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Racks: r1 = n1-n3, r2 = n4-n6, under one spine. Delay scheduling waits long enough for a slot
// next to the data to come free (map tasks take milliseconds), short enough for the one-core
// reduce, which has no preference and takes the first free slot anyway.
const std::string kConfig =
    std::string(kTwoRacksOfThree) + "[locality]\nlocality_wait_node = 5\nlocality_wait_rack = 5\n";

// Small HDFS blocks, so a few KB of files make two dozen map tasks.
constexpr uint64_t kBlockSize = 1000;

// Writes `lines` lines of varying length ("line 7 of part-2: xxxx\n"): block boundaries fall
// inside lines, as they do in HDFS, and the map tasks' newline counts must still add up.
uint64_t writeText(const std::string& path, int file, int lines) {
  std::ofstream out(path);
  for (int i = 0; i < lines; ++i)
    out << "line " << i << " of part-" << file << ": " << std::string(i % 23, 'x') << "\n";
  out.close();
  return fs::file_size(path);
}

// Replicas as HDFS places them: the first on a "writer" node, the other two on two nodes of the
// other rack; named by FQDN, which Locus maps to its node names ("n2.example.org" -> n2).
std::vector<std::string> replicasOf(int block) {
  const int writer = block % 6 + 1;
  const int other_rack = writer <= 3 ? 4 : 1;
  const int second = other_rack + block % 3, third = other_rack + (block + 1) % 3;
  std::vector<std::string> hosts;
  for (int n : {writer, second, third}) hosts.push_back("n" + std::to_string(n) + ".example.org");
  return hosts;
}

fs::path sourceDir() { return fs::path(LOCUS_TEST_DATA).parent_path().parent_path(); }

class MapReduceExample : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = fs::temp_directory_path() / ("locus-mapreduce-test-" + std::to_string(getpid()));
    fs::create_directories(data_ / "logs");
    // 8 files of 3 to 4 KB: 4 blocks each, the last one short; 32 blocks in all.
    int block = 0;
    std::vector<HdfsFile> logs;
    for (int f = 0; f < 8; ++f) {
      HdfsFile file;
      file.path = (data_ / "logs" / ("part-" + std::to_string(f))).string();
      file.size = writeText(file.path, f, 100 + f);
      for (uint64_t off = 0; off < file.size; off += kBlockSize)
        file.replicas.push_back(replicasOf(block++));
      logs.push_back(file);
    }
    blocks_ = block;
    // A directory whose one file the NameNode lists but no node can read: its map task fails.
    HdfsFile lost{(data_ / "lost" / "part-0").string(), 500, {replicasOf(0)}};
    nn_ = std::make_unique<FakeNameNode>(
        std::map<std::string, std::vector<HdfsFile>>{{(data_ / "logs").string(), logs},
                                                     {(data_ / "lost").string(), {lost}}},
        kBlockSize);
    ASSERT_GT(nn_->port(), 0);

    TestCluster::Options o;
    o.nodes = 6;
    o.topology = "pack:1 numa:1 core:2 pu:1";  // 2 cores: 12 slots in all
    o.config = std::string(kConfig) +
               "[locality.hdfs]\nnamenode = \"http://127.0.0.1:" + std::to_string(nn_->port()) +
               "\"\n";
    cluster_ = std::make_unique<TestCluster>(o);
    ASSERT_TRUE(cluster_->startController());
    for (int i = 0; i < o.nodes; ++i) ASSERT_TRUE(cluster_->startNode(i));
    ASSERT_TRUE(cluster_->waitNodesUp(o.nodes, std::chrono::seconds(30)));
  }
  void TearDown() override {
    cluster_.reset();
    nn_.reset();
    fs::remove_all(data_);
  }

  // `run.sh ARGS` as a user runs it after `eval "$(locus up ... --detach)"`. LOCUS_CONFIG is
  // cleared: the NameNode must come from the running cluster's own config.
  CommandResult runExample(const std::vector<std::string>& args,
                           const std::string& controller = "") {
    std::vector<std::string> argv{"/bin/bash",
                                  (sourceDir() / "examples/mapreduce/run.sh").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv,
                      {{"LOCUS_CONTROLLER", controller.empty() ? cluster_->address() : controller},
                       {"LOCUS_MUNGE_SOCKET", cluster_->mungeSocket()},
                       {"LOCUS_CONFIG", ""},
                       {"BUILD_DIR", fs::path(binDir()).parent_path().string()},
                       {"TMPDIR", cluster_->dir()}},
                      cluster_->workDir());
  }

  // Every lease of the example's frameworks has ended: nothing is left holding cores.
  void expectNoLeasesLeft() {
    auto r = cluster_->locus({"frameworks", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const json& f : json::parse(r.out)) EXPECT_TRUE(f["leases"].empty()) << f.dump();
  }

  fs::path data_;
  int blocks_ = 0;
  std::unique_ptr<FakeNameNode> nn_;
  std::unique_ptr<TestCluster> cluster_;
};

uint64_t realLineCount(const fs::path& dir) {
  uint64_t lines = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path());
    for (std::string l; std::getline(in, l);) ++lines;
  }
  return lines;
}

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST_F(MapReduceExample, CountsLinesWithMapTasksNextToTheirBlocks) {
  const auto started = std::chrono::steady_clock::now();
  auto r = runExample({"hdfs://" + (data_ / "logs").string(), "-v"});
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto lines = linesOf(r.out);
  ASSERT_GE(lines.size(), 2u) << r.out;
  auto result = fieldsOf(lines[lines.size() - 2]);
  EXPECT_EQ(result["lines"], std::to_string(realLineCount(data_ / "logs"))) << r.out;
  EXPECT_EQ(result["files"], "8");
  EXPECT_EQ(result["blocks"], std::to_string(blocks_));

  // The last line, exactly: node_local=N rack_local=N remote=N, summing to the blocks.
  const std::string& last = lines.back();
  int node_local = -1, rack_local = -1, remote = -1;
  char extra = 0;
  ASSERT_EQ(std::sscanf(last.c_str(), "node_local=%d rack_local=%d remote=%d%c", &node_local,
                        &rack_local, &remote, &extra),
            3)
      << last;
  EXPECT_EQ(node_local + rack_local + remote, blocks_) << last;
  // The bar: at least 90% of the map tasks ran on a node holding their block.
  EXPECT_GE(node_local * 10, blocks_ * 9) << last << "\n" << r.err;
  std::fprintf(stderr, "mapreduce example: %s (%d blocks, %.1f s)\n", last.c_str(), blocks_, took);

  // The counts, checked independently: -v says where each map task ran ("map B on N (L): C
  // lines"); block B's replicas are replicasOf(B) (files in path order, blocks by offset).
  int seen = 0, really_local = 0;
  for (const std::string& line : linesOf(r.err)) {
    int block = -1;
    char node[64] = {0}, locality[64] = {0};
    if (std::sscanf(line.c_str(), "locus-mapreduce: map %d on %63s (%63[^)])", &block, node,
                    locality) != 3)
      continue;
    SCOPED_TRACE(line);
    ++seen;
    bool local = false;
    for (const std::string& host : replicasOf(block))
      local = local || host == std::string(node) + ".example.org";
    really_local += local;
    EXPECT_EQ(std::string(locality) == "node_local", local);
  }
  EXPECT_EQ(seen, blocks_) << r.err;
  EXPECT_EQ(really_local, node_local);

  // Every lease was released; the NameNode was asked (the controller's config named it).
  expectNoLeasesLeft();
  EXPECT_GT(nn_->requests(), 0);
  // The driver cleans up its own work directory after a success.
  for (const auto& e : fs::directory_iterator(cluster_->dir()))
    EXPECT_EQ(e.path().filename().string().rfind("locus-mapreduce-", 0), std::string::npos)
        << e.path();
}

TEST_F(MapReduceExample, FailuresAreClearAndLeaveNothingBehind) {
  // A map task that fails is retried once on another lease, then the run fails, naming it.
  auto r = runExample({"hdfs://" + (data_ / "lost").string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("failed 2 times"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot read " + (data_ / "lost" / "part-0").string()), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("node_local="), std::string::npos) << r.out;
  expectNoLeasesLeft();

  // The NameNode's 404, as it said it.
  r = runExample({"hdfs://" + (data_ / "missing").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("FileNotFoundException"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/missing"), std::string::npos) << r.err;

  // No NameNode at the address given.
  r = runExample({"hdfs://" + (data_ / "logs").string(), "--namenode", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("http://127.0.0.1:1"), std::string::npos) << r.err;

  // No controller.
  r = runExample({"hdfs://" + (data_ / "logs").string()}, "127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot reach the controller at 127.0.0.1:1"), std::string::npos) << r.err;

  // Bad usage.
  r = runExample({"logs"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("expected hdfs:///PATH"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace locus::testing
