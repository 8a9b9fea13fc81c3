#pragma once
// A framework's connection to the controller (FrameworkApi.Subscribe; docs/frameworks.md): the
// C++ library frameworks build on (examples/mapreduce, the tests). One stream; calls are sent
// as they are made, events are read one at a time by the framework's own loop.
//
//   FrameworkSession fw(controller);
//   proto::FrameworkRegister reg; reg.set_name("wordcount");
//   if (auto r = fw.open(reg); !r.ok()) ...          // waits for FrameworkRegistered
//   proto::LeaseRequest req; ...; fw.request(req);
//   while (auto e = fw.next(deadline)) { ... e->has_lease() ... fw.launch(...) ... }
//
// Thread-safety: calls may be made from any thread; next() from one thread at a time.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::cli {

class FrameworkSession {
 public:
  explicit FrameworkSession(const std::string& controller);
  ~FrameworkSession();  // close()

  // Opens the stream (with this process's MUNGE credential) and registers; returns the
  // controller's FrameworkRegistered. Errors: the controller's refusal (kInvalidArgument,
  // kUnsatisfiable for a name connected already, kPermissionDenied), kUnavailable.
  Result<proto::FrameworkRegistered> open(const proto::FrameworkRegister& reg,
                                          std::chrono::milliseconds timeout = std::chrono::seconds{30});

  // Calls; false once the stream is gone.
  bool send(const proto::FrameworkCall& call);
  bool request(const proto::LeaseRequest& req);
  bool launch(const proto::FrameworkLaunch& launch);
  bool release(uint64_t lease_id);
  bool kill(uint64_t lease_id, const std::string& task_id);
  bool accept(const proto::AcceptOffer& accept);
  bool decline(const std::string& offer_id, double filter_s);

  // The next event, waiting until `deadline`; nullopt at the deadline or once the stream ended
  // (ended() then says so, and why()).
  std::optional<proto::FrameworkEvent> next(std::chrono::steady_clock::time_point deadline);
  bool ended() const;
  std::string why() const;

  // Ends the stream: the controller starts the failover timeout. Idempotent.
  void close();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// `locus frameworks` reads this (FrameworkApi.ListFrameworks).
Result<proto::ListFrameworksReply> listFrameworks(const std::string& controller);

}  // namespace locus::cli
