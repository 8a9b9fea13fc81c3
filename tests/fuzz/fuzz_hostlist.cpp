// Slurm hostlists ("n[001-032,040]", "r[1-2]n[1-4],gpu01"): expandHostlist, and
// compressHostlist's output must expand back to the same names in the same order (locus.toml,
// squeue and the controller's node ranges all go through the pair).
#include <string>
#include <vector>

#include "common/slurm_formats.hpp"
#include "tests/fuzz/fuzz_target.hpp"

LOCUS_FUZZ_TARGET(hostlist) {
  auto hosts = locus::expandHostlist(input);
  if (!hosts.ok()) return;
  FUZZ_CHECK(!hosts->empty(), "no host from '" + std::string(input) + "'");
  const std::string compressed = locus::compressHostlist(*hosts);
  auto again = locus::expandHostlist(compressed);
  FUZZ_CHECK(again.ok() && *again == *hosts,
             "'" + std::string(input) + "' -> '" + compressed + "' does not expand back");
}
