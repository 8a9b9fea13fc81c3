#include "controller/nodes/node.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace locus::controller {
namespace {

using Cores = std::vector<uint32_t>;
using ByNuma = std::vector<Cores>;

// A topology whose domain d holds exactly the logical cores domains[d], 1000 MB per domain.
NodeTopology topology(const ByNuma& domains) {
  NodeTopology t;
  t.packages = 1;
  for (size_t d = 0; d < domains.size(); ++d) {
    NumaDomain dom;
    dom.os_index = static_cast<uint32_t>(d);
    dom.mem_mb = 1000;
    for (uint32_t id : domains[d]) dom.cores.push_back({id, {id}});
    t.numa.push_back(dom);
    t.mem_mb += dom.mem_mb;
  }
  return t;
}

// 2 NUMA domains of 4 cores: {0-3} and {4-7}, 2000 MB.
Node twoByFour() {
  Node n("n1");
  EXPECT_TRUE(n.setTopology(topology({{0, 1, 2, 3}, {4, 5, 6, 7}})));
  return n;
}

TEST(Node, SetTopologyBuildsFreeCoresPerDomain) {
  struct Case {
    const char* name;
    ByNuma domains;
    uint32_t cores;
    ByNuma free;
  };
  const Case cases[] = {
      {"one domain", {{0, 1, 2}}, 3, {{0, 1, 2}}},
      {"two contiguous domains", {{0, 1, 2, 3}, {4, 5, 6, 7}}, 8, {{0, 1, 2, 3}, {4, 5, 6, 7}}},
      // cores interleaved across domains (round-robin numbering): each list still ascending
      {"interleaved", {{0, 2, 4}, {1, 3, 5}}, 6, {{0, 2, 4}, {1, 3, 5}}},
      // a domain listed out of order comes back ascending
      {"unsorted input", {{3, 1}, {2, 0}}, 4, {{1, 3}, {0, 2}}},
      {"a domain without cores (memory only)", {{0, 1}, {}}, 2, {{0, 1}, {}}},
      {"no domains", {}, 0, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Node n("n1");
    ASSERT_TRUE(n.setTopology(topology(c.domains)));
    EXPECT_EQ(n.cores(), c.cores);
    EXPECT_EQ(n.memMb(), 1000u * c.domains.size());
    EXPECT_EQ(n.coresAllocated(), 0u);
    EXPECT_EQ(n.memAllocatedMb(), 0u);
    EXPECT_EQ(n.freeCoresByNuma(), c.free);
  }
}

TEST(Node, SetTopologyReplacesThePreviousOne) {
  Node n = twoByFour();
  ASSERT_TRUE(n.setTopology(topology({{0, 1}})));
  EXPECT_EQ(n.cores(), 2u);
  EXPECT_EQ(n.memMb(), 1000u);
  EXPECT_EQ(n.freeCoresByNuma(), (ByNuma{{0, 1}}));
}

TEST(Node, AllocateReleaseAccounting) {
  struct Step {
    const char* name;
    bool allocate;  // else release
    Cores cores;
    uint64_t mem_mb;
    uint32_t cores_allocated;  // after the step
    uint64_t mem_allocated_mb;
    ByNuma free;
  };
  // On twoByFour(): {0-3} {4-7}.
  const Step steps[] = {
      {"allocate across both domains", true, {0, 5}, 700, 2, 700, {{1, 2, 3}, {4, 6, 7}}},
      // 2 + 3 = 5 cores, 700 + 300 = 1000 MB
      {"allocate three more", true, {1, 2, 7}, 300, 5, 1000, {{3}, {4, 6}}},
      {"allocate memory only", true, {}, 500, 5, 1500, {{3}, {4, 6}}},
      // 5 - 2 = 3 cores, 1500 - 700 = 800 MB
      {"release the first", false, {0, 5}, 700, 3, 800, {{0, 3}, {4, 5, 6}}},
      {"allocate a freed core again", true, {0}, 100, 4, 900, {{3}, {4, 5, 6}}},
      // release in a different order than allocated
      {"release out of order", false, {7, 1, 2}, 300, 1, 600, {{1, 2, 3}, {4, 5, 6, 7}}},
      {"release the rest", false, {0}, 600, 0, 0, {{0, 1, 2, 3}, {4, 5, 6, 7}}},
      {"fill the node", true, {0, 1, 2, 3, 4, 5, 6, 7}, 2000, 8, 2000, {{}, {}}},
  };
  Node n = twoByFour();
  for (const Step& s : steps) {
    SCOPED_TRACE(s.name);
    if (s.allocate)
      n.allocate(s.cores, s.mem_mb);
    else
      n.release(s.cores, s.mem_mb);
    EXPECT_EQ(n.coresAllocated(), s.cores_allocated);
    EXPECT_EQ(n.memAllocatedMb(), s.mem_allocated_mb);
    EXPECT_EQ(n.freeCoresByNuma(), s.free);
    EXPECT_EQ(n.cores(), 8u);  // allocation never changes the node's size
  }
}

TEST(Node, SetTopologyRefusedWhileAllocated) {
  struct Case {
    const char* name;
    Cores cores;
    uint64_t mem_mb;
  };
  const Case cases[] = {
      {"cores and memory", {2, 6}, 100},
      {"cores only", {0}, 0},
      {"memory only", {}, 100},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Node n = twoByFour();
    n.allocate(c.cores, c.mem_mb);
    ByNuma free_before = n.freeCoresByNuma();
    EXPECT_FALSE(n.setTopology(topology({{0, 1}})));
    // The old view is kept whole.
    EXPECT_EQ(n.cores(), 8u);
    EXPECT_EQ(n.memMb(), 2000u);
    EXPECT_EQ(n.topology().numa.size(), 2u);
    EXPECT_EQ(n.freeCoresByNuma(), free_before);
    // Once idle again, the new topology is taken.
    n.release(c.cores, c.mem_mb);
    EXPECT_TRUE(n.setTopology(topology({{0, 1}})));
    EXPECT_EQ(n.cores(), 2u);
  }
}

// 2x4 cores plus 4 GPUs, two on each domain, with a configured feature.
Node withGpus() {
  Node n("g1");
  NodeTopology t = topology({{0, 1, 2, 3}, {4, 5, 6, 7}});
  for (uint32_t g = 0; g < 4; ++g) {
    GpuInfo gpu;
    gpu.index = g;
    gpu.name = "Tesla V100-SXM2-16GB";
    gpu.numa = static_cast<int32_t>(g / 2);
    t.gpus.push_back(gpu);
  }
  t.cpu_model = "Intel(R) Xeon(R) Gold 6148";
  EXPECT_TRUE(n.setTopology(t));
  n.setFeatures({"ib"});
  return n;
}

TEST(Node, GpuAccountingAndMask) {
  Node n = withGpus();
  EXPECT_EQ(n.gpus(), 4u);
  EXPECT_EQ(n.freeGpuMask(), 0b1111u);
  n.allocate({0, 1}, 10, {1, 2});
  EXPECT_EQ(n.gpusAllocated(), 2u);
  EXPECT_EQ(n.freeGpuMask(), 0b1001u);  // GPUs 0 and 3 remain
  // A node holding GPUs keeps its topology (a GPU index would change meaning).
  EXPECT_FALSE(n.setTopology(topology({{0}})));
  n.release({0, 1}, 10, {1});
  EXPECT_EQ(n.freeGpuMask(), 0b1011u);
  n.release({}, 0, {2});
  EXPECT_EQ(n.gpusAllocated(), 0u);
  EXPECT_TRUE(n.setTopology(topology({{0}})));
  EXPECT_EQ(n.freeGpuMask(), 0u);  // no GPUs now
}

TEST(Node, FeaturesJoinConfiguredAndDiscovered) {
  Node n = withGpus();
  // Configured "ib"; from the GPUs: Slurm's type name, the short model and "gpu"; the CPU vendor.
  EXPECT_EQ(n.allFeatures(),
            (std::vector<std::string>{"gpu", "ib", "intel", "tesla_v100-sxm2-16gb", "v100"}));
}

TEST(NodeState, ToString) {
  EXPECT_STREQ(toString(NodeState::kUnknown), "UNKNOWN");
  EXPECT_STREQ(toString(NodeState::kUp), "UP");
  EXPECT_STREQ(toString(NodeState::kDown), "DOWN");
}

// ---- invariants: corrupt accounting aborts -----------------------------------------------------

using NodeDeathTest = ::testing::Test;

TEST_F(NodeDeathTest, AllocatingABusyCoreAborts) {
  Node n = twoByFour();
  n.allocate({1, 2}, 10);
  EXPECT_DEATH(n.allocate({3, 2}, 10), ".*node=n1 core=2 allocated twice.*");
}

TEST_F(NodeDeathTest, SameCoreTwiceInOneRequestAborts) {
  Node n = twoByFour();
  EXPECT_DEATH(n.allocate({4, 4}, 0), ".*core=4 allocated twice.*");
}

TEST_F(NodeDeathTest, ReleasingAFreeCoreAborts) {
  Node n = twoByFour();
  n.allocate({0}, 10);
  EXPECT_DEATH(n.release({0, 1}, 10), "node=n1 core=1 freed while free");
  n.release({0}, 10);
  EXPECT_DEATH(n.release({0}, 10), "core=0 freed while free");
}

TEST_F(NodeDeathTest, ReleasingMoreMemoryThanAllocatedAborts) {
  Node n = twoByFour();
  n.allocate({0}, 100);
  EXPECT_DEATH(n.release({0}, 101), "LOCUS_CHECK.*failed: node=n1");
}

TEST_F(NodeDeathTest, GpuAccountingErrorsAbort) {
  Node n = withGpus();
  n.allocate({0}, 0, {3});
  EXPECT_DEATH(n.allocate({1}, 0, {3}), "node=g1 gpu=3 allocated twice");
  EXPECT_DEATH(n.allocate({1}, 0, {4}), "gpu=4 out of range");
  EXPECT_DEATH(n.release({0}, 0, {2}), "gpu=2 freed while free");
}

TEST_F(NodeDeathTest, CoreOutOfRangeAborts) {
  Node n = twoByFour();
  EXPECT_DEATH(n.allocate({8}, 0), "core=8 out of range");
  EXPECT_DEATH(n.release({100}, 0), "core=100 out of range");
}

}  // namespace
}  // namespace locus::controller
