#pragma once
// What a job profile holds (`--profile task[,gpu]`), independent of the HDF5 files it lives in:
// per node, one time series per (step, task) of CPU use, RSS, I/O bytes and, where sampled, GPU
// utilization and memory.
//
// File layout (one file per job and node, DIR/JOBID/NODE.h5; docs/user-guide.md, "Profiles"):
//
//   /                      attributes: job_id (u64), node, interval_s (u32), profile ("task" or
//                          "task,gpu"), gpu ("sampled" | "unavailable" | "not requested")
//   /step_batch/task_0/    the batch script
//   /step_3/task_1/        task 1 of job step 3 (locus run)
//       time               s since the epoch       (float64)
//       cpu_percent        % of one core           (float64; 200 = two cores busy)
//       rss_mb             MiB                     (float64)
//       read_bytes         B, cumulative           (uint64)
//       write_bytes        B, cumulative           (uint64)
//       gpu_util_percent   %                       (float64; only when gpu = "sampled")
//       gpu_mem_mb         MiB                     (float64; only when gpu = "sampled")
//
// Every dataset is 1-D, chunked and extendable, and carries its unit in a "units" attribute.
// A merged file (`locus profile --merge`) has one group per node holding that node's file.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace locus::profile {

// One sample of one task.
struct Sample {
  double time = 0;         // seconds since the epoch
  double cpu_percent = 0;  // since the previous sample (or the task's start)
  double rss_mb = 0;
  uint64_t read_bytes = 0;  // storage bytes read so far by the task's live processes
  uint64_t write_bytes = 0;
  std::optional<double> gpu_util_percent;  // the job's GPUs on this node, device-wide
  std::optional<double> gpu_mem_mb;
};

// One dataset of a task group.
struct SeriesDef {
  std::string_view name;
  std::string_view units;
  bool integer;  // stored as uint64, else float64
  bool gpu;      // only in files with gpu = "sampled"
};
// clang-format off
inline constexpr SeriesDef kSeries[] = {
    {"time", "s", false, false},
    {"cpu_percent", "%", false, false},
    {"rss_mb", "MiB", false, false},
    {"read_bytes", "B", true, false},
    {"write_bytes", "B", true, false},
    {"gpu_util_percent", "%", false, true},
    {"gpu_mem_mb", "MiB", false, true},
};
// clang-format on

// The values of the root attribute "gpu".
inline constexpr std::string_view kGpuSampled = "sampled";
inline constexpr std::string_view kGpuUnavailable = "unavailable";  // asked for, no NVML here
inline constexpr std::string_view kGpuNotRequested = "not requested";

// The time series of one task.
struct TaskSeries {
  std::string step;  // "batch" or the step id
  uint32_t task = 0;
  std::vector<Sample> samples;
};

// One node's file.
struct NodeProfile {
  uint64_t job_id = 0;
  std::string node;
  uint32_t interval_s = 0;
  std::string profile;            // "task" | "task,gpu"
  std::string gpu;                // kGpuSampled | kGpuUnavailable | kGpuNotRequested
  std::vector<TaskSeries> tasks;  // by step ("batch" first, then by number), then task
};

// Group names: "step_batch", "task_0".
std::string stepGroupName(std::string_view step);
std::string taskGroupName(uint32_t task);

}  // namespace locus::profile
