#pragma once
// What a task's processes use right now, from /proc: CPU time, resident memory and storage I/O,
// summed over the task's process tree. The job profiler (profiler.hpp) samples tasks with it.
//
// A task is its root process (the batch script or a step task; each leads its own process
// group) and every live process that descends from it or shares its process group. CPU time
// counts each process's own time and that of the children it has waited for (cutime/cstime), so
// a shell script's finished commands stay counted; a daemon that double-forked away from the
// tree and was reaped by init is lost, as in `top`. I/O bytes are those that reached the storage
// layer (/proc/PID/io read_bytes, write_bytes) of the live processes.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace locus::nodedaemon {

// The fields of /proc/PID/stat used here; times in clock ticks, RSS in pages.
struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  uint64_t utime = 0, stime = 0, cutime = 0, cstime = 0;
  uint64_t start_ticks = 0;  // since boot
  uint64_t rss_pages = 0;
};
// Parses one /proc/PID/stat line; the command name may hold spaces and parentheses. nullopt when
// malformed.
std::optional<ProcStat> parseProcStat(std::string_view text);

struct ProcIo {
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
};
// Parses /proc/PID/io ("read_bytes: N" lines); missing keys are 0.
ProcIo parseProcIo(std::string_view text);

struct TreeUsage {
  double cpu_s = 0;  // user + system, with waited-for children
  double rss_mb = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
  double age_s = 0;  // since the root process started
  uint32_t processes = 0;
};

// One snapshot of every process on the machine (one pass over /proc).
class ProcessTable {
 public:
  static ProcessTable scan(const std::string& proc_root = "/proc");

  // The tree of `root`, or nullopt when `root` is not in the snapshot (it has ended).
  std::optional<TreeUsage> usage(pid_t root) const;

 private:
  std::string proc_root_;
  std::map<pid_t, ProcStat> stats_;
  double uptime_s_ = 0;
};

}  // namespace locus::nodedaemon
