#include "locality/splits.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace locus::locality {
namespace {

using Hosts = std::vector<std::string>;

BlockLocation block(uint64_t offset, uint64_t length, Hosts hosts, Hosts racks = {}) {
  BlockLocation b;
  b.offset = offset;
  b.length = length;
  b.hosts = std::move(hosts);
  b.racks = std::move(racks);
  return b;
}

// a: 3 blocks (the last empty), b: 1 block, c: empty file.
std::vector<InputFile> input() {
  return {
      {"/in/a",
       250,
       {block(0, 100, {"h1", "h2", "h3"}, {"/r1", "/r1", "/r2"}),
        block(100, 150, {"h3", "h4", "h2"}, {"/r2", "/r2", "/r1"}), block(250, 0, {"h9"})}},
      {"/in/b", 40, {block(0, 40, {"h5", "h1"})}},
      {"/in/c", 0, {}},
  };
}

TEST(ParseSplitMode, KnowsBlockAndFile) {
  EXPECT_EQ(parseSplitMode("block"), SplitMode::kBlock);
  EXPECT_EQ(parseSplitMode("file"), SplitMode::kFile);
  EXPECT_EQ(parseSplitMode("Block"), std::nullopt);
  EXPECT_EQ(parseSplitMode(""), std::nullopt);
}

TEST(MakeSplits, BlockModeOneSplitPerNonEmptyBlock) {
  auto s = makeSplits(input(), SplitMode::kBlock);
  ASSERT_EQ(s.size(), 3u);  // a's empty block and the empty file c make none
  EXPECT_EQ(s[0].path, "/in/a");
  EXPECT_EQ(s[0].offset, 0u);
  EXPECT_EQ(s[0].length, 100u);
  EXPECT_EQ(s[0].hosts, (Hosts{"h1", "h2", "h3"}));
  EXPECT_EQ(s[0].racks, (Hosts{"/r1", "/r2"}));  // distinct, in hosts' order
  EXPECT_EQ(s[1].offset, 100u);
  EXPECT_EQ(s[1].length, 150u);
  EXPECT_EQ(s[1].hosts, (Hosts{"h3", "h4", "h2"}));  // the store's order, kept
  EXPECT_EQ(s[1].racks, (Hosts{"/r2", "/r1"}));
  EXPECT_EQ(s[2].path, "/in/b");
  EXPECT_EQ(s[2].hosts, (Hosts{"h5", "h1"}));
  EXPECT_TRUE(s[2].racks.empty());  // racks unknown
}

TEST(MakeSplits, FileModeOneSplitPerFileWithTheHostsHoldingMost) {
  auto s = makeSplits(input(), SplitMode::kFile);
  ASSERT_EQ(s.size(), 3u);
  // a: h2 and h3 hold 100 + 150 = 250, h4 150, h1 100, h9 nothing (empty block).
  EXPECT_EQ(s[0].path, "/in/a");
  EXPECT_EQ(s[0].offset, 0u);
  EXPECT_EQ(s[0].length, 250u);
  EXPECT_EQ(s[0].hosts, (Hosts{"h2", "h3", "h4"}));  // tie h2/h3 broken by name; h1 is 4th
  EXPECT_EQ(s[0].racks, (Hosts{"/r1", "/r2"}));
  // b: h1 and h5 hold 40 each: by name.
  EXPECT_EQ(s[1].hosts, (Hosts{"h1", "h5"}));
  // c: empty, still a split (a task per file), with no host.
  EXPECT_EQ(s[2].path, "/in/c");
  EXPECT_EQ(s[2].length, 0u);
  EXPECT_TRUE(s[2].hosts.empty());
}

TEST(BytesByHost, SumsEveryHostsShare) {
  // h1: 100 (a) + 40 (b); h2: 100 + 150; h3: 100 + 150; h4: 150; h5: 40; h9 holds only an
  // empty block, so nothing.
  const std::map<std::string, uint64_t> want = {
      {"h1", 140}, {"h2", 250}, {"h3", 250}, {"h4", 150}, {"h5", 40}};
  EXPECT_EQ(bytesByHost(input()), want);
}

TEST(BytesByHost, AHostListedTwiceForABlockCountsItOnce) {
  std::vector<InputFile> in = {{"/x", 10, {block(0, 10, {"h1", "h1", "h2"})}}};
  EXPECT_EQ(bytesByHost(in), (std::map<std::string, uint64_t>{{"h1", 10}, {"h2", 10}}));
  auto s = makeSplits(in, SplitMode::kBlock);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].hosts, (Hosts{"h1", "h2"}));
}

}  // namespace
}  // namespace locus::locality
