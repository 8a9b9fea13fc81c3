#pragma once
// `locus simulate`: replays an SWF trace through the scheduler core and prints the figures.
//   --trace FILE.swf[.gz] [--nodes N --cores-per-node C] [--policy fcfs|easy|easy-predict|conservative]
//   [--json OUT] [--jobs-csv OUT] [--limit JOBS]
// `args` are the arguments after the command name. Returns the process exit status: 0 on
// success; on bad input or an unreadable trace, prints one line "locus: ..." to stderr and
// returns 2 (usage) or 1 (anything else).
#include <string>
#include <vector>

namespace locus::sim {

int runSimulate(const std::vector<std::string>& args);

}  // namespace locus::sim
