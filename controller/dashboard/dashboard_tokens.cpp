#include "controller/dashboard/dashboard_tokens.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace locus::controller {
namespace {

constexpr size_t kTokenBytes = 32;  // 256 bits

}  // namespace

Result<std::string> DashboardTokens::issue(const std::string& user, uint32_t uid,
                                           std::chrono::seconds ttl, Clock::time_point now) {
  if (ttl < std::chrono::seconds{1} || ttl > kMaxTtl)
    return invalidArgument("token lifetime must be 1 s to " +
                           std::to_string(std::chrono::seconds{kMaxTtl}.count()) + " s");
  unsigned char bytes[kTokenBytes];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return unavailable(std::string("no random bytes for a token: ") + std::strerror(errno));
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 0xf];
  }
  std::lock_guard lock(mu_);
  std::erase_if(tokens_, [&](const auto& entry) { return entry.second.expires <= now; });
  tokens_[token] = Holder{user, uid, now + ttl};
  return token;
}

std::optional<DashboardTokens::Holder> DashboardTokens::check(std::string_view token,
                                                              Clock::time_point now) const {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(token);
  if (it == tokens_.end() || it->second.expires <= now) return std::nullopt;
  return it->second;
}

}  // namespace locus::controller
