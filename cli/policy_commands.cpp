// locus share | priority: what the fair-share and priority policy sees (sshare / sprio).
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "proto/json.hpp"

namespace locus::cli {

int runShare(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  bool json = args.flag("--json");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (!rest.empty()) return fail("unexpected argument '" + rest[0] + "'", 2);
  Client client(g.controller);
  auto reply = client.shares();
  if (!reply.ok()) return fail(reply.error().message);
  if (json) {
    nlohmann::json out = proto::sharesToJson(*reply);
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%-20s %-10s %9s %11s %14s %11s %11s %10s\n", "Account", "User", "RawShares", "NormShares",
              "RawUsage", "NormUsage", "EffectvUsage", "FairShare");
  for (const auto& r : reply->rows()) {
    std::string account = std::string(static_cast<size_t>(r.depth()), ' ') + r.account();
    std::printf("%-20.20s %-10.10s %9u %11.6f %14.0f %11.6f %11.6f %10.6f\n", account.c_str(), r.user().c_str(),
                r.raw_shares(), r.norm_shares(), r.raw_usage(), r.norm_usage(), r.effective_usage(),
                r.fair_share());
  }
  return 0;
}

int runPriority(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  bool json = args.flag("--json");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  std::vector<uint64_t> ids;
  for (const auto& w : rest) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(w.c_str(), &end, 10);
    if (w.empty() || *end != '\0' || v == 0) return fail("invalid job id '" + w + "'", 2);
    ids.push_back(v);
  }
  Client client(g.controller);
  auto reply = client.priorities(ids);
  if (!reply.ok()) return fail(reply.error().message);
  if (json) {
    nlohmann::json out{{"jobs", nlohmann::json::array()}};
    for (const auto& j : reply->jobs())
      out["jobs"].push_back({{"id", j.job_id()}, {"user", j.user()}, {"account", j.account()},
                             {"priority", j.priority()}, {"age", j.age()}, {"fairshare", j.fairshare()},
                             {"job_size", j.job_size()}, {"qos", j.qos()}, {"pool", j.pool()}});
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%12s %-10s %-12s %10s %10s %10s %10s %10s %10s\n", "JOBID", "USER", "ACCOUNT", "PRIORITY",
              "AGE", "FAIRSHARE", "JOBSIZE", "QOS", "POOL");
  for (const auto& j : reply->jobs())
    std::printf("%12lu %-10.10s %-12.12s %10ld %10.0f %10.0f %10.0f %10.0f %10.0f\n",
                static_cast<unsigned long>(j.job_id()), j.user().c_str(), j.account().c_str(),
                static_cast<long>(j.priority()), j.age(), j.fairshare(), j.job_size(), j.qos(), j.pool());
  if (!ids.empty() && reply->jobs_size() == 0) return fail("none of the given jobs is pending");
  return 0;
}

namespace {
std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string one = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!one.empty()) out.push_back(one);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}
}  // namespace

// locus account add NAME [--parent P] [--shares N] [--users a,b]
//              | modify NAME [--parent P] [--shares N] [--add-users a,b] [--remove-users a,b]
//              | remove NAME | list [--json]
int runAccount(const std::vector<std::string>& raw, const Globals& g) {
  if (raw.empty()) return fail("usage: locus account add|modify|remove|list ...", 2);
  std::string op = raw[0];
  Args args(std::vector<std::string>(raw.begin() + 1, raw.end()));
  if (op == "list") {
    bool json = args.flag("--json");
    auto rest = args.positionals();
    if (!args.error().empty()) return fail(args.error(), 2);
    if (!rest.empty()) return fail("unexpected argument '" + rest[0] + "'", 2);
    Client client(g.controller);
    auto reply = client.shares();
    if (!reply.ok()) return fail(reply.error().message);
    nlohmann::json out{{"accounts", nlohmann::json::array()}};
    std::map<std::string, std::vector<std::string>> users;
    for (const auto& r : reply->rows())
      if (!r.user().empty()) users[r.account()].push_back(r.user());
    if (!json) std::printf("%-24s %8s %s\n", "ACCOUNT", "SHARES", "USERS");
    for (const auto& r : reply->rows()) {
      if (!r.user().empty()) continue;
      std::string joined;
      for (const auto& u : users[r.account()]) joined += (joined.empty() ? "" : ",") + u;
      if (json) {
        out["accounts"].push_back({{"name", r.account()}, {"depth", r.depth()}, {"shares", r.raw_shares()},
                                   {"users", users[r.account()]}});
      } else {
        std::string name = std::string(static_cast<size_t>(r.depth()) * 2, ' ') + r.account();
        std::printf("%-24s %8u %s\n", name.c_str(), r.raw_shares(), joined.c_str());
      }
    }
    if (json) std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (op != "add" && op != "modify" && op != "remove")
    return fail("unknown account command '" + op + "' (add, modify, remove, list)", 2);
  proto::AccountChangeRequest req;
  req.set_op(op);
  if (auto parent = args.value("--parent")) req.set_parent(*parent);
  if (auto shares = args.value("--shares")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(shares->c_str(), &end, 10);
    if (shares->empty() || *end != '\0' || v == 0 || v > 1000000)
      return fail("--shares: expected a positive integer, got '" + *shares + "'", 2);
    req.set_shares(static_cast<uint32_t>(v));
  }
  for (const char* flag : {"--users", "--add-users"})
    if (auto list = args.value(flag))
      for (const auto& u : splitList(*list)) req.add_users(u);
  if (auto list = args.value("--remove-users"))
    for (const auto& u : splitList(*list)) req.add_remove_users(u);
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (rest.size() != 1) return fail("usage: locus account " + op + " NAME [options]", 2);
  req.set_name(rest[0]);
  if (struct passwd* pw = getpwuid(getuid())) req.set_user(pw->pw_name);
  req.set_uid(getuid());
  Client client(g.controller);
  Status s = client.changeAccount(req);
  if (!s.ok()) return fail(s.error().message);
  return 0;
}

}  // namespace locus::cli
