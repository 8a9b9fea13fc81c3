// locus quota show [POOL] [--json] | locus quota set POOL ACCOUNT [--guaranteed R] [--max R] | --remove
// Per-account quotas in pools (controller/pools.hpp): guaranteed (always available to the
// account, reclaimed from borrowers by preemption) and max (how far it may borrow idle capacity).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/submit_request.hpp"
#include "common/slurm_formats.hpp"
#include "proto/json.hpp"

namespace locus::cli {
namespace {

constexpr uint64_t kUnlimited = UINT64_MAX;

constexpr const char* kQuotaUsage = R"(usage: locus quota show [POOL] [--json]
       locus quota set POOL ACCOUNT [--guaranteed RES] [--max RES]
       locus quota set POOL ACCOUNT --remove

RES is a comma-separated list of cores=N, mem=SIZE (512M, 64G), gpus=N; what is not named is 0
for --guaranteed and unlimited for --max. Changing quotas is for admins.
)";

// "cores=16,mem=64G,gpus=2"; missing keys get `missing`.
Result<proto::QuotaAmount> parseAmount(const std::string& text, uint64_t missing, const std::string& flag) {
  proto::QuotaAmount a;
  a.set_cores(missing);
  a.set_mem_mb(missing);
  a.set_gpus(missing);
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos) return invalidArgument(flag + ": '" + item + "' is not KEY=VALUE (cores, mem, gpus)");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "mem") {
      auto mb = parseMemoryMb(value);
      if (!mb.ok()) return invalidArgument(flag + ": mem: " + mb.error().message);
      a.set_mem_mb(*mb);
      continue;
    }
    char* end = nullptr;
    unsigned long long v = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || value[0] == '-')
      return invalidArgument(flag + ": " + key + ": '" + value + "' is not a whole number");
    if (key == "cores") a.set_cores(v);
    else if (key == "gpus") a.set_gpus(v);
    else return invalidArgument(flag + ": unknown resource '" + key + "' (cores, mem, gpus)");
  }
  return a;
}

std::string shown(uint64_t v, bool mem) {
  if (v == kUnlimited) return "-";
  if (!mem) return std::to_string(v);
  if (v >= 1024 && v % 1024 == 0) return std::to_string(v / 1024) + "G";
  return std::to_string(v) + "M";
}

// "16/64G/2": cores/memory/GPUs.
std::string triple(const proto::QuotaAmount& a) {
  return shown(a.cores(), false) + "/" + shown(a.mem_mb(), true) + "/" + shown(a.gpus(), false);
}

int show(Args& args, const Globals& g) {
  const bool json = args.flag("--json");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (rest.size() > 1) return fail("usage: locus quota show [POOL] [--json]", 2);
  Client client(g.controller);
  auto reply = client.quotas(rest.empty() ? "" : rest[0]);
  if (!reply.ok()) return fail(reply.error().message);
  if (json) {
    nlohmann::json out = proto::quotasToJson(*reply);
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  // Each column is cores/memory/GPUs; "-" is unlimited.
  std::printf("%-12s %-16s %-16s %-16s %-16s %-16s %-16s\n", "POOL", "ACCOUNT", "GUARANTEED", "MAX", "IN_USE",
              "BORROWED", "LENT");
  for (const auto& r : reply->rows())
    std::printf("%-12s %-16s %-16s %-16s %-16s %-16s %-16s\n", r.pool().c_str(),
                (r.account() + (r.configured() ? "" : "*")).c_str(), triple(r.guaranteed()).c_str(),
                triple(r.max()).c_str(), triple(r.in_use()).c_str(), triple(r.borrowed()).c_str(),
                triple(r.lent()).c_str());
  if (reply->rows_size() == 0) std::printf("(no quotas in %s)\n", reply->pools_size() == 1 ? reply->pools(0).c_str() : "any pool");
  return 0;
}

int set(Args& args, const Globals& g) {
  auto guaranteed = args.value("--guaranteed");
  auto max = args.value("--max");
  const bool remove = args.flag("--remove");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (rest.size() != 2) return fail("usage: locus quota set POOL ACCOUNT [--guaranteed RES] [--max RES] | --remove", 2);
  if (remove && (guaranteed || max)) return fail("--remove takes no --guaranteed or --max", 2);
  if (!remove && !guaranteed && !max) return fail("say --guaranteed, --max or --remove", 2);
  proto::SetQuotaRequest req;
  req.set_pool(rest[0]);
  req.set_account(rest[1]);
  req.set_remove(remove);
  if (!remove) {
    auto gr = parseAmount(guaranteed.value_or(""), 0, "--guaranteed");
    if (!gr.ok()) return fail(gr.error().message, 2);
    auto mx = parseAmount(max.value_or(""), kUnlimited, "--max");
    if (!mx.ok()) return fail(mx.error().message, 2);
    *req.mutable_guaranteed() = *gr;
    *req.mutable_max() = *mx;
  }
  req.set_user(currentUserName());
  req.set_uid(getuid());
  Client client(g.controller);
  if (Status s = client.setQuota(req); !s.ok()) return fail(s.error().message);
  return 0;
}

}  // namespace

int runQuota(const std::vector<std::string>& raw, const Globals& g) {
  if (raw.empty() || raw[0] == "--help" || raw[0] == "-h") {
    std::fputs(kQuotaUsage, raw.empty() ? stderr : stdout);
    return raw.empty() ? 2 : 0;
  }
  Args args(std::vector<std::string>(raw.begin() + 1, raw.end()));
  if (raw[0] == "show") return show(args, g);
  if (raw[0] == "set") return set(args, g);
  return fail("unknown quota command '" + raw[0] + "' (show, set)", 2);
}

}  // namespace locus::cli
