#include "cli/slurm/job_filter.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "cli/slurm/slurm_fields.hpp"
#include "common/job_spec.hpp"

namespace locus::slurm {
namespace {

int64_t localMidnight(int64_t now) {
  time_t t = static_cast<time_t>(now);
  struct tm tm {};
  localtime_r(&t, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&tm));
}

// A non-negative decimal of at most `max_digits` digits (no sign, no spaces).
bool parseInt(std::string_view s, int64_t& out, size_t max_digits = 9) {
  if (s.empty() || s.size() > max_digits) return false;
  out = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

bool parseInt(std::string_view s, int& out) {
  int64_t v = 0;
  if (!parseInt(s, v)) return false;
  out = static_cast<int>(v);
  return true;
}

// The valid states, for error messages: "PENDING (PD), RUNNING (R), ...".
std::string validStates() {
  std::string out;
  for (int i = 0; i <= static_cast<int>(JobState::kSuspended); ++i) {
    const auto s = static_cast<JobState>(i);
    out += (out.empty() ? "" : ", ") + std::string(toString(s)) + " (" + std::string(shortCode(s)) +
           ")";
  }
  return out;
}

}  // namespace

Result<int64_t> parseSacctTime(std::string_view text, int64_t now) {
  std::string t(text);
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto bad = [&] { return invalidArgument("Invalid time specification: " + std::string(text)); };
  if (t == "now") return now;
  if (t == "today" || t == "midnight") return localMidnight(now);
  if (t == "noon") return localMidnight(now) + 12 * 3600;
  // Unix seconds: 9 digits and more are after 1973 and longer than any MMDDYY-like form.
  if (int64_t epoch = 0; t.size() >= 9 && parseInt(t, epoch, 12)) return epoch;
  if (t.rfind("now", 0) == 0 && t.size() > 4 && (t[3] == '-' || t[3] == '+')) {
    size_t i = 4;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    int64_t n = 0;
    if (!parseInt(std::string_view(t).substr(4, i - 4), n)) return bad();
    std::string unit = t.substr(i);
    int64_t mult = 1;
    if (unit.empty() || unit == "s" || unit == "second" || unit == "seconds")
      mult = 1;
    else if (unit == "minute" || unit == "minutes" || unit == "min")
      mult = 60;
    else if (unit == "hour" || unit == "hours" || unit == "h")
      mult = 3600;
    else if (unit == "day" || unit == "days" || unit == "d")
      mult = 86400;
    else if (unit == "week" || unit == "weeks" || unit == "w")
      mult = 7 * 86400;
    else
      return bad();
    return t[3] == '-' ? now - n * mult : now + n * mult;
  }
  time_t nt = static_cast<time_t>(now);
  struct tm tm {};
  localtime_r(&nt, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  std::string date = t, clock;
  if (auto tpos = t.find('t'); tpos != std::string::npos) {
    date = t.substr(0, tpos);
    clock = t.substr(tpos + 1);
  } else if (t.find(':') != std::string::npos) {
    date.clear();
    clock = t;
  }
  if (!date.empty()) {
    auto dash = splitList(date, '-');
    auto slash = splitList(date, '/');
    int y = 0, m = 0, d = 0;
    if (dash.size() == 3 && parseInt(dash[0], y) && parseInt(dash[1], m) && parseInt(dash[2], d)) {
      tm.tm_year = y - 1900;
    } else if ((slash.size() == 2 || slash.size() == 3) && parseInt(slash[0], m) &&
               parseInt(slash[1], d)) {
      if (slash.size() == 3) {
        if (!parseInt(slash[2], y)) return bad();
        tm.tm_year = (y < 100 ? y + 2000 : y) - 1900;
      }
    } else {
      return bad();
    }
    if (m < 1 || m > 12 || d < 1 || d > 31) return bad();
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
  }
  if (!clock.empty()) {
    auto parts = splitList(clock, ':');
    int h = 0, mi = 0, s = 0;
    if (parts.size() < 2 || parts.size() > 3 || !parseInt(parts[0], h) || !parseInt(parts[1], mi) ||
        (parts.size() == 3 && !parseInt(parts[2], s)) || h > 23 || mi > 59 || s > 59)
      return bad();
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
  }
  if (date.empty() && clock.empty()) return bad();
  tm.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&tm));
}

Result<std::vector<std::string>> parseJobStates(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const auto& w : words) {
    auto st = jobStateFromString(w);
    if (!st) return invalidArgument("invalid job state '" + w + "' (valid: " + validStates() + ")");
    std::string name(toString(*st));
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
}

int64_t windowStart(const JobFilter& filter, int64_t now) {
  return filter.start.value_or(filter.jobs.empty() ? localMidnight(now) : 0);
}

int64_t windowEnd(const JobFilter& filter, int64_t now) { return filter.end.value_or(now); }

Status checkWindow(const JobFilter& filter, int64_t now) {
  const int64_t start = windowStart(filter, now), end = windowEnd(filter, now);
  if (start > end)
    return invalidArgument("start time " + timestamp(start, "") + " is after end time " +
                           timestamp(end, ""));
  return {};
}

bool jobSelected(const proto::JobInfo& job, const JobFilter& filter, int64_t now) {
  auto any = [](const std::vector<std::string>& list, auto&& pred) {
    return std::any_of(list.begin(), list.end(), pred);
  };
  if (!filter.jobs.empty() &&
      !any(filter.jobs, [&](const std::string& j) { return jobMatches(job, j); }))
    return false;
  if (!filter.users.empty() && !any(filter.users, [&](const std::string& u) {
        return u == job.user() || u == std::to_string(job.uid());
      }))
    return false;
  if (!filter.accounts.empty() && std::find(filter.accounts.begin(), filter.accounts.end(),
                                            job.account()) == filter.accounts.end())
    return false;
  if (!filter.states.empty() &&
      std::find(filter.states.begin(), filter.states.end(), job.state()) == filter.states.end())
    return false;
  if (job.submit_time() > windowEnd(filter, now)) return false;
  if (job.end_time() > 0 && job.end_time() < windowStart(filter, now)) return false;
  return true;
}

}  // namespace locus::slurm
