#include "cli/client.hpp"

#include <grpcpp/grpcpp.h>

#include <cstdlib>

#include "proto/locus.grpc.pb.h"

namespace locus::cli {
namespace {

// Every unary call gets a deadline so a wedged controller never hangs a script forever.
constexpr auto kCallTimeout = std::chrono::seconds{60};
// gRPC's default 4 MB reply limit holds about 10,000 jobs of ListJobs; history (locus acct,
// sacct, locus queue --state all) easily has more. A few hundred bytes a job: ~500,000 jobs.
constexpr int kMaxReplyBytes = 256 * 1024 * 1024;

Error fromGrpc(const grpc::Status& s, const std::string& address) {
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return unavailable("cannot reach the controller at " + address + " (" + s.error_message() + ")");
    case grpc::StatusCode::NOT_FOUND: return notFound(s.error_message());
    case grpc::StatusCode::INVALID_ARGUMENT: return invalidArgument(s.error_message());
    case grpc::StatusCode::FAILED_PRECONDITION: return {ErrorCode::kUnsatisfiable, s.error_message()};
    case grpc::StatusCode::PERMISSION_DENIED: return {ErrorCode::kPermissionDenied, s.error_message()};
    case grpc::StatusCode::DEADLINE_EXCEEDED: return unavailable("timed out");
    default: return internalError(s.error_message());
  }
}

void setDeadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
}

}  // namespace

std::string controllerAddress(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("LOCUS_CONTROLLER"); env && *env) return env;
  return "127.0.0.1:6450";
}

struct Client::Impl {
  std::string address;
  std::unique_ptr<proto::ClientApi::Stub> stub;
};

Client::Client(const std::string& address) : impl_(std::make_unique<Impl>()) {
  impl_->address = address;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReplyBytes);
  impl_->stub = proto::ClientApi::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}
Client::~Client() = default;

Result<proto::SubmitJobReply> Client::submit(const proto::SubmitJobRequest& req) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::SubmitJobReply reply;
  auto s = impl_->stub->SubmitJob(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Result<proto::CreateStepReply> Client::createStep(const proto::CreateStepRequest& req) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::CreateStepReply reply;
  auto s = impl_->stub->CreateStep(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Result<proto::QuotasReply> Client::quotas(const std::string& pool) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::QuotasRequest req;
  req.set_pool(pool);
  proto::QuotasReply reply;
  auto s = impl_->stub->GetQuotas(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Result<proto::ServiceReply> Client::manageService(const proto::ServiceRequest& req) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::ServiceReply reply;
  auto s = impl_->stub->ManageService(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Status Client::setQuota(const proto::SetQuotaRequest& req) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::SetQuotaReply reply;
  auto s = impl_->stub->SetQuota(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return {};
}

Result<proto::JobInfo> Client::getJob(uint64_t id) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::GetJobRequest req;
  req.set_job_id(id);
  proto::GetJobReply reply;
  auto s = impl_->stub->GetJob(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply.job();
}

Result<proto::ListJobsReply> Client::listJobs(const proto::ListJobsRequest& req) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::ListJobsReply reply;
  auto s = impl_->stub->ListJobs(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Result<proto::CancelJobReply> Client::cancel(const proto::CancelJobRequest& req) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::CancelJobReply reply;
  auto s = impl_->stub->CancelJob(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Result<proto::CancelJobReply> Client::update(const proto::UpdateJobsRequest& req) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::CancelJobReply reply;
  auto s = impl_->stub->UpdateJobs(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Status Client::changeAccount(const proto::AccountChangeRequest& req) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::AccountChangeReply reply;
  auto s = impl_->stub->ChangeAccount(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return {};
}

Result<proto::SharesReply> Client::shares() {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::SharesReply reply;
  auto s = impl_->stub->GetShares(&ctx, proto::SharesRequest{}, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Result<proto::PrioritiesReply> Client::priorities(const std::vector<uint64_t>& job_ids) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::PrioritiesRequest req;
  for (uint64_t id : job_ids) req.add_job_ids(id);
  proto::PrioritiesReply reply;
  auto s = impl_->stub->GetPriorities(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Result<proto::ListNodesReply> Client::listNodes(std::chrono::milliseconds timeout) {
  grpc::ClientContext ctx;
  setDeadline(ctx, timeout);
  proto::ListNodesReply reply;
  auto s = impl_->stub->ListNodes(&ctx, proto::ListNodesRequest{}, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Status Client::wait(const std::vector<uint64_t>& ids, double timeout_s,
                    const std::function<void(const proto::JobInfo&)>& on_done) {
  grpc::ClientContext ctx;
  if (timeout_s > 0) setDeadline(ctx, std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000) + 5000));
  proto::WaitJobRequest req;
  for (uint64_t id : ids) req.add_job_ids(id);
  req.set_timeout_s(timeout_s);
  auto reader = impl_->stub->WaitJob(&ctx, req);
  proto::WaitJobEvent ev;
  while (reader->Read(&ev)) on_done(ev.job());
  auto s = reader->Finish();
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return {};
}

}  // namespace locus::cli
