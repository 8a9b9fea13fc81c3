#include "locality/dataset_catalog.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace locus::locality {
namespace {

using Hosts = std::vector<std::string>;

// The same catalog in both formats: "climate" has two files (blocks listed out of order in
// b.h5, and a.h5 without a size), "tiny" one file.
constexpr const char* kJson = R"({
  "datasets": {
    "climate": {"files": [
      {"path": "/data/climate/b.h5", "size": 300, "blocks": [
        {"offset": 128, "length": 128, "hosts": ["n2", "n3", "n4"]},
        {"offset": 0, "length": 128, "hosts": ["n1", "n2", "n3"], "racks": ["/r1", "/r1", "/r2"]},
        {"offset": 256, "length": 44, "hosts": ["n1"]}]},
      {"path": "/data/climate/a.h5", "blocks": [
        {"offset": 0, "length": 100, "hosts": ["n5"]},
        {"offset": 100, "length": 50, "hosts": ["n6"]}]}]},
    "tiny": {"files": [{"path": "/data/tiny.txt", "size": 0}]}
  }
})";

constexpr const char* kToml = R"(
[datasets.climate]
[[datasets.climate.files]]
path = "/data/climate/b.h5"
size = 300
[[datasets.climate.files.blocks]]
offset = 128
length = 128
hosts = ["n2", "n3", "n4"]
[[datasets.climate.files.blocks]]
offset = 0
length = 128
hosts = ["n1", "n2", "n3"]
racks = ["/r1", "/r1", "/r2"]
[[datasets.climate.files.blocks]]
offset = 256
length = 44
hosts = ["n1"]
[[datasets.climate.files]]
path = "/data/climate/a.h5"
[[datasets.climate.files.blocks]]
offset = 0
length = 100
hosts = ["n5"]
[[datasets.climate.files.blocks]]
offset = 100
length = 50
hosts = ["n6"]

[datasets.tiny]
[[datasets.tiny.files]]
path = "/data/tiny.txt"
size = 0
)";

void expectClimate(DatasetCatalog& c) {
  EXPECT_EQ(c.names(), (Hosts{"climate", "tiny"}));
  auto r = c.locate("climate");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const InputFile& a = (*r)[0];  // sorted by path
  EXPECT_EQ(a.path, "/data/climate/a.h5");
  EXPECT_EQ(a.size, 150u);  // no size: the end of the last block, 100 + 50
  ASSERT_EQ(a.blocks.size(), 2u);
  EXPECT_EQ(a.blocks[1].hosts, (Hosts{"n6"}));
  const InputFile& b = (*r)[1];
  EXPECT_EQ(b.path, "/data/climate/b.h5");
  EXPECT_EQ(b.size, 300u);
  ASSERT_EQ(b.blocks.size(), 3u);  // sorted by offset
  EXPECT_EQ(b.blocks[0].offset, 0u);
  EXPECT_EQ(b.blocks[0].length, 128u);
  EXPECT_EQ(b.blocks[0].hosts, (Hosts{"n1", "n2", "n3"}));
  EXPECT_EQ(b.blocks[0].racks, (Hosts{"/r1", "/r1", "/r2"}));
  EXPECT_EQ(b.blocks[1].offset, 128u);
  EXPECT_TRUE(b.blocks[1].racks.empty());
  EXPECT_EQ(b.blocks[2].offset, 256u);
  EXPECT_EQ(b.blocks[2].length, 44u);

  auto tiny = c.locate("dataset:tiny");
  ASSERT_TRUE(tiny.ok()) << tiny.error().message;
  ASSERT_EQ(tiny->size(), 1u);
  EXPECT_EQ((*tiny)[0].size, 0u);
  EXPECT_TRUE((*tiny)[0].blocks.empty());
}

TEST(DatasetCatalog, ParsesJson) {
  auto c = DatasetCatalog::parse(kJson, CatalogFormat::kJson, "cat.json");
  ASSERT_TRUE(c.ok()) << c.error().message;
  expectClimate(*c);
}

TEST(DatasetCatalog, ParsesToml) {
  auto c = DatasetCatalog::parse(kToml, CatalogFormat::kToml, "cat.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  expectClimate(*c);
}

TEST(DatasetCatalog, UnknownDatasetIsNotFound) {
  auto c = DatasetCatalog::parse(kJson, CatalogFormat::kJson, "/etc/locus/datasets.json");
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto r = c->locate("weather");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "dataset:weather: not in the catalog /etc/locus/datasets.json");
}

// One file of dataset "d" with the given blocks (JSON text) and size ("" for none).
std::string oneFile(const std::string& blocks, const std::string& size = "") {
  return R"({"datasets":{"d":{"files":[{"path":"/f")" + (size.empty() ? "" : R"(,"size":)" + size) +
         R"(,"blocks":[)" + blocks + "]}]}}}";
}

TEST(DatasetCatalog, RefusesBadCatalogsNamingFileAndDataset) {
  struct Case {
    const char* name;
    std::string text;
    std::string message;  // the whole message
  };
  const Case cases[] = {
      {"block past the size", oneFile(R"({"offset":0,"length":128,"hosts":["n1"]})", "100"),
       "c.json: dataset 'd': file '/f': the block at offset 0 (length 128) ends at 128, past "
       "the file's size 100"},
      {"overlapping blocks",
       oneFile(
           R"({"offset":100,"length":50,"hosts":["n1"]},{"offset":0,"length":128,"hosts":["n1"]})"),
       "c.json: dataset 'd': file '/f': the block at offset 100 (length 50) overlaps the block "
       "at offset 0 (length 128)"},
      {"no host", oneFile(R"({"offset":0,"length":1,"hosts":[]})"),
       "c.json: dataset 'd': file '/f': block #1: 'hosts' is empty; every block needs at least "
       "one host"},
      {"host twice", oneFile(R"({"offset":0,"length":1,"hosts":["n1","n1"]})"),
       "c.json: dataset 'd': file '/f': block #1: host 'n1' listed twice"},
      {"typo in a key", oneFile(R"({"offset":0,"length":1,"host":["n1"]})"),
       "c.json: dataset 'd': file '/f': block #1: unknown key 'host' (known: offset, length, "
       "hosts, racks)"},
      {"negative length", oneFile(R"({"offset":0,"length":-5,"hosts":["n1"]})"),
       "c.json: dataset 'd': file '/f': block #1: 'length' must be a positive integer"},
      {"zero length", oneFile(R"({"offset":0,"length":0,"hosts":["n1"]})"),
       "c.json: dataset 'd': file '/f': block #1: 'length' must be a positive integer"},
      {"racks not one per host",
       oneFile(R"({"offset":0,"length":1,"hosts":["n1","n2"],"racks":["/r1"]})"),
       "c.json: dataset 'd': file '/f': block #1: 'racks' must name one rack per host (2), got 1"},
      {"no blocks", oneFile(""),
       "c.json: dataset 'd': file '/f': no blocks (only an empty file, size = 0, may have none)"},
      {"no path", R"({"datasets":{"d":{"files":[{"size":1}]}}})",
       "c.json: dataset 'd': file #1: 'path' must be a non-empty string"},
      {"path twice",
       R"({"datasets":{"d":{"files":[{"path":"/f","size":0},{"path":"/f","size":0}]}}})",
       "c.json: dataset 'd': file '/f' listed twice"},
      {"no files", R"({"datasets":{"d":{"files":[]}}})",
       "c.json: dataset 'd': needs a non-empty 'files' array"},
      {"no datasets", R"({"dataset":{}})", "c.json: unknown key 'dataset' (known: datasets)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = DatasetCatalog::parse(c.text, CatalogFormat::kJson, "c.json");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message, c.message);
  }
}

TEST(DatasetCatalog, SyntaxErrorsNameTheFile) {
  auto j = DatasetCatalog::parse("{\"datasets\": ", CatalogFormat::kJson, "c.json");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().message.rfind("c.json: not valid JSON", 0), 0u) << j.error().message;

  auto t = DatasetCatalog::parse("[datasets.d\n", CatalogFormat::kToml, "c.toml");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message.rfind("c.toml:1: ", 0), 0u) << t.error().message;

  // The same validation for TOML: a negative offset (TOML integers are signed).
  auto neg = DatasetCatalog::parse(
      "[[datasets.d.files]]\npath = \"/f\"\n[[datasets.d.files.blocks]]\noffset = -1\n"
      "length = 1\nhosts = [\"n1\"]\n",
      CatalogFormat::kToml, "c.toml");
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.error().message,
            "c.toml: dataset 'd': file '/f': block #1: 'offset' must be a non-negative integer");
}

class DatasetCatalogFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("locus_catalog_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(DatasetCatalogFiles, LoadPicksTheFormatByExtension) {
  auto j = DatasetCatalog::load(write("cat.json", kJson));
  ASSERT_TRUE(j.ok()) << j.error().message;
  expectClimate(*j);
  auto t = DatasetCatalog::load(write("cat.toml", kToml));
  ASSERT_TRUE(t.ok()) << t.error().message;
  expectClimate(*t);
  // Errors name the file as given.
  auto bad = DatasetCatalog::load(write("bad.json", oneFile("")));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind((dir_ / "bad.json").string() + ": dataset 'd'", 0), 0u)
      << bad.error().message;
}

TEST_F(DatasetCatalogFiles, LoadRefusesOtherExtensionsAndMissingFiles) {
  auto yaml = DatasetCatalog::load(write("cat.yaml", kJson));
  ASSERT_FALSE(yaml.ok());
  EXPECT_EQ(yaml.error().code, ErrorCode::kInvalidArgument);
  auto missing = DatasetCatalog::load((dir_ / "nope.json").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("nope.json"), std::string::npos);
}

}  // namespace
}  // namespace locus::locality
