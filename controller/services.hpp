#pragma once
// Long-running services (Marathon apps, Kubernetes deployments) on the batch cluster: a service
// keeps R replicas running, each a batch job at QoS `service` (which may preempt `normal` work,
// preemption_policy.hpp) with no time limit, restarted when it exits or fails its health check,
// and moved when its node fails (replicas are requeued). Every change of command, environment,
// cores or memory is a new revision, rolled out replica by replica; earlier revisions are kept
// for rollback.
//
// The reconciler (planReconcile) is pure: from the service and its live replicas it decides
// which replicas to create and which to stop. Rolling updates keep at least
// ceil(min_healthy x R) healthy replicas at every step (Marathon's minimumHealthCapacity,
// Kubernetes' maxUnavailable) and at most R + ceil(max_surge x R) replicas in all:
//   - new-revision replicas are created while fewer than R exist and the surge allows;
//   - an old replica that is not healthy is stopped at once (it serves nobody);
//   - a healthy old replica is stopped only while the healthy count stays >= the minimum.
// Example: R = 4, min_healthy 0.5, max_surge 0.25: 1 new replica is added (5 in all) and 2 old
// ones stopped (2 healthy left); as new ones turn healthy, old ones go, never below 2 healthy.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace locus::controller {

struct ServiceHealth {
  std::string cmd;        // /bin/sh -c CMD on the replica's node; exit 0 = healthy
  std::string http_path;  // or GET http://NODE:LOCUS_PORT/PATH, 200-399 = healthy
  uint32_t interval_s = 10;
  uint32_t grace_s = 30;
  uint32_t max_failures = 3;
  bool any() const { return !cmd.empty() || !http_path.empty(); }
};

// What a revision changes; everything else is the service's.
struct ServiceRevision {
  uint32_t number = 1;
  std::string command;
  std::map<std::string, std::string> environment;
  uint32_t cpus = 1;
  uint64_t mem_mb = 0;
  int64_t created = 0;
};

struct Service {
  std::string name;
  std::string user;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string account;
  std::string pool;
  std::string work_dir;
  std::string container;  // --container: every replica runs in it (absolute); "" = bare
  uint32_t replicas = 1;
  uint32_t gpus = 0;
  bool port = false;  // --port auto
  ServiceHealth health;
  double min_healthy = 0.75;
  double max_surge = 0.25;
  std::vector<ServiceRevision> revisions;  // oldest first; numbers ascending
  uint32_t current = 1;                    // the revision replicas should run
  int64_t created = 0;
  bool deleting = false;

  const ServiceRevision& revision(uint32_t number) const;  // precondition: it exists
  const ServiceRevision& currentRevision() const { return revision(current); }
};

// A live (pending or running) replica as the reconciler sees it.
struct ReplicaView {
  uint64_t job_id = 0;
  uint32_t revision = 0;
  bool running = false;
  bool healthy = false;     // running and (no health check, or its check passes)
  bool unhealthy = false;   // its health check failed max_failures times in a row
  int64_t start_time = 0;
};

struct ReconcilePlan {
  uint32_t create = 0;            // new replicas of the current revision
  std::vector<uint64_t> stop;     // replicas to stop (cancel), as the service's own doing
};

// The minimum of healthy replicas and the most replicas in all during a rollout.
uint32_t minHealthy(const Service& service);
uint32_t maxTotal(const Service& service);

// `allow_create`: false while a failed replica's restart back-off runs.
ReconcilePlan planReconcile(const Service& service, const std::vector<ReplicaView>& live, bool allow_create);

// The store's record of a service (JSON).
std::string serviceToJson(const Service& service);
std::optional<Service> serviceFromJson(const std::string& text);

}  // namespace locus::controller
