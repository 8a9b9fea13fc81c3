// unit_fuzz_replay: every file of tests/fuzz/corpus/<target>/ (the seeds) and
// tests/fuzz/regressions/<target>/ (inputs that once crashed a target, see docs/reliability.md)
// run through the target's function, built without libFuzzer. A crash or a FUZZ_CHECK kills
// the test; the file being replayed is printed first so the log names it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_target.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kFuzzDir = LOCUS_FUZZ_DIR;

// Target names, from the corpus directories (each target has one).
std::vector<std::string> corpusTargets() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kFuzzDir / "corpus", ec))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<fs::path> filesOf(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string readAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(FuzzTargets, EveryTargetHasASeedCorpusAndEveryCorpusATarget) {
  std::set<std::string> registered;
  for (const auto& [name, fn] : locus::fuzz::targets()) registered.insert(name);
  const std::vector<std::string> dirs = corpusTargets();
  EXPECT_EQ(registered, std::set<std::string>(dirs.begin(), dirs.end()));
  for (const std::string& name : dirs) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(filesOf(kFuzzDir / "corpus" / name).empty());
  }
  // A regression directory for a target that no longer exists would silently stop replaying.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kFuzzDir / "regressions", ec))
    EXPECT_TRUE(registered.count(e.path().filename().string())) << e.path();
}

class Replay : public ::testing::TestWithParam<std::string> {};

TEST_P(Replay, CorpusAndRegressions) {
  const std::string& name = GetParam();
  auto it = locus::fuzz::targets().find(name);
  ASSERT_NE(it, locus::fuzz::targets().end()) << "no target " << name;
  size_t replayed = 0;
  for (const char* kind : {"corpus", "regressions"}) {
    for (const fs::path& file : filesOf(kFuzzDir / kind / name)) {
      std::fprintf(stderr, "replay %s\n", file.c_str());
      const std::string bytes = readAll(file);
      it->second(bytes);
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0u);
  RecordProperty("replayed", static_cast<int>(replayed));
}

INSTANTIATE_TEST_SUITE_P(Fuzz, Replay, ::testing::ValuesIn(corpusTargets()),
                         [](const auto& info) { return info.param; });

}  // namespace
