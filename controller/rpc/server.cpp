#include "controller/rpc/server.hpp"

#include <grpcpp/grpcpp.h>

#include <deque>

#include "common/logging.hpp"
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
  return grpc::Status(code, e.message);
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

proto::Event toProto(const Event& e) {
  proto::Event out;
  out.set_id(e.id);
  out.set_time(e.time);
  out.set_kind(e.kind);
  out.set_job_id(e.job_id);
  out.set_node(e.node);
  out.set_user(e.user);
  out.set_old_state(e.old_state);
  out.set_new_state(e.new_state);
  out.set_reason(e.reason);
  out.set_exit_code(e.exit_code);
  out.set_array_job_id(e.array_job_id);
  out.set_array_task_id(e.array_task_id);
  out.set_attempt(e.attempt);
  return out;
}

class ClientService final : public proto::ClientApi::Service {
 public:
  explicit ClientService(Controller& c) : c_(c) {}

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

  grpc::Status SubmitJob(grpc::ServerContext*, const proto::SubmitJobRequest* req,
                         proto::SubmitJobReply* reply) override {
    return timed("SubmitJob", [&] {
      auto r = c_.submit(*req);
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status CreateStep(grpc::ServerContext*, const proto::CreateStepRequest* req,
                          proto::CreateStepReply* reply) override {
    return timed("CreateStep", [&] {
      auto r = c_.createStep(*req);
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status GetJob(grpc::ServerContext*, const proto::GetJobRequest* req,
                      proto::GetJobReply* reply) override {
    return timed("GetJob", [&] {
      auto r = c_.getJob(req->job_id());
      if (!r.ok()) return toGrpc(r.error());
      *reply->mutable_job() = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status ListJobs(grpc::ServerContext*, const proto::ListJobsRequest* req,
                        proto::ListJobsReply* reply) override {
    return timed("ListJobs", [&] {
      *reply = c_.listJobs(*req);
      return grpc::Status::OK;
    });
  }

  grpc::Status CancelJob(grpc::ServerContext*, const proto::CancelJobRequest* req,
                         proto::CancelJobReply* reply) override {
    return timed("CancelJob", [&] {
      *reply = c_.cancel(*req);
      return grpc::Status::OK;
    });
  }

  grpc::Status UpdateJobs(grpc::ServerContext*, const proto::UpdateJobsRequest* req,
                          proto::CancelJobReply* reply) override {
    return timed("UpdateJobs", [&] {
      *reply = c_.update(*req);
      return grpc::Status::OK;
    });
  }

  grpc::Status WaitJob(grpc::ServerContext* ctx, const proto::WaitJobRequest* req,
                       grpc::ServerWriter<proto::WaitJobEvent>* writer) override {
    return guarded("WaitJob", [&] {
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

  grpc::Status GetShares(grpc::ServerContext*, const proto::SharesRequest*,
                         proto::SharesReply* reply) override {
    return timed("GetShares", [&] {
      *reply = c_.shares();
      return grpc::Status::OK;
    });
  }

  grpc::Status ChangeAccount(grpc::ServerContext*, const proto::AccountChangeRequest* req,
                             proto::AccountChangeReply*) override {
    return timed("ChangeAccount", [&] {
      Status s = c_.changeAccount(*req);
      return s.ok() ? grpc::Status::OK : toGrpc(s.error());
    });
  }

  grpc::Status LocateData(grpc::ServerContext*, const proto::LocateDataRequest* req,
                          proto::LocateDataReply* reply) override {
    return timed("LocateData", [&] {
      auto r = c_.locateData(req->uri());
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status GetQuotas(grpc::ServerContext*, const proto::QuotasRequest* req, proto::QuotasReply* reply) override {
    return timed("GetQuotas", [&] {
      auto r = c_.quotas(req->pool());
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status SetQuota(grpc::ServerContext*, const proto::SetQuotaRequest* req, proto::SetQuotaReply*) override {
    return timed("SetQuota", [&] {
      Status s = c_.setQuota(*req);
      return s.ok() ? grpc::Status::OK : toGrpc(s.error());
    });
  }

  grpc::Status ManageService(grpc::ServerContext*, const proto::ServiceRequest* req,
                             proto::ServiceReply* reply) override {
    return timed("ManageService", [&] {
      auto r = c_.manageService(*req);
      if (!r.ok()) return toGrpc(r.error());
      *reply = std::move(*r);
      return grpc::Status::OK;
    });
  }

  grpc::Status GetPriorities(grpc::ServerContext*, const proto::PrioritiesRequest* req,
                             proto::PrioritiesReply* reply) override {
    return timed("GetPriorities", [&] {
      *reply = c_.priorities({req->job_ids().begin(), req->job_ids().end()});
      return grpc::Status::OK;
    });
  }

  grpc::Status ListNodes(grpc::ServerContext*, const proto::ListNodesRequest*,
                         proto::ListNodesReply* reply) override {
    return timed("ListNodes", [&] {
      *reply = c_.listNodes();
      return grpc::Status::OK;
    });
  }

 private:
  Controller& c_;
};

// Commands for one node, queued by the controller and written by the stream's handler thread,
// so a slow node never blocks the controller's lock.
class StreamChannel final : public NodeChannel {
 public:
  void send(const proto::ControllerToNode& msg) override {
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
  // Waits for commands; returns false once closed and drained.
  bool take(std::deque<proto::ControllerToNode>& out) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
    out.swap(queue_);
    return !(closed_ && out.empty());
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<proto::ControllerToNode> queue_;  // guarded by mu_
  bool closed_ = false;                        // guarded by mu_
};

class NodeService final : public proto::NodeApi::Service {
 public:
  explicit NodeService(Controller& c) : c_(c) {}

  grpc::Status Connect(grpc::ServerContext* ctx,
                       grpc::ServerReaderWriter<proto::ControllerToNode, proto::NodeToController>*
                           stream) override {
    return guarded("Connect", [&] {
      proto::NodeToController first;
      if (!stream->Read(&first) || !first.has_register_())
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "first message must be RegisterNode");
      std::string name = first.register_().name();
      auto channel = std::make_shared<StreamChannel>();
      Status s = c_.nodeRegistered(first.register_(), channel);
      if (!s.ok()) return toGrpc(s.error());
      std::thread reader([&, channel] {
        proto::NodeToController msg;
        while (stream->Read(&msg)) c_.nodeMessage(name, msg);
        channel->close();
      });
      std::deque<proto::ControllerToNode> batch;
      bool open = true;
      while (open && channel->take(batch)) {
        for (auto& cmd : batch)
          if (!stream->Write(cmd)) {
            open = false;
            break;
          }
        batch.clear();
      }
      channel->close();
      ctx->TryCancel();  // ends the reader's Read
      reader.join();
      c_.nodeDisconnected(name, channel.get());
      return grpc::Status::OK;
    });
  }

 private:
  Controller& c_;
};

}  // namespace

struct RpcServer::Impl {
  explicit Impl(Controller& c) : client(c), node(c) {}
  ClientService client;
  NodeService node;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

RpcServer::RpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RpcServer::~RpcServer() { shutdown(); }
int RpcServer::port() const { return impl_->port; }

Result<std::unique_ptr<RpcServer>> RpcServer::start(Controller& controller, const std::string& listen) {
  auto impl = std::make_unique<Impl>(controller);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &impl->port);
  builder.RegisterService(&impl->client);
  builder.RegisterService(&impl->node);
  // Many node streams and waiters each hold a thread in the synchronous server.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 4);
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) return unavailable("cannot listen on " + listen);
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
