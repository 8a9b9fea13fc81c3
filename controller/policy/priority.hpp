#pragma once
// Multifactor job priority, like Slurm's priority/multifactor plugin:
//
//   priority = round( w_age       * min(age / max_age, 1)
//                   + w_fairshare * F
//                   + w_size      * size
//                   + w_qos       * qos_priority / max_qos_priority
//                   + w_partition * partition_priority / max_partition_priority )
//
//   age  = now - eligible time (0 if negative); max_age 0 means the age factor is 1 at once
//   F    = the fair-share factor of the job's association (FairShareTable::factor or DRF)
//   size = min(job cores, cluster cores) / cluster cores,
//          or 1 - that when favor_small is set (a full-machine job gets 0)
// Every factor is in [0, 1], so each weight is the most that factor can add. A zero maximum
// (no QoS has a priority, one partition tier) makes that factor 0.
// Example: weights {age 1000, fairshare 10000, size 0, qos 2000, partition 0}, max_age 7 days;
// a job waiting 3.5 days, F = 0.25, QoS priority 50 of max 100:
//   500 + 2500 + 0 + 1000 + 0 = 4000.
#include <cstdint>
#include <string>

namespace locus::policy {

struct PriorityWeights {
  uint32_t age = 0;
  uint32_t fairshare = 0;
  uint32_t job_size = 0;
  uint32_t qos = 0;
  uint32_t partition = 0;
  int64_t max_age_s = 7 * 24 * 3600;  // Slurm's PriorityMaxAge default
  bool favor_small = false;           // Slurm's PriorityFavorSmall
};

struct PriorityInputs {
  int64_t now_s = 0;
  int64_t eligible_s = 0;  // when the job became eligible (submit time, or begin time)
  double fair_share = 0;   // F in [0, 1]
  uint32_t job_cores = 0;
  uint32_t cluster_cores = 0;
  uint32_t qos_priority = 0;
  uint32_t max_qos_priority = 0;  // over all QoS levels
  uint32_t partition_priority = 0;
  uint32_t max_partition_priority = 0;  // over all partitions (pools)
};

// What `locus priority` (like sprio) shows: each factor in [0, 1], each weighted term, and the
// total (sum of the weighted terms, rounded to the nearest integer).
struct PriorityBreakdown {
  double age = 0, fairshare = 0, job_size = 0, qos = 0, partition = 0;            // factors
  double w_age = 0, w_fairshare = 0, w_job_size = 0, w_qos = 0, w_partition = 0;  // weighted
  int64_t total = 0;
};

PriorityBreakdown computePriority(const PriorityWeights& weights, const PriorityInputs& in);

// Queue order: higher priority first, then earlier eligible time, then lower job id.
struct RankedJob {
  int64_t priority = 0;
  int64_t eligible_s = 0;
  uint64_t job_id = 0;
};
bool runsBefore(const RankedJob& a, const RankedJob& b);

}  // namespace locus::policy
