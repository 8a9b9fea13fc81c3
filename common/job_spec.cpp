#include "common/job_spec.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace locus {
namespace {
constexpr std::array<std::pair<JobState, std::string_view>, 9> kStateNames{{
    {JobState::kPending, "PENDING"},
    {JobState::kRunning, "RUNNING"},
    {JobState::kCompleted, "COMPLETED"},
    {JobState::kFailed, "FAILED"},
    {JobState::kCancelled, "CANCELLED"},
    {JobState::kTimeout, "TIMEOUT"},
    {JobState::kNodeFail, "NODE_FAIL"},
    {JobState::kOutOfMemory, "OUT_OF_MEMORY"},
    {JobState::kSuspended, "SUSPENDED"},
}};
// Slurm's compact state codes (squeue %t), and what `locus queue -t` accepts.
constexpr std::array<std::pair<std::string_view, JobState>, 9> kShort{{
    {"PD", JobState::kPending}, {"R", JobState::kRunning}, {"CD", JobState::kCompleted},
    {"F", JobState::kFailed}, {"CA", JobState::kCancelled}, {"TO", JobState::kTimeout},
    {"NF", JobState::kNodeFail}, {"OOM", JobState::kOutOfMemory}, {"S", JobState::kSuspended}}};
}  // namespace

std::string_view shortCode(JobState s) {
  for (const auto& [code, state] : kShort)
    if (state == s) return code;
  return "?";
}

std::string_view toString(JobState s) {
  for (const auto& [state, name] : kStateNames)
    if (state == s) return name;
  return "UNKNOWN";
}

std::optional<JobState> jobStateFromString(std::string_view s) {
  std::string upper(s);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  // Slurm's short codes too, since scripts use them with squeue -t.
  for (const auto& [state, name] : kStateNames)
    if (name == upper) return state;
  for (const auto& [name, state] : kShort)
    if (name == upper) return state;
  return std::nullopt;
}

bool isTerminal(JobState s) {
  return s != JobState::kPending && s != JobState::kRunning && s != JobState::kSuspended;
}

}  // namespace locus
