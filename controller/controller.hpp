#pragma once
// The controller's state and rules: jobs, nodes, the store, and the scheduling loop. The RPC layer
// (controller/rpc) is a thin adapter over this class.
//
// Thread-safety: every public method may be called from any thread; one mutex guards all state.
// Store writes happen under it, before any reply or node command leaves, so an acknowledged
// transition is always durable.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/config.hpp"
#include "common/dependency.hpp"
#include "common/result.hpp"
#include "controller/dashboard/dashboard_tokens.hpp"
#include "controller/data_inputs.hpp"
#include "controller/environment_pool.hpp"
#include "controller/event_log.hpp"
#include "controller/frameworks.hpp"
#include "controller/job.hpp"
#include "controller/metrics.hpp"
#include "controller/node_channel.hpp"
#include "controller/nodes/node.hpp"
#include "controller/pools.hpp"
#include "controller/preemption_policy.hpp"
#include "controller/priority_engine.hpp"
#include "controller/scheduler/runtime_predictor.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "controller/services.hpp"
#include "controller/store/store.hpp"
#include "locality/switch_tree.hpp"

namespace locus::proto {
class SubmitJobRequest;
class SubmitJobReply;
class JobInfo;
class ListJobsRequest;
class ListJobsReply;
class CancelJobRequest;
class CancelJobReply;
class UpdateJobsRequest;
class ListNodesReply;
class SharesReply;
class AccountChangeRequest;
class PrioritiesReply;
class RegisterNode;
class NodeToController;
class TaskExited;
class StepEnded;
class CreateStepRequest;
class CreateStepReply;
class QuotasReply;
class SetQuotaRequest;
class ServiceRequest;
class ServiceReply;
class ServiceInfo;
class HealthReport;
class WatchEventsRequest;
class LocateDataReply;
class FrameworkRegister;
class FrameworkCall;
class LeaseRequest;
class FrameworkLaunch;
class Lease;
class ListFrameworksReply;
class DashboardTokenRequest;
class DashboardTokenReply;
}  // namespace locus::proto

namespace locus::controller {

class Controller {
 public:
  // Reloads every job and node from `store`; without one, opens the SQLite store in
  // config.state_dir (an elected controller passes its fenced etcd store).
  static Result<std::unique_ptr<Controller>> create(const Config& config, std::unique_ptr<Store> store = nullptr);
  ~Controller();

  void start();  // starts the scheduling loop
  void stop();   // stops it and wakes every waiter; idempotent

  // Client API.
  Result<proto::SubmitJobReply> submit(const proto::SubmitJobRequest& request);
  Result<proto::JobInfo> getJob(uint64_t id);
  proto::ListJobsReply listJobs(const proto::ListJobsRequest& request);
  proto::CancelJobReply cancel(const proto::CancelJobRequest& request);
  proto::CancelJobReply update(const proto::UpdateJobsRequest& request);
  proto::ListNodesReply listNodes();
  // The fair-share tree (like sshare) and pending jobs' priority factors (like sprio).
  proto::SharesReply shares();
  // Admins only (kPermissionDenied otherwise); stored before it takes effect.
  Status changeAccount(const proto::AccountChangeRequest& request);
  // `locus quota show`: every pool's (or one pool's) quota rows. Errors: unknown pool.
  Result<proto::QuotasReply> quotas(const std::string& pool);
  // `locus quota set`: admins only; stored before it applies.
  Status setQuota(const proto::SetQuotaRequest& request);
  // `locus service ...` (service_requests.cpp).
  Result<proto::ServiceReply> manageService(const proto::ServiceRequest& request);
  // `locus data locate URI`: the input's files, blocks and replicas, and the node each replica
  // maps to (data_requests.cpp). Errors: those of DataInputs::resolve.
  Result<proto::LocateDataReply> locateData(const std::string& uri);
  proto::PrioritiesReply priorities(const std::vector<uint64_t>& job_ids);
  // A job step (locus run) in a RUNNING job of the caller: lays its tasks out over the job's
  // cores, records it, grants it to each node involved and says where to connect. Errors:
  // kNotFound, kPermissionDenied (not the job's user), kFailedPrecondition (job not running, a
  // node not connected), kInvalidArgument (a layout the allocation cannot hold).
  Result<proto::CreateStepReply> createStep(const proto::CreateStepRequest& request);
  // The jobs a wait on `ids` covers (an array job id covers all its tasks); kNotFound if an id
  // names no job.
  Result<std::vector<uint64_t>> waitTargets(const std::vector<uint64_t>& ids);
  // Blocks until one of `pending` is terminal, the deadline passes or the controller stops;
  // returns the terminal ones and removes them from `pending`. `cursor` is the caller's place in
  // the log of ended jobs: start with kWaitFromScratch and pass it back on every later call, so
  // a wake-up looks only at jobs that ended since (a wait on a 2,000-task array stays linear).
  static constexpr size_t kWaitFromScratch = SIZE_MAX;
  std::vector<proto::JobInfo> waitSome(std::set<uint64_t>& pending, size_t& cursor,
                                       std::chrono::steady_clock::time_point deadline);

  // Live events (events.cpp). Where a WatchEvents stream starts: its filter, the id it reads
  // after, and with current_state each requested job's state at that id (taken atomically).
  // Errors: kFailedPrecondition (after_id no longer kept, or newer than any event), kNotFound
  // (current_state for an unknown job), kInvalidArgument (current_state with after_id or
  // without job ids).
  struct EventWatch {
    EventFilter filter;
    uint64_t after_id = 0;
    std::vector<Event> current;  // kind "current", id after_id
  };
  Result<EventWatch> watchEvents(const proto::WatchEventsRequest& request);
  // The log itself: thread-safe on its own, read without the controller's lock.
  EventLog& events() { return *events_; }

  // Frameworks (frameworks.hpp, framework_requests.cpp). A framework's stream registers first
  // (errors: kInvalidArgument, kFailedPrecondition when the name is connected already,
  // kPermissionDenied when another user's framework has it); then each call is answered on the
  // stream (a refused call gets an error event, never a broken stream); a stream's end starts
  // the failover timeout. Calls from a stream that is no longer the framework's are ignored.
  Status frameworkRegistered(const proto::FrameworkRegister& msg, std::shared_ptr<FrameworkChannel> channel);
  void frameworkCall(const std::string& name, const FrameworkChannel* channel, const proto::FrameworkCall& call);
  void frameworkDisconnected(const std::string& name, const FrameworkChannel* channel);
  proto::ListFrameworksReply listFrameworks();

  // Node protocol.
  Status nodeRegistered(const proto::RegisterNode& msg, std::shared_ptr<NodeChannel> channel);
  void nodeMessage(const std::string& node, const proto::NodeToController& msg);
  void nodeDisconnected(const std::string& node, const NodeChannel* channel);

  // Prometheus exposition of the controller's metrics (controller/metrics.cpp): numbers copied
  // under the lock, formatted outside it.
  std::string metricsText();
  // The counters and histograms fed as things happen (the RPC server times its calls here).
  ControllerMetrics& metrics() { return metrics_; }
  // Distinct job environments in memory, each shared by the jobs that have it (EnvironmentPool).
  size_t environmentsInMemory();
  // The run time easy-predict plans for a new job of `user` with this limit (0 = unlimited).
  int64_t predictRuntime(const std::string& user, int64_t time_limit_s);

  // `locus token`: a dashboard token acting as the caller (request.user/uid, the credential's),
  // ttl_s or DashboardTokens::kDefaultTtl. Errors: kPermissionDenied (not an admin: uid 0 or
  // in `admins`), kInvalidArgument (ttl out of range), kUnavailable (no random bytes).
  Result<proto::DashboardTokenReply> dashboardToken(const proto::DashboardTokenRequest& request);
  // The tokens, checked by the dashboard's POST routes; thread-safe on their own.
  const DashboardTokens& dashboardTokens() const { return dashboard_tokens_; }

  const Config& config() const { return config_; }
  // The address clients reach this controller at, given to jobs as LOCUS_CONTROLLER: one
  // HOST:PORT, or (HA) every controller's, comma-separated, this one first. May change while
  // running (a standby joined); jobs started later get the new list.
  void setAddress(std::string address) {
    std::lock_guard lock(mu_);
    address_ = std::move(address);
  }

 private:
  explicit Controller(Config config) : config_(std::move(config)) {}
  Status load();
  void loop();
  void schedule();                   // one pass; requires mu_
  scheduler::Network networkFor(const std::vector<Node*>& index) const;
  uint32_t switchOf(const std::string& node) const;  // its [[switch]], else the root
  void checkNodeTimeouts();          // requires mu_
  void failJobsOnNode(Node& node);   // requires mu_
  void handleExit(const std::string& node, const proto::TaskExited& exited);  // requires mu_
  void handleStepEnded(const std::string& node, const proto::StepEnded& ended);  // requires mu_
  // Tells every node of the allocation to kill the job's step tasks. Requires mu_.
  void sendEndSteps(Job& job);
  // An allocation-only job (locus run outside a job) ends: state, exit code, resources. Requires mu_.
  void endAllocationJob(Job& job, JobState state, int32_t exit_code, const std::string& reason);
  // Allocation-only jobs past their time limit, or whose client never created its step.
  void checkAllocationJobs();  // requires mu_
  // Frees the job's cores and memory; charges its usage to its account unless `charge` is false
  // (a start that was undone). Requires mu_.
  void releaseAllocation(Job& job, bool charge = true);
  // A RUNNING job lost with its node: back to PENDING (attempt + 1) if --requeue, else NODE_FAIL.
  void endOnNodeFailure(Job& job, const std::string& reason, int64_t now);  // requires mu_
  void sendLaunch(const Job& job);   // requires mu_
  void sendKill(const Job& job, bool cancel);  // requires mu_
  void sendSignal(const Job& job, int signal);  // to the job's tasks on all its nodes; requires mu_
  void resumeSuspended();  // SIGCONT to suspended jobs whose cores are free again; requires mu_
  // Marks `victim` preempted for pending job `for_job` as its QoS says (requeue or cancel);
  // `why` says what gives the right. requires mu_. The caller persists the victim, then sends
  // its kill: sendKill(victim, victim.cancel_requested).
  void preempt(Job& victim, uint64_t for_job, const std::string& why, int64_t now);
  // Services (service_requests.cpp); all require mu_.
  Status loadServices();
  void reconcileServices();  // creates and stops replicas as planReconcile says
  uint32_t assignPort();  // a free LOCUS_PORT for a replica starting now; 0: none left
  void handleHealth(const std::string& node, const proto::HealthReport& report);
  bool replicaHealthy(const Job& job, const Service& service) const;
  void fillServiceInfo(const Service& service, proto::ServiceInfo& info) const;
  void sendAck(const std::string& node, uint64_t job_id, uint32_t attempt);  // requires mu_
  // Frameworks (framework_requests.cpp); all require mu_.
  void restoreFrameworks();  // after load: leases' frameworks, disconnected since now
  void checkFrameworks();    // revocations due, failover timeouts, ended leases, expired offers
  void makeOffers();         // after a pass: free resources to offers-mode frameworks
  Status requestLeases(Framework& fw, const proto::LeaseRequest& req);
  Status launchFrameworkTask(Framework& fw, const proto::FrameworkLaunch& launch);
  Status createLeases(Framework& fw, const std::string& request_id, uint32_t count, uint32_t cpus,
                      uint64_t mem_mb, uint32_t gpus, std::vector<std::string> nodes,
                      std::vector<std::string> racks, bool strict, int64_t duration_hint_s);
  void leaseGranted(const Job& lease);
  void leaseRevoked(const Job& lease);
  void endLease(Job& lease, const std::string& reason);
  void reportEndedLeases(Framework& fw);
  void frameworkTaskEnded(const Job& lease, const JobStep& step, const std::string& node);
  void fillLease(const Job& job, proto::Lease& out) const;
  // Step-wide variables over the job's own (steps.cpp).
  std::map<std::string, std::string> stepEnvironment(const Job& job, const JobStep& step,
                                                     const std::string& tasks_per_node,
                                                     uint32_t cpus_per_task) const;
  // Refuses what no node of the job's pool could ever hold (kUnsatisfiable), judged against
  // the nodes registered now (none yet: nothing to judge by). Requires mu_.
  Status checkCouldEverRun(const Job& job) const;
  Status persist(const std::vector<const Job*>& jobs);  // requires mu_: one transaction
  // The event log (events.cpp); all require mu_. storeJobEvents writes, into the open
  // transaction, an event for each of `jobs` whose state or attempt differs from its last
  // event; publishJobEvents makes them visible once that transaction committed.
  struct EventState {
    JobState state = JobState::kPending;
    uint32_t attempt = 0;
    bool held = false;  // hold/release is an event too (same state, "held" / "released")
  };
  struct JobEvents {
    std::vector<Event> events;
    std::vector<std::pair<uint64_t, EventState>> states;
  };
  Status loadEvents();
  Result<JobEvents> storeJobEvents(const std::vector<const Job*>& jobs);
  void publishJobEvents(JobEvents events);
  // Sets a node's state; a change is an event, stored (its own transaction) and published.
  void setNodeState(Node& node, NodeState state, const std::string& reason);
  void markDirty();                  // requires mu_: wake the scheduler
  void addPending(const Job& job);   // requires mu_
  // Puts a job in jobs_, its environment shared with the jobs that have the same one, its submit
  // token remembered. Requires mu_.
  void keepJob(Job job);
  // The reply to a submit whose token made a job already (a retry); nullopt: a new submit.
  // Errors: the token is another user's. Requires mu_.
  Result<std::optional<proto::SubmitJobReply>> submittedBefore(const proto::SubmitJobRequest& request) const;
  // A pending job's dependency on jobs no longer in memory (purged, min_job_age_s): each such
  // job's verdict is fixed, read from the store: dropped when it holds, the term marked never
  // when it cannot. Requires mu_.
  void resolveArchivedTargets(Dependency& dep);
  // Recomputes fair-share for `now` from usage and what runs; returns the cluster's cores.
  uint32_t refreshPriorities(int64_t now);  // requires mu_
  // Whether a pending job's --dependency holds now, can never hold, or must wait. Requires mu_.
  DependencyVerdict dependencyVerdict(const Job& job, const Dependency& dep) const;
  // Ids a dependency's job id stands for: the job, or every task of an array. Requires mu_.
  std::vector<uint64_t> dependencyTargets(uint64_t id) const;
  proto::JobInfo toInfo(const Job& job, bool with_spec) const;
  // Store hosts -> node names over the nodes known now and [locality.hdfs] hosts. Requires mu_.
  locality::HostMapper hostMapper() const;
  // Where a started job (or dataflow task) runs relative to its input: Job::locality and the
  // bytes by level. Requires mu_.
  void recordLocality(Job& job, scheduler::Locality where) const;
  MetricsSnapshot metricsSnapshot();  // takes mu_
  // Finished jobs past [controller] min_job_age_s leave memory (requires mu_); a read of one
  // comes from the store, marked archived (nullopt: the store has no such job).
  void purgeOldJobs(int64_t now);
  Result<std::optional<proto::JobInfo>> archivedJob(uint64_t id) const;
  Node* findNode(const std::string& name);

  const Config config_;
  std::string address_;  // guarded by mu_
  std::unique_ptr<Store> store_;
  std::unique_ptr<DataInputs> data_;  // set in create(); thread-safe on its own
  // A dataflow job's tasks are its splits; more than this is a mistake (a split size too small).
  static constexpr size_t kMaxDataflowTasks = 100'000;
  std::unique_ptr<PriorityEngine> priority_;  // guarded by mu_
  // Run times of ended jobs per user, for easy-predict's plans (fed whatever the policy, so a
  // switch to it starts with history). Guarded by mu_.
  scheduler::RuntimePredictor predictor_;
  Pools pools_;                   // guarded by mu_ (quotas change at run time)
  PreemptionPolicy preemption_;   // immutable after create()
  struct ServiceRuntime {
    std::set<uint64_t> live;          // its replicas not known to have ended
    uint32_t failures = 0;            // replicas that failed in a row (restart back-off)
    int64_t next_create_after = 0;
    uint32_t restarts = 0;            // since the controller started
  };
  std::map<std::string, Service> services_;                // guarded by mu_
  std::map<std::string, ServiceRuntime> service_runtime_;  // guarded by mu_
  std::map<std::string, Framework> frameworks_;            // guarded by mu_
  uint64_t next_offer_id_ = 1;                             // guarded by mu_
  uint32_t next_port_ = 0;  // guarded by mu_: where assignPort looks first, from the range's start
  locality::SwitchTree switches_;             // from [[switch]]; immutable after create()
  scheduler::Network network_;                // switches_ for the scheduler (parents only)
  std::unordered_map<std::string, uint32_t> switch_of_node_;  // node -> its leaf; immutable

  std::mutex mu_;
  std::condition_variable loop_cv_;     // the scheduling loop waits here
  std::condition_variable changed_cv_;  // waiters on job state changes wait here
  bool dirty_ = false;                  // guarded by mu_
  int64_t last_purge_ = 0;              // guarded by mu_: when purgeOldJobs last ran
  bool stopping_ = false;               // guarded by mu_
  // guarded by mu_: the earliest time a job skipped for locality may relax (no value: none).
  std::chrono::steady_clock::time_point locality_retry_{};
  uint64_t next_job_id_ = 1;            // guarded by mu_
  std::map<uint64_t, Job> jobs_;        // guarded by mu_
  EnvironmentPool environments_;        // guarded by mu_: the jobs' environments, one copy each
  // Submit tokens of the jobs in memory -> the (first) job each created. Guarded by mu_.
  std::unordered_map<std::string, uint64_t> submit_tokens_;
  // guarded by mu_: PENDING jobs with their scheduler request, computed once (a pass copies these
  // instead of re-deriving every request from its job).
  std::map<uint64_t, scheduler::JobRequest> pending_;
  std::map<uint64_t, Dependency> dependencies_;  // guarded by mu_: pending jobs' parsed --dependency
  // Ids in the order their end was stored, the newest kEndedLogKept (a waiter further behind
  // looks at each of its jobs again); ended_log_start_ is the position of the first. Guarded by mu_.
  std::deque<uint64_t> ended_log_;
  size_t ended_log_start_ = 0;
  static constexpr size_t kEndedLogKept = 100'000;
  std::set<uint64_t> active_;           // guarded by mu_: RUNNING or completing
  std::map<std::string, std::unique_ptr<Node>> nodes_;  // guarded by mu_
  std::thread loop_thread_;
  std::unique_ptr<EventLog> events_;  // set in create(); thread-safe on its own
  // guarded by mu_: each job's state and attempt as its last stored event left them.
  std::unordered_map<uint64_t, EventState> event_state_;
  ControllerMetrics metrics_;  // thread-safe instruments, not guarded by mu_
  DashboardTokens dashboard_tokens_;  // thread-safe on its own, not guarded by mu_
};

}  // namespace locus::controller
