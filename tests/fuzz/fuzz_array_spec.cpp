// --array specs ("1-100%10", "0-15:4", "[1,3,5]"): parseArraySpec. What it accepts is within
// its documented bounds, in ascending order without duplicates (the controller creates one
// task per index).
#include <string>

#include "common/slurm_formats.hpp"
#include "tests/fuzz/fuzz_target.hpp"

LOCUS_FUZZ_TARGET(array_spec) {
  auto spec = locus::parseArraySpec(input);
  if (!spec.ok()) return;
  const std::string in(input);
  FUZZ_CHECK(!spec->indices.empty(), "no index from '" + in + "'");
  FUZZ_CHECK(spec->indices.size() <= locus::kMaxArrayTasks, "too many tasks from '" + in + "'");
  for (size_t i = 0; i < spec->indices.size(); ++i) {
    FUZZ_CHECK(spec->indices[i] <= locus::kMaxArrayIndex, "index too high from '" + in + "'");
    FUZZ_CHECK(i == 0 || spec->indices[i - 1] < spec->indices[i],
               "indices not strictly ascending from '" + in + "'");
  }
}
