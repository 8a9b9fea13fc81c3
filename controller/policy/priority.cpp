#include "controller/policy/priority.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace locus::policy {
namespace {
double ratio(double num, double den) {
  if (den <= 0) return 0;
  return std::clamp(num / den, 0.0, 1.0);
}
}  // namespace

PriorityBreakdown computePriority(const PriorityWeights& w, const PriorityInputs& in) {
  PriorityBreakdown b;
  const int64_t age = std::max<int64_t>(0, in.now_s - in.eligible_s);
  b.age =
      w.max_age_s <= 0 ? 1.0 : ratio(static_cast<double>(age), static_cast<double>(w.max_age_s));
  b.fairshare = std::clamp(in.fair_share, 0.0, 1.0);
  const double size = ratio(in.job_cores, in.cluster_cores);
  b.job_size = in.cluster_cores == 0 ? 0.0 : (w.favor_small ? 1.0 - size : size);
  b.qos = ratio(in.qos_priority, in.max_qos_priority);
  b.partition = ratio(in.partition_priority, in.max_partition_priority);

  b.w_age = w.age * b.age;
  b.w_fairshare = w.fairshare * b.fairshare;
  b.w_job_size = w.job_size * b.job_size;
  b.w_qos = w.qos * b.qos;
  b.w_partition = w.partition * b.partition;
  b.total = std::llround(b.w_age + b.w_fairshare + b.w_job_size + b.w_qos + b.w_partition);
  return b;
}

bool runsBefore(const RankedJob& a, const RankedJob& b) {
  return std::make_tuple(-a.priority, a.eligible_s, a.job_id) <
         std::make_tuple(-b.priority, b.eligible_s, b.job_id);
}

}  // namespace locus::policy
