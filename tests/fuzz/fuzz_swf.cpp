// Standard Workload Format traces: parseSwf over the input as a whole trace. Reading never
// aborts on content; every line is a job, a header, blank, or counted as malformed.
#include <string>

#include "sim/swf_reader.hpp"
#include "tests/fuzz/fuzz_target.hpp"

LOCUS_FUZZ_TARGET(swf) {
  locus::sim::SwfTrace trace;
  locus::sim::parseSwf(input, trace);
  size_t lines = 0;
  for (char c : input) lines += c == '\n';
  lines += 1;
  FUZZ_CHECK(trace.jobs.size() + trace.malformed <= lines, "more jobs and problems than lines");
  FUZZ_CHECK(trace.problems.size() <= trace.malformed, "problems not counted as malformed");
  FUZZ_CHECK(trace.max_nodes >= 0 && trace.max_procs >= 0, "negative MaxNodes/MaxProcs");
}
