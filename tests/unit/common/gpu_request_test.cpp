// Table tests for GPU, switch and binding requests as users write them (gpu_request.hpp).
#include "common/gpu_request.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace locus {
namespace {

// JobSpec::gpus holds --gpus as given, --gpus-per-node as "per-node:V", --gpus-per-task as
// "per-task:V" (job_options.cpp); JobSpec::gres holds --gres.
JobSpec spec(std::string gpus, std::string gres = "", uint32_t nodes = 0) {
  JobSpec s;
  s.gpus = std::move(gpus);
  s.gres = std::move(gres);
  s.nodes = nodes;
  return s;
}

std::string perName(GpuRequest::Per p) {
  switch (p) {
    case GpuRequest::Per::kJob:
      return "job";
    case GpuRequest::Per::kNode:
      return "node";
    case GpuRequest::Per::kTask:
      return "task";
  }
  return "?";
}

// "none", or "<count> per <job|node|task>[ of <type>]".
std::string describe(const std::optional<GpuRequest>& r) {
  if (!r) return "none";
  std::string out = std::to_string(r->count) + " per " + perName(r->per);
  if (!r->type.empty()) out += " of " + r->type;
  return out;
}

struct RequestCase {
  std::string name;
  JobSpec spec;
  std::string want;   // describe() of the request; ignored when error is set
  std::string error;  // expected kInvalidArgument message; empty = success
};

TEST(GpuRequestOf, Table) {
  const std::vector<RequestCase> cases = {
      {"no GPUs", spec(""), "none", ""},
      {"--gpus=2 is per job", spec("2"), "2 per job", ""},
      {"--gpus with a type", spec("a100:2"), "2 per job of a100", ""},
      {"--gpus-per-node", spec("per-node:4"), "4 per node", ""},
      {"--gpus-per-node with a type", spec("per-node:v100:2"), "2 per node of v100", ""},
      {"--gpus-per-task", spec("per-task:1"), "1 per task", ""},
      {"64 is the most", spec("64"), "64 per job", ""},
      {"a type with dashes, dots and underscores", spec("tesla_v100-sxm3-32gb.h:1"),
       "1 per job of tesla_v100-sxm3-32gb.h", ""},
      {"--gres=gpu is one per node", spec("", "gpu"), "1 per node", ""},
      {"--gres=gpu:2", spec("", "gpu:2"), "2 per node", ""},
      {"--gres=gpu:v100:2", spec("", "gpu:v100:2"), "2 per node of v100", ""},
      {"--gres=gpu:v100 is one of that type", spec("", "gpu:v100"), "1 per node of v100", ""},
      {"--gres: other resources are skipped", spec("", "mps:100,gpu:3"), "3 per node", ""},
      {"--gres without a gpu entry", spec("", "mps:100,license:2"), "none", ""},
      {"--gres: only the gpu entry, not a longer name", spec("", "gpus:2"), "none", ""},
      {"--gpus wins over --gres", spec("1", "gpu:4"), "1 per job", ""},
      {"--gpus-per-socket is refused", spec("per-socket:1"), "",
       "--gpus-per-socket is not supported; use --gpus-per-node"},
      {"zero", spec("0"), "", "--gpus: invalid GPU request '0': the count must be at least 1"},
      {"more than 64", spec("65"), "",
       "--gpus: invalid GPU request '65': at most 64 GPUs per request"},
      {"not a number", spec("two"), "", "--gpus: invalid GPU request 'two': expected [TYPE:]COUNT"},
      {"negative", spec("-1"), "", "--gpus: invalid GPU request '-1': expected [TYPE:]COUNT"},
      {"trailing garbage", spec("2x"), "",
       "--gpus: invalid GPU request '2x': expected [TYPE:]COUNT"},
      {"too large for a count", spec("99999999999"), "",
       "--gpus: invalid GPU request '99999999999': expected [TYPE:]COUNT"},
      {"a type without a count", spec("a100:"), "",
       "--gpus: invalid GPU request 'a100:': expected [TYPE:]COUNT"},
      {"an empty type", spec(":2"), "", "--gpus: invalid GPU request ':2': bad GPU type ''"},
      {"a type with a space", spec("a 100:2"), "",
       "--gpus: invalid GPU request 'a 100:2': bad GPU type 'a 100'"},
      {"a type with a colon", spec("a:b:2"), "",
       "--gpus: invalid GPU request 'a:b:2': bad GPU type 'a:b'"},
      {"--gpus-per-node zero names its option", spec("per-node:0"), "",
       "--gpus-per-node: invalid GPU request '0': the count must be at least 1"},
      {"--gpus-per-task garbage names its option", spec("per-task:x"), "",
       "--gpus-per-task: invalid GPU request 'x': expected [TYPE:]COUNT"},
      {"--gpus-per-node empty", spec("per-node:"), "",
       "--gpus-per-node: invalid GPU request '': expected [TYPE:]COUNT"},
      {"--gres=gpu:0", spec("", "gpu:0"), "",
       "--gres: invalid GPU request '0': the count must be at least 1"},
      {"--gres=gpu: with nothing after", spec("", "gpu:"), "",
       "--gres: invalid GPU request '': expected [TYPE:]COUNT"},
      {"--gres with a bad type", spec("", "gpu:v1@0"), "",
       "--gres: invalid GPU request 'gpu:v1@0'"},
      {"--gres with a bad count", spec("", "gpu:v100:x"), "",
       "--gres: invalid GPU request 'v100:x': expected [TYPE:]COUNT"},
      {"--gres: more than 64", spec("", "gpu:65"), "",
       "--gres: invalid GPU request '65': at most 64 GPUs per request"},
  };
  for (const RequestCase& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = gpuRequestOf(c.spec);
    if (!c.error.empty()) {
      ASSERT_FALSE(r.ok()) << describe(*r);
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_EQ(r.error().message, c.error);
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(describe(*r), c.want);
  }
}

struct ShareCase {
  std::string name;
  JobSpec spec;
  uint32_t per_node;
  uint32_t per_task;
  std::string type;
  bool force_one_node;
  std::string error;  // empty = success
};

TEST(GpuShareOf, Table) {
  const std::vector<ShareCase> cases = {
      {"no GPUs", spec(""), 0, 0, "", false, ""},
      {"per job without -N: one node holds them all", spec("4"), 4, 0, "", true, ""},
      {"per job with -N 1", spec("4", "", 1), 4, 0, "", false, ""},
      // 4 GPUs over 2 nodes: 4 / 2 = 2 each.
      {"per job spread over -N 2", spec("4", "", 2), 2, 0, "", false, ""},
      {"per job with a type keeps the type", spec("a100:6", "", 3), 2, 0, "a100", false, ""},
      {"per job that does not divide", spec("3", "", 2), 0, 0, "", false,
       "--gpus 3 cannot be spread evenly over 2 nodes; use --gpus-per-node or a multiple of the "
       "node count"},
      {"per job fewer than the nodes", spec("2", "", 4), 0, 0, "", false,
       "--gpus 2 cannot be spread evenly over 4 nodes; use --gpus-per-node or a multiple of the "
       "node count"},
      {"per node is not divided by -N", spec("per-node:2", "", 3), 2, 0, "", false, ""},
      {"per task", spec("per-task:1", "", 2), 0, 1, "", false, ""},
      {"--gres is per node", spec("", "gpu:v100:2", 2), 2, 0, "v100", false, ""},
      {"a malformed request is the same error", spec("0"), 0, 0, "", false,
       "--gpus: invalid GPU request '0': the count must be at least 1"},
  };
  for (const ShareCase& c : cases) {
    SCOPED_TRACE(c.name);
    const auto share = gpuShareOf(c.spec);
    if (!c.error.empty()) {
      ASSERT_FALSE(share.ok());
      EXPECT_EQ(share.error().code, ErrorCode::kInvalidArgument);
      EXPECT_EQ(share.error().message, c.error);
      continue;
    }
    ASSERT_TRUE(share.ok()) << share.error().message;
    EXPECT_EQ(share->per_node, c.per_node);
    EXPECT_EQ(share->per_task, c.per_task);
    EXPECT_EQ(share->type, c.type);
    EXPECT_EQ(share->force_one_node, c.force_one_node);
  }
}

struct SwitchesCase {
  std::string text;
  uint32_t count;
  int64_t wait_s;
  bool ok;
};

TEST(ParseSwitches, Table) {
  const std::vector<SwitchesCase> cases = {
      {"2", 2, 300, true},               // Slurm's max_switch_wait default
      {"1@10:00", 1, 600, true},         // MM:SS
      {"3@30", 3, 1800, true},           // a bare number is minutes
      {"4@1-00:00:00", 4, 86400, true},  // D-HH:MM:SS
      {"2@0", 2, 0, true},               // no waiting
      {"2@UNLIMITED", 2, kSwitchesWaitForever, true},  // wait for ever, not "no wait"
      {"2@infinite", 2, kSwitchesWaitForever, true},
      {"", 0, 0, false},
      {"0", 0, 0, false},
      {"x", 0, 0, false},
      {"-1", 0, 0, false},
      {"1.5", 0, 0, false},
      {"@10", 0, 0, false},
      {"0@10", 0, 0, false},
      {"2@", 0, 0, false},
      {"2@abc", 0, 0, false},
      {"2@10@10", 0, 0, false},
  };
  for (const SwitchesCase& c : cases) {
    SCOPED_TRACE("'" + c.text + "'");
    const auto r = parseSwitches(c.text);
    ASSERT_EQ(r.ok(), c.ok);
    if (!c.ok) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_EQ(r.error().message.rfind("--switches: invalid ", 0), 0u) << r.error().message;
      continue;
    }
    EXPECT_EQ(r->count, c.count);
    EXPECT_EQ(r->wait_s, c.wait_s);
  }
}

TEST(ParseSwitches, Messages) {
  auto message = [](std::string_view text) {
    const auto r = parseSwitches(text);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(message("0"), "--switches: invalid value '0' (expected COUNT[@TIME], COUNT >= 1)");
  EXPECT_EQ(message("2@abc"), "--switches: invalid wait time in '2@abc'");
}

struct BindCase {
  std::string value;
  bool ok;
};

TEST(CheckBind, MemBind) {
  for (const BindCase& c : std::vector<BindCase>{{"", true},
                                                 {"local", true},
                                                 {"none", true},
                                                 {"map_mem:0,1", false},
                                                 {"closest", false}}) {
    SCOPED_TRACE("'" + c.value + "'");
    const Status st = checkMemBind(c.value);
    ASSERT_EQ(st.ok(), c.ok);
    if (c.ok) continue;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(st.error().message,
              "--mem-bind: unsupported value '" + c.value + "' (supported: local, none)");
  }
}

TEST(CheckBind, GpuBind) {
  for (const BindCase& c : std::vector<BindCase>{{"", true},
                                                 {"closest", true},
                                                 {"none", true},
                                                 {"map_gpu:0,1", false},
                                                 {"single:1", false},
                                                 {"local", false}}) {
    SCOPED_TRACE("'" + c.value + "'");
    const Status st = checkGpuBind(c.value);
    ASSERT_EQ(st.ok(), c.ok);
    if (c.ok) continue;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(st.error().message,
              "--gpu-bind: unsupported value '" + c.value + "' (supported: closest, none)");
  }
}

}  // namespace
}  // namespace locus
