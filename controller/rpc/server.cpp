#include "controller/rpc/server.hpp"

#include <grpcpp/grpcpp.h>

#include <unistd.h>

#include <deque>

#include "common/logging.hpp"
#include "common/munge_auth.hpp"
#include "common/rpc_status.hpp"
#include "controller/rpc/gatekeeper.hpp"
#include "proto/locus.grpc.pb.h"

namespace locus::controller {
namespace {

auto log() {
  static auto l = logger("controller.rpc");
  return l;
}

grpc::Status toGrpc(const Error& e) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (e.code) {
    case ErrorCode::kInvalidArgument: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case ErrorCode::kNotFound: code = grpc::StatusCode::NOT_FOUND; break;
    case ErrorCode::kUnsatisfiable: code = grpc::StatusCode::FAILED_PRECONDITION; break;
    case ErrorCode::kFailedPrecondition: code = grpc::StatusCode::FAILED_PRECONDITION; break;
    case ErrorCode::kPermissionDenied: code = grpc::StatusCode::PERMISSION_DENIED; break;
    case ErrorCode::kUnavailable: code = grpc::StatusCode::UNAVAILABLE; break;
    case ErrorCode::kInternal: code = grpc::StatusCode::INTERNAL; break;
  }
  // The details say the controller itself answered: a client then shows the message as it is
  // (a NameNode the controller cannot reach is not a controller the client cannot reach).
  return grpc::Status(code, e.message, std::string(kAnsweredByController));
}

// Runs a handler body; an exception here is a bug, reported as INTERNAL, never a crash.
template <typename F>
grpc::Status guarded(const char* what, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    log()->error("bug: {} threw: {}", what, e.what());
    return grpc::Status(grpc::StatusCode::INTERNAL, std::string("internal error: ") + e.what());
  }
}

std::string credentialOf(const grpc::ServerContext* ctx) {
  auto it = ctx->client_metadata().find(kMungeMetadataKey);
  return it == ctx->client_metadata().end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// The request as the authenticated caller makes it: its user fields are the credential's, not
// what the client wrote (with auth = "none", what the client wrote).
template <typename Request>
Request stamped(const Request& req, const std::optional<Identity>& who) {
  Request r = req;
  if (who) {
    r.set_user(who->user);
    r.set_uid(who->uid);
    if constexpr (requires { r.set_gid(uint32_t{}); }) r.set_gid(who->gid);
  }
  return r;
}

// Authenticates a client call (its MUNGE credential) and takes it from its user's rate bucket.
// `claimed`: the user the request names, charged instead when nothing is authenticated.
grpc::Status admitCall(Gatekeeper& gate, grpc::ServerContext* ctx, const std::string& claimed,
                       std::optional<Identity>& who) {
  auto id = gate.identify(credentialOf(ctx));
  if (!id.ok()) {
    log()->warn("refused a call from {}: {}", ctx->peer(), id.error().message);
    return grpc::Status(id.error().code == ErrorCode::kPermissionDenied ? grpc::StatusCode::UNAUTHENTICATED
                                                                        : grpc::StatusCode::UNAVAILABLE,
                        id.error().message);
  }
  who = std::move(*id);
  const std::string user = who ? who->user : claimed;
  if (!gate.admit(user))
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "rate limit: too many calls from user " + user + "; slow down ([controller] rpc_rate)");
  return grpc::Status::OK;
}

// Messages for one stream (a node's commands, a framework's events), queued by the controller
// and written by the stream's handler thread, so a slow peer never blocks the controller's lock.
template <typename Msg, typename Channel>
class StreamChannel final : public Channel {
 public:
  void send(const Msg& msg) override {
    std::lock_guard lock(mu_);
    if (closed_) return;
    queue_.push_back(msg);
    cv_.notify_one();
  }
  void close() override {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_one();
  }
  // Waits for messages; returns false once closed and drained.
  bool take(std::deque<Msg>& out) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
    out.swap(queue_);
    return !(closed_ && out.empty());
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Msg> queue_;  // guarded by mu_
  bool closed_ = false;    // guarded by mu_
};

// Pumps `channel` into `stream` while a reader thread hands what the peer sends to `on_read`;
// returns when either side ends (the peer hung up, a write failed, or the channel closed).
template <typename Out, typename In, typename Channel, typename OnRead>
void serveStream(grpc::ServerContext* ctx, grpc::ServerReaderWriter<Out, In>* stream,
                 const std::shared_ptr<StreamChannel<Out, Channel>>& channel, OnRead on_read) {
  std::thread reader([&, channel] {
    In msg;
    while (stream->Read(&msg)) on_read(msg);
    channel->close();
  });
  std::deque<Out> batch;
  bool open = true;
  while (open && channel->take(batch)) {
    for (auto& m : batch)
      if (!stream->Write(m)) {
        open = false;
        break;
      }
    batch.clear();
  }
  channel->close();
  ctx->TryCancel();  // ends the reader's Read
  reader.join();
}

class ClientService final : public proto::ClientApi::Service {
 public:
  ClientService(Controller& c, Gatekeeper& gate) : c_(c), gate_(gate) {}

  grpc::Status admit(grpc::ServerContext* ctx, const std::string& claimed, std::optional<Identity>& who) {
    return admitCall(gate_, ctx, claimed, who);
  }

  // A unary call: guarded, and its time observed in locus_rpc_duration_seconds{method}. Streams
  // (WaitJob) are not timed: their length is the client's wait, not the controller's work.
  template <typename F>
  grpc::Status timed(const char* method, F&& body) {
    const auto began = std::chrono::steady_clock::now();
    grpc::Status status = guarded(method, std::forward<F>(body));
    c_.metrics().rpc_duration.observe(
        method, std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
    return status;
  }

  grpc::Status SubmitJob(grpc::ServerContext* ctx, const proto::SubmitJobRequest* req,
                         proto::SubmitJobReply* reply) override {
    return timed("SubmitJob", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, req->user(), who); !st.ok()) return st;
      auto r = c_.submit(stamped(*req, who));
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status CreateStep(grpc::ServerContext* ctx, const proto::CreateStepRequest* req,
                          proto::CreateStepReply* reply) override {
    return timed("CreateStep", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, req->user(), who); !st.ok()) return st;
      auto r = c_.createStep(stamped(*req, who));
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status GetJob(grpc::ServerContext* ctx, const proto::GetJobRequest* req,
                      proto::GetJobReply* reply) override {
    return timed("GetJob", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, std::string(), who); !st.ok()) return st;
      auto r = c_.getJob(req->job_id());
      if (!r.ok()) return toGrpc(r.error());
      *reply->mutable_job() = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status ListJobs(grpc::ServerContext* ctx, const proto::ListJobsRequest* req,
                        proto::ListJobsReply* reply) override {
    return timed("ListJobs", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, std::string(), who); !st.ok()) return st;
      // An unknown state is a mistake, not a filter that matches nothing.
      for (const auto& s : req->states())
        if (s != "ALL" && s != "all" && !jobStateFromString(s))
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown job state '" + s + "'");
      *reply = c_.listJobs(*req);
      return grpc::Status::OK;
    });
  }

  grpc::Status CancelJob(grpc::ServerContext* ctx, const proto::CancelJobRequest* req,
                         proto::CancelJobReply* reply) override {
    return timed("CancelJob", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, req->user(), who); !st.ok()) return st;
      *reply = c_.cancel(stamped(*req, who));
      return grpc::Status::OK;
    });
  }

  grpc::Status UpdateJobs(grpc::ServerContext* ctx, const proto::UpdateJobsRequest* req,
                          proto::CancelJobReply* reply) override {
    return timed("UpdateJobs", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, req->user(), who); !st.ok()) return st;
      *reply = c_.update(stamped(*req, who));
      return grpc::Status::OK;
    });
  }

  grpc::Status WaitJob(grpc::ServerContext* ctx, const proto::WaitJobRequest* req,
                       grpc::ServerWriter<proto::WaitJobEvent>* writer) override {
    return guarded("WaitJob", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, std::string(), who); !st.ok()) return st;
      auto targets = c_.waitTargets({req->job_ids().begin(), req->job_ids().end()});
      if (!targets.ok()) return toGrpc(targets.error());
      std::set<uint64_t> pending(targets->begin(), targets->end());
      size_t cursor = Controller::kWaitFromScratch;
      using clock = std::chrono::steady_clock;
      auto deadline = req->timeout_s() > 0
                          ? clock::now() + std::chrono::milliseconds(
                                               static_cast<int64_t>(req->timeout_s() * 1000))
                          : clock::time_point::max();
      // Wake up every second to notice a client that went away.
      constexpr auto kSlice = std::chrono::seconds{1};
      while (!pending.empty()) {
        auto now = clock::now();
        if (now >= deadline) return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "timeout");
        if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
        auto until = deadline - now > kSlice ? now + kSlice : deadline;
        for (auto& info : c_.waitSome(pending, cursor, until)) {
          proto::WaitJobEvent ev;
          *ev.mutable_job() = std::move(info);
          if (!writer->Write(ev)) return grpc::Status::CANCELLED;
        }
      }
      return grpc::Status::OK;
    });
  }

  // The event log as a stream. Like WaitJob, it holds a server thread while it waits on the
  // log's condition variable: a new event wakes it at once; the wait is cut into slices only to
  // notice a client that went away (the synchronous server has no callback for that).
  grpc::Status WatchEvents(grpc::ServerContext* ctx, const proto::WatchEventsRequest* req,
                           grpc::ServerWriter<proto::Event>* writer) override {
    return guarded("WatchEvents", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, std::string(), who); !st.ok()) return st;
      constexpr auto kSlice = std::chrono::seconds{1};
      // Events per read of the log: bounds what one wake-up copies under the log's lock.
      constexpr size_t kBatch = 512;
      // A filtered stream that has passed this many ids without sending anything sends a
      // bookmark, so a client resuming from its last id stays within what the log keeps.
      constexpr uint64_t kBookmarkEvery = 1000;
      auto watch = c_.watchEvents(*req);
      if (!watch.ok()) return toGrpc(watch.error());
      uint64_t cursor = watch->after_id;
      auto bookmark = [&] {
        proto::Event b;
        b.set_id(cursor);
        b.set_kind("bookmark");
        return writer->Write(b);
      };
      // The jobs' states "now" (current_state), then the bookmark that says where "now" is.
      for (const Event& e : watch->current)
        if (!writer->Write(toProto(e))) return grpc::Status::CANCELLED;
      if (!bookmark()) return grpc::Status::CANCELLED;
      uint64_t told = cursor;  // the last id the client has heard of
      while (true) {
        if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
        auto batch =
            c_.events().read(cursor, watch->filter, kBatch, std::chrono::steady_clock::now() + kSlice);
        if (!batch.ok()) return toGrpc(batch.error());
        cursor = batch->cursor;
        const size_t n = batch->events.size();
        for (size_t i = 0; i < n; ++i) {
          // Buffered but the last of a batch: a burst (an array ending) goes out in few writes.
          grpc::WriteOptions options;
          if (i + 1 < n) options.set_buffer_hint();
          if (!writer->Write(toProto(batch->events[i]), options)) return grpc::Status::CANCELLED;
          told = batch->events[i].id;
        }
        if (cursor - told >= kBookmarkEvery) {
          if (!bookmark()) return grpc::Status::CANCELLED;
          told = cursor;
        }
      }
    });
  }

  grpc::Status GetShares(grpc::ServerContext* ctx, const proto::SharesRequest*,
                         proto::SharesReply* reply) override {
    return timed("GetShares", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, std::string(), who); !st.ok()) return st;
      *reply = c_.shares();
      return grpc::Status::OK;
    });
  }

  grpc::Status ChangeAccount(grpc::ServerContext* ctx, const proto::AccountChangeRequest* req,
                             proto::AccountChangeReply*) override {
    return timed("ChangeAccount", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, req->user(), who); !st.ok()) return st;
      Status s = c_.changeAccount(stamped(*req, who));
      return s.ok() ? grpc::Status::OK : toGrpc(s.error());
    });
  }

  grpc::Status LocateData(grpc::ServerContext* ctx, const proto::LocateDataRequest* req,
                          proto::LocateDataReply* reply) override {
    return timed("LocateData", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, std::string(), who); !st.ok()) return st;
      auto r = c_.locateData(req->uri());
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status GetQuotas(grpc::ServerContext* ctx, const proto::QuotasRequest* req, proto::QuotasReply* reply) override {
    return timed("GetQuotas", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, std::string(), who); !st.ok()) return st;
      auto r = c_.quotas(req->pool());
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status SetQuota(grpc::ServerContext* ctx, const proto::SetQuotaRequest* req, proto::SetQuotaReply*) override {
    return timed("SetQuota", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, req->user(), who); !st.ok()) return st;
      Status s = c_.setQuota(stamped(*req, who));
      return s.ok() ? grpc::Status::OK : toGrpc(s.error());
    });
  }

  grpc::Status DashboardToken(grpc::ServerContext* ctx, const proto::DashboardTokenRequest* req,
                              proto::DashboardTokenReply* reply) override {
    return timed("DashboardToken", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, req->user(), who); !st.ok()) return st;
      auto r = c_.dashboardToken(stamped(*req, who));
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status ManageService(grpc::ServerContext* ctx, const proto::ServiceRequest* req,
                             proto::ServiceReply* reply) override {
    return timed("ManageService", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, req->user(), who); !st.ok()) return st;
      auto r = c_.manageService(stamped(*req, who));
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status GetPriorities(grpc::ServerContext* ctx, const proto::PrioritiesRequest* req,
                             proto::PrioritiesReply* reply) override {
    return timed("GetPriorities", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, std::string(), who); !st.ok()) return st;
      *reply = c_.priorities({req->job_ids().begin(), req->job_ids().end()});
      return grpc::Status::OK;
    });
  }

  grpc::Status ListNodes(grpc::ServerContext* ctx, const proto::ListNodesRequest*,
                         proto::ListNodesReply* reply) override {
    return timed("ListNodes", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admit(ctx, std::string(), who); !st.ok()) return st;
      *reply = c_.listNodes();
      return grpc::Status::OK;
    });
  }

 private:
  Controller& c_;
  Gatekeeper& gate_;
};

class NodeService final : public proto::NodeApi::Service {
 public:
  NodeService(Controller& c, Gatekeeper& gate) : c_(c), gate_(gate) {}

  grpc::Status Connect(grpc::ServerContext* ctx,
                       grpc::ServerReaderWriter<proto::ControllerToNode, proto::NodeToController>*
                           stream) override {
    return guarded("Connect", [&] {
      // A node daemon under another MUNGE key, or run by an ordinary user, registers nothing.
      if (auto who = gate_.identifyNode(credentialOf(ctx)); !who.ok()) {
        log()->warn("refused a node stream from {}: {}", ctx->peer(), who.error().message);
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, who.error().message);
      }
      proto::NodeToController first;
      if (!stream->Read(&first) || !first.has_register_())
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "first message must be RegisterNode");
      std::string name = first.register_().name();
      auto channel = std::make_shared<StreamChannel<proto::ControllerToNode, NodeChannel>>();
      Status s = c_.nodeRegistered(first.register_(), channel);
      if (!s.ok()) return toGrpc(s.error());
      serveStream(ctx, stream, channel, [&](const proto::NodeToController& msg) { c_.nodeMessage(name, msg); });
      c_.nodeDisconnected(name, channel.get());
      return grpc::Status::OK;
    });
  }

 private:
  Controller& c_;
  Gatekeeper& gate_;
};

// Frameworks (controller/frameworks.hpp): one stream each, registered by its first call, as the
// credential's user; every later call is rate limited like a client call.
class FrameworkService final : public proto::FrameworkApi::Service {
 public:
  FrameworkService(Controller& c, Gatekeeper& gate) : c_(c), gate_(gate) {}

  grpc::Status Subscribe(grpc::ServerContext* ctx,
                         grpc::ServerReaderWriter<proto::FrameworkEvent, proto::FrameworkCall>* stream) override {
    return guarded("Subscribe", [&] {
      proto::FrameworkCall first;
      if (!stream->Read(&first) || !first.has_register_())
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first framework call must be register");
      std::optional<Identity> who;
      if (grpc::Status st = admitCall(gate_, ctx, first.register_().user(), who); !st.ok()) return st;
      const proto::FrameworkRegister reg = stamped(first.register_(), who);
      auto channel = std::make_shared<StreamChannel<proto::FrameworkEvent, FrameworkChannel>>();
      if (Status s = c_.frameworkRegistered(reg, channel); !s.ok()) return toGrpc(s.error());
      const std::string name = reg.name();
      const std::string user = reg.user();
      serveStream(ctx, stream, channel, [&](const proto::FrameworkCall& call) {
        if (!gate_.admit(user)) {
          proto::FrameworkEvent e;
          e.set_error("rate limit: too many calls from user " + user + "; slow down ([controller] rpc_rate)");
          channel->send(e);
          return;
        }
        c_.frameworkCall(name, channel.get(), call);
      });
      c_.frameworkDisconnected(name, channel.get());
      return grpc::Status::OK;
    });
  }

  grpc::Status ListFrameworks(grpc::ServerContext* ctx, const proto::ListFrameworksRequest*,
                              proto::ListFrameworksReply* reply) override {
    return guarded("ListFrameworks", [&] {
      std::optional<Identity> who;
      if (grpc::Status st = admitCall(gate_, ctx, std::string(), who); !st.ok()) return st;
      *reply = c_.listFrameworks();
      return grpc::Status::OK;
    });
  }

 private:
  Controller& c_;
  Gatekeeper& gate_;
};

// ControllerApi: who this controller is and who leads. Unauthenticated: it says nothing a
// client could not learn by connecting, and a standby has no gatekeeper state to consult.
class InfoService final : public proto::ControllerApi::Service {
 public:
  InfoService(std::string host, ControllerIdentity identity) : host_(std::move(host)), id_(std::move(identity)) {}
  void setPort(int port) { port_ = port; }

  grpc::Status Info(grpc::ServerContext*, const proto::ControllerInfoRequest*, proto::ControllerInfo* reply) override {
    return guarded("Info", [&] {
      const std::string self = host_ + ":" + std::to_string(port_);
      reply->set_address(self);
      reply->set_pid(::getpid());
      reply->set_leader(id_.leader_since != 0);
      reply->set_leader_since(id_.leader_since);
      reply->set_store(id_.store);
      reply->set_leader_address(id_.leader_address ? id_.leader_address() : self);
      return grpc::Status::OK;
    });
  }

 private:
  const std::string host_;
  const ControllerIdentity id_;
  int port_ = 0;  // set once bound, before serving
};

std::string hostOf(const std::string& listen) { return listen.substr(0, listen.rfind(':')); }

}  // namespace

struct StandbyServer::Impl {
  Impl(const std::string& listen, ControllerIdentity identity) : info(hostOf(listen), std::move(identity)) {}
  InfoService info;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

StandbyServer::StandbyServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StandbyServer::~StandbyServer() { shutdown(); }
int StandbyServer::port() const { return impl_->port; }

Result<std::unique_ptr<StandbyServer>> StandbyServer::start(const std::string& listen, ControllerIdentity identity) {
  auto impl = std::make_unique<Impl>(listen, std::move(identity));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &impl->port);
  builder.RegisterService(&impl->info);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) return unavailable("cannot listen on " + listen);
  impl->info.setPort(impl->port);
  return std::unique_ptr<StandbyServer>(new StandbyServer(std::move(impl)));
}

void StandbyServer::shutdown() {
  if (impl_ && impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    impl_->server->Wait();
    impl_->server.reset();
  }
}

struct RpcServer::Impl {
  Impl(Controller& c, const std::string& listen, ControllerIdentity identity)
      : gate(c.config()), client(c, gate), node(c, gate), framework(c, gate), info(hostOf(listen), std::move(identity)) {}
  Gatekeeper gate;
  ClientService client;
  NodeService node;
  FrameworkService framework;
  InfoService info;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

RpcServer::RpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RpcServer::~RpcServer() { shutdown(); }
int RpcServer::port() const { return impl_->port; }

Result<std::unique_ptr<RpcServer>> RpcServer::start(Controller& controller, const std::string& listen,
                                                    ControllerIdentity identity) {
  auto impl = std::make_unique<Impl>(controller, listen, std::move(identity));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &impl->port);
  builder.RegisterService(&impl->client);
  builder.RegisterService(&impl->node);
  builder.RegisterService(&impl->framework);
  builder.RegisterService(&impl->info);
  // Many node streams and waiters each hold a thread in the synchronous server.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 4);
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) return unavailable("cannot listen on " + listen);
  impl->info.setPort(impl->port);
  return std::unique_ptr<RpcServer>(new RpcServer(std::move(impl)));
}

void RpcServer::shutdown() {
  if (impl_ && impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    impl_->server->Wait();
    impl_->server.reset();
  }
}

}  // namespace locus::controller
