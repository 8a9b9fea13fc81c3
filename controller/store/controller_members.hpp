#pragma once
// The controllers of one etcd-backed cluster, for the jobs: each controller registers the address
// its clients reach it at under PREFIX/controllers/ when it starts (standby or not) and removes
// it when it stops cleanly; the leader gives jobs the whole list (itself first) as
// LOCUS_CONTROLLER, so that a `locus run` or `srun` inside a job finds the next leader after a
// failover, as the CLI and node daemons outside do.
//
// The keys have no lease: a controller killed outright stays listed until it is started again
// (same address) or removed by hand (`etcdctl del PREFIX/controllers/ADDRESS`). A stale address
// costs a client one refused connection while it looks for the leader.
//
// Thread-safety: every method may be called from any thread (EtcdClient is thread-safe).
#include <memory>
#include <string>

#include "common/result.hpp"

namespace locus::controller {

class EtcdClient;

class ControllerMembers {
 public:
  ControllerMembers(std::shared_ptr<EtcdClient> client, std::string prefix, std::string self);

  Status join();  // PREFIX/controllers/SELF, value SELF
  void leave();   // best effort

  // SELF, then every other registered controller, comma-separated, in key order.
  Result<std::string> addressList();

 private:
  std::shared_ptr<EtcdClient> client_;
  std::string dir_;   // PREFIX + "controllers/"
  std::string self_;
};

}  // namespace locus::controller
