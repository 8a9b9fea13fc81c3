// locus frameworks [--json]: the frameworks the controller knows (connected, or disconnected and
// within their failover timeout), their leases and what they hold (docs/frameworks.md).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/framework_client.hpp"
#include "proto/json.hpp"

namespace locus::cli {

int runFrameworks(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  if (args.flag("--help") || args.flag("-h")) {
    std::puts("usage: locus frameworks [--json]\n\nLists the frameworks (FrameworkApi), their leases and usage.");
    return 0;
  }
  const bool json = args.flag("--json");
  if (!args.error().empty()) return fail(args.error(), 2);
  if (!args.positionals().empty()) return fail("usage: locus frameworks [--json]", 2);
  auto reply = listFrameworks(g.controller);
  if (!reply.ok()) return fail(reply.error().message);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& f : reply->frameworks()) out.push_back(proto::frameworkToJson(f));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (reply->frameworks_size() == 0) {
    std::puts("no frameworks");
    return 0;
  }
  std::printf("%-20s %-10s %-12s %-7s %-13s %6s %7s %5s %8s %9s %6s\n", "NAME", "USER", "ACCOUNT", "MODE", "STATE",
              "LEASES", "PENDING", "CPUS", "MEM_MB", "GPUS", "TASKS");
  for (const auto& f : reply->frameworks()) {
    const std::string state = f.connected() ? "connected" : "failover";
    std::printf("%-20s %-10s %-12s %-7s %-13s %6d %7u %5u %8llu %9u %6llu\n", f.name().c_str(), f.user().c_str(),
                f.account().c_str(), f.mode().c_str(), state.c_str(),
                f.leases_size() - static_cast<int>(f.pending_leases()), f.pending_leases(), f.cpus(),
                static_cast<unsigned long long>(f.mem_mb()), f.gpus(),
                static_cast<unsigned long long>(f.tasks_launched()));
  }
  for (const auto& f : reply->frameworks())
    for (const auto& l : f.leases())
      std::printf("  %s lease %llu %-8s %s%s cpus=%u mem=%lluMB%s tasks=%u\n", f.name().c_str(),
                  static_cast<unsigned long long>(l.id()), l.state().c_str(), l.node().empty() ? "-" : l.node().c_str(),
                  l.locality().empty() ? "" : (" (" + l.locality() + ")").c_str(), l.cpus(),
                  static_cast<unsigned long long>(l.mem_mb()),
                  l.gpus_size() > 0 ? (" gpus=" + std::to_string(l.gpus_size())).c_str() : "", l.tasks_running());
  return 0;
}

}  // namespace locus::cli
