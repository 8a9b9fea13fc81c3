// NvmlUsageReader: live GPU utilization and memory for job profiles, read through the fake NVML
// (tests/unit/gpu/fake_nvml.c). No NVIDIA driver runs where these tests run, so the real
// driver's figures cannot be checked here; the profile integration test runs without NVML.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "gpu/nvml.hpp"
#include "tests/unit/gpu/gpu_test_support.hpp"

namespace locus::gpu {
namespace {

using gpu::testing::ScopedEnv;

const std::string kFakeNvml = LOCUS_FAKE_NVML;

int envCount(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : 0;
}

TEST(NvmlUsageReaderTest, MeanUtilizationAndSummedMemoryOfTheGpusAskedFor) {
  ScopedEnv inits("FAKE_NVML_INITS", nullptr), shutdowns("FAKE_NVML_SHUTDOWNS", nullptr);
  {
    auto reader = NvmlUsageReader::open(kFakeNvml);
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    // GPUs 0 and 1 (hwloc's spelling and NVML's): (10 + 50) / 2 % busy; 1% of each one's memory
    // in use: (42505273344 + 1000) / 100 + 42505273344 / 100 bytes.
    auto both = (*reader)->read({"0000:06:00.0", "00000000:14:00.0"});
    ASSERT_TRUE(both.ok()) << both.error().message;
    EXPECT_DOUBLE_EQ(both->util_percent, 30.0);
    EXPECT_NEAR(both->mem_used_mb, (425052733.0 + 425052733.0) / 1048576.0, 1e-3);
    // Read again: the library stays loaded between samples.
    auto one = (*reader)->read({"0000:9a:00.0"});
    ASSERT_TRUE(one.ok());
    EXPECT_DOUBLE_EQ(one->util_percent, 90.0);
    EXPECT_EQ(envCount("FAKE_NVML_INITS"), 1);
    EXPECT_EQ(envCount("FAKE_NVML_SHUTDOWNS"), 0);
    // A bus id NVML does not know (an emulated node's GPU) is skipped; none known: kNotFound.
    auto mixed = (*reader)->read({"0000:ff:00.0", "0000:06:00.0"});
    ASSERT_TRUE(mixed.ok());
    EXPECT_DOUBLE_EQ(mixed->util_percent, 10.0);
    auto none = (*reader)->read({"0000:ff:00.0"});
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  }
  EXPECT_EQ(envCount("FAKE_NVML_SHUTDOWNS"), 1);
}

TEST(NvmlUsageReaderTest, NoDriverIsUnavailableAndAFailingCallIsAnError) {
  auto missing = NvmlUsageReader::open(std::string(LOCUS_TEST_DATA) + "/no-such-libnvidia-ml.so.1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kUnavailable);
  {
    ScopedEnv fail("FAKE_NVML_FAIL", "nvmlInit_v2");
    auto r = NvmlUsageReader::open(kFakeNvml);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  }
  auto reader = NvmlUsageReader::open(kFakeNvml);
  ASSERT_TRUE(reader.ok());
  ScopedEnv fail("FAKE_NVML_FAIL", "nvmlDeviceGetUtilizationRates");
  auto r = (*reader)->read({"0000:06:00.0"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  EXPECT_NE(r.error().message.find("nvmlDeviceGetUtilizationRates"), std::string::npos);
}

}  // namespace
}  // namespace locus::gpu
