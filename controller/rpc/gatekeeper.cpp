#include "controller/rpc/gatekeeper.hpp"

#include <unistd.h>

#include <algorithm>

namespace locus::controller {

Gatekeeper::Gatekeeper(const Config& config)
    : munge_(config.auth != "none"),
      socket_(config.munge_socket.empty() ? mungeSocket() : config.munge_socket),
      rate_(config.rpc_rate),
      burst_(std::max<double>(1, config.rpc_burst)) {}

Result<std::optional<Identity>> Gatekeeper::identify(const std::string& credential) const {
  if (!munge_) return std::optional<Identity>{};
  if (credential.empty())
    return permissionDenied("authentication required: the call carried no MUNGE credential");
  auto who = mungeDecode(socket_, credential);
  if (!who.ok()) return who.error();
  return std::optional<Identity>{std::move(*who)};
}

Result<std::optional<Identity>> Gatekeeper::identifyNode(const std::string& credential) const {
  auto who = identify(credential);
  if (!who.ok() || !*who) return who;
  const uint32_t uid = (*who)->uid;
  if (uid != 0 && uid != geteuid())
    return permissionDenied("node daemons run as root (or as the controller's user); this one runs as " +
                            (*who)->user);
  return who;
}

bool Gatekeeper::admit(const std::string& user) {
  if (rate_ <= 0) return true;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(user);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = burst_;
  } else {
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  }
  b.refilled = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

Status Gatekeeper::selfTest() const {
  if (!munge_) return {};
  auto cred = mungeEncode(socket_);
  if (!cred.ok()) return cred.error();
  auto who = mungeDecode(socket_, *cred);
  if (!who.ok()) return who.error();
  return {};
}

}  // namespace locus::controller
