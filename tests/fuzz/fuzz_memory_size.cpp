// Memory sizes ("4G", "512", "100K", "1TB"): parseMemoryMb; what it accepts is a number of MB
// that the written-out form ("<MB>M") gives back.
#include <string>

#include "common/slurm_formats.hpp"
#include "tests/fuzz/fuzz_target.hpp"

LOCUS_FUZZ_TARGET(memory_size) {
  auto mb = locus::parseMemoryMb(input);
  if (!mb.ok()) return;
  auto again = locus::parseMemoryMb(std::to_string(*mb) + "M");
  FUZZ_CHECK(again.ok() && *again == *mb,
             "'" + std::string(input) + "' -> " + std::to_string(*mb) + " MB does not read back");
}
