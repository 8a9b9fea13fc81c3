#pragma once
// `--profile` and `--profile-interval` (locus submit, #SBATCH/#LOCUS directives): which series a
// job's node daemons sample into its HDF5 profile (profile/profile_data.hpp), and how often.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace locus {

// The profile every daemon samples when a job gives no --profile-interval and locus.toml's
// [profile] interval_s does not say otherwise (Slurm's default task sampling is 30 s; 10 s keeps
// a short job's profile useful).
inline constexpr uint32_t kDefaultProfileIntervalS = 10;
inline constexpr uint32_t kMaxProfileIntervalS = 86400;

// A comma-separated list of types, normalized: "none" (or "") -> "" (off), "task" -> "task",
// "gpu", "task,gpu" or "all" -> "task,gpu" (GPU series come with the task series). Errors:
// kInvalidArgument naming the bad word ("--profile: unknown type 'cpu' (none, task, gpu, all)").
Result<std::string> normalizeProfile(std::string_view value);

// Whole seconds, 1..kMaxProfileIntervalS; a trailing "s" is allowed ("5s").
Result<uint32_t> parseProfileInterval(std::string_view value);

}  // namespace locus
