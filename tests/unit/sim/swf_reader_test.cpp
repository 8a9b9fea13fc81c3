// SWF parsing: good lines, malformed lines (reported with their number, skipped), header keys,
// gzip and plain files.
#include "sim/swf_reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>

namespace locus::sim {
namespace {

constexpr const char* kGood =
    "  17   600476 364560 215337    5  3.5    -1    5 215400    -1  0  14  14  -1 -1 -1 -1 -1";

TEST(SwfReader, ParsesAllEighteenFields) {
  SwfTrace t;
  parseSwf(std::string("1 2 3 4 5 6.25 7 8 9 10 11 12 13 14 15 16 17 18\n") + kGood + "\n", t);
  ASSERT_EQ(t.jobs.size(), 2u);
  EXPECT_EQ(t.malformed, 0u);
  const SwfJob& a = t.jobs[0];
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.submit, 2);
  EXPECT_EQ(a.wait, 3);
  EXPECT_EQ(a.run, 4);
  EXPECT_EQ(a.procs, 5);
  EXPECT_DOUBLE_EQ(a.avg_cpu, 6.25);
  EXPECT_EQ(a.mem, 7);
  EXPECT_EQ(a.req_procs, 8);
  EXPECT_EQ(a.req_time, 9);
  EXPECT_EQ(a.req_mem, 10);
  EXPECT_EQ(a.status, 11);
  EXPECT_EQ(a.user, 12);
  EXPECT_EQ(a.group, 13);
  EXPECT_EQ(a.executable, 14);
  EXPECT_EQ(a.queue, 15);
  EXPECT_EQ(a.partition, 16);
  EXPECT_EQ(a.preceding_job, 17);
  EXPECT_EQ(a.think_time, 18);
  const SwfJob& b = t.jobs[1];
  EXPECT_EQ(b.id, 17);
  EXPECT_EQ(b.submit, 600476);
  EXPECT_EQ(b.run, 215337);
  EXPECT_EQ(b.req_time, 215400);
  EXPECT_EQ(b.think_time, -1);
}

TEST(SwfReader, HeaderSizesTheCluster) {
  SwfTrace t;
  parseSwf(
      "; Version: 2.2\n;  MaxNodes: 128\n; MaxProcs: 1024\n; Note: MaxNodes: 7 is not a key\n"
      ";\n; MaxJobs: x\n",
      t);
  EXPECT_EQ(t.max_nodes, 128);
  EXPECT_EQ(t.max_procs, 1024);
  EXPECT_TRUE(t.jobs.empty());
  EXPECT_EQ(t.malformed, 0u);
}

TEST(SwfReader, MalformedLinesAreReportedWithTheirNumberAndSkipped) {
  struct Case {
    std::string name;
    std::string line;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"too few fields", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
       "line 2: expected 18 fields, found 17"},
      {"too many fields", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
       "line 2: more than 18 fields"},
      {"not a number", "1 2 3 four 5 6 7 8 9 10 11 12 13 14 15 16 17 18",
       "line 2: field 4 is not a number: 'four'"},
      {"trailing garbage in a number", "1 2 3 4x 5 6 7 8 9 10 11 12 13 14 15 16 17 18",
       "line 2: field 4 is not a number: '4x'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SwfTrace t;
    parseSwf(std::string(kGood) + "\n" + c.line + "\n\n" + kGood + "\n", t);
    EXPECT_EQ(t.jobs.size(), 2u);
    EXPECT_EQ(t.malformed, 1u);
    ASSERT_EQ(t.problems.size(), 1u);
    EXPECT_EQ(t.problems[0], c.problem);
  }
}

TEST(SwfReader, CrLfAndNoFinalNewline) {
  SwfTrace t;
  parseSwf(std::string("; MaxProcs: 8\r\n") + kGood + "\r\n" + kGood, t);
  EXPECT_EQ(t.max_procs, 8);
  EXPECT_EQ(t.jobs.size(), 2u);
  EXPECT_EQ(t.malformed, 0u);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/locus-swf-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(SwfReader, ReadsGzipAndPlainFilesAlike) {
  TempDir dir;
  // Enough lines to cross the reader's chunk boundary, with one bad line in the middle.
  std::string text = "; MaxNodes: 100\n; MaxProcs: 100\n";
  for (int i = 0; i < 20000; ++i) {
    text += i == 12345 ? "bad line\n" : std::string(kGood) + "\n";
  }
  const std::string plain = dir.file("t.swf");
  FILE* f = std::fopen(plain.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  const std::string gz = dir.file("t.swf.gz");
  gzFile g = gzopen(gz.c_str(), "wb");
  ASSERT_NE(g, nullptr);
  gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
  gzclose(g);

  for (const std::string& path : {plain, gz}) {
    SCOPED_TRACE(path);
    auto t = readSwf(path);
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t->max_nodes, 100);
    EXPECT_EQ(t->jobs.size(), 19999u);
    ASSERT_EQ(t->problems.size(), 1u);
    EXPECT_EQ(t->problems[0], "line 12348: field 1 is not a number: 'bad'");
  }
}

TEST(SwfReader, MissingFileIsAnError) {
  auto t = readSwf("/nonexistent/trace.swf.gz");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kNotFound);
  EXPECT_NE(t.error().message.find("/nonexistent/trace.swf.gz"), std::string::npos);
}

}  // namespace
}  // namespace locus::sim
