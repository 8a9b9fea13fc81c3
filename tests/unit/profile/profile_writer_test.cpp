// The HDF5 profile files (profile_data.hpp has the layout): what ProfileWriter writes is checked
// with the HDF5 C API itself (values, units, chunked and extendable datasets, root attributes),
// then read back, merged and flattened through profile_reader.
#include "profile/profile_writer.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "profile/profile_reader.hpp"
#include "tests/hdf5_inspect.hpp"

namespace locus::profile {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/locus-profile-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

Sample sample(double time, double cpu, double rss, uint64_t rd, uint64_t wr) {
  return Sample{time, cpu, rss, rd, wr, std::nullopt, std::nullopt};
}

FileInfo info(const std::string& node, const std::string& gpu = std::string(kGpuNotRequested)) {
  return FileInfo{42, node, 1, gpu == kGpuNotRequested ? "task" : "task,gpu", gpu};
}

// The raw HDF5 view of one dataset: its values as doubles, its units, its layout.
struct RawDataset {
  std::vector<double> values;
  std::string units;
  bool chunked = false;
  bool unlimited = false;
};

using locus::testing::stringAttribute;

RawDataset raw(hid_t file, const std::string& path) {
  RawDataset out;
  hid_t ds = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  if (ds < 0) return out;
  hid_t space = H5Dget_space(ds);
  hsize_t n = 0, max_n = 0;
  H5Sget_simple_extent_dims(space, &n, &max_n);
  out.unlimited = max_n == H5S_UNLIMITED;
  out.values.resize(n);
  if (n > 0) H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data());
  hid_t dcpl = H5Dget_create_plist(ds);
  out.chunked = H5Pget_layout(dcpl) == H5D_CHUNKED;
  out.units = stringAttribute(ds, "units");
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Dclose(ds);
  return out;
}

TEST(ProfileWriterTest, SamplesLandInChunkedExtendableDatasetsWithUnits) {
  TempDir dir;
  const std::string path = dir.file("n1.h5");
  {
    auto w = ProfileWriter::create(path, info("n1"));
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_TRUE((*w)->append("batch", 0, sample(1000.0, 99.5, 200.25, 4096, 0)).ok());
    ASSERT_TRUE((*w)->append("batch", 0, sample(1001.0, 100.0, 201.0, 8192, 512)).ok());
    ASSERT_TRUE((*w)->append("3", 1, sample(1001.5, 50.0, 10.0, 0, 0)).ok());
    // The writer flushes after every sample: the file is complete while it is still open.
    auto live = readProfiles(path);
    ASSERT_TRUE(live.ok()) << live.error().message;
    ASSERT_EQ(live->front().tasks.size(), 2u);
    EXPECT_EQ(live->front().tasks[0].samples.size(), 2u);
    ASSERT_TRUE((*w)->append("batch", 0, sample(1002.0, 0.0, 201.0, 8192, 1024)).ok());
    (*w)->close();
    (*w)->close();  // idempotent
    EXPECT_EQ((*w)->append("batch", 0, sample(1003, 0, 0, 0, 0)).error().code,
              ErrorCode::kFailedPrecondition);
  }

  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);  // with locking: closed for good
  ASSERT_GE(file, 0);
  EXPECT_EQ(stringAttribute(file, "node"), "n1");
  EXPECT_EQ(stringAttribute(file, "gpu"), "not requested");
  EXPECT_EQ(stringAttribute(file, "profile"), "task");
  uint64_t job = 0;
  hid_t a = H5Aopen(file, "job_id", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_UINT64, &job);
  H5Aclose(a);
  EXPECT_EQ(job, 42u);

  struct Case {
    const char* path;
    std::vector<double> values;
    const char* units;
  };
  const Case cases[] = {
      {"/step_batch/task_0/time", {1000, 1001, 1002}, "s"},
      {"/step_batch/task_0/cpu_percent", {99.5, 100, 0}, "%"},
      {"/step_batch/task_0/rss_mb", {200.25, 201, 201}, "MiB"},
      {"/step_batch/task_0/read_bytes", {4096, 8192, 8192}, "B"},
      {"/step_batch/task_0/write_bytes", {0, 512, 1024}, "B"},
      {"/step_3/task_1/time", {1001.5}, "s"},
      {"/step_3/task_1/cpu_percent", {50}, "%"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    RawDataset d = raw(file, c.path);
    EXPECT_EQ(d.values, c.values);
    EXPECT_EQ(d.units, c.units);
    EXPECT_TRUE(d.chunked);
    EXPECT_TRUE(d.unlimited);
  }
  // No GPU was asked for: no GPU datasets.
  EXPECT_LE(H5Lexists(file, "/step_batch/task_0/gpu_util_percent", H5P_DEFAULT), 0);
  H5Fclose(file);
}

TEST(ProfileWriterTest, GpuDatasetsOnlyWhenSampledAndNanForAMissedReading) {
  TempDir dir;
  {
    auto w = ProfileWriter::create(dir.file("gpu.h5"), info("g1", std::string(kGpuSampled)));
    ASSERT_TRUE(w.ok());
    Sample s = sample(10, 1, 2, 0, 0);
    s.gpu_util_percent = 75.0;
    s.gpu_mem_mb = 1024.0;
    ASSERT_TRUE((*w)->append("batch", 0, s).ok());
    ASSERT_TRUE((*w)->append("batch", 0, sample(11, 1, 2, 0, 0)).ok());  // NVML failed this once
    auto u = ProfileWriter::create(dir.file("nogpu.h5"), info("g2", std::string(kGpuUnavailable)));
    ASSERT_TRUE(u.ok());
    ASSERT_TRUE((*u)->append("batch", 0, sample(10, 1, 2, 0, 0)).ok());
  }
  hid_t file = H5Fopen(dir.file("gpu.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  RawDataset util = raw(file, "/step_batch/task_0/gpu_util_percent");
  ASSERT_EQ(util.values.size(), 2u);
  EXPECT_EQ(util.values[0], 75.0);
  EXPECT_TRUE(std::isnan(util.values[1]));
  EXPECT_EQ(util.units, "%");
  EXPECT_EQ(raw(file, "/step_batch/task_0/gpu_mem_mb").units, "MiB");
  H5Fclose(file);
  auto back = readProfiles(dir.file("gpu.h5"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->front().tasks[0].samples[0].gpu_util_percent, 75.0);
  EXPECT_FALSE(back->front().tasks[0].samples[1].gpu_util_percent);

  file = H5Fopen(dir.file("nogpu.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_EQ(stringAttribute(file, "gpu"), "unavailable");
  EXPECT_LE(H5Lexists(file, "/step_batch/task_0/gpu_util_percent", H5P_DEFAULT), 0);
  EXPECT_LE(H5Lexists(file, "/step_batch/task_0/gpu_mem_mb", H5P_DEFAULT), 0);
  H5Fclose(file);
}

TEST(ProfileWriterTest, ManySamplesGrowPastOneChunk) {
  TempDir dir;
  {
    auto w = ProfileWriter::create(dir.file("n1.h5"), info("n1"));
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 600; ++i)
      ASSERT_TRUE((*w)->append("batch", 0, sample(i, i % 100, 1, i, 0)).ok());
  }
  auto back = readProfiles(dir.file("n1.h5"));
  ASSERT_TRUE(back.ok());
  const auto& s = back->front().tasks[0].samples;
  ASSERT_EQ(s.size(), 600u);
  EXPECT_EQ(s[599].time, 599.0);
  EXPECT_EQ(s[599].read_bytes, 599u);
  EXPECT_EQ(s[257].cpu_percent, 57.0);
}

TEST(ProfileWriterTest, CreateFailsInAMissingDirectory) {
  auto w = ProfileWriter::create("/nonexistent-dir/x/n1.h5", info("n1"));
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(w.error().message.find("/nonexistent-dir/x/n1.h5"), std::string::npos);
}

TEST(ProfileReaderTest, StepsAndTasksComeInOrder) {
  TempDir dir;
  {
    auto w = ProfileWriter::create(dir.file("n1.h5"), info("n1"));
    ASSERT_TRUE(w.ok());
    // Written out of order; "10" sorts after "2" as a number, "batch" first.
    for (auto [step, task] :
         std::vector<std::pair<std::string, uint32_t>>{{"10", 0}, {"2", 1}, {"2", 0}, {"batch", 0}})
      ASSERT_TRUE((*w)->append(step, task, sample(1, 1, 1, 0, 0)).ok());
  }
  auto back = readProfiles(dir.file("n1.h5"));
  ASSERT_TRUE(back.ok());
  std::vector<std::string> order;
  for (const auto& t : back->front().tasks) order.push_back(t.step + "/" + std::to_string(t.task));
  EXPECT_EQ(order, (std::vector<std::string>{"batch/0", "2/0", "2/1", "10/0"}));
}

TEST(ProfileReaderTest, BadInputs) {
  TempDir dir;
  const std::string text = dir.file("text.h5");
  std::FILE* f = std::fopen(text.c_str(), "w");
  std::fputs("not hdf5\n", f);
  std::fclose(f);
  hid_t other = H5Fcreate(dir.file("other.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Fclose(other);
  struct Case {
    std::string name, path;
    ErrorCode code;
    std::string message;
  };
  const Case cases[] = {
      {"missing file", dir.file("none.h5"), ErrorCode::kNotFound, "no such file"},
      {"not HDF5", text, ErrorCode::kInvalidArgument, "is not an HDF5 file"},
      {"HDF5 but not a profile", dir.file("other.h5"), ErrorCode::kInvalidArgument,
       "is not a Locus profile"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = readProfiles(c.path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, c.code);
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
  }
}

TEST(MergeProfilesTest, OneGroupPerNodeWithEverythingCopied) {
  TempDir dir;
  for (const char* node : {"n1", "n2"}) {
    auto w = ProfileWriter::create(dir.file(std::string(node) + ".h5"), info(node));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->append("batch", 0, sample(100, 10, 20, 30, 40)).ok());
    ASSERT_TRUE((*w)->append("0", 0, sample(101, node[1] == '1' ? 11 : 22, 21, 31, 41)).ok());
  }
  const std::string merged = dir.file("merged.h5");
  ASSERT_TRUE(mergeProfiles({dir.file("n1.h5"), dir.file("n2.h5")}, merged).ok());

  hid_t file = H5Fopen(merged.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  EXPECT_EQ(stringAttribute(file, "nodes"), "n1,n2");
  RawDataset cpu = raw(file, "/n2/step_0/task_0/cpu_percent");
  EXPECT_EQ(cpu.values, (std::vector<double>{22}));
  EXPECT_EQ(cpu.units, "%");
  EXPECT_TRUE(cpu.unlimited);
  hid_t n1 = H5Gopen2(file, "/n1", H5P_DEFAULT);
  EXPECT_EQ(stringAttribute(n1, "node"), "n1");
  H5Gclose(n1);
  H5Fclose(file);

  auto back = readProfiles(merged);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].node, "n1");
  EXPECT_EQ((*back)[1].node, "n2");
  EXPECT_EQ((*back)[1].tasks[1].samples[0].cpu_percent, 22.0);

  // Merging a merged file, the same node twice, or two jobs: refused.
  EXPECT_FALSE(mergeProfiles({merged}, dir.file("again.h5")).ok());
  auto twice = mergeProfiles({dir.file("n1.h5"), dir.file("n1.h5")}, dir.file("twice.h5"));
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("two profiles of node n1"), std::string::npos);
  {
    auto w = ProfileWriter::create(dir.file("other-job.h5"),
                                   FileInfo{43, "n3", 1, "task", std::string(kGpuNotRequested)});
    ASSERT_TRUE(w.ok());
  }
  auto jobs = mergeProfiles({dir.file("n1.h5"), dir.file("other-job.h5")}, dir.file("jobs.h5"));
  ASSERT_FALSE(jobs.ok());
  EXPECT_NE(jobs.error().message.find("is of job 43, not 42"), std::string::npos)
      << jobs.error().message;
}

TEST(ToCsvTest, OneRowPerSampleAndEmptyGpuColumnsWhereNotSampled) {
  NodeProfile p;
  p.job_id = 7;
  p.node = "n1";
  TaskSeries t{"batch", 0, {sample(1700000000.25, 99.5, 200.5, 4096, 8)}};
  Sample g = sample(1700000001, 1, 2, 3, 4);
  g.gpu_util_percent = 50;
  g.gpu_mem_mb = 512;
  TaskSeries u{"1", 2, {g}};
  p.tasks = {t, u};
  EXPECT_EQ(toCsv({p}),
            "job_id,node,step,task,time,cpu_percent,rss_mb,read_bytes,write_bytes,gpu_util_percent,"
            "gpu_mem_mb\n"
            "7,n1,batch,0,1700000000.250,99.50,200.500,4096,8,,\n"
            "7,n1,1,2,1700000001.000,1.00,2.000,3,4,50.00,512.000\n");
}

}  // namespace
}  // namespace locus::profile
