#include "common/slurm_formats.hpp"

#include <gtest/gtest.h>

#include <csignal>

#include <optional>
#include <string>
#include <vector>

namespace locus {
namespace {

// ---- parseTimeLimit ---------------------------------------------------------------------------

TEST(ParseTimeLimit, AcceptsSlurmFormats) {
  struct Case {
    const char* name;
    const char* text;
    int64_t seconds;
  };
  const Case cases[] = {
      {"minutes", "30", 30 * 60},
      {"minutes above an hour are fine, as in Slurm", "90", 90 * 60},
      {"zero means no limit", "0", 0},
      {"minutes:seconds", "5:30", 5 * 60 + 30},
      {"hours:minutes:seconds", "2:00:00", 2 * 3600},
      {"zero-padded hh:mm:ss", "00:30:00", 30 * 60},
      {"days-hours", "1-12", 86400 + 12 * 3600},
      {"days-hours:minutes", "0-00:30", 30 * 60},
      {"days-hours:minutes:seconds", "2-03:04:05", 2 * 86400 + 3 * 3600 + 4 * 60 + 5},
      {"zero days with dd-hh:mm:ss", "00-00:02:00", 120},
      {"UNLIMITED", "UNLIMITED", 0},
      {"unlimited is case-insensitive", "unlimited", 0},
      {"INFINITE", "Infinite", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseTimeLimit(c.text);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, c.seconds);
  }
}

TEST(ParseTimeLimit, RejectsMalformed) {
  struct Case {
    const char* name;
    const char* text;
  };
  const Case cases[] = {
      {"empty", ""},
      {"four colon fields", "1:2:3:4"},
      {"days with four clock fields", "1-1:2:3:4"},
      {"letters", "abc"},
      {"negative", "-5"},
      {"minus one (Slurm's infinite) is refused as a negative", "-1"},
      {"dangling dash", "1-"},
      {"two dashes", "1-2-3"},
      {"empty field", "1::2"},
      {"trailing colon", "10:"},
      {"unit suffix", "10m"},
      {"space", " 10"},
      {"decimal", "1.5"},
      {"overflowing field", "99999999999"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseTimeLimit(c.text);
    ASSERT_FALSE(r.ok()) << "parsed as " << *r;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(std::string("'") + c.text + "'"), std::string::npos)
        << r.error().message;
  }
}

TEST(FormatDuration, UsesSlurmDisplayFormat) {
  struct Case {
    const char* name;
    int64_t seconds;
    const char* text;
  };
  const Case cases[] = {
      {"zero", 0, "00:00:00"},
      {"seconds only still shows hours", 59, "00:00:59"},
      {"minutes", 30 * 60, "00:30:00"},
      {"just under a day", 86399, "23:59:59"},
      {"one day", 86400, "1-00:00:00"},
      {"days and time", 2 * 86400 + 3 * 3600 + 4 * 60 + 5, "2-03:04:05"},
      {"many days", 400 * 86400L, "400-00:00:00"},
      {"negative stays visible", -61, "-00:01:01"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(formatDuration(c.seconds), c.text);
  }
}

TEST(FormatDuration, RoundTripsThroughParseTimeLimit) {
  for (int64_t s : {1L, 59L, 3600L, 86399L, 86400L, 90061L, 1234567L}) {
    SCOPED_TRACE(s);
    auto r = parseTimeLimit(formatDuration(s));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, s);
  }
}

// ---- parseMemoryMb ----------------------------------------------------------------------------

TEST(ParseMemoryMb, AcceptsSizes) {
  struct Case {
    const char* name;
    const char* text;
    uint64_t mb;
  };
  const Case cases[] = {
      {"bare number is MB", "512", 512},
      {"M suffix", "512M", 512},
      {"lower-case m", "512m", 512},
      {"G suffix", "4G", 4096},
      {"lower-case g (fasrc scripts)", "12g", 12 * 1024},
      {"T suffix", "1T", 1024 * 1024},
      {"K rounds up to a whole MB", "100K", 1},
      {"exact K multiple", "2048K", 2},
      {"K just over a MB rounds up", "1025k", 2},
      {"GB spelled out", "4GB", 4096},
      {"mb spelled out", "100mb", 100},
      {"zero", "0", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseMemoryMb(c.text);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, c.mb);
  }
}

TEST(ParseMemoryMb, RejectsMalformed) {
  struct Case {
    const char* name;
    const char* text;
  };
  const Case cases[] = {
      {"letters", "abc"},
      {"empty", ""},
      {"negative", "-1"},
      {"unknown suffix", "4X"},
      {"suffix only", "G"},
      {"decimal", "1.5G"},
      {"two suffixes", "4GG"},
      {"space before suffix", "4 G"},
      {"overflow", "99999999999999999T"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseMemoryMb(c.text);
    ASSERT_FALSE(r.ok()) << "parsed as " << *r;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(std::string("'") + c.text + "'"), std::string::npos)
        << r.error().message;
  }
}

// ---- parseArraySpec ---------------------------------------------------------------------------

std::vector<uint32_t> iota(uint32_t lo, uint32_t hi) {
  std::vector<uint32_t> v;
  for (uint32_t i = lo; i <= hi; ++i) v.push_back(i);
  return v;
}

TEST(ParseArraySpec, AcceptsSpecs) {
  struct Case {
    const char* name;
    const char* text;
    std::vector<uint32_t> indices;
    uint32_t max_running;
  };
  const Case cases[] = {
      {"range", "1-10", iota(1, 10), 0},
      {"list", "1,3,5", {1, 3, 5}, 0},
      {"single index", "7", {7}, 0},
      {"zero is a valid index", "0", {0}, 0},
      {"step", "0-15:4", {0, 4, 8, 12}, 0},
      {"step that overshoots the end", "1-10:4", {1, 5, 9}, 0},
      {"throttle", "1-100%10", iota(1, 100), 10},
      {"mixed list, unsorted and overlapping, is sorted and deduplicated",
       "10,1-3,2,5-6%2",
       {1, 2, 3, 5, 6, 10},
       2},
      {"brackets as sbatch accepts them", "[0-4]", {0, 1, 2, 3, 4}, 0},
      {"brackets with a throttle", "[1,3]%1", {1, 3}, 1},
      {"largest index", "4000000", {kMaxArrayIndex}, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseArraySpec(c.text);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->indices, c.indices);
    EXPECT_EQ(r->max_running, c.max_running);
  }
}

TEST(ParseArraySpec, AcceptsExactlyTheTaskLimit) {
  auto r = parseArraySpec("1-100000");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->indices.size(), kMaxArrayTasks);
}

TEST(ParseArraySpec, RejectsBadSpecs) {
  struct Case {
    const char* name;
    const char* text;
  };
  const Case cases[] = {
      {"empty", ""},
      {"empty brackets", "[]"},
      {"reversed range", "10-1"},
      {"empty element", "1,,3"},
      {"trailing comma", "1,2,"},
      {"letters", "a-b"},
      {"negative", "-1"},
      {"zero step", "1-10:0"},
      {"step without a range", "5:2"},
      {"throttle of zero", "1-10%0"},
      {"throttle not a number", "1-10%x"},
      {"missing throttle", "1-10%"},
      {"index above the maximum", "4000001"},
      {"more tasks than allowed", "0-100000"},
      {"many overlapping huge ranges still count unique tasks", "0-3999999,0-3999999"},
      {"open range", "1-"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseArraySpec(c.text);
    ASSERT_FALSE(r.ok()) << "parsed with " << r->indices.size() << " indices";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

// ---- hostlists --------------------------------------------------------------------------------

using Hosts = std::vector<std::string>;

TEST(ExpandHostlist, Expands) {
  struct Case {
    const char* name;
    const char* text;
    Hosts hosts;
  };
  const Case cases[] = {
      {"single name", "gpu01", {"gpu01"}},
      {"plain list", "a,b,c", {"a", "b", "c"}},
      {"range and single in brackets, then a name",
       "n[1-3,7],gpu01",
       {"n1", "n2", "n3", "n7", "gpu01"}},
      {"zero padding kept", "n[001-003]", {"n001", "n002", "n003"}},
      {"padding crossing a power of ten", "n[08-10]", {"n08", "n09", "n10"}},
      {"suffix after brackets", "rack[1-2]-ib", {"rack1-ib", "rack2-ib"}},
      {"two bracket groups multiply", "r[1-2]n[1-2]", {"r1n1", "r1n2", "r2n1", "r2n2"}},
      {"commas inside brackets are not separators", "a[1,3],b[2]", {"a1", "a3", "b2"}},
      {"single-number range", "n[5-5]", {"n5"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = expandHostlist(c.text);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, c.hosts);
  }
}

TEST(ExpandHostlist, RejectsMalformed) {
  struct Case {
    const char* name;
    const char* text;
  };
  const Case cases[] = {
      {"empty", ""},
      {"empty element", "a,,b"},
      {"unclosed bracket", "n[1-3"},
      {"stray closing bracket", "n1-3]"},
      {"nested brackets", "n[1-[2]]"},
      {"empty brackets", "n[]"},
      {"reversed range", "n[3-1]"},
      {"letters in range", "n[a-c]"},
      {"empty range part", "n[1,,2]"},
      {"too many hosts", "n[1-2000000]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = expandHostlist(c.text);
    ASSERT_FALSE(r.ok()) << "expanded to " << r->size() << " hosts";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(CompressHostlist, Compresses) {
  struct Case {
    const char* name;
    Hosts hosts;
    const char* text;
  };
  const Case cases[] = {
      {"empty", {}, ""},
      {"single host stays plain", {"n1"}, "n1"},
      {"host without digits", {"login"}, "login"},
      {"header example", {"n1", "n2", "n3", "n7", "gpu01"}, "n[1-3,7],gpu01"},
      {"zero padding kept", {"n001", "n002", "n003"}, "n[001-003]"},
      {"padding crossing a power of ten", {"n099", "n100"}, "n[099-100]"},
      {"order is kept, not sorted", {"n3", "n1", "n2"}, "n[3,1-2]"},
      {"only adjacent hosts merge", {"n1", "gpu1", "n2"}, "n1,gpu1,n2"},
      {"different padding does not merge", {"n1", "n01"}, "n1,n01"},
      {"different prefixes", {"a1", "a2", "b1", "b2"}, "a[1-2],b[1-2]"},
      {"all-digit names are left alone", {"12", "13"}, "12,13"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(compressHostlist(c.hosts), c.text);
  }
}

TEST(CompressHostlist, RoundTripsWithExpand) {
  for (const char* text : {"n[1-3,7],gpu01", "n[001-003,010]", "a[1-2],b,c[5-9]", "x[08-11]"}) {
    SCOPED_TRACE(text);
    auto hosts = expandHostlist(text);
    ASSERT_TRUE(hosts.ok()) << hosts.error().message;
    EXPECT_EQ(compressHostlist(*hosts), text);
    auto again = expandHostlist(compressHostlist(*hosts));
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(*again, *hosts);
  }
}

// ---- expandOutputPattern ----------------------------------------------------------------------

TEST(ExpandOutputPattern, Expands) {
  PatternContext array_task;
  array_task.job_id = 1234;
  array_task.array_job_id = 1200;
  array_task.array_task_id = 7;
  array_task.node = "n01";
  array_task.user = "alice";
  array_task.job_name = "train";
  PatternContext plain = array_task;
  plain.array_job_id = 0;
  plain.array_task_id = std::nullopt;

  struct Case {
    const char* name;
    const char* pattern;
    const PatternContext& ctx;
    const char* out;
  };
  const Case cases[] = {
      {"no escapes", "out.log", plain, "out.log"},
      {"job id", "slurm-%j.out", plain, "slurm-1234.out"},
      {"name and id", "%x_%j.out", plain, "train_1234.out"},
      {"array master and index", "%A_%a.o", array_task, "1200_7.o"},
      {"%A outside an array is the job id", "%A", plain, "1234"},
      {"%a outside an array is Slurm's NO_VAL-1", "%a", plain, "4294967294"},
      {"node and user", "%N-%u", plain, "n01-alice"},
      {"percent sign", "100%%", plain, "100%"},
      {"zero padding", "task_%4a", array_task, "task_0007"},
      {"unknown escape kept", "%q-%j", plain, "%q-1234"},
      {"unknown escape with width kept", "%3q", plain, "%3q"},
      {"trailing percent kept", "out%", plain, "out%"},
      {"all together", "%u/%x-%A.%a-%N-%%", array_task, "alice/train-1200.7-n01-%"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(expandOutputPattern(c.pattern, c.ctx), c.out);
  }
}

}  // namespace
}  // namespace locus

namespace locus {
namespace {

TEST(FormatElapsed, SqueueTimeColumn) {
  struct Case {
    int64_t seconds;
    std::string expected;
  };
  // 3725 s = 1 h 2 min 5 s; 90061 s = 1 day 1 h 1 min 1 s.
  std::vector<Case> cases{{0, "0:00"}, {59, "0:59"}, {61, "1:01"}, {3599, "59:59"}, {3725, "1:02:05"},
                          {90061, "1-01:01:01"}, {-5, "0:00"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.seconds);
    EXPECT_EQ(formatElapsed(c.seconds), c.expected);
  }
}

}  // namespace
}  // namespace locus

namespace locus {
namespace {

TEST(ParseSignal, NamesNumbersAndErrors) {
  struct Case {
    const char* text;
    int want;  // 0: an error
  };
  const Case cases[] = {
      {"USR1", SIGUSR1}, {"sigusr1", SIGUSR1}, {"SIGTERM", SIGTERM}, {"kill", SIGKILL},
      {"10", 10},        {"64", 64},           {"0", 0},             {"65", 0},
      {"", 0},           {"SIG", 0},           {"USR3", 0},          {"1x", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = parseSignal(c.text);
    ASSERT_EQ(r.ok(), c.want != 0);
    if (r.ok()) EXPECT_EQ(*r, c.want);
    else EXPECT_NE(r.error().message.find("invalid signal"), std::string::npos);
  }
}

}  // namespace
}  // namespace locus
