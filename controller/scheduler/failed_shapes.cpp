#include "controller/scheduler/failed_shapes.hpp"

#include <algorithm>
#include <functional>

namespace locus::scheduler {
namespace {

// Whether `later` asks for at least as much as the failed shape `failed` on every axis.
bool asksAtLeast(const Shape& later, const Shape& failed) {
  const bool flexible = later.nodes == 0;
  if (flexible != (failed.nodes == 0) || later.mem_mb < failed.mem_mb) return false;
  if (later.window_s < failed.window_s) return false;
  if (later.eligibility != failed.eligibility || later.max_switches != failed.max_switches) return false;
  if (flexible) {
    if (later.gpus_per_node < failed.gpus_per_node || later.gpus_per_task < failed.gpus_per_task)
      return false;
    return later.ntasks >= failed.ntasks && later.cpus_per_task >= failed.cpus_per_task &&
           later.per_node <= failed.per_node;
  }
  // Every node of the later job needs at least as much as the failed job's largest node, GPUs
  // included. GPUs per node follow the tasks on the node, not its cores, so comparing the
  // per-task counts is not enough: -N 1 -n 4 --gpus-per-task 1 (4 cores, 4 GPUs) failing says
  // nothing about -N 1 -n 1 -c 4 --gpus-per-task 1 (4 cores, 1 GPU). Tasks per node are
  // cores / cpus_per_task (cpus_per_task >= 1 for any job that gets this far).
  const uint64_t later_gpus_lo =
      later.gpus_per_node + later.cores_lo / later.cpus_per_task * later.gpus_per_task;
  const uint64_t failed_gpus_hi =
      failed.gpus_per_node + failed.cores_hi / failed.cpus_per_task * failed.gpus_per_task;
  return later.nodes >= failed.nodes && later.cores_lo >= failed.cores_hi &&
         later_gpus_lo >= failed_gpus_hi;
}

}  // namespace

Shape flexibleShape(const JobRequest& job) {
  Shape s;
  s.nodes = 0;
  s.ntasks = job.ntasks;
  s.per_node = job.ntasks_per_node > 0 ? job.ntasks_per_node : UINT32_MAX;
  s.cpus_per_task = job.cpus_per_task;
  s.mem_mb = job.mem_mb;
  s.gpus_per_node = job.gpus_per_node;
  s.gpus_per_task = job.gpus_per_task;
  return s;
}

Shape fixedShape(const JobRequest& job, const std::vector<uint32_t>& counts) {
  Shape s;
  s.nodes = job.nodes;
  s.ntasks = job.ntasks;
  s.per_node = job.ntasks_per_node > 0 ? job.ntasks_per_node : UINT32_MAX;
  s.cpus_per_task = job.cpus_per_task;
  s.mem_mb = job.mem_mb;
  s.cores_hi = uint64_t{counts.front()} * job.cpus_per_task;
  s.cores_lo = uint64_t{counts.back()} * job.cpus_per_task;
  s.gpus_per_node = job.gpus_per_node;
  s.gpus_per_task = job.gpus_per_task;
  return s;
}

size_t FailedShapes::ShapeHash::operator()(const Shape& s) const {
  size_t h = std::hash<uint64_t>{}(s.mem_mb);
  auto mix = [&h](uint64_t v) {
    h ^= std::hash<uint64_t>{}(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  };
  mix(s.nodes);
  mix(s.ntasks);
  mix(s.per_node);
  mix(s.cpus_per_task);
  mix(static_cast<uint64_t>(s.window_s));
  mix(s.gpus_per_node);
  mix(uint64_t{s.gpus_per_task} << 32 | s.eligibility);
  mix(s.max_switches);
  return h;
}

bool FailedShapes::covers(const Shape& s) const {
  if (exact_.contains(s)) return true;
  if (s.window_s != 0) {
    // The same request may have failed whatever its window (recorded with window 0).
    Shape any_window = s;
    any_window.window_s = 0;
    if (exact_.contains(any_window)) return true;
  }
  return std::any_of(frontier_.begin(), frontier_.end(),
                     [&](const Shape& f) { return asksAtLeast(s, f); });
}

void FailedShapes::add(const Shape& s) {
  exact_.insert(s);
  // Entries the new shape covers are redundant now.
  std::erase_if(frontier_, [&](const Shape& f) { return asksAtLeast(f, s); });
  if (frontier_.size() < kMaxFrontier) frontier_.push_back(s);
}

}  // namespace locus::scheduler
