#pragma once
// The CLI's connection to the controller. gRPC stays in client.cpp; callers see protobuf
// messages and Result errors whose messages are ready to print.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::cli {

// --controller, else $LOCUS_CONTROLLER, else 127.0.0.1:6450. A comma-separated list (controllers
// sharing an etcd store) resolves to the one that leads now (controllerStatuses), else the
// first.
std::string controllerAddress(const std::string& flag);

// Every controller of a comma-separated list as it describes itself (ControllerApi.Info); one
// that does not answer within `timeout` is listed with its error.
struct ControllerStatus {
  std::string address;  // as listed
  bool reachable = false;
  std::string error;
  proto::ControllerInfo info;
};
std::vector<ControllerStatus> controllerStatuses(const std::string& list,
                                                 std::chrono::milliseconds timeout = std::chrono::seconds{2});

// Ends a long call from another thread (the one taking Ctrl-C): stop() cancels the stream a
// Client is reading and wakes waitFor(). Thread-safe; once stopped, stays stopped.
class StopSignal {
 public:
  void stop();
  bool stopped() const;
  // Sleeps up to `d` unless stopped first; returns stopped().
  bool waitFor(std::chrono::milliseconds d);
  // What stop() must do to end the call running now ({} when none); run at once if stopped.
  // Clearing it waits for a stop() running it to finish.
  void setCanceller(std::function<void()> cancel);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;           // guarded by mu_
  std::function<void()> cancel_;  // guarded by mu_
};

// Submits to `address`, and while no controller answers (restarting, or a failover between
// controllers) tries again for up to `patience`, looking the leader of `controllers` (a
// --controller value, see controllerAddress) up again each time. Safe because the request's
// submit_token makes a repeated submit return the job the first one made (a reply lost with a
// controller that committed it). `on_retry` hears the first failure once, before the first
// retry. Errors the controller itself answered are returned at once.
Result<proto::SubmitJobReply> submitRetrying(const std::string& address, const std::string& controllers,
                                             const proto::SubmitJobRequest& req,
                                             std::chrono::milliseconds patience,
                                             const std::function<void(const Error&)>& on_retry);

// How long `locus submit` and sbatch keep trying to reach a controller: $LOCUS_SUBMIT_RETRY_S
// seconds (0: fail at once), default 30.
std::chrono::milliseconds submitPatience();

class Client {
 public:
  explicit Client(const std::string& address);
  ~Client();

  Result<proto::SubmitJobReply> submit(const proto::SubmitJobRequest& req);
  Result<proto::JobInfo> getJob(uint64_t id);
  Result<proto::ListJobsReply> listJobs(const proto::ListJobsRequest& req);
  Result<proto::CancelJobReply> cancel(const proto::CancelJobRequest& req);
  Result<proto::CancelJobReply> update(const proto::UpdateJobsRequest& req);
  Result<proto::SharesReply> shares();
  Status changeAccount(const proto::AccountChangeRequest& req);
  Result<proto::PrioritiesReply> priorities(const std::vector<uint64_t>& job_ids);
  Result<proto::CreateStepReply> createStep(const proto::CreateStepRequest& req);
  Result<proto::QuotasReply> quotas(const std::string& pool);
  Result<proto::LocateDataReply> locateData(const std::string& uri);
  Status setQuota(const proto::SetQuotaRequest& req);
  // `locus token`: admins only (kPermissionDenied otherwise).
  Result<proto::DashboardTokenReply> dashboardToken(const proto::DashboardTokenRequest& req);
  Result<proto::ServiceReply> manageService(const proto::ServiceRequest& req);
  Result<proto::ListNodesReply> listNodes(std::chrono::milliseconds timeout = std::chrono::seconds{30});
  // One WatchEvents stream: on_event for each message (bookmarks and "current" events too)
  // until on_event returns false or `stop` fires (then OK), or the stream ends: "timed out" at
  // the deadline; kUnavailable for what a reconnect may cure (the controller unreachable,
  // restarting, or ending the stream); the controller's error otherwise (kUnsatisfiable for
  // FAILED_PRECONDITION, kNotFound, kInvalidArgument).
  Status watchEvents(const proto::WatchEventsRequest& req, StopSignal& stop,
                     std::chrono::system_clock::time_point deadline,
                     const std::function<bool(const proto::Event&)>& on_event);

  // Whether the last unary call failed without any controller answering (nothing listening,
  // the connection lost): worth trying again, unlike a controller's own kUnavailable.
  bool lastCallUnanswered() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus::cli
