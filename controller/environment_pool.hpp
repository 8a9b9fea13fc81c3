#pragma once
// One copy of each distinct job environment in the controller's memory.
//
// `locus submit` exports the submitter's environment (Slurm's --export=ALL): 37 variables of a
// plain shell take ~6 kB as a std::map, more than the rest of a job. The jobs of one user mostly
// come from one shell and carry the same one, so the controller keeps a single copy, shared by
// the jobs that hold it (Job::shared_environment): a pending job then costs 2.3 kB, not 8.4 kB
// (bench_queue_memory: 100,000 of them take 230 MB).
//
// Not thread-safe: the controller calls it under its own lock.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "controller/job.hpp"

namespace locus::controller {

class EnvironmentPool {
 public:
  using Environment = Job::Environment;

  // The shared copy of `env`: the one a live job already holds when there is one, else a new
  // one. nullptr for an empty environment (Job::environment() then reads the empty spec's).
  std::shared_ptr<const Environment> intern(Environment env);

  // Moves a job's spec.environment into the pool (no-op when it is already shared).
  void share(Job& job);

  // Distinct environments tracked, some perhaps no longer held by any job (swept as it grows).
  size_t size() const { return tracked_; }
  // Distinct environments some job still holds (a walk over the pool).
  size_t held() const;

 private:
  static uint64_t hashOf(const Environment& env);
  void sweep();  // forgets the environments no job holds any more

  std::unordered_map<uint64_t, std::vector<std::weak_ptr<const Environment>>> by_hash_;
  size_t tracked_ = 0;
  size_t sweep_at_ = kFirstSweep;
  static constexpr size_t kFirstSweep = 256;
};

}  // namespace locus::controller
