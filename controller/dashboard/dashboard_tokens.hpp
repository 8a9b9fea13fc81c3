#pragma once
// Bearer tokens for the dashboard's admin actions (`locus token`, then cancel from the page).
// A token is 256 random bits in hex, kept in the controller's memory only (a restart or a new
// leader forgets every token) with the admin it acts as and when it expires.
//
// Thread-safety: every method may be called from any thread; one internal mutex.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace locus::controller {

class DashboardTokens {
 public:
  using Clock = std::chrono::system_clock;
  // What `locus token` gives without --ttl: a working day.
  static constexpr auto kDefaultTtl = std::chrono::hours{8};
  // The longest a token may live: a leaked one must run out on its own.
  static constexpr auto kMaxTtl = std::chrono::hours{7 * 24};

  struct Holder {
    std::string user;
    uint32_t uid = 0;
    Clock::time_point expires;
  };

  // A new token acting as `user` (uid `uid`) until now + ttl; forgets expired ones. The caller
  // has checked that `user` is an admin. Errors: kInvalidArgument (ttl not in 1 s .. kMaxTtl),
  // kUnavailable (the kernel's random source failed).
  Result<std::string> issue(const std::string& user, uint32_t uid, std::chrono::seconds ttl,
                            Clock::time_point now);
  // Who `token` acts as, if it was issued and has not expired at `now`.
  std::optional<Holder> check(std::string_view token, Clock::time_point now) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Holder, std::less<>> tokens_;  // guarded by mu_
};

}  // namespace locus::controller
