#pragma once
// `locus acct` (like sacct): what jobs used, from the controller's store: elapsed, CPU time,
// max RSS, exit code, nodes, GPUs, billing, as a table, JSON or CSV. Pure: parsing and
// formatting only, the clock comes in as `now` (unix seconds) and times print in local time,
// so tests set TZ. runAcct (acct_command.cpp) fetches and prints.
//
// Which jobs: slurm::JobFilter (cli/slurm/job_filter.hpp), the selection sacct uses too: -j,
// -u, -A, --state, and the window -S/-E (default: from 00:00 today until now). Every user's
// jobs unless -u, as `locus queue` (sacct shows only the caller's).
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli/slurm/job_filter.hpp"
#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::cli {

inline constexpr std::string_view kAcctDefaultFields =
    "JobID,User,Account,State,Elapsed,CPUTime,MaxRSS,ExitCode,NNodes,NodeList,GPUs,Billing";

struct AcctOptions {
  enum class Output { kTable, kJson, kCsv };
  slurm::JobFilter filter;
  std::vector<std::string> fields;  // canonical names (acctFieldNames), in print order
  Output output = Output::kTable;
  bool noheader = false;  // table and CSV: no header line
  bool help = false;
};

// Every field --format takes, in its canonical spelling, in the order the help lists them.
const std::vector<std::string>& acctFieldNames();
// "jobid,State,BILLING" -> {"JobID", "State", "Billing"}: comma-separated, case-insensitive.
// kInvalidArgument for an unknown name ("unknown field 'X' (valid: JobID, ...)") or no name.
Result<std::vector<std::string>> parseAcctFields(std::string_view list);
// `locus acct` options (getopt-style: -u a,b -u c, --user=a, -Snow-1hour). kInvalidArgument
// naming the bad option, state, time or field; for --json with --csv, and for --format or
// --noheader with --json (JSON always has every key).
Result<AcctOptions> parseAcctArgs(const std::vector<std::string>& args, int64_t now);

// One field of one job as the table and CSV print it: "00:01:05", "3:0", "n[1-2]", "100M".
// Precondition: `field` is a canonical name.
std::string acctField(std::string_view field, const proto::JobInfo& job, int64_t now);
// One job as a JSON object (keys and types in docs/user-guide.md, `locus acct`).
nlohmann::json acctJson(const proto::JobInfo& job, int64_t now);
// The jobs opts.filter selects, in job id order, in opts.output's form, newline-terminated.
std::string formatAcct(const std::vector<proto::JobInfo>& jobs, const AcctOptions& opts,
                       int64_t now);

// Billed resource-seconds: at most two decimals, none when whole (16 -> "16", 12.5 -> "12.5").
std::string formatBilling(double billing);
// RFC 4180: quoted (quotes doubled) when it holds a comma, quote or line break ("n[1,3]").
std::string csvField(std::string_view value);

}  // namespace locus::cli
