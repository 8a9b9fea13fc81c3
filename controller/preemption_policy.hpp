#pragma once
// Who may preempt whom, and how a preempted job ends: per QoS level, from the [[qos]] tables'
// preempt, preempt_mode and preempt_exempt_time, over two built-in levels that exist without
// any configuration (issue: "services just work on a full cluster"):
//   normal   batch jobs' default QoS; preempted by requeue; preempts nobody
//   service  service replicas' QoS; may preempt normal; preempted by requeue
// A [[qos]] table of either name changes its settings. Each level gets a class number (its
// position: normal 0, service 1, then the configured ones in file order) that the scheduler
// core's preemption bitmasks use; at most 64 levels take part.
#include <cstdint>
#include <string>
#include <vector>

#include "common/config.hpp"

namespace locus::controller {

enum class PreemptMode { kRequeue, kCancel, kSuspend, kOff };

struct PreemptLevel {
  std::string name;
  uint32_t cls = 0;
  uint64_t preempts = 0;  // bit c: may preempt jobs of class c
  PreemptMode mode = PreemptMode::kRequeue;
  int64_t exempt_s = 0;   // a job of this level running less than this is not preempted
};

class PreemptionPolicy {
 public:
  static PreemptionPolicy fromConfig(const std::vector<QosConfig>& qos);
  // The level of QoS `name`; "" and unknown names are `normal`.
  const PreemptLevel& of(const std::string& name) const;
  // Whether any level may preempt another (else the scheduler skips preemption).
  bool any() const;

 private:
  std::vector<PreemptLevel> levels_;
};

const char* modeName(PreemptMode mode);

}  // namespace locus::controller
