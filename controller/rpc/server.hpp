#pragma once
// The controller's gRPC endpoint: ClientApi (CLI) and NodeApi (node daemons) on one TCP port.
// gRPC headers stay inside server.cpp.
#include <memory>
#include <string>

#include "common/result.hpp"
#include "controller/controller.hpp"

namespace locus::controller {

class RpcServer {
 public:
  // Binds `listen` ("HOST:PORT"; port 0 picks a free one) and starts serving.
  static Result<std::unique_ptr<RpcServer>> start(Controller& controller, const std::string& listen);
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
