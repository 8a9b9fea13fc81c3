// locus nodes
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"

namespace locus::cli {

nlohmann::json nodeToJson(const proto::NodeInfo& node) {
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& g : node.gpus())
    gpus.push_back({{"index", g.index()},
                    {"name", g.name()},
                    {"uuid", g.uuid()},
                    {"memory_mb", g.memory_mb()},
                    {"numa", g.numa()},
                    {"pci_bus_id", g.pci_bus_id()},
                    {"links", nlohmann::json::array()}});
  nlohmann::json features = nlohmann::json::array();
  for (const auto& f : node.features()) features.push_back(f);
  return {{"name", node.name()},         {"state", node.state()},
          {"cpus", node.cpus()},         {"cpus_alloc", node.cpus_alloc()},
          {"mem_mb", node.mem_mb()},     {"mem_alloc_mb", node.mem_alloc_mb()},
          {"numa_domains", node.numa_domains()}, {"gpus", gpus},
          {"features", features}};
}

int runNodes(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  bool json = args.flag("--json");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (!rest.empty()) return fail("unexpected argument '" + rest[0] + "'", 2);
  Client client(g.controller);
  auto reply = client.listNodes();
  if (!reply.ok()) return fail(reply.error().message);
  if (json) {
    nlohmann::json out{{"nodes", nlohmann::json::array()}};
    for (const auto& n : reply->nodes()) out["nodes"].push_back(nodeToJson(n));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%-12s %-8s %11s %15s %5s %5s %s\n", "NODE", "STATE", "CPUS(A/T)", "MEM_MB(A/T)", "NUMA",
              "GPUS", "FEATURES");
  for (const auto& n : reply->nodes()) {
    std::string cpus = std::to_string(n.cpus_alloc()) + "/" + std::to_string(n.cpus());
    std::string mem = std::to_string(n.mem_alloc_mb()) + "/" + std::to_string(n.mem_mb());
    std::string features;
    for (const auto& f : n.features()) features += (features.empty() ? "" : ",") + f;
    std::printf("%-12s %-8s %11s %15s %5u %5d %s\n", n.name().c_str(), n.state().c_str(), cpus.c_str(),
                mem.c_str(), n.numa_domains(), n.gpus_size(), features.empty() ? "(null)" : features.c_str());
  }
  return 0;
}

}  // namespace locus::cli
