// Job dependencies ("afterok:12:13,afterany:14", "afternotok:7?afterok:8", "singleton"):
// parseDependency, and evaluateTerm for every kind it returns in every state.
#include <string>

#include "common/dependency.hpp"
#include "tests/fuzz/fuzz_target.hpp"

LOCUS_FUZZ_TARGET(dependency) {
  auto dep = locus::parseDependency(input);
  if (!dep.ok()) return;
  FUZZ_CHECK(!dep->terms.empty(), "no term from '" + std::string(input) + "'");
  for (const locus::DependencyTerm& term : dep->terms) {
    const bool singleton = term.kind == locus::DependencyTerm::Kind::kSingleton;
    FUZZ_CHECK(singleton == term.job_ids.empty(), "job ids wrong for '" + std::string(input) + "'");
    for (uint64_t id : term.job_ids)
      FUZZ_CHECK(id != 0, "job id 0 from '" + std::string(input) + "'");
    for (int s = 0; s <= static_cast<int>(locus::JobState::kSuspended); ++s)
      for (bool started : {false, true})
        (void)locus::evaluateTerm(term.kind, static_cast<locus::JobState>(s), started);
  }
}
