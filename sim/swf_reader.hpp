#pragma once
// Reading Standard Workload Format traces (Parallel Workloads Archive, SWF v2.2): one job per
// line, 18 whitespace-separated numeric fields, -1 where a value is unknown; header comments
// start with ';' and some carry "Key: value" pairs (";  MaxNodes: 100").
//
// A malformed line (not 18 numbers) is reported with its line number and skipped: a long trace
// with one bad line still replays. Reading never aborts on trace content.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace locus::sim {

// The 18 fields, in order. Times in seconds, memory in KB, -1 = unknown.
struct SwfJob {
  int64_t id = -1;             // 1  job number
  int64_t submit = -1;         // 2  submit time
  int64_t wait = -1;           // 3  wait time (in the original system)
  int64_t run = -1;            // 4  run time
  int64_t procs = -1;          // 5  allocated processors
  double avg_cpu = -1;         // 6  average CPU time used (may be fractional)
  int64_t mem = -1;            // 7  used memory per processor
  int64_t req_procs = -1;      // 8  requested processors
  int64_t req_time = -1;       // 9  requested time (the user's estimate)
  int64_t req_mem = -1;        // 10 requested memory per processor
  int64_t status = -1;         // 11 1 completed, 0 failed, 5 cancelled, ...
  int64_t user = -1;           // 12
  int64_t group = -1;          // 13
  int64_t executable = -1;     // 14
  int64_t queue = -1;          // 15
  int64_t partition = -1;      // 16
  int64_t preceding_job = -1;  // 17
  int64_t think_time = -1;     // 18
};

struct SwfTrace {
  int64_t max_nodes = 0;              // "; MaxNodes:", 0 when absent
  int64_t max_procs = 0;              // "; MaxProcs:", 0 when absent
  std::vector<SwfJob> jobs;           // in file order
  size_t malformed = 0;               // lines skipped
  std::vector<std::string> problems;  // "line 12: expected 18 fields, found 17", first 100
};

// Parses trace text (already decompressed). `first_line` numbers the first line of `text`.
// Reports malformed lines in trace.problems; appends to `trace`.
void parseSwf(std::string_view text, SwfTrace& trace, size_t first_line = 1);

// Reads a trace file, plain or gzip-compressed (recognised by content, not by name).
// Errors: kNotFound / kInvalidArgument when the file cannot be opened or decompressed.
Result<SwfTrace> readSwf(const std::string& path);

}  // namespace locus::sim
