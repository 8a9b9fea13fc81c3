// sacct's layouts against Slurm 22.05's: default widths from sacct's field table, '+' cuts,
// -P/-p delimiters, ID.batch step lines, the time window.
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
            "101.batch         batch                                4    RUNNING      0:0 \n");
}

TEST(Sacct, EveryIssueFieldParsable2) {
  EXPECT_EQ(run({"-a", "-P", "-n", "-o",
                 "JobID,JobIDRaw,JobName,State,ExitCode,Elapsed,Start,End,Submit,NNodes,NCPUS,"
                 "Partition,Account,User,MaxRSS,AllocTRES,NodeList"}),
            "101|101|train|RUNNING|0:0|01:02:05|2023-11-14T21:11:15|Unknown|2023-11-14T21:06:40|2|8|"
            "locus||alice||billing=8,cpu=8,mem=8G,node=2|n[1-2]\n"
            "101.batch|101.batch|batch|RUNNING|0:0|01:02:05|2023-11-14T21:11:15|Unknown|"
            "2023-11-14T21:06:40|1|4|||||cpu=4,mem=4G,node=1|n1\n"
            "102|102|prep|PENDING|0:0|00:00:00|Unknown|Unknown|2023-11-14T21:06:40|1|2|locus||bob|||"
            "None assigned\n"
            "103_0|103|sweep|COMPLETED|0:0|00:09:00|2023-11-14T22:03:20|2023-11-14T22:12:20|"
            "2023-11-14T21:06:40|1|1|locus||alice||billing=1,cpu=1,mem=1000M,node=1|n3\n"
            "103_0.batch|103.batch|batch|COMPLETED|0:0|00:09:00|2023-11-14T22:03:20|"
            "2023-11-14T22:12:20|2023-11-14T21:06:40|1|1|||||cpu=1,mem=1000M,node=1|n3\n"
            "103_1|104|sweep|FAILED|2:0|00:01:40|2023-11-14T22:03:20|2023-11-14T22:05:00|"
            "2023-11-14T21:06:40|1|1|locus||alice||billing=1,cpu=1,mem=1000M,node=1|n3\n"
            "103_1.batch|104.batch|batch|FAILED|2:0|00:01:40|2023-11-14T22:03:20|2023-11-14T22:05:00|"
            "2023-11-14T21:06:40|1|1|||||cpu=1,mem=1000M,node=1|n3\n"
            "105|105|a-very-long-job-name|CANCELLED|0:15|1-01:00:00|2023-11-13T21:13:10|"
            "2023-11-14T22:13:10|2023-11-13T21:11:40|1|2|locus||alice||billing=2,cpu=2,mem=2G,node=1|n1\n"
            "105.batch|105.batch|batch|CANCELLED|0:15|1-01:00:00|2023-11-13T21:13:10|"
            "2023-11-14T22:13:10|2023-11-13T21:11:40|1|2|||||cpu=2,mem=2G,node=1|n1\n");
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
  EXPECT_EQ(run({"-P", "-n", "-o", "JobID", "-j", "101.batch"}), "101\n101.batch\n");
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
