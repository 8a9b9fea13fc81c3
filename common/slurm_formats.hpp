#pragma once
// Parsers for the value formats Slurm users type, with Slurm's semantics.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/job_spec.hpp"
#include "common/result.hpp"

namespace locus {

// Slurm time formats: "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS";
// "UNLIMITED"/"INFINITE" -> 0 (no limit). Returns seconds. Rejects "1:2:3:4", "abc", "", negatives.
Result<int64_t> parseTimeLimit(std::string_view text);
// Seconds back to Slurm's display format: "D-HH:MM:SS" when >= 1 day, else "HH:MM:SS" ("MM:SS" never).
std::string formatDuration(int64_t seconds);
// squeue's TIME column: "M:SS", "H:MM:SS", "D-HH:MM:SS"; negative counts as 0.
std::string formatElapsed(int64_t seconds);

// Memory sizes: "512" (MB, Slurm's default unit), "512M", "4G", "1T", "100K" (rounded up to 1 MB).
// Suffix case-insensitive; "abc", "", "-1", "4X" rejected. Returns megabytes.
Result<uint64_t> parseMemoryMb(std::string_view text);

// --array: "1-100", "1,3,5", "0-15:4" (step), "1-100%10" (at most 10 running). Rejects empty
// ranges, reversed ranges, indices above kMaxArrayIndex, more than kMaxArrayTasks tasks.
inline constexpr uint32_t kMaxArrayIndex = 4'000'000;
inline constexpr uint32_t kMaxArrayTasks = 100'000;
Result<ArraySpec> parseArraySpec(std::string_view text);

// Slurm hostlists: "n[1-3,7],gpu01" <-> {"n1","n2","n3","n7","gpu01"}. Zero padding is kept
// ("n[001-003]"). Compression keeps input order and merges consecutive numeric suffixes.
Result<std::vector<std::string>> expandHostlist(std::string_view text);
std::string compressHostlist(const std::vector<std::string>& hosts);

// Output file patterns (sbatch "filename pattern"): %j job id, %A array master id, %a array index,
// %N first node name, %u user, %x job name, %% a percent sign. Unknown %X kept verbatim.
struct PatternContext {
  uint64_t job_id = 0;
  uint64_t array_job_id = 0;                // 0 = not an array: %A expands like %j
  std::optional<uint32_t> array_task_id;    // unset: %a expands to 4294967294 as Slurm does
  std::string node, user, job_name;
};
std::string expandOutputPattern(std::string_view pattern, const PatternContext& ctx);

// A signal as scancel --signal and kill take it: a name with or without "SIG" in any case
// ("USR1", "sigterm") or a number 1-64. Errors (kInvalidArgument) name the text.
Result<int> parseSignal(std::string_view text);

}  // namespace locus
