// locus acct: fetches every job the filters may select and prints what acct_format makes of them.
#include <cstdio>

#include "cli/acct_format.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "common/time_util.hpp"

namespace locus::cli {
namespace {

constexpr const char* kAcctUsage = R"(usage: locus acct [options]

Jobs and what they used, from the controller's store (like sacct). Every user's jobs that were
pending or running at some time between -S and -E.

  -u, --user U[,U...]        only these users (names or uids)
  -A, --account A[,A...]     only these accounts
  -S, --starttime TIME       window start (default: 00:00 today; the epoch with -j)
  -E, --endtime TIME         window end (default: now)
                             TIME: YYYY-MM-DD[THH:MM[:SS]], HH:MM[:SS], MM/DD[/YY], now,
                             now-1hour, now-30min, now-2days, today, noon, unix seconds
  -s, --state S[,S...]       only jobs now in these states (COMPLETED,FAILED or CD,F)
  -j, --jobs ID[,ID...]      only these jobs (an array id: all its tasks; 10_3: one task)
  -o, --format F[,F...]      columns, case-insensitive (default:
                             JobID,User,Account,State,Elapsed,CPUTime,MaxRSS,ExitCode,
                             NNodes,NodeList,GPUs,Billing)
  -n, --noheader             no header line (table, --csv)
  --json                     a JSON array with every field
  --csv                      comma-separated, a header line first

Fields: %s
See docs/user-guide.md.
)";

}  // namespace

int runAcct(const std::vector<std::string>& args, const Globals& g) {
  const int64_t now = unixNow();
  auto opts = parseAcctArgs(args, now);
  if (!opts.ok()) return fail(opts.error().message, 2);
  if (opts->help) {
    std::string fields;
    for (const auto& f : acctFieldNames()) fields += (fields.empty() ? "" : ", ") + f;
    std::printf(kAcctUsage, fields.c_str());
    return 0;
  }
  // ListJobs filters only by one user name and by state: the states are asked for here (the
  // same names jobSelected checks), the rest (users by name or uid, accounts, ids, the time
  // window) is filtered client-side by formatAcct until the call grows those fields.
  proto::ListJobsRequest req;
  for (const auto& s : opts->filter.states) req.add_states(s);
  if (req.states().empty()) req.add_states("ALL");
  Client client(g.controller);
  auto reply = client.listJobs(req);
  if (!reply.ok()) return fail(reply.error().message);
  const std::vector<proto::JobInfo> jobs(reply->jobs().begin(), reply->jobs().end());
  const std::string out = formatAcct(jobs, *opts, now);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace locus::cli
