// bench_placement: the topology graph at cluster scale. Builds a 1,024-node cluster (32 leaf
// switches of 32 nodes, 2 spines) and a 10,000-node one (leaves of 32, spines of 16 leaves) of
// 2-socket 128-core nodes, and prints the graph's memory and the time per
// smallestSubtreeWithFree query on random free-core patterns (fixed seed).
//
//   bench_placement [--queries N] [--seed S]
//
// Not yet: replaying an SWF trace with placement on/off (issue 3's full benchmark).
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/topology.hpp"
#include "locality/switch_tree.hpp"
#include "locality/topology_graph.hpp"

namespace {

using locus::NodeTopology;
using locus::locality::SwitchSpec;
using locus::locality::TopologyGraph;

constexpr uint32_t kNodesPerLeaf = 32;
constexpr uint32_t kLeavesPerSpine = 16;
constexpr uint32_t kSockets = 2;
constexpr uint32_t kCoresPerSocket = 64;

size_t vmRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

size_t heapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

NodeTopology twoSocketNode() {
  NodeTopology t;
  t.packages = kSockets;
  uint32_t core = 0;
  for (uint32_t s = 0; s < kSockets; ++s) {
    locus::NumaDomain d;
    d.os_index = s;
    d.mem_mb = 256 * 1024;
    for (uint32_t c = 0; c < kCoresPerSocket; ++c, ++core) d.cores.push_back({core, {core}});
    t.numa.push_back(std::move(d));
  }
  t.mem_mb = kSockets * 256 * 1024;
  t.numa_distances = {{10, 32}, {32, 10}};
  return t;
}

std::string nodeName(uint32_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "n%05u", i + 1);
  return buf;
}

struct Cluster {
  std::unique_ptr<TopologyGraph> graph;
  double build_s = 0;
  size_t rss_kb = 0, heap_bytes = 0;
  uint32_t leaves = 0, spines = 0;
};

Cluster build(uint32_t nodes, uint32_t spines_wanted) {
  Cluster c;
  std::vector<SwitchSpec> specs;
  c.leaves = (nodes + kNodesPerLeaf - 1) / kNodesPerLeaf;
  for (uint32_t l = 0; l < c.leaves; ++l) {
    uint32_t first = l * kNodesPerLeaf, last = std::min(nodes, first + kNodesPerLeaf) - 1;
    char hosts[64];
    std::snprintf(hosts, sizeof hosts, "n[%05u-%05u]", first + 1, last + 1);
    specs.push_back({"leaf" + std::to_string(l + 1), hosts, "", 0});
  }
  c.spines = spines_wanted ? spines_wanted : (c.leaves + kLeavesPerSpine - 1) / kLeavesPerSpine;
  const uint32_t per_spine = (c.leaves + c.spines - 1) / c.spines;
  for (uint32_t s = 0; s < c.spines; ++s) {
    uint32_t first = s * per_spine + 1, last = std::min(c.leaves, (s + 1) * per_spine);
    specs.push_back({"spine" + std::to_string(s + 1), "",
                     "leaf[" + std::to_string(first) + "-" + std::to_string(last) + "]", 0});
  }
  auto tree = locus::locality::buildSwitchTree(specs, {});
  if (!tree.ok()) {
    std::fprintf(stderr, "switch tree: %s\n", tree.error().message.c_str());
    std::exit(1);
  }
  const NodeTopology node = twoSocketNode();
  malloc_trim(0);
  const size_t rss0 = vmRssKb(), heap0 = heapInUse();
  auto t0 = std::chrono::steady_clock::now();
  c.graph = std::make_unique<TopologyGraph>(std::move(tree).value());
  for (uint32_t i = 0; i < nodes; ++i) {
    auto r = c.graph->addNode(nodeName(i), node);
    if (!r.ok()) {
      std::fprintf(stderr, "addNode: %s\n", r.error().message.c_str());
      std::exit(1);
    }
  }
  c.build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.rss_kb = vmRssKb() - rss0;
  c.heap_bytes = heapInUse() - heap0;
  return c;
}

void queries(const Cluster& c, uint32_t n_queries, uint32_t seed) {
  const TopologyGraph& g = *c.graph;
  std::mt19937 rng(seed);
  // Free cores per node: a cluster about 60% busy, with whole-node and partial allocations.
  std::vector<std::vector<uint32_t>> patterns(16);
  for (auto& p : patterns) {
    p.resize(g.nodeCount());
    std::uniform_int_distribution<uint32_t> part(0, kSockets * kCoresPerSocket);
    for (auto& f : p) {
      uint32_t roll = rng() % 10;
      f = roll < 5 ? 0 : roll < 8 ? kSockets * kCoresPerSocket : part(rng);
    }
  }
  const uint32_t sizes[] = {1, 2, 4, 8, 16, 24, 32, 48, 64, 128, 256, 512};
  const uint32_t needs[] = {1, 16, 64, 128};
  uint64_t fits = 0, switches_used = 0, height_sum = 0;
  double total_s = 0, worst_s = 0;
  std::vector<double> times;
  times.reserve(n_queries);
  for (uint32_t q = 0; q < n_queries; ++q) {
    const auto& free = patterns[q % patterns.size()];
    const uint32_t k = sizes[rng() % std::size(sizes)];
    const uint32_t need = needs[rng() % std::size(needs)];
    auto t0 = std::chrono::steady_clock::now();
    auto fit = g.smallestSubtreeWithFree(k, free, need);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    total_s += s;
    worst_s = std::max(worst_s, s);
    times.push_back(s);
    if (fit) ++fits, switches_used += fit->switches_used, height_sum += fit->height;
  }
  std::sort(times.begin(), times.end());
  const double p99_s = times.empty() ? 0 : times[times.size() * 99 / 100];
  std::printf(
      "  smallestSubtreeWithFree: %u queries, mean %.1f us, p99 %.1f us, worst %.1f us; %lu fit "
      "(mean %.2f leaf switches, mean switch height %.2f)\n",
      n_queries, total_s / n_queries * 1e6, p99_s * 1e6, worst_s * 1e6, (unsigned long)fits,
      fits ? double(switches_used) / fits : 0.0, fits ? double(height_sum) / fits : 0.0);
  // hops: a quick figure for the scorer's inner loop.
  std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(g.nodeCount() - 1));
  uint64_t sum = 0;
  const uint32_t n_hops = 1'000'000;
  auto t0 = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < n_hops; ++i) sum += g.hops(pick(rng), pick(rng));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  hops: %.1f ns per call (mean %.2f hops between random nodes)\n", s / n_hops * 1e9,
              double(sum) / n_hops);
}

void run(const char* label, uint32_t nodes, uint32_t spines, uint32_t n_queries, uint32_t seed) {
  Cluster c = build(nodes, spines);
  const TopologyGraph& g = *c.graph;
  std::printf("%s: %u nodes, %u leaf switches, %u spines, %ux%u cores per node\n", label, nodes,
              c.leaves, c.spines, kSockets, kCoresPerSocket);
  std::printf("  graph: %zu vertices, %zu edges, built in %.3f s\n", g.vertexCount(), g.edgeCount(),
              c.build_s);
  std::printf(
      "  memory: %.1f MiB heap in use (mallinfo2), %.1f MiB VmRSS delta, "
      "%.1f MiB memoryBytes() estimate; %.0f bytes per node\n",
      c.heap_bytes / 1048576.0, c.rss_kb / 1024.0, g.memoryBytes() / 1048576.0,
      double(c.heap_bytes) / nodes);
  queries(c, n_queries, seed);
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t n_queries = 2000, seed = 42;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--queries") && i + 1 < argc)
      n_queries = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc)
      seed = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_placement [--queries N] [--seed S]\n");
      return 2;
    }
  }
  run("1k", 1024, 2, n_queries, seed);
  run("10k", 10000, 0, n_queries, seed);
  return 0;
}
