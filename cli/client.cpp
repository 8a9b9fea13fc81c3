#include "cli/client.hpp"

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <thread>

#include "common/address_list.hpp"
#include "common/munge_auth.hpp"
#include "common/rpc_status.hpp"
#include "proto/locus.grpc.pb.h"

namespace locus::cli {
namespace {

// Every unary call gets a deadline so a wedged controller never hangs a script forever.
constexpr auto kCallTimeout = std::chrono::seconds{60};
// gRPC's default 4 MB reply limit holds about 10,000 jobs of ListJobs; history (locus acct,
// sacct, locus queue --state all) easily has more. A few hundred bytes a job: ~500,000 jobs.
constexpr int kMaxReplyBytes = 256 * 1024 * 1024;

// Why this process sent no credential (for the controller's refusal to make sense).
thread_local std::string no_credential_why;

Error fromGrpc(const grpc::Status& s, const std::string& address) {
  if ((s.error_code() == grpc::StatusCode::UNAUTHENTICATED || s.error_code() == grpc::StatusCode::PERMISSION_DENIED) &&
      !no_credential_why.empty())
    return permissionDenied(s.error_message() + " (this client has no MUNGE credential: " + no_credential_why + ")");
  switch (s.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED: return permissionDenied(s.error_message());
    case grpc::StatusCode::UNAVAILABLE:
      // The controller's own answer (a NameNode it cannot reach, say), or no answer at all.
      if (s.error_details() == kAnsweredByController) return unavailable(s.error_message());
      return unavailable("cannot reach the controller at " + address + " (" + s.error_message() + ")");
    case grpc::StatusCode::NOT_FOUND: return notFound(s.error_message());
    case grpc::StatusCode::INVALID_ARGUMENT: return invalidArgument(s.error_message());
    case grpc::StatusCode::FAILED_PRECONDITION: return {ErrorCode::kUnsatisfiable, s.error_message()};
    case grpc::StatusCode::PERMISSION_DENIED: return {ErrorCode::kPermissionDenied, s.error_message()};
    case grpc::StatusCode::DEADLINE_EXCEEDED: return unavailable("timed out");
    default: return internalError(s.error_message());
  }
}

// Every call carries a fresh MUNGE credential: the controller takes the caller's identity from
// it, never from the request (common/munge_auth.hpp).
void authenticate(grpc::ClientContext& ctx) {
  no_credential_why.clear();
  std::string cred = callCredential(&no_credential_why);
  if (!cred.empty()) ctx.AddMetadata(kMungeMetadataKey, cred);
}

void setDeadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  authenticate(ctx);
}

}  // namespace

std::vector<ControllerStatus> controllerStatuses(const std::string& list, std::chrono::milliseconds timeout) {
  std::vector<ControllerStatus> out;
  for (const std::string& address : splitAddressList(list)) {
    ControllerStatus status;
    status.address = address;
    out.push_back(std::move(status));
  }
  for (ControllerStatus& c : out) {
    auto stub = proto::ControllerApi::NewStub(grpc::CreateChannel(c.address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    grpc::Status s = stub->Info(&ctx, proto::ControllerInfoRequest(), &c.info);
    c.reachable = s.ok();
    if (!s.ok()) c.error = s.error_message();
  }
  return out;
}

std::string controllerAddress(const std::string& flag) {
  std::string list = flag;
  if (list.empty())
    if (const char* env = std::getenv("LOCUS_CONTROLLER"); env && *env) list = env;
  if (list.empty()) return "127.0.0.1:6450";
  if (list.find(',') == std::string::npos) return list;
  auto all = controllerStatuses(list);
  for (const ControllerStatus& c : all)
    if (c.reachable && c.info.leader()) return c.address;
  return all.empty() ? list : all.front().address;  // no leader now: the first says why
}

struct Client::Impl {
  std::string address;
  std::unique_ptr<proto::ClientApi::Stub> stub;
  bool unanswered = false;  // the last unary call's status: UNAVAILABLE, not the controller's own
};

bool Client::lastCallUnanswered() const { return impl_->unanswered; }

Client::Client(const std::string& address) : impl_(std::make_unique<Impl>()) {
  impl_->address = address;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReplyBytes);
  // A stream that follows the event log reconnects after a controller restart: gRPC's own
  // reconnect back-off (up to 2 minutes by default) must not outlast the restart by much.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  impl_->stub = proto::ClientApi::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}
Client::~Client() = default;

Result<proto::SubmitJobReply> Client::submit(const proto::SubmitJobRequest& req) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::SubmitJobReply reply;
  auto s = impl_->stub->SubmitJob(&ctx, req, &reply);
  impl_->unanswered =
      s.error_code() == grpc::StatusCode::UNAVAILABLE && s.error_details() != kAnsweredByController;
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
}

Result<proto::SubmitJobReply> submitRetrying(const std::string& address, const std::string& controllers,
                                             const proto::SubmitJobRequest& req,
                                             std::chrono::milliseconds patience,
                                             const std::function<void(const Error&)>& on_retry) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  auto backoff = std::chrono::milliseconds{100};
  std::string to = address;
  for (bool told = false;; told = true) {
    Client client(to);
    auto reply = client.submit(req);
    if (reply.ok() || !client.lastCallUnanswered() || std::chrono::steady_clock::now() + backoff >= give_up)
      return reply;
    if (!told && on_retry) on_retry(reply.error());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds{2000});
    to = controllerAddress(controllers);  // the leader may have changed
  }
}

std::chrono::milliseconds submitPatience() {
  constexpr auto kDefault = std::chrono::seconds{30};
  const char* env = std::getenv("LOCUS_SUBMIT_RETRY_S");
  if (!env || !*env) return kDefault;
  char* end = nullptr;
  const double s = std::strtod(env, &end);
  if (*end != '\0' || !(s >= 0) || s > 86400) return kDefault;
  return std::chrono::milliseconds{static_cast<int64_t>(s * 1000)};
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

Result<proto::LocateDataReply> Client::locateData(const std::string& uri) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::LocateDataRequest req;
  req.set_uri(uri);
  proto::LocateDataReply reply;
  auto s = impl_->stub->LocateData(&ctx, req, &reply);
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

Result<proto::DashboardTokenReply> Client::dashboardToken(const proto::DashboardTokenRequest& req) {
  grpc::ClientContext ctx;
  setDeadline(ctx, kCallTimeout);
  proto::DashboardTokenReply reply;
  auto s = impl_->stub->DashboardToken(&ctx, req, &reply);
  if (!s.ok()) return fromGrpc(s, impl_->address);
  return reply;
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


void StopSignal::stop() {
  {
    // The canceller runs under the lock: setCanceller({}) waits for it, so the call it cancels
    // (its ClientContext) cannot be destroyed while TryCancel() is still at work on it.
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (cancel_) cancel_();
  }
  cv_.notify_all();
}

bool StopSignal::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

bool StopSignal::waitFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, d, [this] { return stopped_; });
}

void StopSignal::setCanceller(std::function<void()> cancel) {
  std::lock_guard lock(mu_);
  cancel_ = std::move(cancel);
  if (stopped_ && cancel_) cancel_();
}

Status Client::watchEvents(const proto::WatchEventsRequest& req, StopSignal& stop,
                           std::chrono::system_clock::time_point deadline,
                           const std::function<bool(const proto::Event&)>& on_event) {
  grpc::ClientContext ctx;
  if (deadline != std::chrono::system_clock::time_point::max()) ctx.set_deadline(deadline);
  authenticate(ctx);
  stop.setCanceller([&ctx] { ctx.TryCancel(); });
  struct Clear {
    StopSignal& stop;
    ~Clear() { stop.setCanceller({}); }
  } clear{stop};
  auto reader = impl_->stub->WatchEvents(&ctx, req);
  proto::Event ev;
  bool ended_by_us = false, received = false;
  while (reader->Read(&ev)) {
    received = true;
    if (!on_event(ev)) {
      ended_by_us = true;
      ctx.TryCancel();
      break;
    }
  }
  auto s = reader->Finish();
  if (ended_by_us || stop.stopped()) return {};
  switch (s.error_code()) {
    case grpc::StatusCode::OK:  // a stream of events never ends by itself: the controller stopped
      return unavailable("the controller ended the stream");
    case grpc::StatusCode::UNAVAILABLE:
      if (!received) return fromGrpc(s, impl_->address);  // "cannot reach the controller at ..."
      [[fallthrough]];
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return unavailable("lost the controller at " + impl_->address + " (" + s.error_message() + ")");
    default:
      return fromGrpc(s, impl_->address);
  }
}

}  // namespace locus::cli
