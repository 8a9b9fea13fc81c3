#include "common/profile_request.hpp"

#include <charconv>

namespace locus {

Result<std::string> normalizeProfile(std::string_view value) {
  bool task = false, gpu = false, none = false;
  for (size_t start = 0; start <= value.size();) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    const std::string_view word = value.substr(start, comma - start);
    if (word == "task")
      task = true;
    else if (word == "gpu")
      gpu = true;
    else if (word == "all")
      task = gpu = true;
    else if (word == "none")
      none = true;
    else if (!(word.empty() && value.empty()))
      return invalidArgument("--profile: unknown type '" + std::string(word) +
                             "' (expected none, task, gpu or all, comma-separated)");
    start = comma + 1;
  }
  if (none && (task || gpu))
    return invalidArgument("--profile: 'none' cannot be combined with other types");
  if (gpu) return std::string("task,gpu");
  if (task) return std::string("task");
  return std::string();
}

Result<uint32_t> parseProfileInterval(std::string_view value) {
  std::string_view digits = value;
  if (!digits.empty() && digits.back() == 's') digits.remove_suffix(1);
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || v < 1 ||
      v > kMaxProfileIntervalS)
    return invalidArgument("--profile-interval: invalid interval '" + std::string(value) +
                           "' (whole seconds, 1 to " + std::to_string(kMaxProfileIntervalS) + ")");
  return v;
}

}  // namespace locus
