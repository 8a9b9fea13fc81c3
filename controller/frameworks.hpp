#pragma once
// Frameworks: two-level scheduling (Mesos' frameworks, YARN's ApplicationMasters) on the batch
// cluster. docs/frameworks.md has the protocol; this is what the controller keeps of it.
//
// A framework keeps one FrameworkApi.Subscribe stream open. What it holds are leases: each an
// allocation-only job of one node (Job::framework set) charged to the framework's account, so
// fair-share, quotas and preemption treat it like any job. Its tasks are detached job steps of
// the lease (the node daemon runs them with their output in files and reports their end).
//   - Requests (leases mode) become pending lease jobs whose locality preferences are the
//     scheduler's input sites and racks (delay scheduling relaxes them unless strict).
//   - Offers (offers mode): after each pass, each node's free resources not already offered go
//     to the offers-mode framework with the lowest weighted dominant share (DRF, weights from
//     registration) that has not filtered the node; an accepted part becomes a lease strict to
//     that node. Offers are not reservations: a batch job may take the resources first, and the
//     lease then waits like any pending job.
//   - Revocation: a lease chosen as a preemption victim gets LeaseRevoked and keeps its
//     resources for the notice period ([frameworks] revocation_notice_s); then its tasks are
//     killed and it ends (CANCELLED, "Revoked").
//   - Failover: a dropped stream leaves the framework disconnected; its leases are held for its
//     failover timeout, given back to it when it registers again under its name, and ended
//     ("FrameworkFailoverTimeout") when the time runs out.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace locus::proto {
class FrameworkEvent;
}

namespace locus::controller {

// The controller's handle on one framework's event stream.
class FrameworkChannel {
 public:
  virtual ~FrameworkChannel() = default;
  // Queues an event. Never blocks; events are delivered in order.
  virtual void send(const proto::FrameworkEvent& event) = 0;
  // Ends the stream. Idempotent.
  virtual void close() = 0;
};

struct FrameworkOffer {
  std::string id;
  std::string node;
  uint32_t cpus = 0;
  uint64_t mem_mb = 0;
  uint32_t gpus = 0;
  int64_t expires_ms = 0;  // steady milliseconds: rescinded then
};

// A task the framework launched in one of its leases: a detached step of the lease job.
struct FrameworkTask {
  std::string id;
  uint32_t step_id = 0;
  std::vector<uint32_t> cores;  // the lease's cores it was given
};

struct Framework {
  std::string name;
  std::string user;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string account;
  std::string qos;
  std::string pool;
  std::string mode = "leases";  // "leases" | "offers"
  double weight = 1;
  uint32_t failover_timeout_s = 60;
  std::shared_ptr<FrameworkChannel> channel;  // null while disconnected
  int64_t disconnected_at = 0;                // unix seconds, while disconnected
  int64_t failover_deadline_ms = 0;           // steady ms: its leases are ended then
  std::set<uint64_t> leases;                  // lease jobs not yet reported ended
  std::map<uint64_t, std::vector<FrameworkTask>> tasks;  // running tasks per lease
  std::map<std::string, FrameworkOffer> offers;          // outstanding, by id
  std::map<std::string, int64_t> filters;                // node -> not offered before (steady ms)
  uint64_t tasks_launched = 0;

  bool offersMode() const { return mode == "offers"; }
  bool connected() const { return channel != nullptr; }
};

// Registration checks (pure): a name of [A-Za-z0-9_.-], 1 to 64 characters; mode "leases",
// "offers" or "" (leases); a weight >= 0 and finite (0 means 1). Errors: kInvalidArgument.
Status checkFrameworkName(const std::string& name);
Status checkFrameworkMode(const std::string& mode);
Status checkFrameworkWeight(double weight);

// Bounds on one lease request, so a runaway framework cannot flood the queue.
inline constexpr uint32_t kMaxLeasesPerRequest = 10'000;
inline constexpr size_t kMaxPreferredPlaces = 1'000;
inline constexpr size_t kMaxTaskIdBytes = 256;

// Which offers-mode framework gets the next offer: lowest weighted dominant share first (DRF;
// Ghodsi et al.), `held` being what each holds (granted leases plus outstanding offers) and
// `capacity` the cluster's totals. Returns indices into `frameworks`, best first.
struct DrfClaim {
  std::string name;
  double weight = 1;
  uint64_t cpus = 0;
  uint64_t mem_mb = 0;
  uint64_t gpus = 0;
};
std::vector<size_t> offerOrder(const std::vector<DrfClaim>& frameworks, uint64_t cpus, uint64_t mem_mb,
                               uint64_t gpus);

// `count` cores for a task from a lease's `cores` that no running task in `busy` has; empty when
// there are not enough. count 0: all of the lease's cores.
std::vector<uint32_t> pickTaskCores(const std::vector<uint32_t>& cores, const std::vector<FrameworkTask>& busy,
                                    uint32_t count);

}  // namespace locus::controller
