#include "locality/local_datasets.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace locus::locality {
namespace {

namespace fs = std::filesystem;

class LocalDatasetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("locus_local_datasets_test_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes `bytes` bytes at root_/rel, creating the directories on the way.
  void file(const std::string& rel, size_t bytes) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << std::string(bytes, 'x');
  }
  std::string path(const std::string& rel) const { return (root_ / rel).string(); }

  fs::path root_;
};

TEST_F(LocalDatasetsTest, FilesAndDirectoriesAreDatasetsSortedByName) {
  file("cache/climate.h5", 300);
  file("cache/imagenet/train/a.jpg", 10);
  file("cache/imagenet/train/b.jpg", 20);
  file("cache/imagenet/val/c.jpg", 5);
  file("cache/.climate2.h5.partial", 99);  // being staged: not a dataset yet
  file("elsewhere/big.bin", 1000);
  // Symlinks are not followed: neither a top-level one nor one below a dataset counts.
  fs::create_symlink(path("elsewhere/big.bin"), path("cache/linked.bin"));
  fs::create_symlink(path("elsewhere/big.bin"), path("cache/imagenet/big.bin"));
  fs::create_directory_symlink(path("elsewhere"), path("cache/imagenet/elsewhere"));
  fs::create_directories(path("cache/empty"));

  std::vector<std::string> warnings;
  auto ds = scanCacheDirs({path("cache")}, &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds[0].name, "climate.h5");
  EXPECT_EQ(ds[0].path, path("cache/climate.h5"));
  EXPECT_EQ(ds[0].bytes, 300u);
  EXPECT_EQ(ds[1].name, "empty");
  EXPECT_EQ(ds[1].bytes, 0u);
  EXPECT_EQ(ds[2].name, "imagenet");
  EXPECT_EQ(ds[2].path, path("cache/imagenet"));
  EXPECT_EQ(ds[2].bytes, 35u);  // 10 + 20 + 5; the links to big.bin add nothing
}

TEST_F(LocalDatasetsTest, FirstDirectoryWinsAndMissingOnesAreWarnings) {
  file("nvme/climate.h5", 300);
  file("ssd/climate.h5", 7);
  file("ssd/era5/x.nc", 4);
  file("not-a-dir", 1);

  std::vector<std::string> warnings;
  auto ds = scanCacheDirs({path("nvme"), path("gone"), path("ssd"), path("not-a-dir")}, &warnings);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].name, "climate.h5");
  EXPECT_EQ(ds[0].path, path("nvme/climate.h5"));
  EXPECT_EQ(ds[0].bytes, 300u);
  EXPECT_EQ(ds[1].name, "era5");
  EXPECT_EQ(ds[1].bytes, 4u);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0], "cache directory " + path("gone") + " does not exist; skipped");
  EXPECT_EQ(warnings[1],
            "dataset climate.h5 in " + path("ssd") + " is shadowed by " + path("nvme/climate.h5"));
  EXPECT_EQ(warnings[2], "cache directory " + path("not-a-dir") + " is not a directory; skipped");

  // Without a warnings vector the same scan still works.
  EXPECT_EQ(scanCacheDirs({path("gone"), path("ssd")}).size(), 2u);
}

TEST_F(LocalDatasetsTest, UnreadableSubdirectoryCostsOnlyItsOwnBytes) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every directory";
  file("cache/ds/a", 3);
  file("cache/ds/locked/b", 5);
  fs::permissions(path("cache/ds/locked"), fs::perms::none);
  std::vector<std::string> warnings;
  auto ds = scanCacheDirs({path("cache")}, &warnings);
  fs::permissions(path("cache/ds/locked"), fs::perms::owner_all);  // so TearDown can remove it
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].bytes, 3u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("cannot read " + path("cache/ds/locked"), 0), 0u) << warnings[0];
}

TEST_F(LocalDatasetsTest, NoDirectoriesNoDatasets) { EXPECT_TRUE(scanCacheDirs({}).empty()); }

}  // namespace
}  // namespace locus::locality
