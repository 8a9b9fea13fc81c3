#include "common/munge_auth.hpp"

#include <munge.h>
#include <pwd.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <vector>

namespace locus {
namespace {

// A context per call, with the socket set: libmunge contexts are not shared between threads.
struct Context {
  munge_ctx_t ctx = munge_ctx_create();
  ~Context() {
    if (ctx) munge_ctx_destroy(ctx);
  }
};

std::string userName(uint32_t uid) {
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) return found->pw_name;
  return "uid " + std::to_string(uid);
}

Error mungeError(munge_err_t err, const std::string& socket, const char* what) {
  const std::string why = munge_strerror(err);
  switch (err) {
    case EMUNGE_CRED_INVALID:
    case EMUNGE_CRED_EXPIRED:
    case EMUNGE_CRED_REWOUND:
    case EMUNGE_CRED_REPLAYED:
    case EMUNGE_CRED_UNAUTHORIZED:
    case EMUNGE_BAD_CRED:
    case EMUNGE_BAD_VERSION:
    case EMUNGE_BAD_CIPHER:
    case EMUNGE_BAD_MAC:
    case EMUNGE_BAD_ZIP:
    case EMUNGE_BAD_REALM:
      return permissionDenied(std::string("MUNGE credential refused: ") + why);
    default:
      return unavailable(std::string("MUNGE ") + what + " failed at " + socket + ": " + why +
                         " (is munged running? see docs/admin-guide.md, Authentication)");
  }
}

}  // namespace

std::string mungeSocket() {
  const char* env = std::getenv("LOCUS_MUNGE_SOCKET");
  return env && *env ? env : "/run/munge/munge.socket.2";
}

std::string callCredential(std::string* why) {
  if (const char* fixed = std::getenv("LOCUS_MUNGE_CREDENTIAL"); fixed && *fixed) return fixed;
  const std::string socket = mungeSocket();
  // No socket, no munged: libmunge would retry connecting for seconds on every call.
  struct stat st {};
  if (stat(socket.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    if (why) *why = "no munged socket at " + socket + " (set LOCUS_MUNGE_SOCKET, or start munged)";
    return {};
  }
  auto cred = mungeEncode(socket);
  if (!cred.ok()) {
    if (why) *why = cred.error().message;
    return {};
  }
  return std::move(*cred);
}

Result<std::string> mungeEncode(const std::string& socket) {
  Context c;
  if (!c.ctx) return unavailable("MUNGE: out of memory");
  if (munge_err_t e = munge_ctx_set(c.ctx, MUNGE_OPT_SOCKET, socket.c_str()); e != EMUNGE_SUCCESS)
    return mungeError(e, socket, "setup");
  char* cred = nullptr;
  munge_err_t e = munge_encode(&cred, c.ctx, nullptr, 0);
  if (e != EMUNGE_SUCCESS) {
    std::free(cred);
    return mungeError(e, socket, "encode");
  }
  std::string out(cred);
  std::free(cred);
  return out;
}

Result<Identity> mungeDecode(const std::string& socket, const std::string& credential) {
  if (credential.empty()) return permissionDenied("no MUNGE credential");
  Context c;
  if (!c.ctx) return unavailable("MUNGE: out of memory");
  if (munge_err_t e = munge_ctx_set(c.ctx, MUNGE_OPT_SOCKET, socket.c_str()); e != EMUNGE_SUCCESS)
    return mungeError(e, socket, "setup");
  void* payload = nullptr;
  int len = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  munge_err_t e = munge_decode(credential.c_str(), c.ctx, &payload, &len, &uid, &gid);
  std::free(payload);
  if (e != EMUNGE_SUCCESS) return mungeError(e, socket, "decode");
  return Identity{static_cast<uint32_t>(uid), static_cast<uint32_t>(gid), userName(uid)};
}

}  // namespace locus
