#include "nodedaemon/process_usage.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace locus::nodedaemon {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::optional<ProcStat> parseProcStat(std::string_view text) {
  // "PID (COMM) STATE PPID PGRP SESSION TTY TPGID FLAGS MINFLT CMINFLT MAJFLT CMAJFLT UTIME
  //  STIME CUTIME CSTIME PRIORITY NICE THREADS ITREAL STARTTIME VSIZE RSS ...": COMM may hold
  // anything, so the fields start after its last ')'.
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  ProcStat s;
  if (std::from_chars(text.data(), text.data() + text.size(), s.pid).ec != std::errc())
    return std::nullopt;
  std::vector<std::string_view> f;  // f[0] = STATE (field 3)
  for (size_t i = close + 1; i < text.size();) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n') ++i;
    if (i > start) f.push_back(text.substr(start, i - start));
  }
  if (f.size() < 22) return std::nullopt;
  auto num = [&](size_t field, auto& out) {  // `field` counted as in proc(5), from 1
    const std::string_view v = f[field - 3];
    return std::from_chars(v.data(), v.data() + v.size(), out).ec == std::errc();
  };
  int64_t rss = 0;
  if (!num(4, s.ppid) || !num(5, s.pgid) || !num(14, s.utime) || !num(15, s.stime) ||
      !num(16, s.cutime) || !num(17, s.cstime) || !num(22, s.start_ticks) || !num(24, rss))
    return std::nullopt;
  s.rss_pages = rss > 0 ? static_cast<uint64_t>(rss) : 0;
  return s;
}

ProcIo parseProcIo(std::string_view text) {
  ProcIo io;
  std::istringstream in{std::string(text)};
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) {
    if (key == "read_bytes:")
      io.read_bytes = value;
    else if (key == "write_bytes:")
      io.write_bytes = value;
  }
  return io;
}

ProcessTable ProcessTable::scan(const std::string& proc_root) {
  ProcessTable t;
  t.proc_root_ = proc_root;
  t.uptime_s_ = std::atof(slurp(proc_root + "/uptime").c_str());
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(proc_root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] < '1' || name[0] > '9') continue;
    // A process that ends between the listing and the read leaves an empty file: skipped.
    if (auto s = parseProcStat(slurp(entry.path().string() + "/stat"))) t.stats_[s->pid] = *s;
  }
  return t;
}

std::optional<TreeUsage> ProcessTable::usage(pid_t root) const {
  auto it = stats_.find(root);
  if (it == stats_.end()) return std::nullopt;
  static const double kTicks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double kPageMb = static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
  std::map<pid_t, bool> member;  // memoized: pid -> belongs to the tree
  auto belongs = [&](pid_t pid) {
    std::vector<pid_t> path;
    bool in = false;
    for (pid_t p = pid; p > 1;) {
      if (auto m = member.find(p); m != member.end()) {
        in = m->second;
        break;
      }
      path.push_back(p);
      auto s = stats_.find(p);
      if (s == stats_.end()) break;
      if (p == root || s->second.pgid == root) {
        in = true;
        break;
      }
      p = s->second.ppid;
    }
    for (pid_t p : path) member[p] = in;
    return in;
  };
  TreeUsage u;
  u.age_s = std::max(0.0, uptime_s_ - static_cast<double>(it->second.start_ticks) / kTicks);
  for (const auto& [pid, s] : stats_) {
    if (!belongs(pid)) continue;
    ++u.processes;
    u.cpu_s += static_cast<double>(s.utime + s.stime + s.cutime + s.cstime) / kTicks;
    u.rss_mb += static_cast<double>(s.rss_pages) * kPageMb;
    const ProcIo io = parseProcIo(slurp(proc_root_ + "/" + std::to_string(pid) + "/io"));
    u.read_bytes += io.read_bytes;
    u.write_bytes += io.write_bytes;
  }
  return u;
}

}  // namespace locus::nodedaemon
