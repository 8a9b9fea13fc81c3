// locus service create|list|show|delete|scale|update|rollback|endpoints: long-running services
// on the cluster (controller/services.hpp).
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/submit_request.hpp"
#include "common/slurm_formats.hpp"
#include "proto/json.hpp"

extern char** environ;

namespace locus::cli {
namespace {

constexpr const char* kServiceUsage = R"(usage: locus service COMMAND ...

  create NAME --replicas R --cpus C --mem M [--gpus G] [--pool P] [--port auto] [-A ACCOUNT]
         [--health-cmd CMD | --health-http PATH] [--health-interval S] [--health-grace S]
         [--health-max-failures K] [--min-healthy F] [--max-surge F] [--env K=V]...
         [--container BUNDLE] -- COMMAND...
  list [--json]                     every service: replicas wanted, running, healthy
  show NAME [--json]                its settings, revisions and replicas
  endpoints NAME [--json]           host:port of its healthy replicas, one per line
  scale NAME R                      keep R replicas
  update NAME [--env K=V]... [--cpus C] [--mem M] [--min-healthy F] [--max-surge F] [-- COMMAND...]
                                    a new revision, rolled out replica by replica
  rollback NAME [--to REV]          back to an earlier revision (default: the one before)
  delete NAME                       stop its replicas and forget it

COMMAND runs under /bin/sh -c (its words joined by spaces), so $LOCUS_PORT expands. Health
checks: --health-http PATH probes http://NODE:LOCUS_PORT/PATH (200-399 healthy, needs --port
auto); --health-cmd CMD runs on the replica's node (exit 0 healthy). Defaults: interval 10 s,
grace 10 s, 3 failures in a row; --min-healthy 0.75, --max-surge 0.25. --container BUNDLE: every
replica runs in this OCI bundle or image layout (docs/containers.md); checks still run on the node.
)";

// Everything after "--", joined by spaces (Marathon's cmd).
std::string commandAfterDashes(std::vector<std::string>& args, bool& found) {
  found = false;
  std::string command;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--") continue;
    found = true;
    for (size_t k = i + 1; k < args.size(); ++k) command += (command.empty() ? "" : " ") + args[k];
    args.resize(i);
    break;
  }
  return command;
}

Result<uint32_t> wholeNumber(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  unsigned long v = std::strtoul(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || text[0] == '-' || v > 1000000)
    return invalidArgument(flag + ": '" + text + "' is not a whole number");
  return static_cast<uint32_t>(v);
}

Result<double> fraction(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= 0.0 && v <= 1.0))
    return invalidArgument(flag + ": '" + text + "' is not a fraction between 0.0 and 1.0");
  return v;
}

// Seconds: "30", or Slurm's time format ("1:00").
Result<uint32_t> seconds(const std::string& flag, const std::string& text) {
  if (auto n = wholeNumber(flag, text); n.ok()) return *n;
  auto t = parseTimeLimit(text);
  if (!t.ok()) return invalidArgument(flag + ": '" + text + "' is not a number of seconds");
  return static_cast<uint32_t>(*t);
}

std::vector<std::string> envPairs(Args& args) { return args.values("--env"); }

Client& client(const Globals& g) {
  static Client c(g.controller);
  return c;
}

proto::ServiceRequest request(const std::string& op, const std::string& name) {
  proto::ServiceRequest req;
  req.set_op(op);
  req.set_name(name);
  req.set_user(currentUserName());
  req.set_uid(getuid());
  req.set_gid(getgid());
  return req;
}

int create(Args& args, const Globals& g) {
  bool dashes = false;
  std::vector<std::string> rest_words = args.remaining();
  std::string command = commandAfterDashes(rest_words, dashes);
  Args opts(rest_words);
  auto replicas = opts.value("--replicas");
  auto cpus = opts.value("--cpus", "-c");
  auto mem = opts.value("--mem");
  auto gpus = opts.value("--gpus", "-G");
  auto pool = opts.value("--pool", "-p");
  auto port = opts.value("--port");
  auto account = opts.value("--account", "-A");
  auto health_cmd = opts.value("--health-cmd");
  auto health_http = opts.value("--health-http");
  auto interval = opts.value("--health-interval");
  auto grace = opts.value("--health-grace");
  auto max_failures = opts.value("--health-max-failures");
  auto min_healthy = opts.value("--min-healthy");
  auto max_surge = opts.value("--max-surge");
  auto container = opts.value("--container");
  auto env = envPairs(opts);
  auto names = opts.positionals();
  if (!opts.error().empty()) return fail(opts.error(), 2);
  if (names.size() != 1) return fail("usage: locus service create NAME --replicas R ... -- COMMAND...", 2);
  if (!dashes || command.empty()) return fail("locus service create: the command goes after --", 2);
  if (!replicas) return fail("locus service create: --replicas is required", 2);
  proto::ServiceRequest req = request("create", names[0]);
  auto* spec = req.mutable_spec();
  spec->set_name(names[0]);
  spec->set_command(command);
  auto r = wholeNumber("--replicas", *replicas);
  if (!r.ok()) return fail(r.error().message, 2);
  spec->set_replicas(*r);
  if (cpus) {
    auto c = wholeNumber("--cpus", *cpus);
    if (!c.ok() || *c == 0) return fail("--cpus: '" + *cpus + "' is not a positive whole number", 2);
    spec->set_cpus(*c);
  } else {
    spec->set_cpus(1);
  }
  if (mem) {
    auto m = parseMemoryMb(*mem);
    if (!m.ok()) return fail("--mem: " + m.error().message, 2);
    spec->set_mem_mb(*m);
  }
  if (gpus) {
    auto n = wholeNumber("--gpus", *gpus);
    if (!n.ok()) return fail(n.error().message, 2);
    spec->set_gpus(*n);
  }
  if (pool) spec->set_pool(*pool);
  if (account) spec->set_account(*account);
  if (port) {
    if (*port != "auto") return fail("--port: only 'auto' is supported (each replica gets a free LOCUS_PORT)", 2);
    spec->set_port(true);
  }
  if (health_cmd) spec->set_health_cmd(*health_cmd);
  if (health_http) spec->set_health_http(*health_http);
  spec->set_health_interval_s(10);
  spec->set_health_grace_s(10);
  spec->set_health_max_failures(3);
  if (interval) {
    auto s = seconds("--health-interval", *interval);
    if (!s.ok() || *s == 0) return fail("--health-interval: at least 1 second", 2);
    spec->set_health_interval_s(*s);
  }
  if (grace) {
    auto s = seconds("--health-grace", *grace);
    if (!s.ok()) return fail(s.error().message, 2);
    spec->set_health_grace_s(*s);
  }
  if (max_failures) {
    auto k = wholeNumber("--health-max-failures", *max_failures);
    if (!k.ok() || *k == 0) return fail("--health-max-failures: at least 1", 2);
    spec->set_health_max_failures(*k);
  }
  if (min_healthy) {
    auto f = fraction("--min-healthy", *min_healthy);
    if (!f.ok()) return fail(f.error().message, 2);
    spec->set_min_healthy(*f);
  }
  if (max_surge) {
    auto f = fraction("--max-surge", *max_surge);
    if (!f.ok()) return fail(f.error().message, 2);
    spec->set_max_surge(*f);
  }
  // Like sbatch's default --export=ALL: the replicas get the creator's environment, then --env.
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq == std::string::npos || kv.rfind("LOCUS_", 0) == 0 || kv.rfind("SLURM_", 0) == 0) continue;
    (*spec->mutable_environment())[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& kv : env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return fail("--env: '" + kv + "' is not K=V", 2);
    (*spec->mutable_environment())[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::error_code ec;
  spec->set_work_dir(std::filesystem::current_path(ec).string());
  if (container) {
    if (container->empty()) return fail("--container: the path is empty", 2);
    spec->set_container(std::filesystem::absolute(*container, ec).lexically_normal().string());
  }
  auto reply = client(g).manageService(req);
  if (!reply.ok()) return fail(reply.error().message);
  std::printf("service %s created: %u replicas\n", names[0].c_str(), *r);
  return 0;
}

int listOrShow(Args& args, const Globals& g, bool one) {
  const bool json = args.flag("--json");
  auto names = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (one ? names.size() != 1 : !names.empty())
    return fail(one ? "usage: locus service show NAME [--json]" : "usage: locus service list [--json]", 2);
  auto reply = client(g).manageService(request(one ? "show" : "list", one ? names[0] : ""));
  if (!reply.ok()) return fail(reply.error().message);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : reply->services()) out.push_back(proto::serviceToJson(s));
    std::printf("%s\n", (one ? out.at(0) : out).dump(2).c_str());
    return 0;
  }
  if (!one) {
    std::printf("%-20s %-10s %8s %8s %8s %4s %-10s\n", "NAME", "USER", "REPLICAS", "RUNNING", "HEALTHY", "REV",
                "STATUS");
    for (const auto& s : reply->services())
      std::printf("%-20s %-10s %8u %8u %8u %4u %-10s\n", s.spec().name().c_str(), s.user().c_str(),
                  s.spec().replicas(), s.running(), s.healthy(), s.spec().revision(), s.status().c_str());
    return 0;
  }
  const auto& s = reply->services(0);
  const auto& spec = s.spec();
  std::string revisions;
  for (uint32_t r : s.revisions()) revisions += (revisions.empty() ? "" : ",") + std::to_string(r);
  std::printf("Service=%s User=%s Account=%s Pool=%s Status=%s\n", spec.name().c_str(), s.user().c_str(),
              spec.account().c_str(), spec.pool().c_str(), s.status().c_str());
  std::printf("   Replicas=%u Running=%u Healthy=%u Restarts=%u\n", spec.replicas(), s.running(), s.healthy(),
              s.restarts());
  std::printf("   Revision=%u Revisions=%s Command=%s\n", spec.revision(), revisions.c_str(), spec.command().c_str());
  std::printf("   Cpus=%u Mem=%luM Gpus=%u Port=%s MinHealthy=%.2f MaxSurge=%.2f\n", spec.cpus(),
              static_cast<unsigned long>(spec.mem_mb()), spec.gpus(), spec.port() ? "auto" : "none",
              spec.min_healthy(), spec.max_surge());
  if (!spec.container().empty()) std::printf("   Container=%s\n", spec.container().c_str());
  if (!spec.health_cmd().empty() || !spec.health_http().empty())
    std::printf("   Health=%s%s Interval=%us Grace=%us MaxFailures=%u\n",
                spec.health_http().empty() ? "cmd " : "http ",
                (spec.health_http().empty() ? spec.health_cmd() : spec.health_http()).c_str(),
                spec.health_interval_s(), spec.health_grace_s(), spec.health_max_failures());
  for (const auto& r : s.replicas())
    std::printf("   Replica=%lu State=%s Node=%s Port=%u Revision=%u Health=%s%s%s\n",
                static_cast<unsigned long>(r.job_id()), r.state().c_str(), r.node().empty() ? "-" : r.node().c_str(),
                r.port(), r.revision(), r.health().c_str(), r.detail().empty() ? "" : " ", r.detail().c_str());
  return 0;
}

int endpoints(Args& args, const Globals& g) {
  const bool json = args.flag("--json");
  auto names = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (names.size() != 1) return fail("usage: locus service endpoints NAME [--json]", 2);
  auto reply = client(g).manageService(request("endpoints", names[0]));
  if (!reply.ok()) return fail(reply.error().message);
  if (json) {
    std::printf("%s\n", nlohmann::json(std::vector<std::string>(reply->endpoints().begin(), reply->endpoints().end()))
                            .dump(2)
                            .c_str());
    return 0;
  }
  for (const auto& e : reply->endpoints()) std::printf("%s\n", e.c_str());
  return 0;
}

int simple(Args& args, const Globals& g, const std::string& op) {
  auto to = op == "rollback" ? args.value("--to") : std::nullopt;
  auto names = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  const size_t want = op == "scale" ? 2 : 1;
  if (names.size() != want)
    return fail(op == "scale" ? "usage: locus service scale NAME R"
                : op == "rollback" ? "usage: locus service rollback NAME [--to REV]"
                                   : "usage: locus service " + op + " NAME",
                2);
  proto::ServiceRequest req = request(op, names[0]);
  if (op == "scale") {
    auto r = wholeNumber("replicas", names[1]);
    if (!r.ok()) return fail(r.error().message, 2);
    req.set_replicas(*r);
  }
  if (to) {
    auto r = wholeNumber("--to", *to);
    if (!r.ok() || *r == 0) return fail("--to: a revision number", 2);
    req.set_to_revision(*r);
  }
  auto reply = client(g).manageService(req);
  if (!reply.ok()) return fail(reply.error().message);
  const auto& s = reply->services(0);
  if (op == "scale") std::printf("service %s: %u replicas\n", names[0].c_str(), s.spec().replicas());
  if (op == "rollback") std::printf("service %s: back to revision %u\n", names[0].c_str(), s.spec().revision());
  if (op == "delete") std::printf("service %s: deleting (its replicas are being stopped)\n", names[0].c_str());
  return 0;
}

int update(Args& args, const Globals& g) {
  bool dashes = false;
  std::vector<std::string> words = args.remaining();
  std::string command = commandAfterDashes(words, dashes);
  Args opts(words);
  auto cpus = opts.value("--cpus", "-c");
  auto mem = opts.value("--mem");
  auto min_healthy = opts.value("--min-healthy");
  auto max_surge = opts.value("--max-surge");
  auto env = envPairs(opts);
  auto names = opts.positionals();
  if (!opts.error().empty()) return fail(opts.error(), 2);
  if (names.size() != 1) return fail("usage: locus service update NAME [--env K=V]... [--cpus C] [--mem M] [-- COMMAND...]", 2);
  if (dashes && command.empty()) return fail("locus service update: an empty command after --", 2);
  proto::ServiceRequest req = request("update", names[0]);
  req.set_command(command);
  for (const auto& kv : env) req.add_env(kv);
  if (cpus) {
    auto c = wholeNumber("--cpus", *cpus);
    if (!c.ok() || *c == 0) return fail("--cpus: '" + *cpus + "' is not a positive whole number", 2);
    req.set_cpus(*c);
  }
  if (mem) {
    auto m = parseMemoryMb(*mem);
    if (!m.ok()) return fail("--mem: " + m.error().message, 2);
    req.set_mem_mb(*m);
  }
  if (min_healthy) {
    auto f = fraction("--min-healthy", *min_healthy);
    if (!f.ok()) return fail(f.error().message, 2);
    req.set_min_healthy(*f);
  }
  if (max_surge) {
    auto f = fraction("--max-surge", *max_surge);
    if (!f.ok()) return fail(f.error().message, 2);
    req.set_max_surge(*f);
  }
  auto reply = client(g).manageService(req);
  if (!reply.ok()) return fail(reply.error().message);
  std::printf("service %s: revision %u\n", names[0].c_str(), reply->services(0).spec().revision());
  return 0;
}

}  // namespace

int runService(const std::vector<std::string>& raw, const Globals& g) {
  if (raw.empty() || raw[0] == "--help" || raw[0] == "-h") {
    std::fputs(kServiceUsage, raw.empty() ? stderr : stdout);
    return raw.empty() ? 2 : 0;
  }
  const std::string op = raw[0];
  Args args(std::vector<std::string>(raw.begin() + 1, raw.end()));
  if (op == "create") return create(args, g);
  if (op == "list") return listOrShow(args, g, false);
  if (op == "show") return listOrShow(args, g, true);
  if (op == "endpoints") return endpoints(args, g);
  if (op == "update") return update(args, g);
  if (op == "scale" || op == "delete" || op == "rollback") return simple(args, g, op);
  return fail("unknown service command '" + op + "' (create, list, show, endpoints, scale, update, rollback, delete)", 2);
}

}  // namespace locus::cli
