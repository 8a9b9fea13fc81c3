// locus.toml: parseConfig (toml++ underneath, then every section's own checks: time limits,
// memory sizes, hostlists of [[node]] and [[pool]]), and for an accepted file the switch tree
// the controller builds from its [[switch]] tables at start.
#include <string>

#include "common/config.hpp"
#include "locality/switch_tree.hpp"
#include "tests/fuzz/fuzz_target.hpp"

LOCUS_FUZZ_TARGET(config) {
  auto config = locus::parseConfig(input, "fuzz.toml");
  if (!config.ok()) {
    FUZZ_CHECK(config.error().message.rfind("fuzz.toml", 0) == 0,
               "error does not name the file: " + config.error().message);
    return;
  }
  (void)locus::locality::buildSwitchTree(config->switches, config->configuredNodeNames());
  FUZZ_CHECK(config->locality.wait_node_ms >= 0 && config->locality.wait_rack_ms >= 0,
             "negative locality wait");
  // NaN compares false, so it fails these as a violation.
  const locus::PriorityConfig& p = config->priority;
  FUZZ_CHECK(p.billing_per_cpu >= 0 && p.billing_per_mem_gb >= 0 && p.billing_per_gpu >= 0,
             "negative or NaN billing accepted");
}
