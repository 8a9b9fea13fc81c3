#pragma once
// GPU, switch and binding requests as users write them, parsed into what the scheduler acts on.
//
//   --gpus=2 / -G a100:2     per job: 2 GPUs (of type a100)
//   --gpus-per-node=4        4 on every node          (stored in JobSpec::gpus as "per-node:4")
//   --gpus-per-task=1        1 per task               ("per-task:1")
//   --gres=gpu:2 / gpu:v100:2 / gpu   per node, Slurm's generic resource form (gpu = gpu:1)
//   --switches=2@10:00       at most 2 leaf switches, waiting up to 10 minutes for that
//
// A per-job count is spread evenly over -N nodes (it must divide: "--gpus 3 -N 2" is refused);
// without -N the job is kept on one node. --gpus-per-socket is refused (not supported).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/job_spec.hpp"
#include "common/result.hpp"

namespace locus {

struct GpuRequest {
  enum class Per { kJob, kNode, kTask };
  Per per = Per::kNode;
  uint32_t count = 0;
  std::string type;  // "" = any model
};

// The GPU request of a spec (JobSpec::gpus, else a gpu entry of JobSpec::gres), nullopt when it
// asks for none. Errors (kInvalidArgument) name the option and the bad value.
Result<std::optional<GpuRequest>> gpuRequestOf(const JobSpec& spec);

// GPUs per node and per task for the scheduler, after the per-job count is spread over
// `nodes` nodes (0 = not given: one node). Errors when a per-job count does not divide.
struct GpuShare {
  uint32_t per_node = 0;
  uint32_t per_task = 0;
  std::string type;
  bool force_one_node = false;  // a per-job count without -N: the job stays on one node
};
Result<GpuShare> gpuShareOf(const JobSpec& spec);

// --switches=N[@TIME]: N >= 1 leaf switches, TIME in Slurm's time format (default 300 s, Slurm's
// max_switch_wait default).
// @UNLIMITED: a century, so that submit time + wait never overflows.
constexpr int64_t kSwitchesWaitForever = int64_t{100} * 365 * 24 * 3600;
struct SwitchesRequest {
  uint32_t count = 0;
  int64_t wait_s = 300;
};
Result<SwitchesRequest> parseSwitches(std::string_view text);

// --mem-bind / --gpu-bind values: "" and the supported keywords; errors name the option.
Status checkMemBind(std::string_view value);  // local | none
Status checkGpuBind(std::string_view value);  // closest | none

}  // namespace locus
