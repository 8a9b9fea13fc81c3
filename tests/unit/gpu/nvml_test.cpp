#include "gpu/nvml.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gpu/gpu_test_support.hpp"

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace locus::gpu {
namespace {

using gpu::testing::describe;
using gpu::testing::ScopedEnv;

// tests/unit/gpu/fake_nvml.c, built by tests/CMakeLists.txt: a test double for the driver's
// libnvidia-ml.so.1, because no NVIDIA driver can run where these tests run.
const std::string kFakeNvml = LOCUS_FAKE_NVML;


int envCount(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : 0;
}

TEST(NormalizePciBusIdTest, NvmlSpellingBecomesHwlocs) {
  struct Case {
    std::string name, in, want;
  };
  const std::vector<Case> cases = {
      {"nvml 8-digit domain, upper case", "00000000:3B:00.0", "0000:3b:00.0"},
      {"nonzero domain and function", "00000001:0A:1F.7", "0001:0a:1f.7"},
      {"legacy 4-digit domain", "0000:AF:00.0", "0000:af:00.0"},
      {"already normalized", "0000:3b:00.0", "0000:3b:00.0"},
      {"garbage unchanged", "not a bus id", "not a bus id"},
      {"empty unchanged", "", ""},
      {"no domain unchanged", "3b:00.0", "3b:00.0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(normalizePciBusId(c.in), c.want);
  }
}

TEST(ProbeNvmlTest, MissingLibraryIsUnavailable) {
  const std::string missing = std::string(LOCUS_TEST_DATA) + "/no-such-libnvidia-ml.so.1";
  auto r = probeNvml(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find(missing), std::string::npos) << r.error().message;
}

TEST(ProbeNvmlTest, FakeNvmlFieldByField) {
  ScopedEnv inits("FAKE_NVML_INITS", nullptr), shutdowns("FAKE_NVML_SHUTDOWNS", nullptr);
  auto r = probeNvml(kFakeNvml);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::vector<NvmlGpu>& gpus = *r;
  ASSERT_EQ(gpus.size(), 3u);

  EXPECT_EQ(gpus[0].nvml_index, 0u);
  EXPECT_EQ(gpus[0].name, "NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(gpus[0].uuid, "GPU-fa4e0000-0000-4000-8000-000000000000");
  EXPECT_EQ(gpus[0].pci_bus_id, "0000:06:00.0");  // NVML said "00000000:06:00.0"
  EXPECT_EQ(gpus[0].memory_mb, 40536u);           // (42505273344 + 1000) B / 2^20, floored
  // Link 0 ends at GPU 1, links 1 and 2 at an NVSwitch, link 3 is down.
  EXPECT_EQ(gpus[0].nvlink_peer_bus_ids, (std::vector<std::string>{"0000:14:00.0"}));
  EXPECT_EQ(gpus[0].nvswitch_links, 2u);
  // Mask 0x555555: the even CPUs 0..22.
  EXPECT_EQ(gpus[0].cpu_affinity,
            (std::vector<uint32_t>{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22}));

  EXPECT_EQ(gpus[1].nvml_index, 1u);
  EXPECT_EQ(gpus[1].name, "NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(gpus[1].uuid, "GPU-fa4e0000-0000-4000-8000-000000000001");
  EXPECT_EQ(gpus[1].pci_bus_id, "0000:14:00.0");
  EXPECT_EQ(gpus[1].memory_mb, 40536u);
  EXPECT_EQ(gpus[1].nvlink_peer_bus_ids, (std::vector<std::string>{"0000:06:00.0"}));
  EXPECT_EQ(gpus[1].nvswitch_links, 1u);
  EXPECT_TRUE(gpus[1].cpu_affinity.empty());  // the affinity query is "not supported"

  EXPECT_EQ(gpus[2].nvml_index, 2u);
  EXPECT_EQ(gpus[2].name, "NVIDIA A2");
  EXPECT_EQ(gpus[2].uuid, "");  // the UUID query fails: still a GPU, without a UUID
  EXPECT_EQ(gpus[2].pci_bus_id, "0000:9a:00.0");
  EXPECT_EQ(gpus[2].memory_mb, 16384u);
  EXPECT_TRUE(gpus[2].nvlink_peer_bus_ids.empty());
  EXPECT_EQ(gpus[2].nvswitch_links, 0u);
  // Words 0x00aaaaaa and 0x2: the odd CPUs 1..23, then bit 1 of the second 64-bit word.
  EXPECT_EQ(gpus[2].cpu_affinity,
            (std::vector<uint32_t>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 65}));

  EXPECT_EQ(envCount("FAKE_NVML_INITS"), 1);
  EXPECT_EQ(envCount("FAKE_NVML_SHUTDOWNS"), 1);
}

TEST(ProbeNvmlTest, OldDriverWithoutDeviceTypeCountsStrayLinksAsSwitchLinks) {
  // The switch links then name the switch's bus id C1:00.0, which is no GPU of the node.
  ScopedEnv old_driver("FAKE_NVML_NO_DEVICE_TYPE", "1");
  auto r = probeNvml(kFakeNvml);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  const std::vector<uint32_t> want_switch_links = {2, 1, 0};
  const std::vector<std::vector<std::string>> want_peers = {{"0000:14:00.0"}, {"0000:06:00.0"}, {}};
  for (size_t i = 0; i < r->size(); ++i) {
    SCOPED_TRACE("GPU " + std::to_string(i));
    EXPECT_EQ((*r)[i].nvswitch_links, want_switch_links[i]);
    EXPECT_EQ((*r)[i].nvlink_peer_bus_ids, want_peers[i]);
  }
}

TEST(ProbeNvmlTest, FailingCalls) {
  struct Case {
    std::string name;
    std::string library;  // the fake unless set
    const char* fail;     // FAKE_NVML_FAIL
    bool ok;
    ErrorCode code;           // when !ok
    std::string message_has;  // when !ok
    int shutdowns;            // nvmlShutdown calls: one for every successful nvmlInit
  };
  const std::vector<Case> cases = {
      // A real library that is no NVML.
      {"not nvml", "libc.so.6", nullptr, false, ErrorCode::kUnavailable, "lacks", 0},
      {"init fails", "", "nvmlInit_v2", false, ErrorCode::kUnavailable, "nvmlInit: Unknown Error",
       0},
      {"count fails", "", "nvmlDeviceGetCount_v2", false, ErrorCode::kInternal,
       "nvmlDeviceGetCount: Unknown Error", 1},
      {"handle fails", "", "nvmlDeviceGetHandleByIndex_v2", false, ErrorCode::kInternal,
       "nvmlDeviceGetHandleByIndex (GPU 0): Unknown Error", 1},
      {"name fails", "", "nvmlDeviceGetName", false, ErrorCode::kInternal,
       "nvmlDeviceGetName (GPU 0): Unknown Error", 1},
      {"pci fails", "", "nvmlDeviceGetPciInfo_v3", false, ErrorCode::kInternal,
       "nvmlDeviceGetPciInfo (GPU 0): Unknown Error", 1},
      // Queries a GPU in a bad state may refuse: the GPUs are still listed.
      {"uuid fails", "", "nvmlDeviceGetUUID", true, {}, "", 1},
      {"memory fails", "", "nvmlDeviceGetMemoryInfo", true, {}, "", 1},
      {"link state fails", "", "nvmlDeviceGetNvLinkState", true, {}, "", 1},
      {"affinity fails", "", "nvmlDeviceGetCpuAffinity", true, {}, "", 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ScopedEnv fail("FAKE_NVML_FAIL", c.fail);
    ScopedEnv inits("FAKE_NVML_INITS", nullptr), shutdowns("FAKE_NVML_SHUTDOWNS", nullptr);
    auto r = probeNvml(c.library.empty() ? kFakeNvml : c.library);
    EXPECT_EQ(envCount("FAKE_NVML_SHUTDOWNS"), c.shutdowns);
    ASSERT_EQ(r.ok(), c.ok) << (r.ok() ? "" : r.error().message);
    if (!c.ok) {
      EXPECT_EQ(r.error().code, c.code);
      EXPECT_NE(r.error().message.find(c.message_has), std::string::npos) << r.error().message;
      continue;
    }
    ASSERT_EQ(r->size(), 3u);
    const std::string failed = c.fail;
    for (const NvmlGpu& g : *r) {
      SCOPED_TRACE(g.pci_bus_id);
      EXPECT_FALSE(g.name.empty());
      EXPECT_EQ(g.uuid.empty(), failed == "nvmlDeviceGetUUID" || g.nvml_index == 2);
      EXPECT_EQ(g.memory_mb == 0, failed == "nvmlDeviceGetMemoryInfo");
      if (failed == "nvmlDeviceGetNvLinkState") {
        EXPECT_TRUE(g.nvlink_peer_bus_ids.empty());
        EXPECT_EQ(g.nvswitch_links, 0u);
      }
      if (failed == "nvmlDeviceGetCpuAffinity") {
        EXPECT_TRUE(g.cpu_affinity.empty());
      }
    }
  }
}

}  // namespace
}  // namespace locus::gpu
