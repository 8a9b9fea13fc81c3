// sacct's layouts against Slurm 22.05's: default widths from sacct's field table, '+' cuts,
// -P/-p delimiters, ID.batch and ID.N step lines, the time window.
#include "cli/slurm/sacct_format.hpp"

#include <gtest/gtest.h>

#include "tests/unit/slurm/fixture.hpp"

namespace locus::slurm {
namespace {
using namespace testing;

std::string run(const std::vector<std::string>& args) {
  useUtc();
  auto opts = parseSacctArgs(args, kNow);
  EXPECT_TRUE(opts.ok()) << opts.error().message;
  if (!opts.ok()) return "";
  return formatSacct(jobs(), *opts, kNow);
}

TEST(Sacct, DefaultLayoutWithBatchStep) {
  EXPECT_EQ(run({"-j", "101"}),
            "JobID           JobName  Partition    Account  AllocCPUS      State ExitCode \n"
            "------------ ---------- ---------- ---------- ---------- ---------- -------- \n"
            "101               train      locus                     8    RUNNING      0:0 \n"
            "101.batch         batch                                4    RUNNING      0:0 \n"
            "101.0          hostname                                8  COMPLETED      0:0 \n"
            "101.1          train.py                                8    RUNNING      0:0 \n");
}

TEST(Sacct, EveryIssueFieldParsable2) {
  EXPECT_EQ(run({"-a", "-P", "-n", "-o",
                 "JobID,JobIDRaw,JobName,State,ExitCode,Elapsed,Start,End,Submit,NNodes,NCPUS,"
                 "Partition,Account,User,MaxRSS,AllocTRES,NodeList"}),
            "101|101|train|RUNNING|0:0|01:02:05|2023-11-14T21:11:15|Unknown|2023-11-14T21:06:40|2|8|"
            "locus||alice||billing=8,cpu=8,mem=8G,node=2|n[1-2]\n"
            "101.batch|101.batch|batch|RUNNING|0:0|01:02:05|2023-11-14T21:11:15|Unknown|"
            "2023-11-14T21:11:15|1|4|||||cpu=4,mem=4G,node=1|n1\n"
            "101.0|101.0|hostname|COMPLETED|0:0|00:00:10|2023-11-14T21:11:40|2023-11-14T21:11:50|"
            "2023-11-14T21:11:40|2|8|||||cpu=8,mem=8G,node=2|n[1-2]\n"
            "101.1|101.1|train.py|RUNNING|0:0|01:00:00|2023-11-14T21:13:20|Unknown|"
            "2023-11-14T21:13:20|2|8|||||cpu=8,mem=8G,node=2|n[1-2]\n"
            "102|102|prep|PENDING|0:0|00:00:00|Unknown|Unknown|2023-11-14T21:06:40|1|2|locus||bob|||"
            "None assigned\n"
            "103_0|103|sweep|COMPLETED|0:0|00:09:00|2023-11-14T22:03:20|2023-11-14T22:12:20|"
            "2023-11-14T21:06:40|1|1|locus||alice||billing=1,cpu=1,mem=1000M,node=1|n3\n"
            "103_0.batch|103.batch|batch|COMPLETED|0:0|00:09:00|2023-11-14T22:03:20|"
            "2023-11-14T22:12:20|2023-11-14T22:03:20|1|1||||1.50G|cpu=1,mem=1000M,node=1|n3\n"
            "103_1|104|sweep|FAILED|2:0|00:01:40|2023-11-14T22:03:20|2023-11-14T22:05:00|"
            "2023-11-14T21:06:40|1|1|locus||alice||billing=1,cpu=1,mem=1000M,node=1|n3\n"
            "103_1.batch|104.batch|batch|FAILED|2:0|00:01:40|2023-11-14T22:03:20|2023-11-14T22:05:00|"
            "2023-11-14T22:03:20|1|1|||||cpu=1,mem=1000M,node=1|n3\n"
            "103_1.0|104.0|check|FAILED|2:0|00:01:20|2023-11-14T22:03:30|2023-11-14T22:04:50|"
            "2023-11-14T22:03:30|1|1|||||cpu=1,mem=1000M,node=1|n3\n"
            "105|105|a-very-long-job-name|CANCELLED|0:15|1-01:00:00|2023-11-13T21:13:10|"
            "2023-11-14T22:13:10|2023-11-13T21:11:40|1|2|locus||alice||billing=2,cpu=2,mem=2G,node=1|n1\n"
            "105.batch|105.batch|batch|CANCELLED|0:15|1-01:00:00|2023-11-13T21:13:10|"
            "2023-11-14T22:13:10|2023-11-13T21:13:10|1|2|||||cpu=2,mem=2G,node=1|n1\n"
            "105.0|105.0|sim|CANCELLED|0:15|1-00:59:50|2023-11-13T21:13:20|2023-11-14T22:13:10|"
            "2023-11-13T21:13:20|1|1|||||cpu=1,mem=2G,node=1|n1\n");
}

TEST(Sacct, ParsableHeaderAndTrailingBar) {
  EXPECT_EQ(run({"-X", "-p", "-j", "103", "-o", "JobID,State"}),
            "JobID|State|\n103_0|COMPLETED|\n103_1|FAILED|\n");
  EXPECT_EQ(run({"-X", "--parsable2", "-j", "103_1", "--format=jobid,exitcode"}),
            "JobID|ExitCode\n103_1|2:0\n");
}

TEST(Sacct, WidthsCutWithPlus) {
  // %N widths: positive right-aligns (even JobID), negative left-aligns; too long ends in '+'.
  EXPECT_EQ(run({"-X", "-n", "-j", "105", "-o", "JobID%5,JobName%8,State%-12,NodeList"}),
            "  105 a-very-+ CANCELLED                 n1 \n");
  EXPECT_EQ(run({"-X", "-j", "105", "-o", "JobName%4"}), "JobN \n---- \na-v+ \n");
}

TEST(Sacct, TimeWindowAndFilters) {
  // Default window starts at midnight today: every fixture job overlaps it.
  EXPECT_EQ(run({"-X", "-P", "-n", "-o", "JobID"}), "101\n102\n103_0\n103_1\n105\n");
  // 103_1 ended at 22:05:00, before the window opens.
  EXPECT_EQ(run({"-X", "-P", "-n", "-o", "JobID", "-S", "2023-11-14T22:06"}), "101\n102\n103_0\n105\n");
  // Only 105 was submitted before 21:00.
  EXPECT_EQ(run({"-X", "-P", "-n", "-o", "JobID", "-S", "2023-11-13", "-E", "2023-11-14T21:00:00"}),
            "105\n");
  EXPECT_EQ(run({"-X", "-P", "-n", "-o", "JobID", "-u", "bob"}), "102\n");
  EXPECT_EQ(run({"-X", "-P", "-n", "-o", "JobID", "-s", "CD,CA"}), "103_0\n105\n");
}

TEST(Sacct, StepLines) {
  // Step lines leave the job's own fields empty; Account is the job's on every line.
  auto all = jobs();
  all[0].set_account("physics");
  useUtc();
  auto opts = parseSacctArgs({"-j", "101", "-P", "-o", "JobID,JobName,Partition,Account,User,NTasks,NNodes,NodeList,ReqMem,Timelimit,QOS"}, kNow);
  ASSERT_TRUE(opts.ok());
  EXPECT_EQ(formatSacct(all, *opts, kNow),
            "JobID|JobName|Partition|Account|User|NTasks|NNodes|NodeList|ReqMem|Timelimit|QOS\n"
            "101|train|locus|physics|alice||2|n[1-2]|4G|02:00:00|normal\n"
            "101.batch|batch||physics||1|1|n1|||\n"
            "101.0|hostname||physics||2|2|n[1-2]|||\n"
            "101.1|train.py||physics||2|2|n[1-2]|||\n");
  // -X (--allocations): job lines only.
  EXPECT_EQ(run({"-X", "-P", "-n", "-o", "JobID,State", "-j", "101,105"}), "101|RUNNING\n105|CANCELLED\n");
  // A step selector prints that step alone; with the plain id too, the whole job.
  EXPECT_EQ(run({"-P", "-n", "-o", "JobID", "-j", "101.batch"}), "101.batch\n");
  EXPECT_EQ(run({"-P", "-n", "-o", "JobID", "-j", "101.1,103_1.0"}), "101.1\n103_1.0\n");
  EXPECT_EQ(run({"-P", "-n", "-o", "JobID", "-j", "101,101.1"}), "101\n101.batch\n101.0\n101.1\n");
  EXPECT_FALSE(parseSacctArgs({"-j", "101.x"}, kNow).ok());
}

TEST(Sacct, AllocationOnlyJobHasNoBatchLine) {
  // `locus run` outside a job: an allocation with steps and no batch script.
  proto::JobInfo j = job(110, "python3", "alice", 1000, "COMPLETED");
  j.set_command("wrap");
  j.set_start_time(kNow - 100);
  j.set_end_time(kNow - 40);
  j.set_exit_code(0);
  allocate(j, "n4", 2, 1000);
  addStep(j, 0, "python3", "COMPLETED", 0, 2, {"n4"}, kNow - 99, kNow - 41);
  useUtc();
  auto opts = parseSacctArgs({"-j", "110", "-P", "-n", "-o", "JobID,JobName,State,ExitCode,NTasks"}, kNow);
  ASSERT_TRUE(opts.ok());
  // An allocation of `locus run` has no batch line; an sbatch --wrap job has one.
  j.set_allocation_only(true);
  EXPECT_EQ(formatSacct({j}, *opts, kNow),
            "110|python3|COMPLETED|0:0|\n"
            "110.0|python3|COMPLETED|0:0|2\n");
  j.set_allocation_only(false);
  EXPECT_EQ(formatSacct({j}, *opts, kNow),
            "110|python3|COMPLETED|0:0|\n"
            "110.batch|batch|COMPLETED|0:0|1\n"
            "110.0|python3|COMPLETED|0:0|2\n");
}

TEST(Sacct, StepExitCodes) {
  // A task killed by a signal (128+SIG) shows as 0:SIG; a running step 0:0.
  proto::JobInfo j = job(120, "mpi", "alice", 1000, "FAILED");
  j.set_start_time(kNow - 100);
  j.set_end_time(kNow - 10);
  j.set_exit_code(1);
  allocate(j, "n3", 1, 1000);
  addStep(j, 0, "a", "FAILED", 137, 1, {"n3"}, kNow - 90, kNow - 80);
  addStep(j, 1, "b", "FAILED", 3, 1, {"n3"}, kNow - 70, kNow - 60);
  addStep(j, 2, "c", "COMPLETED", 0, 1, {"n3"}, kNow - 50, kNow - 40);
  useUtc();
  auto opts = parseSacctArgs({"-j", "120", "-P", "-n", "-o", "JobID,State,ExitCode,Elapsed"}, kNow);
  ASSERT_TRUE(opts.ok());
  EXPECT_EQ(formatSacct({j}, *opts, kNow),
            "120|FAILED|1:0|00:01:30\n"
            "120.batch|FAILED|1:0|00:01:30\n"
            "120.0|FAILED|0:9|00:00:10\n"
            "120.1|FAILED|3:0|00:00:10\n"
            "120.2|COMPLETED|0:0|00:00:10\n");
}

TEST(Sacct, TimeSyntax) {
  useUtc();
  EXPECT_EQ(*parseSacctTime("now-1hour", kNow), kNow - 3600);
  EXPECT_EQ(*parseSacctTime("now-2days", kNow), kNow - 2 * 86400);
  EXPECT_EQ(*parseSacctTime("today", kNow), 1699920000);
  EXPECT_EQ(*parseSacctTime("2023-11-14T22:00:00", kNow), 1699999200);
  EXPECT_EQ(*parseSacctTime("11/14/23", kNow), 1699920000);
  EXPECT_EQ(*parseSacctTime("21:00", kNow), 1699995600);
  EXPECT_FALSE(parseSacctTime("yesterday-ish", kNow).ok());
  EXPECT_FALSE(parseSacctTime("2023-13-01", kNow).ok());
}

TEST(Sacct, BadInput) {
  auto r = parseSacctArgs({"-o", "JobID,Bogus"}, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "Invalid field requested: \"Bogus\"");
  EXPECT_FALSE(parseSacctArgs({"-j", "x1"}, kNow).ok());
  EXPECT_FALSE(parseSacctArgs({"-S", "soon"}, kNow).ok());
}

}  // namespace
}  // namespace locus::slurm
