// locus token [--ttl SECONDS] [--json]: a bearer token for the dashboard's admin actions. The
// controller checks that the caller (the MUNGE credential's user) is an admin and keeps the
// token in memory until it expires; the page sends it as "Authorization: Bearer TOKEN".
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/submit_request.hpp"
#include "common/time_util.hpp"
#include "proto/locus.pb.h"

namespace locus::cli {
namespace {

constexpr const char* kTokenUsage = R"(usage: locus token [--ttl SECONDS] [--json]

A token for the web dashboard (paste it into the page's "token" field): with it the page may
cancel jobs, as you. Admins only. It lasts --ttl seconds (default 28800, 8 hours; at most 7
days) or until the controller restarts. Treat it like a password.
)";

}  // namespace

int runToken(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  if (args.flag("--help") || args.flag("-h")) {
    std::fputs(kTokenUsage, stdout);
    return 0;
  }
  const bool json = args.flag("--json");
  auto ttl = args.value("--ttl");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (!rest.empty()) return fail("unexpected argument '" + rest.front() + "'\n" + kTokenUsage, 2);
  proto::DashboardTokenRequest req;
  if (ttl) {
    char* end = nullptr;
    errno = 0;
    unsigned long long s = std::strtoull(ttl->c_str(), &end, 10);
    if (ttl->empty() || (*ttl)[0] == '-' || *end != '\0' || errno != 0 || s == 0 || s > UINT32_MAX)
      return fail("--ttl: '" + *ttl + "' is not a number of seconds", 2);
    req.set_ttl_s(static_cast<uint32_t>(s));
  }
  req.set_user(currentUserName());
  req.set_uid(getuid());
  Client client(g.controller);
  auto reply = client.dashboardToken(req);
  if (!reply.ok()) return fail(reply.error().message);
  if (json) {
    nlohmann::json out{{"token", reply->token()},
                       {"user", reply->user()},
                       {"expires", formatRfc3339(reply->expires())}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%s\n", reply->token().c_str());
    std::fprintf(stderr, "locus: dashboard token for %s, valid until %s\n", reply->user().c_str(),
                 formatRfc3339(reply->expires()).c_str());
  }
  return 0;
}

}  // namespace locus::cli
