#pragma once
// The controller's handle on one node daemon's command stream.
namespace locus::proto {
class ControllerToNode;
}

namespace locus::controller {

class NodeChannel {
 public:
  virtual ~NodeChannel() = default;
  // Queues a command for the node. Never blocks; commands are delivered in order.
  virtual void send(const proto::ControllerToNode& msg) = 0;
  // Ends the stream (the node will reconnect). Idempotent.
  virtual void close() = 0;
};

}  // namespace locus::controller
