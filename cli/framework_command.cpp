// locus frameworks [--json]: the frameworks the controller knows (connected, or disconnected and
// within their failover timeout), their leases and what they hold (docs/frameworks.md).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/framework_client.hpp"
#include "common/time_util.hpp"

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
    for (const auto& f : reply->frameworks()) {
      nlohmann::json leases = nlohmann::json::array();
      for (const auto& l : f.leases())
        leases.push_back({{"id", l.id()},
                          {"request_id", l.request_id()},
                          {"state", l.state()},
                          {"node", l.node()},
                          {"rack", l.rack()},
                          {"cpus", l.cpus()},
                          {"mem_mb", l.mem_mb()},
                          {"gpus", l.gpus_size()},
                          {"locality", l.locality()},
                          {"tasks_running", l.tasks_running()}});
      out.push_back({{"name", f.name()},
                     {"user", f.user()},
                     {"account", f.account()},
                     {"mode", f.mode()},
                     {"weight", f.weight()},
                     {"connected", f.connected()},
                     {"disconnected_at", f.connected() ? nlohmann::json(nullptr)
                                                       : nlohmann::json(formatRfc3339(f.disconnected_at()))},
                     {"failover_timeout_s", f.failover_timeout_s()},
                     {"leases", leases},
                     {"pending_leases", f.pending_leases()},
                     {"tasks_launched", f.tasks_launched()},
                     {"usage", {{"cpus", f.cpus()}, {"mem_mb", f.mem_mb()}, {"gpus", f.gpus()}, {"billing", f.billing()}}}});
    }
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
