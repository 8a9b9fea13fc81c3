// Parsers for the value formats Slurm users type. Each parser returns a bare reason ("invalid size
// 'abc'"); callers that know which option the value came from prefix it ("--mem: ...").
#include "common/slurm_formats.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <charconv>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace locus {
namespace {

// A hostlist that expands to more names than this is a typo ("n[1-100000000]"), not a cluster.
constexpr size_t kMaxHostlistHosts = 1'000'000;
// Fields longer than this cannot be a sensible count or duration and would overflow on the way.
constexpr size_t kMaxNumberDigits = 9;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), isDigit);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// Digits only, no sign, at most kMaxNumberDigits digits (so it always fits).
std::optional<uint32_t> parseSmallNumber(std::string_view s) {
  if (!allDigits(s) || s.size() > kMaxNumberDigits) return std::nullopt;
  uint32_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string inQuotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string zeroPad(uint64_t v, size_t width) {
  std::string digits = std::to_string(v);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

}  // namespace

// ---- time limits ----------------------------------------------------------------------------

Result<int64_t> parseTimeLimit(std::string_view text) {
  auto bad = [&] {
    return invalidArgument("invalid time " + inQuotes(text) +
                           " (use MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)");
  };
  if (equalsIgnoreCase(text, "UNLIMITED") || equalsIgnoreCase(text, "INFINITE")) return int64_t{0};

  int64_t days = 0;
  std::string_view clock = text;
  bool has_days = false;
  if (size_t dash = text.find('-'); dash != std::string_view::npos) {
    // "D-HH[:MM[:SS]]". A leading '-' (negative) leaves the day field empty and is rejected.
    auto d = parseSmallNumber(text.substr(0, dash));
    if (!d) return bad();
    days = *d;
    clock = text.substr(dash + 1);
    has_days = true;
  }
  std::vector<int64_t> fields;
  for (std::string_view f : split(clock, ':')) {
    auto v = parseSmallNumber(f);
    if (!v) return bad();
    fields.push_back(*v);
  }
  // Like Slurm, only the shape is checked, not the ranges: "90" minutes and "0-36" hours are fine.
  if (has_days) {
    // "D-HH", "D-HH:MM", "D-HH:MM:SS": the fields fill from hours down.
    if (fields.size() > 3) return bad();
    fields.resize(3, 0);
    return days * 86400 + fields[0] * 3600 + fields[1] * 60 + fields[2];
  }
  switch (fields.size()) {
    case 1:  // "MM"
      return fields[0] * 60;
    case 2:  // "MM:SS"
      return fields[0] * 60 + fields[1];
    case 3:  // "HH:MM:SS"
      return fields[0] * 3600 + fields[1] * 60 + fields[2];
    default:
      return bad();
  }
}

std::string formatDuration(int64_t seconds) {
  if (seconds < 0) {
    // Only reachable through clock skew or a bug upstream; keep it visible rather than wrapping.
    uint64_t magnitude = 0 - static_cast<uint64_t>(seconds);
    if (magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      magnitude = std::numeric_limits<int64_t>::max();
    }
    return "-" + formatDuration(static_cast<int64_t>(magnitude));
  }
  int64_t days = seconds / 86400;
  int64_t rest = seconds % 86400;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(rest / 3600),
                static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  if (days == 0) return buf;
  return std::to_string(days) + "-" + buf;
}

std::string formatElapsed(int64_t s) {
  s = std::max<int64_t>(0, s);
  char buf[48];
  if (s >= 86400) return formatDuration(s);
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

// ---- memory -----------------------------------------------------------------------------------

Result<uint64_t> parseMemoryMb(std::string_view text) {
  auto bad = [&] { return invalidArgument("invalid size " + inQuotes(text)); };
  size_t n = 0;
  while (n < text.size() && isDigit(text[n])) ++n;
  if (n == 0 || n > 18) return bad();  // 18 digits fit in uint64_t before the multiplication
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + n, value);

  // Work in KiB so that "100K" can round up to a whole MB. A trailing "B" ("4GB") is accepted as a
  // courtesy; sbatch only takes the single letter.
  std::string_view suffix = text.substr(n);
  if (suffix.size() == 2 && lower(suffix[1]) == 'b') suffix = suffix.substr(0, 1);
  uint64_t kib_per_unit = 0;
  if (suffix.empty()) {
    kib_per_unit = 1024;  // a bare number is MB, Slurm's default unit
  } else if (suffix.size() == 1) {
    switch (lower(suffix[0])) {
      case 'k':
        kib_per_unit = 1;
        break;
      case 'm':
        kib_per_unit = 1024;
        break;
      case 'g':
        kib_per_unit = 1024 * 1024;
        break;
      case 't':
        kib_per_unit = 1024ull * 1024 * 1024;
        break;
      default:
        return bad();
    }
  } else {
    return bad();
  }
  if (value > std::numeric_limits<uint64_t>::max() / kib_per_unit) {
    return invalidArgument("size too large " + inQuotes(text));
  }
  uint64_t kib = value * kib_per_unit;
  return kib / 1024 + (kib % 1024 != 0 ? 1 : 0);
}

// ---- job arrays -------------------------------------------------------------------------------

Result<ArraySpec> parseArraySpec(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return invalidArgument("invalid array spec " + inQuotes(text) + ": " + std::string(why));
  };
  ArraySpec spec;
  std::string_view body = text;
  if (size_t pct = body.find('%'); pct != std::string_view::npos) {
    auto limit = parseSmallNumber(body.substr(pct + 1));
    if (!limit) return bad("the limit after '%' must be a number");
    if (*limit == 0) return bad("the limit after '%' must be at least 1");
    spec.max_running = *limit;
    body = body.substr(0, pct);
  }
  // sbatch also takes the index list in brackets ("[0-4]"), as hostlists are written.
  if (body.size() >= 2 && body.front() == '[' && body.back() == ']') {
    body = body.substr(1, body.size() - 2);
  }
  if (body.empty()) return bad("no indices");

  struct Range {
    uint32_t lo, hi, step;
  };
  std::vector<Range> ranges;
  uint32_t max_hi = 0;
  for (std::string_view element : split(body, ',')) {
    if (element.empty()) return bad("empty element");
    uint32_t step = 1;
    if (size_t colon = element.find(':'); colon != std::string_view::npos) {
      auto s = parseSmallNumber(element.substr(colon + 1));
      if (!s || *s == 0) return bad("the step after ':' must be a number of at least 1");
      step = *s;
      element = element.substr(0, colon);
    }
    std::string_view lo_text = element, hi_text = element;
    if (size_t dash = element.find('-'); dash != std::string_view::npos) {
      lo_text = element.substr(0, dash);
      hi_text = element.substr(dash + 1);
    } else if (step != 1) {
      return bad("a step needs a range (\"0-15:4\")");
    }
    auto lo = parseSmallNumber(lo_text);
    auto hi = parseSmallNumber(hi_text);
    if (!lo || !hi) return bad("indices must be non-negative numbers");
    if (*lo > *hi) return bad("range " + std::string(element) + " is reversed");
    if (*hi > kMaxArrayIndex) {
      return bad("index " + std::to_string(*hi) + " is above the maximum " +
                 std::to_string(kMaxArrayIndex));
    }
    ranges.push_back({*lo, *hi, step});
    max_hi = std::max(max_hi, *hi);
  }
  // A bitmap bounded by kMaxArrayIndex dedups overlapping elements ("1-5,3") and sorts for free.
  std::vector<bool> present(static_cast<size_t>(max_hi) + 1, false);
  size_t count = 0;
  for (const Range& r : ranges) {
    for (uint64_t i = r.lo; i <= r.hi; i += r.step) {
      if (!present[i]) {
        present[i] = true;
        if (++count > kMaxArrayTasks) {
          return bad("more than " + std::to_string(kMaxArrayTasks) + " tasks");
        }
      }
    }
  }
  spec.indices.reserve(count);
  for (uint32_t i = 0; i <= max_hi; ++i) {
    if (present[i]) spec.indices.push_back(i);
  }
  return spec;
}

// ---- hostlists --------------------------------------------------------------------------------
//
// Expansion handles any number of bracket groups, each a comma list of numbers or ranges; the
// width of a range's low end sets the zero padding:
//   "n[01-03,10],gpu1"  -> n01 n02 n03 n10 gpu1
//   "r[1-2]n[1-2]"      -> r1n1 r1n2 r2n1 r2n2

namespace {

// Expands one element with no top-level comma (brackets may contain commas) into `out`.
Status expandElement(std::string_view element, std::string prefix, std::vector<std::string>& out,
                     std::string_view whole) {
  auto bad = [&](std::string_view why) {
    return Status(invalidArgument("invalid hostlist " + inQuotes(whole) + ": " + std::string(why)));
  };
  size_t open = element.find('[');
  if (open == std::string_view::npos) {
    if (element.find(']') != std::string_view::npos) return bad("unbalanced ']'");
    prefix += element;
    if (out.size() >= kMaxHostlistHosts) return bad("too many hosts");
    out.push_back(std::move(prefix));
    return {};
  }
  size_t close = element.find(']', open);
  if (close == std::string_view::npos) return bad("unbalanced '['");
  std::string_view head = element.substr(0, open);
  if (head.find(']') != std::string_view::npos) return bad("unbalanced ']'");
  std::string_view inside = element.substr(open + 1, close - open - 1);
  if (inside.find('[') != std::string_view::npos) return bad("nested '['");
  std::string_view tail = element.substr(close + 1);
  if (inside.empty()) return bad("empty brackets");

  prefix += head;
  for (std::string_view part : split(inside, ',')) {
    std::string_view lo_text = part, hi_text = part;
    if (size_t dash = part.find('-'); dash != std::string_view::npos) {
      lo_text = part.substr(0, dash);
      hi_text = part.substr(dash + 1);
    }
    auto lo = parseSmallNumber(lo_text);
    auto hi = parseSmallNumber(hi_text);
    if (!lo || !hi) return bad("'" + std::string(part) + "' is not a number or range");
    if (*lo > *hi) return bad("range " + std::string(part) + " is reversed");
    if (*hi - *lo >= kMaxHostlistHosts) return bad("too many hosts");
    for (uint64_t i = *lo; i <= *hi; ++i) {
      if (Status st = expandElement(tail, prefix + zeroPad(i, lo_text.size()), out, whole);
          !st.ok()) {
        return st;
      }
    }
  }
  return {};
}

// "n007" -> {"n", "007"}; "gpu" -> {"gpu", ""}; an all-digit name has no usable prefix.
struct SplitHost {
  std::string_view prefix, digits;
};
SplitHost splitHost(std::string_view host) {
  size_t end = host.size();
  while (end > 0 && isDigit(host[end - 1])) --end;
  if (end == 0 || host.size() - end > kMaxNumberDigits ||
      host.find_first_of("[],") != std::string_view::npos) {
    return {host, {}};
  }
  return {host.substr(0, end), host.substr(end)};
}

bool isZeroPadded(std::string_view digits) { return digits.size() > 1 && digits[0] == '0'; }

}  // namespace

Result<std::vector<std::string>> expandHostlist(std::string_view text) {
  std::vector<std::string> out;
  // Split on commas that are outside brackets.
  size_t depth = 0, start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '[') ++depth;
    if (i < text.size() && text[i] == ']') {
      if (depth == 0)
        return invalidArgument("invalid hostlist " + inQuotes(text) + ": unbalanced ']'");
      --depth;
    }
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      std::string_view element = text.substr(start, i - start);
      if (element.empty())
        return invalidArgument("invalid hostlist " + inQuotes(text) + ": empty name");
      if (Status st = expandElement(element, "", out, text); !st.ok()) return st.error();
      start = i + 1;
    }
  }
  return out;
}

std::string compressHostlist(const std::vector<std::string>& hosts) {
  // A run is a maximal stretch of adjacent hosts that share a prefix and a compatible zero
  // padding; it prints as prefix[ranges]. Order is kept, so {n3,n1} gives "n[3,1]" and
  // {n1,gpu1,n2} gives "n1,gpu1,n2". Padding: "n099,n100" shares width 3 -> "n[099-100]", but
  // "n1,n01" cannot share one width and stays two runs.
  struct Run {
    std::string_view prefix;
    size_t width = 0;    // 0 = unpadded; else every number prints with this many digits
    size_t min_len = 0;  // shortest digit string in the run
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    std::string plain;  // set for a host without a numeric suffix
  };
  std::vector<Run> runs;
  for (const std::string& host : hosts) {
    SplitHost sh = splitHost(host);
    if (sh.digits.empty()) {
      Run plain;
      plain.plain = host;
      runs.push_back(std::move(plain));
      continue;
    }
    uint32_t num = *parseSmallNumber(sh.digits);
    bool padded = isZeroPadded(sh.digits);
    Run* run = runs.empty() ? nullptr : &runs.back();
    bool joins = run != nullptr && run->plain.empty() && run->prefix == sh.prefix &&
                 (padded ? (run->width == sh.digits.size() ||
                            (run->width == 0 && run->min_len >= sh.digits.size()))
                         : sh.digits.size() >= run->width);
    if (!joins) {
      Run fresh;
      fresh.prefix = sh.prefix;
      fresh.width = padded ? sh.digits.size() : 0;
      fresh.min_len = sh.digits.size();
      fresh.ranges = {{num, num}};
      runs.push_back(std::move(fresh));
      continue;
    }
    if (padded) run->width = sh.digits.size();
    run->min_len = std::min(run->min_len, sh.digits.size());
    if (run->ranges.back().second + 1 == num && run->ranges.back().second != UINT32_MAX) {
      run->ranges.back().second = num;
    } else {
      run->ranges.push_back({num, num});
    }
  }

  std::string out;
  for (const Run& run : runs) {
    if (!out.empty()) out += ',';
    if (!run.plain.empty()) {
      out += run.plain;
      continue;
    }
    out += run.prefix;
    bool single = run.ranges.size() == 1 && run.ranges[0].first == run.ranges[0].second;
    if (!single) out += '[';
    for (size_t i = 0; i < run.ranges.size(); ++i) {
      if (i > 0) out += ',';
      out += zeroPad(run.ranges[i].first, run.width);
      if (run.ranges[i].second != run.ranges[i].first) {
        out += '-';
        out += zeroPad(run.ranges[i].second, run.width);
      }
    }
    if (!single) out += ']';
  }
  return out;
}

// ---- output patterns --------------------------------------------------------------------------

std::string expandOutputPattern(std::string_view pattern, const PatternContext& ctx) {
  // Slurm's "%<digits><letter>" zero-pads numeric fields: "%4a" with task 7 -> "0007".
  constexpr uint32_t kNoArrayTask = 4294967294u;  // what Slurm prints for %a outside an array
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      out += pattern[i];
      continue;
    }
    size_t j = i + 1;
    while (j < pattern.size() && isDigit(pattern[j]) && j - i <= 2) ++j;
    if (j >= pattern.size()) {  // a trailing "%" or "%4": nothing to expand
      out += pattern.substr(i);
      break;
    }
    size_t width = 0;
    std::from_chars(pattern.data() + i + 1, pattern.data() + j, width);
    switch (pattern[j]) {
      case '%':
        out += '%';
        break;
      case 'j':
        out += zeroPad(ctx.job_id, width);
        break;
      case 'A':
        out += zeroPad(ctx.array_job_id != 0 ? ctx.array_job_id : ctx.job_id, width);
        break;
      case 'a':
        out += zeroPad(ctx.array_task_id.value_or(kNoArrayTask), width);
        break;
      case 'N':
        out += ctx.node;
        break;
      case 'u':
        out += ctx.user;
        break;
      case 'x':
        out += ctx.job_name;
        break;
      default:
        out += pattern.substr(i, j - i + 1);
        break;  // unknown: kept verbatim
    }
    i = j;
  }
  return out;
}

Result<int> parseSignal(std::string_view text) {
  static const std::pair<const char*, int> kNames[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT}, {"KILL", SIGKILL},
      {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
      {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"URG", SIGURG},
      {"XCPU", SIGXCPU}, {"WINCH", SIGWINCH}};
  std::string upper;
  for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("SIG", 0) == 0) upper.erase(0, 3);
  for (const auto& [name, number] : kNames)
    if (upper == name) return number;
  int n = 0;
  auto [end, ec] = std::from_chars(upper.data(), upper.data() + upper.size(), n);
  if (ec == std::errc() && end == upper.data() + upper.size() && n >= 1 && n <= 64) return n;
  return invalidArgument("invalid signal '" + std::string(text) + "'");
}

}  // namespace locus
