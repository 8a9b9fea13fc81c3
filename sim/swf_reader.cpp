#include "sim/swf_reader.hpp"

#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>

namespace locus::sim {
namespace {

constexpr size_t kFields = 18;
constexpr size_t kMaxProblems = 100;  // a broken file must not flood the report
constexpr size_t kReadChunk = 1 << 20;

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

void problem(SwfTrace& trace, size_t line, const std::string& what) {
  ++trace.malformed;
  if (trace.problems.size() < kMaxProblems) {
    trace.problems.push_back("line " + std::to_string(line) + ": " + what);
  }
}

// "; MaxNodes: 128" -> the value of the keys we size the cluster by.
void parseHeader(std::string_view line, SwfTrace& trace) {
  line = trim(line.substr(1));
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const std::string_view key = trim(line.substr(0, colon));
  const std::string_view value = trim(line.substr(colon + 1));
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || v <= 0) return;
  if (key == "MaxNodes") trace.max_nodes = v;
  if (key == "MaxProcs") trace.max_procs = v;
}

void parseJob(std::string_view line, size_t number, SwfTrace& trace) {
  double f[kFields];
  size_t n = 0;
  const char* p = line.data();
  const char* end = p + line.size();
  while (true) {
    while (p < end && isSpace(*p)) ++p;
    if (p == end) break;
    if (n == kFields) {
      problem(trace, number, "more than 18 fields");
      return;
    }
    const char* start = p;
    while (p < end && !isSpace(*p)) ++p;
    double v = 0;
    const auto [stop, ec] = std::from_chars(start, p, v);
    if (ec != std::errc() || stop != p || !std::isfinite(v)) {
      problem(
          trace, number,
          "field " + std::to_string(n + 1) + " is not a number: '" + std::string(start, p) + "'");
      return;
    }
    f[n++] = v;
  }
  if (n != kFields) {
    problem(trace, number, "expected 18 fields, found " + std::to_string(n));
    return;
  }
  auto i = [&](size_t k) { return static_cast<int64_t>(std::llround(f[k])); };
  SwfJob j;
  j.id = i(0);
  j.submit = i(1);
  j.wait = i(2);
  j.run = i(3);
  j.procs = i(4);
  j.avg_cpu = f[5];
  j.mem = i(6);
  j.req_procs = i(7);
  j.req_time = i(8);
  j.req_mem = i(9);
  j.status = i(10);
  j.user = i(11);
  j.group = i(12);
  j.executable = i(13);
  j.queue = i(14);
  j.partition = i(15);
  j.preceding_job = i(16);
  j.think_time = i(17);
  trace.jobs.push_back(j);
}

}  // namespace

void parseSwf(std::string_view text, SwfTrace& trace, size_t first_line) {
  size_t number = first_line;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty()) {
      if (line.front() == ';') {
        parseHeader(line, trace);
      } else {
        parseJob(line, number, trace);
      }
    }
    ++number;
  }
}

Result<SwfTrace> readSwf(const std::string& path) {
  // gzread passes uncompressed files through unchanged, so one path serves both.
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file) {
    return notFound("cannot open trace " + path + ": " + std::strerror(errno));
  }
  gzbuffer(file.get(), 1 << 17);
  SwfTrace trace;
  std::string pending;  // the incomplete last line of the previous chunk
  std::vector<char> chunk(kReadChunk);
  size_t line = 1;
  while (true) {
    const int got = gzread(file.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      return invalidArgument("cannot read trace " + path + ": " + message);
    }
    if (got == 0) break;
    pending.append(chunk.data(), static_cast<size_t>(got));
    const size_t last_nl = pending.rfind('\n');
    if (last_nl == std::string::npos) continue;
    const std::string_view complete(pending.data(), last_nl + 1);
    parseSwf(complete, trace, line);
    for (char c : complete) line += c == '\n';
    pending.erase(0, last_nl + 1);
  }
  parseSwf(pending, trace, line);
  return trace;
}

}  // namespace locus::sim
