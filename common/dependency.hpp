#pragma once
// Job dependencies in sbatch's syntax: "afterok:12:13,afterany:14", "afternotok:7?afterok:8",
// "singleton". Terms joined by ',' must all hold; joined by '?' any one suffices (no mixing).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/job_spec.hpp"
#include "common/result.hpp"

namespace locus {

struct DependencyTerm {
  enum class Kind {
    kAfter,       // the job has started (or ended)
    kAfterAny,    // the job has ended, any way
    kAfterOk,     // the job COMPLETED
    kAfterNotOk,  // the job ended in any other state
    kSingleton,   // no earlier job of the same name and user is still pending or running
  };
  Kind kind = Kind::kAfterAny;
  std::vector<uint64_t> job_ids;  // empty for kSingleton
  // Set by the controller for a job that ended long ago (no longer in memory) and cannot satisfy
  // the term; one that did was dropped from job_ids.
  bool never = false;
};

struct Dependency {
  std::vector<DependencyTerm> terms;
  bool any = false;  // '?': one satisfied term suffices
};

// Errors name the offending part: "--dependency: unknown type 'afterwards'".
Result<Dependency> parseDependency(std::string_view text);

// Whether one term holds for one job in `state` (started: it has run at some point).
enum class DependencyVerdict { kSatisfied, kWaiting, kNever };
DependencyVerdict evaluateTerm(DependencyTerm::Kind kind, JobState state, bool started);

}  // namespace locus
