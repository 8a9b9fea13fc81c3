#pragma once
// Leader election among the controllers of one cluster, on an etcd lease.
//
// The leader holds one key (e.g. "/locus/CLUSTER/leader") attached to its lease, with the value
// {"id": ID, "address": HOST:PORT}: CLIs and node daemons read it to find the leader. A candidate
// creates the key only if it is absent (txn: create_revision == 0), so at most one holds it. The
// leader renews its lease every TTL/3 on its own connection; when the leader dies (or stops, or
// is cut off) the lease expires after TTL and etcd deletes the key; standbys poll the key every
// `poll_interval` and the first to create it wins. Takeover: TTL + up to etcd's lease check
// (500 ms) + poll_interval — about 3.5-4 s with the defaults.
//
// Losing leadership: the leader counts its lease as gone at (send time of the last keepalive
// etcd acknowledged) + TTL - `safety_margin`, i.e. before etcd can expire it; then, or when a
// keepalive finds the lease expired or the key gone or someone else's, it calls `on_lost` once
// (from its keepalive thread) and is a follower again. A leader that was stopped (SIGSTOP) and
// resumes notices at its next tick without asking etcd. Its store writes are fenced anyway
// (etcd_store.hpp, with fence()), so a deposed leader that has not noticed yet cannot write.
//
// Thread-safety: every method may be called from any thread. on_lost runs on the election's
// own thread and must not call tryAcquire(), campaign(), resign() or the destructor (they join
// that thread): it should hand the news to the controller's own thread.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "controller/store/etcd_client.hpp"
#include "controller/store/etcd_store.hpp"

namespace locus::controller {

struct LeaderElectionOptions {
  EtcdOptions etcd;
  std::string key;      // the leader key, e.g. "/locus/CLUSTER/leader"
  std::string id;       // this candidate, unique in the cluster (e.g. "HOST:PID")
  std::string address;  // where its clients reach it (HOST:PORT)
  // The lease: how long a dead leader keeps the key. etcd raises TTLs below its minimum (2 s with
  // the default election timeout); what etcd granted is used.
  std::chrono::seconds ttl{3};
  // How often a standby looks at the key; a takeover waits up to this long after the key goes.
  std::chrono::milliseconds poll_interval{250};
  // How much earlier than etcd the leader gives its leadership up (clocks run at slightly
  // different rates; the lost-notice must come before a standby can win).
  std::chrono::milliseconds safety_margin{500};
  std::function<void(const std::string& why)> on_lost;
};

struct LeaderInfo {
  std::string id;
  std::string address;
  int64_t create_revision = 0;  // unique per leadership term; grows with each new leader
};

// Who holds `key` now; nullopt when nobody does. For CLIs and node daemons.
Result<std::optional<LeaderInfo>> currentLeader(EtcdClient& client, const std::string& key);

class LeaderElection {
 public:
  // Errors: kInvalidArgument (no key or id, bad endpoints, ttl < 1 s).
  static Result<std::unique_ptr<LeaderElection>> create(LeaderElectionOptions options);
  // Resigns if leader and joins the keepalive thread.
  ~LeaderElection();

  // One attempt: true when this candidate is the leader now (already was, or just created the
  // key), false when someone else holds it. kUnavailable when etcd cannot be reached.
  Result<bool> tryAcquire();
  // Tries until this candidate leads or `timeout` passes (kUnavailable "not elected within"),
  // or stop() (kFailedPrecondition). etcd being unreachable meanwhile is retried, not returned.
  Status campaign(std::chrono::milliseconds timeout);
  // Ends a campaign() waiting in another thread.
  void stop();

  bool isLeader() const;
  // The fence for EtcdStore while leader (the leader key, our value, its create_revision).
  std::optional<EtcdFence> fence() const;
  // Gives leadership up now: revokes the lease (etcd deletes the key; a standby takes over
  // within poll_interval). on_lost is not called. A no-op when not the leader.
  Status resign();
  // Who holds the key now (possibly this candidate).
  Result<std::optional<LeaderInfo>> currentLeader();
  // The TTL etcd granted to the last lease (the requested one before any).
  std::chrono::seconds ttl() const;

  // Tests: stops (or resumes) everything the keepalive thread does, as SIGSTOP would.
  void freezeForTesting(bool frozen);

 private:
  explicit LeaderElection(LeaderElectionOptions options);
  void keepAliveLoop(uint64_t term);
  void lose(std::unique_lock<std::mutex>& lock, uint64_t term, const std::string& why);
  void stopKeepAlive(std::unique_lock<std::mutex>& lock);

  const LeaderElectionOptions options_;
  const std::string value_;                       // the key's value: {"id", "address"}
  std::unique_ptr<EtcdClient> client_;            // campaign, resign, reads
  std::unique_ptr<EtcdClient> keepalive_client_;  // the keepalive thread's own connection

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool leader_ = false;               // guarded by mu_
  uint64_t term_ = 0;                 // guarded by mu_: +1 per leadership won, and per loss
  int64_t lease_ = 0;                 // guarded by mu_
  int64_t create_revision_ = 0;       // guarded by mu_
  std::chrono::seconds granted_ttl_;  // guarded by mu_
  std::chrono::steady_clock::time_point valid_until_;  // guarded by mu_
  bool stop_ = false;                                  // guarded by mu_: ends campaign()
  bool stop_keepalive_ = false;                        // guarded by mu_
  bool frozen_ = false;                                // guarded by mu_
  std::thread keepalive_;
};

}  // namespace locus::controller
