// Slurm time limits ("1-12:00:00", "90", "UNLIMITED"): parseTimeLimit, and formatDuration's
// output must parse back to the same number of seconds (the controller prints limits that users
// copy into their next --time).
#include <string>

#include "common/slurm_formats.hpp"
#include "tests/fuzz/fuzz_target.hpp"

LOCUS_FUZZ_TARGET(time_limit) {
  auto seconds = locus::parseTimeLimit(input);
  if (!seconds.ok()) return;
  FUZZ_CHECK(*seconds >= 0, "negative limit from '" + std::string(input) + "'");
  const std::string shown = locus::formatDuration(*seconds);
  auto again = locus::parseTimeLimit(shown);
  FUZZ_CHECK(
      again.ok() && *again == *seconds,
      "'" + std::string(input) + "' -> " + std::to_string(*seconds) + " s -> '" + shown + "'");
  (void)locus::formatElapsed(*seconds);
}
