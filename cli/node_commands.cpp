// locus nodes
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"

namespace locus::cli {

namespace {

// The switch tree with free/total cores and nodes up per subtree, and GPUs where there are any:
//   spine            cores 40/64 free  nodes 4/4 up  gpus 6/8 free
//     leaf1          cores 24/32 free  nodes 2/2 up  gpus 2/4 free
//       n1 UP 12/16 cores free, 0/2 GPUs free
int printTopology(const proto::ListNodesReply& reply) {
  std::map<std::string, const proto::NodeInfo*> by_name;
  for (const auto& n : reply.nodes()) by_name[n.name()] = &n;
  const int count = reply.switches_size();
  std::vector<std::vector<int>> children(count);
  int root = -1;
  for (int i = 0; i < count; ++i) {
    if (reply.switches(i).parent() < 0) root = i;
    else children[reply.switches(i).parent()].push_back(i);
  }
  struct Totals {
    uint64_t free = 0, total = 0, up = 0, nodes = 0, gpus_free = 0, gpus = 0;
  };
  std::function<Totals(int)> totals = [&](int s) {
    Totals t;
    for (const auto& name : reply.switches(s).nodes()) {
      ++t.nodes;
      auto it = by_name.find(name);
      if (it == by_name.end()) continue;  // configured, never registered
      t.total += it->second->cpus();
      t.free += it->second->cpus() - it->second->cpus_alloc();
      t.gpus += static_cast<uint64_t>(it->second->gpus_size());
      t.gpus_free += static_cast<uint64_t>(it->second->gpus_size()) - it->second->gpus_alloc();
      if (it->second->state() == "UP") ++t.up;
    }
    for (int c : children[s]) {
      Totals sub = totals(c);
      t.free += sub.free;
      t.total += sub.total;
      t.up += sub.up;
      t.nodes += sub.nodes;
      t.gpus += sub.gpus;
      t.gpus_free += sub.gpus_free;
    }
    return t;
  };
  std::function<void(int, int)> show = [&](int s, int depth) {
    Totals t = totals(s);
    std::string name = reply.switches(s).name().empty() ? "(root)" : reply.switches(s).name();
    std::string label = std::string(static_cast<size_t>(depth) * 2, ' ') + name;
    std::string gpus = t.gpus == 0 ? "" : "  gpus " + std::to_string(t.gpus_free) + "/" + std::to_string(t.gpus) + " free";
    std::printf("%-24s cores %lu/%lu free  nodes %lu/%lu up%s\n", label.c_str(),
                static_cast<unsigned long>(t.free), static_cast<unsigned long>(t.total),
                static_cast<unsigned long>(t.up), static_cast<unsigned long>(t.nodes), gpus.c_str());
    for (int c : children[s]) show(c, depth + 1);
    for (const auto& n : reply.switches(s).nodes()) {
      auto it = by_name.find(n);
      std::string row = std::string(static_cast<size_t>(depth + 1) * 2, ' ') + n;
      if (it == by_name.end()) {
        std::printf("%-24s (never registered)\n", row.c_str());
      } else {
        const auto& node = *it->second;
        std::string gpus = node.gpus_size() == 0 ? ""
                           : ", " + std::to_string(node.gpus_size() - static_cast<int>(node.gpus_alloc())) + "/" +
                                 std::to_string(node.gpus_size()) + " GPUs free";
        std::printf("%-24s %s %u/%u cores free%s\n", row.c_str(), node.state().c_str(),
                    node.cpus() - node.cpus_alloc(), node.cpus(), gpus.c_str());
      }
    }
  };
  if (root >= 0) show(root, 0);
  // Registered nodes no switch names (the root holds them when a tree is configured).
  return 0;
}

}  // namespace

int runNodes(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  bool json = args.flag("--json");
  bool topology = args.flag("--topology");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (!rest.empty()) return fail("unexpected argument '" + rest[0] + "'", 2);
  Client client(g.controller);
  auto reply = client.listNodes();
  if (!reply.ok()) return fail(reply.error().message);
  if (topology) return printTopology(*reply);
  if (json) {
    nlohmann::json out{{"nodes", nlohmann::json::array()}};
    for (const auto& n : reply->nodes()) out["nodes"].push_back(nodeToJson(n));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%-12s %-8s %11s %15s %5s %9s %s\n", "NODE", "STATE", "CPUS(A/T)", "MEM_MB(A/T)", "NUMA",
              "GPUS(A/T)", "FEATURES");
  for (const auto& n : reply->nodes()) {
    std::string cpus = std::to_string(n.cpus_alloc()) + "/" + std::to_string(n.cpus());
    std::string mem = std::to_string(n.mem_alloc_mb()) + "/" + std::to_string(n.mem_mb());
    std::string features;
    for (const auto& f : n.features()) features += (features.empty() ? "" : ",") + f;
    std::string gpus = std::to_string(n.gpus_alloc()) + "/" + std::to_string(n.gpus_size());
    std::printf("%-12s %-8s %11s %15s %5u %9s %s\n", n.name().c_str(), n.state().c_str(), cpus.c_str(),
                mem.c_str(), n.numa_domains(), gpus.c_str(), features.empty() ? "(null)" : features.c_str());
  }
  return 0;
}

}  // namespace locus::cli
