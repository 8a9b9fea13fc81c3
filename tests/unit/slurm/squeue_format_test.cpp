// squeue's layouts against Slurm 22.05's documented formats (widths, alignment, titles).
#include "cli/slurm/squeue_format.hpp"

#include <gtest/gtest.h>

#include "cli/slurm/slurm_fields.hpp"
#include "tests/unit/slurm/fixture.hpp"

namespace locus::slurm {
namespace {
using namespace testing;

std::string run(const std::vector<std::string>& args) {
  useUtc();
  auto opts = parseSqueueArgs(args);
  EXPECT_TRUE(opts.ok()) << opts.error().message;
  if (!opts.ok()) return "";
  return formatSqueue(jobs(), *opts, kNow);
}

TEST(Squeue, DefaultLayoutShowsTheLiveQueuePendingFirst) {
  EXPECT_EQ(run({}),
            "             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)\n"
            "               102     locus     prep      bob PD       0:00      1 (Priority)\n"
            "               101     locus    train    alice  R    1:02:05      2 n[1-2]\n");
}

TEST(Squeue, JobIdsShowEveryStateAndArrayTasks) {
  // -j with an array id selects all its tasks; finished jobs are shown when asked for by id.
  EXPECT_EQ(run({"-h", "-j", "103,105", "-o", "%i %T %t %M %R"}),
            "103_0 COMPLETED CD 9:00 n3\n"
            "103_1 FAILED F 1:40 (NonZeroExitCode)\n"
            "105 CANCELLED CA 1-01:00:00 n1\n");
  EXPECT_EQ(run({"-h", "--jobs=103_1", "-o", "%i|%A|%F|%K"}), "103_1|104|103|1\n");
}

TEST(Squeue, WidthsAlignAndCut) {
  EXPECT_EQ(run({"-j", "105", "-o", "%.5i %-6j|%3u|%.12l"}),
            "JOBID NAME  |USE|  TIME_LIMIT\n"
            "  105 a-very|ali|   UNLIMITED\n");
}

TEST(Squeue, FiltersByUserStatePartition) {
  EXPECT_EQ(run({"-h", "-u", "bob", "-o", "%i"}), "102\n");
  EXPECT_EQ(run({"-h", "-t", "PD,r", "-u", "alice,1001", "-o", "%i %u"}), "102 bob\n101 alice\n");
  EXPECT_EQ(run({"-h", "--states=CD,F", "-o", "%i"}), "103_0\n103_1\n");
  EXPECT_EQ(run({"-h", "-t", "all", "-o", "%i"}), "102\n101\n103_0\n103_1\n105\n");
  EXPECT_EQ(run({"-h", "-p", "locus", "-o", "%i"}), "102\n101\n");
  EXPECT_EQ(run({"-h", "-p", "gpu", "-o", "%i"}), "");
  EXPECT_EQ(run({"-h", "-t", "CG", "-o", "%i"}), "");  // valid in Slurm, never happens here
}

TEST(Squeue, AllPercentFields) {
  EXPECT_EQ(run({"-j", "101", "-o", "%i %j %u %t %T %M %l %D %C %R %P %N %S %V"}),
            "JOBID NAME USER ST STATE TIME TIME_LIMIT NODES CPUS NODELIST(REASON) PARTITION "
            "NODELIST START_TIME SUBMIT_TIME\n"
            "101 train alice R RUNNING 1:02:05 2:00:00 2 8 n[1-2] locus n[1-2] "
            "2023-11-14T21:11:15 2023-11-14T21:06:40\n");
  EXPECT_EQ(run({"-h", "-j", "102", "-o", "%l %D %C %N %S"}), "30:00 1 2  N/A\n");
}

TEST(Squeue, LongFormatNamesAndWidths) {
  EXPECT_EQ(run({"-j", "101", "-O", "JobID,Name:8,UserName:.7,StateCompact:3,TimeUsed,NumCPUs:4"}),
            "JOBID               NAME       USERST TIME                CPUS\n"
            "101                 train     aliceR  1:02:05             8   \n");
  EXPECT_EQ(run({"-h", "-j", "104", "--Format=jobarrayid:8|,state:.10,reasonlist"}),
            "103_1   |    FAILED(NonZeroExitCode)   \n");
}

TEST(Squeue, BadInputIsRefusedWithSlurmsWords) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const auto& c : std::vector<Case>{{{"-t", "XX"}, "Invalid job state specified: XX"},
                                         {{"-j", "abc"}, "Invalid job id: abc"},
                                         {{"-o", "%Y"}, "Invalid job format specification: Y"},
                                         {{"-O", "Bogus"}, "Invalid job format specification: Bogus"},
                                         {{"--frob"}, "unrecognized option '--frob'"},
                                         {{"-u"}, "option requires an argument -- 'u'"}}) {
    SCOPED_TRACE(c.message);
    auto r = parseSqueueArgs(c.args);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, c.message);
  }
}

TEST(SlurmFields, TimeFormats) {
  EXPECT_EQ(squeueDuration(0), "0:00");
  EXPECT_EQ(squeueDuration(59), "0:59");
  EXPECT_EQ(squeueDuration(3600), "1:00:00");
  EXPECT_EQ(squeueDuration(86400 + 3661), "1-01:01:01");
  EXPECT_EQ(hmsDuration(59), "00:00:59");
  EXPECT_EQ(hmsDuration(2 * 86400 + 5), "2-00:00:05");
  EXPECT_EQ(compactState("OUT_OF_MEMORY"), "OOM");
  EXPECT_EQ(compactState("NODE_FAIL"), "NF");
  EXPECT_EQ(compactState("TIMEOUT"), "TO");
}

}  // namespace
}  // namespace locus::slurm
