#pragma once
// Who may call the controller, and how often (docs/admin-guide.md, "Authentication").
//   - auth = "munge": every call carries a MUNGE credential (common/munge_auth.hpp); the caller
//     is the uid and gid it encodes, and the request's own user fields are overwritten with
//     them. A call without one, or with one that is forged, made under another key, expired or
//     replayed, is refused and changes nothing.
//   - auth = "none": nobody is authenticated; requests' user fields are trusted (development).
// A node daemon's stream must come from root or from the controller's own user.
// Each user's client calls go through a token bucket (rpc_burst calls, refilled at rpc_rate per
// second): a runaway script is told to slow down (RESOURCE_EXHAUSTED) instead of starving the
// controller for everyone.
//
// Thread-safety: every method may be called from any thread.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/config.hpp"
#include "common/munge_auth.hpp"
#include "common/result.hpp"

namespace locus::controller {

class Gatekeeper {
 public:
  explicit Gatekeeper(const Config& config);

  bool authenticates() const { return munge_; }
  const std::string& socket() const { return socket_; }

  // The caller of a client call, from `credential` (the call's metadata; empty when none).
  // nullopt with auth = "none". Errors: kPermissionDenied, kUnavailable (munged down).
  Result<std::optional<Identity>> identify(const std::string& credential) const;
  // The caller of a node daemon's stream: must be root or this process's user.
  Result<std::optional<Identity>> identifyNode(const std::string& credential) const;

  // Takes one call from `user`'s bucket. False when it is empty (the call must be refused).
  bool admit(const std::string& user);

  // Encodes and decodes one credential: the controller refuses to start when this fails
  // (auth = "munge" without a working munged). OK with auth = "none".
  Status selfTest() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled;
  };
  const bool munge_;
  const std::string socket_;
  const double rate_;   // tokens per second; 0: no limit
  const double burst_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace locus::controller
