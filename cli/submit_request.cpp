#include "cli/submit_request.hpp"

#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "common/job_options.hpp"
#include "proto/convert.hpp"

extern char** environ;

namespace locus::cli {

std::string currentUserName() {
  if (struct passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return std::to_string(getuid());
}

Result<BuiltSubmit> buildSubmitRequest(const std::vector<std::string>& args) {
  SubmitContext ctx;
  std::error_code ec;
  ctx.cwd = std::filesystem::current_path(ec).string();
  if (ec) return unavailable("cannot determine the current directory: " + ec.message());
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) ctx.environment[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto parsed = parseSubmitArgs(args, ctx);
  if (!parsed.ok()) return invalidArgument(parsed.error().message);
  if (!parsed->spec.dependency.empty())
    parsed->spec.warnings.push_back("--dependency=" + parsed->spec.dependency +
                                    " is stored but not enforced yet: the job may start at once");
  BuiltSubmit out;
  out.parsable = parsed->parsable;
  out.warnings = parsed->spec.warnings;
  proto::toProto(parsed->spec, *out.request.mutable_spec());
  out.request.set_user(currentUserName());
  out.request.set_uid(getuid());
  out.request.set_gid(getgid());
  out.request.set_submit_token(newSubmitToken());
  return out;
}

std::string newSubmitToken() {
  // std::random_device reads the kernel's entropy (getrandom): tokens from two clients started
  // in the same microsecond still differ.
  std::random_device entropy;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 4; ++i) {
    uint32_t word = entropy();
    for (int nibble = 0; nibble < 8; ++nibble, word >>= 4) token += kHex[word & 0xf];
  }
  return token;  // 128 bits, 32 hex digits
}

}  // namespace locus::cli
