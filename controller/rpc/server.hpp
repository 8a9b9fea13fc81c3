#pragma once
// The controller's gRPC endpoint: ClientApi (CLI), NodeApi (node daemons), FrameworkApi and
// ControllerApi on one TCP port. gRPC headers stay inside server.cpp.
#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "controller/controller.hpp"

namespace locus::controller {

// What ControllerApi.Info says about this controller process.
struct ControllerIdentity {
  std::string store = "sqlite";
  int64_t leader_since = 0;  // unix seconds; 0: a standby
  // The leader's address as the store says; unset: this controller's own (it leads).
  std::function<std::string()> leader_address;
};

// A standby controller (store = "etcd", not elected): serves ControllerApi only, so clients
// given several addresses pass it by and `locus controllers` still sees it.
class StandbyServer {
 public:
  static Result<std::unique_ptr<StandbyServer>> start(const std::string& listen, ControllerIdentity identity);
  ~StandbyServer();
  int port() const;
  void shutdown();  // idempotent

  struct Impl;

 private:
  explicit StandbyServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class RpcServer {
 public:
  // Binds `listen` ("HOST:PORT"; port 0 picks a free one) and starts serving.
  static Result<std::unique_ptr<RpcServer>> start(Controller& controller, const std::string& listen,
                                                  ControllerIdentity identity = {});
  ~RpcServer();
  int port() const;
  // Stops accepting calls and ends open streams; returns when handlers have finished.
  void shutdown();

  struct Impl;

 private:
  explicit RpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus::controller
