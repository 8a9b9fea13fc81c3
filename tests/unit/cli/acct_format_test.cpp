// `locus acct`: its options, its fields in the table, CSV and JSON, against the Slurm golden
// fixture (five jobs at a fixed `now`, UTC), with accounts, a measured RSS, GPUs and billing
// added here.
#include "cli/acct_format.hpp"
#include "cli/slurm/slurm_fields.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/slurm/fixture.hpp"

namespace locus::cli {
namespace {
using namespace locus::slurm::testing;

// The fixture plus what acct shows: accounts, 103_0's 100 MB peak and two GPUs, billing
// (resource-seconds: cores x elapsed under the default weights; 103_1 had memory billed too).
std::vector<proto::JobInfo> acctJobs() {
  auto all = jobs();
  for (auto& j : all) j.set_account(j.user() == "bob" ? "chem" : "physics");
  all[0].set_billing(29800);      // 101: 8 cores x 3725 s so far
  all[2].set_max_rss_kb(102400);  // 103_0
  all[2].mutable_allocation(0)->add_gpus(0);
  all[2].mutable_allocation(0)->add_gpus(1);
  all[2].set_billing(540);
  all[3].set_billing(125.5);       // 103_1
  all[4].set_max_rss_kb(1572864);  // 105
  all[4].set_billing(180000);
  return all;
}

Result<std::string> acct(const std::vector<std::string>& args) {
  useUtc();
  auto opts = parseAcctArgs(args, kNow);
  if (!opts.ok()) return opts.error();
  return formatAcct(acctJobs(), *opts, kNow);
}

std::string ok(const std::vector<std::string>& args) {
  auto r = acct(args);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : "";
}

TEST(Acct, DefaultTable) {
  // Elapsed and CPUTime (cores x elapsed) in sacct's HH:MM:SS; MaxRSS only once measured;
  // ExitCode CODE:SIGNAL (105 was killed by SIGTERM); a pending job has no nodes yet.
  // clang-format off
  EXPECT_EQ(ok({}),
            "JobID  User   Account  State         Elapsed     CPUTime  MaxRSS  ExitCode  NNodes  NodeList       GPUs  Billing\n"
            "101    alice  physics  RUNNING      01:02:05    08:16:40               0:0       2  n[1-2]            0    29800\n"
            "102    bob    chem     PENDING      00:00:00    00:00:00               0:0       1  None assigned     0        0\n"
            "103_0  alice  physics  COMPLETED    00:09:00    00:09:00    100M       0:0       1  n3                2      540\n"
            "103_1  alice  physics  FAILED       00:01:40    00:01:40      0K       2:0       1  n3                0    125.5\n"
            "105    alice  physics  CANCELLED  1-01:00:00  2-02:00:00   1.50G      0:15       1  n1                0   180000\n");
  // clang-format on
}

TEST(Acct, FormatPicksAndOrdersFieldsCaseInsensitively) {
  EXPECT_EQ(ok({"--format", "exitcode,JOBID", "-o", "state", "-j", "103"}),
            "ExitCode  JobID  State\n"
            "     0:0  103_0  COMPLETED\n"
            "     2:0  103_1  FAILED\n");
  EXPECT_EQ(
      ok({"-n", "-o",
          "JobIDRaw,JobName,AllocCPUS,CPUTimeRAW,ElapsedRaw,TotalCPU,Timelimit,QOS,Partition", "-j",
          "101"}),
      "101  train  8  29800  3725    02:00:00  normal  locus\n");  // TotalCPU: not measured yet
  EXPECT_EQ(ok({"-o", "Submit,Start,End,Reason,UID", "-j", "105", "-n"}),
            "2023-11-13T21:11:40  2023-11-13T21:13:10  2023-11-14T22:13:10  Cancelled  1000\n");
}

TEST(Acct, UnknownFieldListsTheValidOnes) {
  auto r = acct({"--format", "JobID,Bogus"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("unknown field 'Bogus'"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("JobID,JobIDRaw,JobName"), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(acct({"--format", ","}).ok());
}

TEST(Acct, Filters) {
  auto ids = [](const std::vector<std::string>& args) {
    std::vector<std::string> extra{"-n", "-o", "JobID", "--csv"};
    std::vector<std::string> all = args;
    all.insert(all.end(), extra.begin(), extra.end());
    return ok(all);
  };
  EXPECT_EQ(ids({"-u", "bob"}), "102\n");
  EXPECT_EQ(ids({"--user=alice,bob", "-s", "PD,F"}), "102\n103_1\n");
  EXPECT_EQ(ids({"-u", "1000", "--state", "completed,Cancelled"}), "103_0\n105\n");
  EXPECT_EQ(ids({"-A", "chem"}), "102\n");
  EXPECT_EQ(ids({"--accounts", "physics", "--account", "chem", "-j", "105,102"}), "102\n105\n");
  EXPECT_EQ(ids({"-S", "2023-11-14T22:06"}), "101\n102\n103_0\n105\n");
  EXPECT_EQ(ids({"-S", "2023-11-13", "-E", "2023-11-14T21:00:00"}), "105\n");
  EXPECT_EQ(ids({"-S", "now-1hour", "-E", "now"}), "101\n102\n103_0\n103_1\n105\n");
  EXPECT_EQ(ids({"-S", "1699999510"}), "101\n102\n103_0\n105\n");  // unix seconds
  EXPECT_EQ(ids({"-u", "carol"}), "");
}

TEST(Acct, BadOptionsAreErrorsThatSayWhy) {
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string message;  // a part of it
  } cases[] = {
      {"unknown state", {"--state", "COMPLETED,done"}, "--state: invalid job state 'done'"},
      {"bad start", {"-S", "yesterday-ish"}, "-S/--starttime: invalid time 'yesterday-ish'"},
      {"bad end", {"--endtime=25:00"}, "-E/--endtime: invalid time '25:00'"},
      {"start after end", {"-S", "now", "-E", "now-1hour"}, "is after end time"},
      {"json and csv", {"--json", "--csv"}, "--json and --csv cannot be used together"},
      {"json with format", {"--json", "-o", "JobID"}, "--json prints every field"},
      {"bad job id", {"-j", "12x"}, "-j: invalid job id '12x'"},
      {"unknown option", {"--bogus"}, "unrecognized option '--bogus'"},
      {"missing value", {"-u"}, "requires an argument"},
      {"stray word", {"alice"}, "unexpected argument 'alice'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = acct(c.args);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
  }
}

TEST(Acct, Csv) {
  // A header line, then one line per job; a value with a comma is quoted.
  auto all = acctJobs();
  all[1].set_start_time(kNow - 10);  // 102 now runs on two nodes that do not compress to a range
  all[1].add_nodes("n1");
  all[1].add_nodes("n3");
  useUtc();
  auto opts = parseAcctArgs(
      {"--csv", "-j", "102,105", "-o", "JobID,State,NodeList,ExitCode,MaxRSS,Billing"}, kNow);
  ASSERT_TRUE(opts.ok()) << opts.error().message;
  EXPECT_EQ(formatAcct(all, *opts, kNow),
            "JobID,State,NodeList,ExitCode,MaxRSS,Billing\n"
            "102,PENDING,\"n[1,3]\",0:0,,0\n"
            "105,CANCELLED,n1,0:15,1.50G,180000\n");
}

TEST(Acct, JsonHasEveryFieldWithItsType) {
  auto text = ok({"--json"});
  auto arr = nlohmann::json::parse(text);
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 5u);
  const auto& running = arr[0];
  EXPECT_EQ(running["job_id"], 101);
  EXPECT_EQ(running["user"], "alice");
  EXPECT_EQ(running["account"], "physics");
  EXPECT_EQ(running["state"], "RUNNING");
  EXPECT_EQ(running["submit_time"], "2023-11-14T21:06:40Z");
  EXPECT_EQ(running["start_time"], "2023-11-14T21:11:15Z");
  EXPECT_TRUE(running["end_time"].is_null());
  EXPECT_EQ(running["elapsed_s"], 3725);
  EXPECT_EQ(running["alloc_cpus"], 8);
  EXPECT_EQ(running["cpu_time_s"], 29800);
  EXPECT_TRUE(running["max_rss_mb"].is_null());  // not measured until it ends
  EXPECT_TRUE(running["total_cpu_s"].is_null());
  EXPECT_TRUE(running["exit_code"].is_null());
  EXPECT_EQ(running["nodes"], 2);
  EXPECT_EQ(running["node_list"], "n[1-2]");
  EXPECT_EQ(running["time_limit_s"], 7200);
  EXPECT_EQ(running["billing"], 29800.0);
  EXPECT_TRUE(running["array_task_id"].is_null());

  const auto& pending = arr[1];
  EXPECT_TRUE(pending["start_time"].is_null());
  EXPECT_EQ(pending["node_list"], "");
  EXPECT_EQ(pending["alloc_cpus"], 0);
  EXPECT_EQ(pending["billing"], 0.0);

  const auto& done = arr[2];
  EXPECT_EQ(done["array_job_id"], 103);
  EXPECT_EQ(done["array_task_id"], 0);
  EXPECT_EQ(done["exit_code"], 0);
  EXPECT_EQ(done["signal"], 0);
  EXPECT_EQ(done["max_rss_kb"], 102400);
  EXPECT_EQ(done["max_rss_mb"], 100.0);
  EXPECT_EQ(done["gpus"], 2);

  const auto& failed = arr[3];
  EXPECT_EQ(failed["state"], "FAILED");
  EXPECT_EQ(failed["exit_code"], 2);
  EXPECT_EQ(failed["billing"], 125.5);

  // Killed by SIGTERM: ExitCode 0:15, so exit_code 0 and signal 15 (locus show says 143).
  const auto& cancelled = arr[4];
  EXPECT_EQ(cancelled["exit_code"], 0);
  EXPECT_EQ(cancelled["signal"], 15);
  EXPECT_EQ(cancelled["max_rss_mb"], 1536.0);
  EXPECT_EQ(cancelled["elapsed_s"], 90000);
  EXPECT_EQ(cancelled["cpu_time_s"], 180000);

  // Nothing selected: an empty array, still JSON.
  EXPECT_EQ(nlohmann::json::parse(ok({"--json", "-u", "carol"})), nlohmann::json::array());
}

TEST(Acct, ValueFormats) {
  struct RssCase {
    uint64_t kb;
    std::string want;
  } rss[] = {{0, "0K"},        {980, "980K"},      {1024, "1M"},
             {102400, "100M"}, {1572864, "1.50G"}, {1536, "1.50M"}};
  for (const auto& c : rss) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(slurm::formatRssKb(c.kb), c.want);
  }
  struct BillingCase {
    double v;
    std::string want;
  } billing[] = {{0, "0"},          {16, "16"},   {12.5, "12.5"},
                 {1.0 / 3, "0.33"}, {2.999, "3"}, {1e9, "1000000000"}};
  for (const auto& c : billing) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(formatBilling(c.v), c.want);
  }
  EXPECT_EQ(csvField("n3"), "n3");
  EXPECT_EQ(csvField("n[1,3]"), "\"n[1,3]\"");
  EXPECT_EQ(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
}

}  // namespace
}  // namespace locus::cli
