// bench_placement: topology placement at cluster scale (issue 3's benchmark).
//
// 1. The topology graph: builds a 1,024-node cluster (32 leaf switches of 32 nodes, 2 spines)
//    and a 10,000-node one (leaves of 32, spines of 16 leaves) of 2-socket 128-core nodes, and
//    prints the graph's memory and the time per smallestSubtreeWithFree query on random
//    free-core patterns (fixed seed).
// 2. The trace replay: the first --jobs records of an SWF trace, scaled to each cluster, replayed
//    through the scheduler core (schedulePass, first fit: no reservations) twice, with the switch
//    tree in the snapshot (topology on) and with an empty Network (off: topology-blind best fit
//    by free cores). Nodes: 2 NUMA domains of 64 cores; the last quarter of the leaf switches
//    (racks 25-32 at 1,024 nodes) hold GPU nodes, 4 GPUs each, 2 attached to each domain, as GPU
//    partitions usually sit in racks of their own. A fifth of the jobs ask for GPUs (--gpu-share):
//    about the GPU nodes' share of the cores, so GPU jobs neither starve nor leave the GPU nodes
//    idle; how much a job asks is in bench/placement_replay.hpp. Prints, on and off: leaf
//    switches per multi-node job against the bound and the fewest the free nodes allowed, NUMA
//    domains per job, the GPU-NUMA affinity rate and the time of the passes.
//
//   bench_placement [--trace SWF] [--jobs N] [--gpu-share F] [--policy P] [--queries N]
//                   [--seed S] [--only graph|1k|10k|10k-light]
//
// The trace defaults to ../shared/data/swf/RICC-2010-2.swf.gz (run from the repository root):
// 1,024 nodes of 8 cores, so x16 processors -> cores keeps each job's node count, and its first
// 5,000 jobs mix serial jobs (16 cores here) with jobs of 2 to 256 nodes.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/placement_replay.hpp"
#include "bench/process_memory.hpp"
#include "common/topology.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "locality/switch_tree.hpp"
#include "locality/topology_graph.hpp"
#include "sim/swf_reader.hpp"

namespace {

using locus::NodeTopology;
using locus::bench::ReplayCluster;
using locus::bench::ReplayOptions;
using locus::bench::ReplayStats;
using locus::bench::heapInUse;
using locus::bench::vmRssKb;
using locus::locality::SwitchSpec;
using locus::locality::SwitchTree;
using locus::locality::TopologyGraph;
using locus::scheduler::Network;

constexpr uint32_t kNodesPerLeaf = 32;
constexpr uint32_t kLeavesPerSpine = 16;
constexpr uint32_t kSockets = 2;
constexpr uint32_t kCoresPerSocket = 64;
constexpr uint32_t kGpusPerSocket = 2;  // replay's GPU nodes: 4 GPUs, 2 per NUMA domain

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

// Leaves of kNodesPerLeaf nodes; `spines_wanted` spines (0: one per kLeavesPerSpine leaves).
struct Switches {
  std::vector<SwitchSpec> specs;
  uint32_t leaves = 0, spines = 0;
};

Switches switchSpecs(uint32_t nodes, uint32_t spines_wanted) {
  Switches sw;
  sw.leaves = (nodes + kNodesPerLeaf - 1) / kNodesPerLeaf;
  for (uint32_t l = 0; l < sw.leaves; ++l) {
    uint32_t first = l * kNodesPerLeaf, last = std::min(nodes, first + kNodesPerLeaf) - 1;
    char hosts[64];
    std::snprintf(hosts, sizeof hosts, "n[%05u-%05u]", first + 1, last + 1);
    sw.specs.push_back({"leaf" + std::to_string(l + 1), hosts, "", 0});
  }
  sw.spines = spines_wanted ? spines_wanted : (sw.leaves + kLeavesPerSpine - 1) / kLeavesPerSpine;
  const uint32_t per_spine = (sw.leaves + sw.spines - 1) / sw.spines;
  for (uint32_t s = 0; s < sw.spines; ++s) {
    uint32_t first = s * per_spine + 1, last = std::min(sw.leaves, (s + 1) * per_spine);
    sw.specs.push_back({"spine" + std::to_string(s + 1), "",
                        "leaf[" + std::to_string(first) + "-" + std::to_string(last) + "]", 0});
  }
  return sw;
}

SwitchTree switchTree(const Switches& sw) {
  auto tree = locus::locality::buildSwitchTree(sw.specs, {});
  if (!tree.ok()) {
    std::fprintf(stderr, "switch tree: %s\n", tree.error().message.c_str());
    std::exit(1);
  }
  return std::move(tree).value();
}

Cluster build(uint32_t nodes, uint32_t spines_wanted) {
  Cluster c;
  const Switches sw = switchSpecs(nodes, spines_wanted);
  c.leaves = sw.leaves;
  c.spines = sw.spines;
  SwitchTree tree = switchTree(sw);
  const NodeTopology node = twoSocketNode();
  malloc_trim(0);
  const size_t rss0 = vmRssKb(), heap0 = heapInUse();
  auto t0 = std::chrono::steady_clock::now();
  c.graph = std::make_unique<TopologyGraph>(std::move(tree));
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

// The replay's cluster: the same switch tree, in the scheduler's terms (the controller builds
// it the same way, Controller::networkFor), GPU nodes in the last quarter of the leaves.
ReplayCluster replayCluster(uint32_t nodes, uint32_t spines) {
  const Switches sw = switchSpecs(nodes, spines);
  const SwitchTree tree = switchTree(sw);
  ReplayCluster c;
  c.domains = kSockets;
  c.cores_per_domain = kCoresPerSocket;
  c.gpus_per_domain = kGpusPerSocket;
  for (const auto& s : tree.switches)
    c.network.parent.push_back(s.parent == SwitchTree::kNone ? Network::kNoSwitch : s.parent);
  const uint32_t first_gpu_leaf = sw.leaves - sw.leaves / 4;
  c.gpu_node.resize(nodes);
  for (uint32_t i = 0; i < nodes; ++i) {
    const uint32_t s = tree.switchOfNode(nodeName(i));
    if (s == SwitchTree::kNone) {
      std::fprintf(stderr, "node %s has no leaf switch\n", nodeName(i).c_str());
      std::exit(1);
    }
    c.network.switch_of_node.push_back(s);
    c.gpu_node[i] = i / kNodesPerLeaf >= first_gpu_leaf;
  }
  return c;
}

double pct(uint64_t part, uint64_t whole) { return whole ? 100.0 * part / whole : 0.0; }
double ratio(double part, uint64_t whole) { return whole ? part / whole : 0.0; }

void row(const char* what, const std::string& on, const std::string& off) {
  std::printf("    %-52s %22s %22s\n", what, on.c_str(), off.c_str());
}

template <typename... Args>
std::string fmt(const char* format, Args... args) {
  char buf[96];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

void printReplay(const ReplayStats& on, const ReplayStats& off) {
  row("", "topology on", "off (flat)");
  row("jobs replayed (GPU jobs)", fmt("%zu (%zu)", on.jobs, on.gpu_jobs),
      fmt("%zu (%zu)", off.jobs, off.gpu_jobs));
  row("mean wait (s) / makespan (s)", fmt("%.0f / %ld", on.wait_mean_s, (long)on.makespan_s),
      fmt("%.0f / %ld", off.wait_mean_s, (long)off.makespan_s));
  auto leaves = [](const ReplayStats& r) {
    return fmt("%.2f (%zu jobs)", ratio(double(r.multi_leaves), r.multi), r.multi);
  };
  row("multi-node jobs: mean leaf switches", leaves(on), leaves(off));
  auto fewest = [](const ReplayStats& r) {
    return fmt("%.2f (%zu jobs)", ratio(double(r.fewest_leaves), r.fewest_known), r.fewest_known);
  };
  row("  fewest possible from free nodes: mean", fewest(on), fewest(off));
  auto at_bound = [](const ReplayStats& r) {
    return fmt("%.1f%% (%zu/%zu)", pct(r.at_bound_when_possible, r.bound_possible),
               r.at_bound_when_possible, r.bound_possible);
  };
  row("  in ceil(N/32) leaves, when free nodes allow (TARGET)", at_bound(on), at_bound(off));
  auto at_fewest = [](const ReplayStats& r) {
    return fmt("%.1f%% (%zu/%zu)", pct(r.at_fewest, r.fewest_known), r.at_fewest, r.fewest_known);
  };
  row("  in the fewest leaves the free nodes allow", at_fewest(on), at_fewest(off));
  auto at_bound_all = [](const ReplayStats& r) {
    return fmt("%.1f%% (%zu/%zu)", pct(r.multi_at_bound, r.multi), r.multi_at_bound, r.multi);
  };
  row("  in ceil(N/32) leaves, all multi-node jobs", at_bound_all(on), at_bound_all(off));
  auto numa = [](const ReplayStats& r) { return fmt("%.3f", ratio(r.numa_per_job_sum, r.jobs)); };
  row("NUMA domains per job (mean over its nodes)", numa(on), numa(off));
  auto numa_bound = [](const ReplayStats& r) {
    return fmt("%.1f%% (%lu)", pct(r.node_allocs_at_bound, r.node_allocs),
               (unsigned long)r.node_allocs);
  };
  row("  node allocations in ceil(cores/64) domains", numa_bound(on), numa_bound(off));
  auto small = [](const ReplayStats& r) {
    return fmt("%.1f%% (%zu)", pct(r.small_in_one, r.small_jobs), r.small_jobs);
  };
  row("  single-node jobs of <= 64 cores in one domain", small(on), small(off));
  auto gpu = [](const ReplayStats& r) {
    return fmt("%.1f%% (%lu GPUs)", pct(r.gpus_local, r.gpus), (unsigned long)r.gpus);
  };
  row("GPU-NUMA affinity (GPUs on a domain of the cores)", gpu(on), gpu(off));
  auto per_job = [](const ReplayStats& r) {
    return fmt("%.1f us", r.starts ? r.pass_s / r.starts * 1e6 : 0.0);
  };
  row("pass time per started job (TARGET < 1 ms at 10k)", per_job(on), per_job(off));
  auto placing = [](const ReplayStats& r) {
    return fmt("%.1f us", r.starts ? (r.pass_s - r.empty_pass_s) / r.starts * 1e6 : 0.0);
  };
  row("  less an empty pass, per job (placing, upper bound)", placing(on), placing(off));
  auto empty = [](const ReplayStats& r) {
    return fmt("%.0f us", ratio(r.empty_pass_s * 1e6, r.passes));
  };
  row("  empty pass (pool and index build), mean", empty(on), empty(off));
  auto passes = [](const ReplayStats& r) {
    std::vector<double> t = r.pass_times;
    std::sort(t.begin(), t.end());
    const double p99 = t.empty() ? 0 : t[t.size() * 99 / 100];
    return fmt("%.0f / %.0f us (%lu)", ratio(r.pass_s * 1e6, r.passes), p99 * 1e6,
               (unsigned long)r.passes);
  };
  row("pass time: mean / p99 (passes)", passes(on), passes(off));
  auto digest = [](const ReplayStats& r) { return fmt("%016lx", (unsigned long)r.digest); };
  row("decisions digest (equal across builds: same placements)", digest(on), digest(off));
}

void replay(const char* label, uint32_t nodes, uint32_t spines, const locus::sim::SwfTrace& trace,
            ReplayOptions options) {
  const ReplayCluster cluster = replayCluster(nodes, spines);
  const double scale = options.cores_per_proc > 0
                           ? options.cores_per_proc
                           : double(nodes) * kSockets * kCoresPerSocket /
                                 double(trace.max_procs > 0 ? trace.max_procs : 1);
  std::printf("%s replay: %u nodes, first %zu trace records, cores = procs x %.2f, policy %s\n",
              label, nodes, options.jobs, scale,
              std::string(locus::scheduler::policyName(options.policy)).c_str());
  std::fflush(stdout);
  options.topology = true;
  auto on = locus::bench::replayPlacement(trace, cluster, options);
  options.topology = false;
  auto off = on.ok() ? locus::bench::replayPlacement(trace, cluster, options) : on;
  if (!on.ok() || !off.ok()) {
    std::fprintf(stderr, "replay: %s\n", (on.ok() ? off : on).error().message.c_str());
    std::exit(1);
  }
  if (on->skipped) std::printf("    (%zu records skipped)\n", on->skipped);
  printReplay(*on, *off);
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t n_queries = 2000, seed = 42;
  std::string trace_path = "../shared/data/swf/RICC-2010-2.swf.gz";
  ReplayOptions options;
  std::string only;  // "": everything
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--queries") && i + 1 < argc) {
      n_queries = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--trace") && i + 1 < argc) {
      trace_path = argv[++i];
    } else if (!std::strcmp(argv[i], "--jobs") && i + 1 < argc) {
      options.jobs = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--gpu-share") && i + 1 < argc) {
      options.gpu_share = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) {
      only = argv[++i];
    } else if (!std::strcmp(argv[i], "--policy") && i + 1 < argc) {
      auto p = locus::scheduler::parsePolicy(argv[++i]);
      if (!p) {
        std::fprintf(stderr, "unknown policy %s\n", argv[i]);
        return 2;
      }
      options.policy = *p;
    } else {
      std::fprintf(stderr,
                   "usage: bench_placement [--trace SWF] [--jobs N] [--gpu-share F] "
                   "[--policy firstfit|fcfs|easy|conservative] [--queries N] [--seed S] "
                   "[--only graph|1k|10k|10k-light]\n");
      return 2;
    }
  }
  options.seed = seed;
  auto wanted = [&only](const char* name) { return only.empty() || only == name; };
  if (wanted("graph")) {
    run("1k", 1024, 2, n_queries, seed);
    run("10k", 10000, 0, n_queries, seed);
  }
  if (only == "graph") return 0;

  auto trace = locus::sim::readSwf(trace_path);
  if (!trace.ok()) {
    std::fprintf(stderr, "%s: %s\n", trace_path.c_str(), trace.error().message.c_str());
    return 1;
  }
  std::printf("trace %s: %zu records, MaxNodes %ld, MaxProcs %ld\n", trace_path.c_str(),
              trace->jobs.size(), (long)trace->max_nodes, (long)trace->max_procs);
  if (wanted("1k")) replay("1k", 1024, 2, *trace, options);
  if (wanted("10k")) replay("10k", 10000, 0, *trace, options);
  // The 1,024-node jobs unchanged on 10,000 nodes: a tenth of the load, so most nodes are free
  // and the candidate walks are at their longest; what a pass costs at that size, not quality.
  if (wanted("10k-light") && trace->max_procs > 0) {
    options.cores_per_proc = 1024.0 * kSockets * kCoresPerSocket / double(trace->max_procs);
    replay("10k (1k jobs as they are)", 10000, 0, *trace, options);
  }
  return 0;
}
