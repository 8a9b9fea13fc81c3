#pragma once
// Who is calling: MUNGE credentials (Debian `munge`, the HPC standard). A client asks its local
// munged for a credential, which carries its uid and gid under the cluster's shared key; the
// controller asks its munged to decode it. A credential decodes once (munged refuses a replay),
// expires after its time-to-live (300 s by default), and one made under another key does not
// decode at all, so the identity is the caller's, whatever the request says.
//
//   auto cred = mungeEncode(mungeSocket());        // client, per call
//   auto who = mungeDecode(mungeSocket(), *cred);  // server: who->uid, who->gid, who->user
//
// libmunge stays inside munge_auth.cpp. Thread-safe: each call uses its own context.
#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace locus {

struct Identity {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;  // from the password database; "uid N" when it has no entry
};

// The munged socket clients and daemons use: $LOCUS_MUNGE_SOCKET (a private munged, as `locus
// up` and the tests start), else munged's default, /run/munge/munge.socket.2.
std::string mungeSocket();

// A fresh credential for this process's uid and gid. Errors: kUnavailable (munged not
// reachable at `socket`, with its message).
Result<std::string> mungeEncode(const std::string& socket);

// The identity a credential carries. Errors: kPermissionDenied (invalid: forged, made under
// another key, expired, replayed; the message says which), kUnavailable (munged unreachable).
Result<Identity> mungeDecode(const std::string& socket, const std::string& credential);

// The credential a client sends with one call: $LOCUS_MUNGE_CREDENTIAL when set (for tests of
// the controller's checks: a forged or replayed credential), else a fresh one from the munged
// at mungeSocket(). Empty when there is no munged to ask (no socket: a controller with auth =
// "none" needs none; one that requires it says so), with the reason in `*why`.
std::string callCredential(std::string* why);

// The metadata key a gRPC call carries its credential under.
inline constexpr const char* kMungeMetadataKey = "x-locus-munge";

}  // namespace locus
