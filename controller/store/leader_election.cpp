#include "controller/store/leader_election.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/logging.hpp"

namespace locus::controller {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

auto log() {
  static auto l = logger("controller.election");
  return l;
}

}  // namespace

Result<std::optional<LeaderInfo>> currentLeader(EtcdClient& client, const std::string& key) {
  auto kv = client.get(key);
  if (!kv.ok()) return kv.error();
  if (!kv->has_value()) return std::optional<LeaderInfo>();
  json j = json::parse((*kv)->value, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_string())
    return internalError("leader key " + key + " holds no leader record: " + (*kv)->value);
  LeaderInfo info;
  info.id = j["id"].get<std::string>();
  info.address = j.value("address", "");
  info.create_revision = (*kv)->create_revision;
  return std::optional<LeaderInfo>(std::move(info));
}

Result<std::unique_ptr<LeaderElection>> LeaderElection::create(LeaderElectionOptions options) {
  if (options.key.empty()) return invalidArgument("leader election: no leader key");
  if (options.id.empty()) return invalidArgument("leader election: no candidate id");
  if (options.ttl < std::chrono::seconds{1})
    return invalidArgument("leader election: the lease TTL must be at least 1 s");
  std::unique_ptr<LeaderElection> e(new LeaderElection(std::move(options)));
  auto client = EtcdClient::create(e->options_.etcd);
  if (!client.ok()) return client.error();
  e->client_ = std::move(*client);
  // The keepalive must answer well within a third of the TTL, or it is late anyway.
  EtcdOptions ka = e->options_.etcd;
  const auto third = std::chrono::duration_cast<std::chrono::milliseconds>(e->options_.ttl) / 3;
  ka.request_timeout = std::min(ka.request_timeout, third);
  ka.connect_timeout = std::min(ka.connect_timeout, third);
  auto keepalive_client = EtcdClient::create(std::move(ka));
  if (!keepalive_client.ok()) return keepalive_client.error();
  e->keepalive_client_ = std::move(*keepalive_client);
  return e;
}

LeaderElection::LeaderElection(LeaderElectionOptions options)
    : options_(std::move(options)),
      value_(json{{"id", options_.id}, {"address", options_.address}}.dump()),
      granted_ttl_(options_.ttl) {}

LeaderElection::~LeaderElection() {
  stop();
  if (Status s = resign(); !s.ok())
    log()->warn("leader={} did not resign cleanly (its lease expires by itself): {}", options_.id,
                s.error().message);
  std::unique_lock lock(mu_);
  stopKeepAlive(lock);
}

void LeaderElection::stopKeepAlive(std::unique_lock<std::mutex>& lock) {
  stop_keepalive_ = true;
  cv_.notify_all();
  std::thread t = std::move(keepalive_);
  lock.unlock();
  if (t.joinable()) t.join();
  lock.lock();
  stop_keepalive_ = false;
}

Result<bool> LeaderElection::tryAcquire() {
  {
    std::unique_lock lock(mu_);
    if (leader_ && Clock::now() < valid_until_) return true;
  }
  auto holder = client_->get(options_.key);
  if (!holder.ok()) return holder.error();
  if (holder->has_value()) return false;

  const auto asked = Clock::now();
  auto lease = client_->leaseGrant(options_.ttl);
  if (!lease.ok()) return lease.error();
  auto r =
      client_->txn({EtcdCompare::absent(options_.key)},
                   {EtcdOp::put(options_.key, value_, lease->id)}, {EtcdOp::get(options_.key)});
  if (!r.ok() || !r->succeeded) {
    (void)client_->leaseRevoke(lease->id);  // unused; it would expire by itself anyway
    if (!r.ok()) return r.error();
    return false;  // another candidate was quicker
  }

  std::unique_lock lock(mu_);
  stopKeepAlive(lock);  // the thread of an earlier term, ended already
  leader_ = true;
  ++term_;
  lease_ = lease->id;
  create_revision_ = r->revision;  // the put's revision: the key's create_revision
  granted_ttl_ = lease->ttl;
  valid_until_ = asked + granted_ttl_ - options_.safety_margin;
  log()->info("leader={} elected address={} lease={} ttl={}s revision={}", options_.id,
              options_.address, lease_, granted_ttl_.count(), create_revision_);
  keepalive_ = std::thread([this, term = term_] { keepAliveLoop(term); });
  return true;
}

Status LeaderElection::campaign(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string last_error;
  for (;;) {
    auto won = tryAcquire();
    if (won.ok() && *won) return {};
    if (!won.ok() && won.error().message != last_error) {
      last_error = won.error().message;
      log()->warn("candidate={} cannot campaign now: {}", options_.id, last_error);
    }
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, std::min(deadline, Clock::now() + options_.poll_interval),
                   [&] { return stop_; });
    if (stop_) return failedPrecondition("leader election: campaign stopped");
    if (Clock::now() >= deadline)
      return unavailable("leader election: not elected within " + std::to_string(timeout.count()) +
                         " ms" + (last_error.empty() ? "" : " (last error: " + last_error + ")"));
  }
}

void LeaderElection::stop() {
  std::lock_guard lock(mu_);
  stop_ = true;
  cv_.notify_all();
}

bool LeaderElection::isLeader() const {
  std::lock_guard lock(mu_);
  return leader_ && Clock::now() < valid_until_;
}

std::optional<EtcdFence> LeaderElection::fence() const {
  std::lock_guard lock(mu_);
  if (!leader_) return std::nullopt;
  return EtcdFence{options_.key, value_, create_revision_};
}

std::chrono::seconds LeaderElection::ttl() const {
  std::lock_guard lock(mu_);
  return granted_ttl_;
}

Status LeaderElection::resign() {
  std::unique_lock lock(mu_);
  if (!leader_) return {};
  leader_ = false;
  ++term_;
  const int64_t lease = lease_;
  lease_ = 0;
  stopKeepAlive(lock);
  lock.unlock();
  log()->info("leader={} resigns", options_.id);
  // Revoking deletes the key with the lease, so a standby need not wait for the TTL.
  Status s = client_->leaseRevoke(lease);
  if (!s.ok() && s.error().code == ErrorCode::kNotFound) return {};  // expired already
  return s;
}

Result<std::optional<LeaderInfo>> LeaderElection::currentLeader() {
  return ::locus::controller::currentLeader(*client_, options_.key);
}

void LeaderElection::freezeForTesting(bool frozen) {
  std::lock_guard lock(mu_);
  frozen_ = frozen;
  cv_.notify_all();
}

// Called by the keepalive thread with `lock` (on mu_) held; returns with it released.
void LeaderElection::lose(std::unique_lock<std::mutex>& lock, uint64_t term,
                          const std::string& why) {
  if (term_ != term) {
    lock.unlock();
    return;
  }
  leader_ = false;
  ++term_;
  const int64_t lease = lease_;
  lease_ = 0;
  lock.unlock();
  log()->error("leader={} lost leadership: {}", options_.id, why);
  // Best effort: if the lease is still alive, ending it lets a standby take over now.
  (void)keepalive_client_->leaseRevoke(lease);
  if (options_.on_lost) options_.on_lost(why);
}

void LeaderElection::keepAliveLoop(uint64_t term) {
  std::unique_lock lock(mu_);
  const auto interval = std::chrono::duration_cast<Clock::duration>(granted_ttl_) / 3;
  auto next = Clock::now() + interval;
  for (;;) {
    // Wake at the next keepalive, or at the deadline if that comes first.
    cv_.wait_until(lock, frozen_ ? next : std::min(next, valid_until_),
                   [&] { return stop_keepalive_ || term_ != term; });
    if (stop_keepalive_ || term_ != term) return;
    if (frozen_) {
      next = Clock::now() + interval;
      continue;
    }
    const auto now = Clock::now();
    if (now >= valid_until_) {
      lose(lock, term, "the lease was not renewed within its TTL");
      return;
    }
    if (now < next) continue;
    next = now + interval;
    const int64_t lease = lease_;
    const int64_t revision = create_revision_;
    lock.unlock();
    const auto sent = Clock::now();
    auto renewed = keepalive_client_->leaseKeepAlive(lease);
    Result<std::optional<KeyValue>> holder = std::optional<KeyValue>();
    if (renewed.ok()) holder = keepalive_client_->get(options_.key);
    lock.lock();
    if (stop_keepalive_ || term_ != term) return;
    if (!renewed.ok()) {
      if (renewed.error().code == ErrorCode::kNotFound) {
        lose(lock, term, "the lease expired");
        return;
      }
      log()->warn("leader={} lease keepalive failed: {}", options_.id, renewed.error().message);
      continue;
    }
    if (holder.ok() && (!holder->has_value() || (*holder)->create_revision != revision)) {
      lose(lock, term,
           holder->has_value() ? "the leader key was taken over" : "the leader key was deleted");
      return;
    }
    valid_until_ = std::max(valid_until_, sent + *renewed - options_.safety_margin);
  }
}

}  // namespace locus::controller
