#include "cli/framework_client.hpp"

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/munge_auth.hpp"
#include "common/rpc_status.hpp"
#include "proto/locus.grpc.pb.h"

namespace locus::cli {
namespace {

void authenticate(grpc::ClientContext& ctx) {
  std::string why;
  std::string cred = callCredential(&why);
  if (!cred.empty()) ctx.AddMetadata(kMungeMetadataKey, cred);
}

Error fromStatus(const grpc::Status& s, const std::string& address) {
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      // The controller's own answer (a NameNode it cannot reach, say), or no answer at all.
      if (s.error_details() == kAnsweredByController) return unavailable(s.error_message());
      return unavailable("cannot reach the controller at " + address + " (" + s.error_message() + ")");
    case grpc::StatusCode::INVALID_ARGUMENT: return invalidArgument(s.error_message());
    case grpc::StatusCode::NOT_FOUND: return notFound(s.error_message());
    case grpc::StatusCode::FAILED_PRECONDITION: return {ErrorCode::kUnsatisfiable, s.error_message()};
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED: return permissionDenied(s.error_message());
    default: return internalError(s.error_message());
  }
}

std::shared_ptr<grpc::Channel> channelTo(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

}  // namespace

struct FrameworkSession::Impl {
  std::string address;
  std::unique_ptr<proto::FrameworkApi::Stub> stub;
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReaderWriter<proto::FrameworkCall, proto::FrameworkEvent>> stream;
  std::thread reader;
  std::mutex write_mu;  // one writer at a time

  std::mutex mu;
  std::condition_variable cv;
  std::deque<proto::FrameworkEvent> events;  // guarded by mu
  bool ended = false;                        // guarded by mu
  std::string why;                           // guarded by mu
  bool closed = false;                       // guarded by write_mu
};

FrameworkSession::FrameworkSession(const std::string& controller) : impl_(std::make_unique<Impl>()) {
  impl_->address = controller;
  impl_->stub = proto::FrameworkApi::NewStub(channelTo(controller));
}

FrameworkSession::~FrameworkSession() { close(); }

Result<proto::FrameworkRegistered> FrameworkSession::open(const proto::FrameworkRegister& reg,
                                                          std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  authenticate(m.ctx);
  m.stream = m.stub->Subscribe(&m.ctx);
  proto::FrameworkCall call;
  *call.mutable_register_() = reg;
  if (!m.stream->Write(call)) {
    std::lock_guard lock(m.write_mu);
    m.closed = true;  // finished here: close() has nothing left to end
    grpc::Status s = m.stream->Finish();
    return fromStatus(s.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed") : s, m.address);
  }
  m.reader = std::thread([&m] {
    proto::FrameworkEvent e;
    while (m.stream->Read(&e)) {
      std::lock_guard lock(m.mu);
      m.events.push_back(e);
      m.cv.notify_all();
    }
    grpc::Status s = m.stream->Finish();
    std::lock_guard lock(m.mu);
    m.ended = true;
    m.why = s.ok() ? "the controller ended the stream" : s.error_message();
    if (!s.ok()) m.why = fromStatus(s, m.address).message;
    m.cv.notify_all();
  });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(m.mu);
  m.cv.wait_until(lock, deadline, [&] { return m.ended || !m.events.empty(); });
  if (!m.events.empty() && m.events.front().has_registered()) {
    proto::FrameworkRegistered r = m.events.front().registered();
    m.events.pop_front();
    return r;
  }
  if (m.ended) {
    lock.unlock();
    return Error{ErrorCode::kUnavailable, m.why};
  }
  return unavailable("no answer from the controller at " + m.address + " to the registration");
}

Result<proto::ListFrameworksReply> listFrameworks(const std::string& controller) {
  auto stub = proto::FrameworkApi::NewStub(channelTo(controller));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds{60});
  authenticate(ctx);
  proto::ListFrameworksReply reply;
  grpc::Status s = stub->ListFrameworks(&ctx, proto::ListFrameworksRequest(), &reply);
  if (!s.ok()) return fromStatus(s, controller);
  return reply;
}

bool FrameworkSession::send(const proto::FrameworkCall& call) {
  std::lock_guard lock(impl_->write_mu);
  if (!impl_->stream || impl_->closed) return false;
  return impl_->stream->Write(call);
}

bool FrameworkSession::request(const proto::LeaseRequest& req) {
  proto::FrameworkCall c;
  *c.mutable_request() = req;
  return send(c);
}

bool FrameworkSession::launch(const proto::FrameworkLaunch& launch) {
  proto::FrameworkCall c;
  *c.mutable_launch() = launch;
  return send(c);
}

bool FrameworkSession::release(uint64_t lease_id) {
  proto::FrameworkCall c;
  c.mutable_release()->set_lease_id(lease_id);
  return send(c);
}

bool FrameworkSession::kill(uint64_t lease_id, const std::string& task_id) {
  proto::FrameworkCall c;
  c.mutable_kill()->set_lease_id(lease_id);
  c.mutable_kill()->set_task_id(task_id);
  return send(c);
}

bool FrameworkSession::accept(const proto::AcceptOffer& accept) {
  proto::FrameworkCall c;
  *c.mutable_accept() = accept;
  return send(c);
}

bool FrameworkSession::decline(const std::string& offer_id, double filter_s) {
  proto::FrameworkCall c;
  c.mutable_decline()->set_offer_id(offer_id);
  c.mutable_decline()->set_filter_s(filter_s);
  return send(c);
}

std::optional<proto::FrameworkEvent> FrameworkSession::next(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_until(lock, deadline, [&] { return impl_->ended || !impl_->events.empty(); });
  if (impl_->events.empty()) return std::nullopt;
  proto::FrameworkEvent e = std::move(impl_->events.front());
  impl_->events.pop_front();
  return e;
}

bool FrameworkSession::ended() const {
  std::lock_guard lock(impl_->mu);
  return impl_->ended && impl_->events.empty();
}

std::string FrameworkSession::why() const {
  std::lock_guard lock(impl_->mu);
  return impl_->why;
}

void FrameworkSession::close() {
  {
    std::lock_guard lock(impl_->write_mu);
    if (impl_->closed) return;
    impl_->closed = true;
    if (impl_->stream) impl_->stream->WritesDone();
  }
  impl_->ctx.TryCancel();
  if (impl_->reader.joinable()) impl_->reader.join();
}

}  // namespace locus::cli
