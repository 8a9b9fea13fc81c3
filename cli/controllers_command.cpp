// locus controllers [--json]: every controller of $LOCUS_CONTROLLER (or --controller), a list
// when they share an etcd store, as each describes itself: its address, pid and whether it leads.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"

namespace locus::cli {

int runControllers(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  if (args.flag("--help") || args.flag("-h")) {
    std::puts("usage: locus controllers [--json]\n\nThe controllers of --controller / $LOCUS_CONTROLLER "
              "(a comma-separated list for a highly available cluster), and which one leads.");
    return 0;
  }
  const bool json = args.flag("--json");
  if (!args.error().empty()) return fail(args.error(), 2);
  if (!args.positionals().empty()) return fail("usage: locus controllers [--json]", 2);
  const auto all = controllerStatuses(g.controllers);
  int leaders = 0;
  for (const auto& c : all) leaders += c.reachable && c.info.leader() ? 1 : 0;
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : all) {
      nlohmann::json row = {{"address", c.address},
                            {"pid", c.reachable ? nlohmann::json(c.info.pid()) : nlohmann::json(nullptr)},
                            {"leader", c.reachable && c.info.leader()}};
      if (c.reachable) row["store"] = c.info.store();
      else row["error"] = c.error;
      out.push_back(row);
    }
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%-22s %8s %-8s %-6s %s\n", "ADDRESS", "PID", "ROLE", "STORE", "LEADER");
    for (const auto& c : all) {
      if (!c.reachable) {
        std::printf("%-22s %8s %-8s %-6s (unreachable: %s)\n", c.address.c_str(), "-", "-", "-", c.error.c_str());
        continue;
      }
      std::printf("%-22s %8lld %-8s %-6s %s\n", c.address.c_str(), static_cast<long long>(c.info.pid()),
                  c.info.leader() ? "leader" : "standby", c.info.store().c_str(), c.info.leader_address().c_str());
    }
  }
  // No controller leads: a script checking for a serving cluster must see it.
  return leaders > 0 ? 0 : 1;
}

}  // namespace locus::cli
