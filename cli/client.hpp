#pragma once
// The CLI's connection to the controller. gRPC stays in client.cpp; callers see protobuf
// messages and Result errors whose messages are ready to print.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::cli {

// --controller, else $LOCUS_CONTROLLER, else 127.0.0.1:6450.
std::string controllerAddress(const std::string& flag);

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
  Status setQuota(const proto::SetQuotaRequest& req);
  Result<proto::ServiceReply> manageService(const proto::ServiceRequest& req);
  Result<proto::ListNodesReply> listNodes(std::chrono::milliseconds timeout = std::chrono::seconds{30});
  // Calls on_done for each job as it ends. kUnavailable on timeout ("timed out").
  Status wait(const std::vector<uint64_t>& ids, double timeout_s,
              const std::function<void(const proto::JobInfo&)>& on_done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus::cli
