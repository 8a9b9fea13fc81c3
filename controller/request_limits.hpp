#pragma once
// Bounds on what one request may ask, checked before anything is stored: a client (or a fuzzer,
// or a runaway script) sending a negative time, a million-entry environment or a gigabyte
// script gets INVALID_ARGUMENT naming the field, not a controller that swaps, stores megabytes
// per job or overflows a count. The bounds are far above any real job (Slurm's default script
// limit is 4 MiB, for one).
#include <cstddef>
#include <cstdint>

#include "common/job_spec.hpp"
#include "common/result.hpp"

namespace locus::controller {

struct RequestLimits {
  static constexpr size_t kScriptBytes = kMaxScriptBytes;  // the CLI's bound (job_spec.hpp)
  static constexpr size_t kEnvironmentBytes = 4u << 20;   // names and values together
  static constexpr size_t kEnvironmentEntries = 100'000;
  static constexpr size_t kArgs = 10'000;
  static constexpr size_t kArgBytes = 1u << 20;           // all arguments together
  static constexpr size_t kTextBytes = 4096;              // a name, a path, a pattern, an expression
  static constexpr size_t kInputs = 1'000;
  static constexpr size_t kSubmitTokenBytes = 128;
  static constexpr uint32_t kNodes = 1'000'000;
  static constexpr uint32_t kTasks = 100'000'000;
  static constexpr uint32_t kCpusPerTask = 100'000;
  static constexpr int64_t kTimeLimitS = 100LL * 365 * 86400;  // a century: "no limit" is 0
};

// Errors: kInvalidArgument naming the field and its bound.
Status checkRequestLimits(const JobSpec& spec);

}  // namespace locus::controller
