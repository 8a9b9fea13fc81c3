// bench_pass: one scheduling pass over a big synthetic snapshot.
//   bench_pass [--pending N] [--nodes M] [--seed S] [--reps R] [--policy easy|fcfs|...]
//              [--racks | --locality]
// --racks: the same cluster in racks of 40 nodes (a switch tree under one root), no inputs.
// --locality: racks of 40 nodes (a switch tree), and every serial and array job reads a block
// with three replicas placed as HDFS does (one node, two in another rack): delay scheduling's
// cost in a pass.
// Defaults are the design target: 100,000 pending jobs on 10,000 nodes (2 NUMA x 64 cores,
// 512 GB), part of the cluster already busy (one running job per busy node, ending within two
// days), every job with a time limit, EASY backfill, a fixed seed so runs compare. Prints the
// decision figures, the time of each repetition, and last a line ending with
// pass_ms=<best repetition>.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "controller/scheduler/scheduler.hpp"

namespace {

using locus::scheduler::Decision;
using locus::scheduler::JobRequest;
using locus::scheduler::NodeState;
using locus::scheduler::Policy;
using locus::scheduler::RunningJob;
using locus::scheduler::Snapshot;

constexpr uint32_t kDomains = 2;
constexpr uint32_t kCoresPerDomain = 64;
constexpr uint64_t kNodeMemMb = 512000;

Snapshot buildSnapshot(uint32_t pending, uint32_t nodes, uint64_t seed, bool racks, bool locality) {
  std::mt19937_64 rng(seed);
  auto pick = [&rng](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  Snapshot s;
  s.now = 1'700'000'000;
  s.nodes.reserve(nodes);
  for (uint32_t n = 0; n < nodes; ++n) {
    NodeState ns;
    ns.name = "node" + std::to_string(n);
    ns.schedulable = pick(0, 99) != 0;  // ~1% down or drained
    ns.total_cores = kDomains * kCoresPerDomain;
    ns.total_mem_mb = kNodeMemMb;
    // Half the nodes run something already: a random prefix of each domain is busy.
    const bool busy = pick(0, 1) == 0;
    uint64_t used_cores = 0;
    ns.free_cores_by_numa.resize(kDomains);
    for (uint32_t d = 0; d < kDomains; ++d) {
      const uint32_t taken = busy ? static_cast<uint32_t>(pick(0, kCoresPerDomain)) : 0;
      used_cores += taken;
      for (uint32_t c = taken; c < kCoresPerDomain; ++c) {
        ns.free_cores_by_numa[d].push_back(d * kCoresPerDomain + c);
      }
    }
    ns.free_mem_mb = kNodeMemMb - used_cores * 2000;
    s.nodes.push_back(std::move(ns));
    if (used_cores > 0) {
      RunningJob r;
      r.id = 10'000'000 + n;
      r.expected_end = s.now + static_cast<int64_t>(pick(60, 2 * 86400));
      r.use.push_back({n, static_cast<uint32_t>(used_cores), used_cores * 2000});
      s.running.push_back(std::move(r));
    }
  }

  constexpr uint32_t kRack = 40;
  if (racks || locality) {
    const uint32_t racks = (nodes + kRack - 1) / kRack;
    s.network.parent.assign(racks + 1, 0);
    s.network.parent[0] = locus::scheduler::Network::kNoSwitch;
    for (uint32_t n = 0; n < nodes; ++n) s.network.switch_of_node.push_back(1 + n / kRack);
  }
  // Three replicas: a random node, then two nodes of another rack.
  auto replicas = [&]() {
    std::vector<locus::scheduler::InputSite> sites;
    const uint32_t first = static_cast<uint32_t>(pick(0, nodes - 1));
    sites.push_back({first, 128 << 20});
    const uint32_t racks = (nodes + kRack - 1) / kRack;
    uint32_t other = static_cast<uint32_t>(pick(0, racks - 1));
    if (racks > 1 && other == first / kRack) other = (other + 1) % racks;
    for (int i = 0; i < 2; ++i) {
      const uint32_t n = std::min(nodes - 1, other * kRack + static_cast<uint32_t>(pick(0, kRack - 1)));
      if (n != sites.front().node && (sites.size() < 2 || sites[1].node != n)) sites.push_back({n, 128 << 20});
    }
    return sites;
  };
  s.pending.reserve(pending);
  uint64_t array_id = 0;
  uint32_t array_left = 0;
  uint32_t array_max = 0;
  for (uint32_t j = 0; j < pending; ++j) {
    JobRequest r;
    r.id = j + 1;
    r.priority = static_cast<int64_t>(pick(0, 1000));
    r.submit_time = s.now - static_cast<int64_t>(pick(0, 86400));
    const uint64_t kind = pick(0, 99);
    if (kind < 35) {  // serial
      r.mem_mb = 1000 * pick(0, 4);
      if (locality) r.input_sites = replicas();
    } else if (kind < 55) {  // one node, threads or tasks
      r.nodes = 1;
      r.ntasks = static_cast<uint32_t>(pick(1, 8));
      r.cpus_per_task = static_cast<uint32_t>(pick(1, 4));
      r.mem_mb = 4000 * pick(0, 8);
    } else if (kind < 70) {  // MPI over a few nodes
      r.nodes = static_cast<uint32_t>(pick(2, 16));
      r.ntasks_per_node = pick(0, 1) ? 64 : 32;
      r.ntasks = r.nodes * r.ntasks_per_node;
      r.mem_mb = 64000;
    } else if (kind < 80) {  // as few nodes as fit
      r.ntasks = static_cast<uint32_t>(pick(16, 512));
    } else if (kind < 95) {  // array tasks, throttled
      if (array_left == 0) {
        array_id = r.id;
        array_left = static_cast<uint32_t>(pick(10, 200));
        array_max = static_cast<uint32_t>(pick(0, 1) ? pick(5, 50) : 0);
      }
      --array_left;
      r.array_job_id = array_id;
      r.array_max_running = array_max;
      r.cpus_per_task = static_cast<uint32_t>(pick(1, 2));
      r.mem_mb = 2000;
      if (locality) r.input_sites = replicas();
    } else {  // whole node
      r.nodes = 1;
      r.ntasks = kDomains * kCoresPerDomain;
    }
    // Users ask for a few round values.
    static constexpr int64_t kLimits[] = {600, 3600, 4 * 3600, 12 * 3600, 86400, 2 * 86400};
    r.time_limit_s = kLimits[pick(0, std::size(kLimits) - 1)];
    s.pending.push_back(r);
  }
  return s;
}

const char* flagText(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}

uint32_t flagValue(int argc, char** argv, const char* name, uint32_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0)
      return static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf(
          "usage: %s [--pending N] [--nodes M] [--seed S] [--reps R] "
          "[--policy firstfit|fcfs|easy|conservative] [--depth D] [--racks | --locality]\n",
          argv[0]);
      return 0;
    }
  }
  const uint32_t pending = flagValue(argc, argv, "--pending", 100000);
  const uint32_t nodes = flagValue(argc, argv, "--nodes", 10000);
  const uint32_t seed = flagValue(argc, argv, "--seed", 42);
  const uint32_t reps = std::max<uint32_t>(1, flagValue(argc, argv, "--reps", 3));

  const char* policy_name = flagText(argc, argv, "--policy", "easy");
  const auto policy = locus::scheduler::parsePolicy(policy_name);
  if (!policy) {
    std::fprintf(stderr, "bench_pass: unknown policy %s\n", policy_name);
    return 2;
  }
  bool locality = false, racks = false;
  for (int i = 1; i < argc; ++i) {
    locality = locality || std::strcmp(argv[i], "--locality") == 0;
    racks = racks || std::strcmp(argv[i], "--racks") == 0;
  }
  Snapshot snapshot = buildSnapshot(pending, nodes, seed, racks, locality);
  snapshot.now_ms = snapshot.now * 1000;
  snapshot.policy = *policy;
  snapshot.reserve_depth = flagValue(argc, argv, "--depth", 1);
  uint64_t free_cores = 0;
  for (const NodeState& n : snapshot.nodes) {
    if (!n.schedulable) continue;
    for (const auto& d : n.free_cores_by_numa) free_cores += d.size();
  }
  std::printf(
      "snapshot: nodes=%u (%u NUMA x %u cores) pending=%u running=%zu free_cores=%llu seed=%u "
      "policy=%s depth=%u%s\n",
      nodes, kDomains, kCoresPerDomain, pending, snapshot.running.size(),
      static_cast<unsigned long long>(free_cores), seed, policy_name, snapshot.reserve_depth,
      locality ? " locality=racks of 40, 3 replicas per serial/array job" : racks ? " racks of 40" : "");

  double best_ms = 0;
  std::vector<Decision> decisions;
  for (uint32_t rep = 0; rep < reps; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    decisions = locus::scheduler::schedulePass(snapshot);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("rep %u: %.1f ms\n", rep + 1, ms);
    if (rep == 0 || ms < best_ms) best_ms = ms;
  }

  uint64_t started = 0, reserved = 0, cores = 0, node_allocs = 0;
  std::map<std::string, uint64_t> reasons;
  for (const Decision& d : decisions) {
    if (d.kind == Decision::Kind::kStart) {
      ++started;
      for (const auto& a : d.allocation) {
        cores += a.cores.size();
        ++node_allocs;
      }
    } else {
      if (d.kind == Decision::Kind::kReserve) ++reserved;
      ++reasons[d.reason];
    }
  }
  std::printf(
      "decisions=%zu started=%llu node_allocations=%llu cores_allocated=%llu (%.1f%% of free)\n",
      decisions.size(), static_cast<unsigned long long>(started),
      static_cast<unsigned long long>(node_allocs), static_cast<unsigned long long>(cores),
      free_cores ? 100.0 * static_cast<double>(cores) / static_cast<double>(free_cores) : 0.0);
  std::printf("reserved=%llu\n", static_cast<unsigned long long>(reserved));
  for (const auto& [reason, count] : reasons) {
    std::printf("pending %s=%llu\n", reason.c_str(), static_cast<unsigned long long>(count));
  }
  std::printf("pending=%u nodes=%u started=%llu us_per_job=%.2f pass_ms=%.1f\n", pending, nodes,
              static_cast<unsigned long long>(started), pending ? best_ms * 1000.0 / pending : 0.0,
              best_ms);
  return decisions.size() == pending ? 0 : 1;
}
