// locus-slurm: Slurm's commands over the Locus API. One binary, dispatching on the name it was
// run as (build/bin has sbatch, squeue, scancel, sinfo, sacct, scontrol linked to it), so scripts
// and workflow engines written for Slurm run unchanged. The controller is $LOCUS_CONTROLLER.
// Output and error formats live in the *_format files; this file only fetches and prints.
#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "cli/slurm/sacct_format.hpp"
#include "cli/slurm/scontrol_format.hpp"
#include "cli/slurm/sinfo_format.hpp"
#include "cli/slurm/slurm_args.hpp"
#include "cli/slurm/slurm_fields.hpp"
#include "cli/slurm/squeue_format.hpp"
#include "cli/submit_request.hpp"
#include "common/job_options.hpp"
#include "common/slurm_formats.hpp"
#include "common/time_util.hpp"

namespace {
using namespace locus;
using namespace locus::slurm;

std::string g_prog = "locus-slurm";

// "PROG: error: MESSAGE" on stderr, as Slurm's commands report errors.
int error(const std::string& message, int status = 1) {
  std::fprintf(stderr, "%s: error: %s\n", g_prog.c_str(), message.c_str());
  return status;
}

void out(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

cli::Client client() { return cli::Client(cli::controllerAddress("")); }

Result<std::vector<proto::JobInfo>> listJobs(bool all_states) {
  proto::ListJobsRequest req;
  if (all_states) req.add_states("ALL");
  auto reply = client().listJobs(req);
  if (!reply.ok()) return reply.error();
  return std::vector<proto::JobInfo>(reply->jobs().begin(), reply->jobs().end());
}

bool wantsHelp(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--help") != args.end();
}

// ---------------------------------------------------------------- sbatch

int runSbatch(std::vector<std::string> args) {
  if (wantsHelp(args)) {
    std::puts("Usage: sbatch [OPTIONS...] SCRIPT [ARGS...] | --wrap=CMD\n"
              "Accepts the options of `locus submit` (see locus submit --help).");
    return 0;
  }
  // With no script and no --wrap, sbatch reads the script from standard input.
  std::string stdin_script;
  bool has_wrap = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--wrap" || a.rfind("--wrap=", 0) == 0;
  });
  bool has_positional = true;
  {
    JobSpec scratch;
    bool parsable = false;
    std::vector<std::string> unknown, positional;
    if (applyOptions(args, scratch, parsable, unknown, positional, true).ok())
      has_positional = !positional.empty();
  }
  if (!has_wrap && !has_positional && !isatty(STDIN_FILENO)) {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    char tmpl[] = "/tmp/locus-sbatch-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) return error("cannot store the script from standard input");
    close(fd);
    std::ofstream(tmpl) << text;
    stdin_script = tmpl;
    args.push_back(stdin_script);
  }
  auto built = cli::buildSubmitRequest(args);
  if (!stdin_script.empty()) std::filesystem::remove(stdin_script);
  if (!built.ok()) return error(built.error().message);
  for (const auto& w : built->warnings) std::fprintf(stderr, "sbatch: warning: %s\n", w.c_str());
  // Slurm's default output file, which scripts look for (Locus's own is locus-%j.out).
  proto::JobSpec& spec = *built->request.mutable_spec();
  if (spec.stdout_path().empty())
    spec.set_stdout_path(spec.array_spec().empty() ? "slurm-%j.out" : "slurm-%A_%a.out");
  const auto patience = cli::submitPatience();
  auto reply = cli::submitRetrying(cli::controllerAddress(""), "", built->request, patience, [&](const Error& e) {
    std::fprintf(stderr, "sbatch: %s; trying again for up to %lld s\n", e.message.c_str(),
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(patience).count()));
  });
  if (!reply.ok()) return error("Batch job submission failed: " + reply.error().message);
  if (built->parsable) std::printf("%lu\n", static_cast<unsigned long>(reply->job_id()));
  else std::printf("Submitted batch job %lu\n", static_cast<unsigned long>(reply->job_id()));
  return 0;
}

// ---------------------------------------------------------------- squeue

int runSqueue(const std::vector<std::string>& args) {
  auto opts = parseSqueueArgs(args);
  if (!opts.ok()) return error(opts.error().message);
  if (opts->help || opts->usage) {
    std::puts("Usage: squeue [-h] [-u USER] [-j JOBS] [-t STATES] [-p PARTITION] [-o FORMAT | -O FIELDS]");
    return 0;
  }
  auto jobs = listJobs(squeueNeedsAllStates(*opts));
  if (!jobs.ok()) return error(jobs.error().message);
  if (opts->jobs.size() == 1 &&
      std::none_of(jobs->begin(), jobs->end(), [&](const proto::JobInfo& j) { return jobMatches(j, opts->jobs[0]); })) {
    std::fprintf(stderr, "slurm_load_jobs error: Invalid job id specified\n");
    return 1;
  }
  out(formatSqueue(*jobs, *opts, unixNow()));
  return 0;
}

// ---------------------------------------------------------------- scancel

int runScancel(const std::vector<std::string>& args) {
  static const std::vector<OptionSpec> kSpecs{
      {'u', "user", true}, {'t', "state", true}, {'n', "name", true}, {'s', "signal", true},
      {'p', "partition", true}, {'q', "quiet", false}, {'v', "verbose", false},
      {'i', "interactive", false}, {'b', "batch", false}, {'f', "full", false}, {0, "help", false}};
  auto parsed = parseArgs(args, kSpecs);
  if (!parsed.ok()) return error(parsed.error().message);
  if (parsed->has("help")) {
    std::puts("Usage: scancel [-u USER] [-t STATE] [-n NAME] [-s SIGNAL] JOBID...");
    return 0;
  }
  int signal_number = 0;
  if (parsed->has("signal")) {
    auto sig = parseSignal(parsed->last("signal"));
    if (!sig.ok()) return error("Invalid job signal: " + parsed->last("signal"));
    signal_number = *sig;
  }
  if (parsed->has("interactive")) return error("--interactive is not supported by Locus yet");
  bool quiet = parsed->has("quiet");
  auto users = parsed->list("user");
  auto states = parsed->list("state");
  auto names = parsed->list("name");
  auto partitions = parsed->list("partition");
  std::vector<std::string> selectors;
  for (const auto& p : parsed->positionals)
    for (auto& s : splitList(p, ' ')) selectors.push_back(s);
  if (selectors.empty() && users.empty() && names.empty() && states.empty() && partitions.empty())
    return error("No job identification provided");
  for (const auto& s : selectors)
    if (Status st = checkJobSelector(s.substr(0, s.find('.'))); !st.ok())
      return error("Invalid job id " + s);

  // Resolve selectors and filters to Locus job ids ("10_3" is a task with its own id).
  auto jobs = listJobs(true);
  if (!jobs.ok()) return error(jobs.error().message);
  SqueueOptions filter;
  filter.users = users;
  for (const auto& s : states) {
    auto o = parseSqueueArgs({"-t", s});
    if (!o.ok()) return error(o.error().message);
    filter.states.insert(filter.states.end(), o->states.begin(), o->states.end());
  }
  auto keep = [&](const proto::JobInfo& j) {
    if (!users.empty() && std::find(users.begin(), users.end(), j.user()) == users.end() &&
        std::find(users.begin(), users.end(), std::to_string(j.uid())) == users.end())
      return false;
    if (!names.empty() && std::find(names.begin(), names.end(), j.name()) == names.end()) return false;
    if (!partitions.empty() && std::find(partitions.begin(), partitions.end(), partitionOf(j)) == partitions.end())
      return false;
    if (!filter.states.empty() &&
        std::find(filter.states.begin(), filter.states.end(), j.state()) == filter.states.end())
      return false;
    return true;
  };
  int status = 0;
  std::vector<std::pair<std::string, uint64_t>> targets;  // (as the user wrote it, Locus id)
  if (selectors.empty()) {
    for (const auto& j : *jobs)
      if (j.state() == "PENDING" || j.state() == "RUNNING")
        if (keep(j)) targets.emplace_back(displayJobId(j), j.id());
  } else {
    for (const auto& sel : selectors) {
      std::string id = sel.substr(0, sel.find('.'));
      bool found = false;
      for (const auto& j : *jobs) {
        if (!jobMatches(j, id) || !keep(j)) continue;
        found = true;
        targets.emplace_back(sel, j.id());
      }
      if (!found) status = error("Kill job error on job id " + sel + ": Invalid job id specified");
    }
  }
  if (targets.empty()) return status;
  proto::CancelJobRequest req;
  for (const auto& t : targets) req.add_job_ids(t.second);
  req.set_signal(signal_number);
  req.set_user(cli::currentUserName());
  req.set_uid(getuid());
  auto reply = client().cancel(req);
  if (!reply.ok()) return error(reply.error().message);
  for (int i = 0; i < reply->results_size(); ++i) {
    const auto& r = reply->results(i);
    if (r.ok()) continue;
    const std::string& shown = i < static_cast<int>(targets.size()) ? targets[i].first : std::to_string(r.job_id());
    if (signal_number != 0 && r.message().find("is not running") != std::string::npos) {
      // A signal reaches running jobs only; Slurm says why for the others.
      bool pending = false;
      for (const auto& j : *jobs)
        if (j.id() == r.job_id()) pending = j.state() == "PENDING";
      status = error("Kill job error on job id " + shown + ": " +
                     (pending ? "Job is pending execution" : "Job/step already completing or completed"));
    } else if (r.message().find("already finished") != std::string::npos) {
      // Slurm ignores this error in its exit status when the signal is the default SIGKILL.
      if (!quiet) error("Kill job error on job id " + shown + ": Job/step already completing or completed");
    } else if (r.message().find("permission denied") != std::string::npos) {
      status = error("Kill job error on job id " + shown + ": Access/permission denied");
    } else if (r.message().find("not found") != std::string::npos) {
      status = error("Kill job error on job id " + shown + ": Invalid job id specified");
    } else {
      status = error("Kill job error on job id " + shown + ": " + r.message());
    }
  }
  return status;
}

// ---------------------------------------------------------------- sinfo

int runSinfo(const std::vector<std::string>& args) {
  auto opts = parseSinfoArgs(args);
  if (!opts.ok()) return error(opts.error().message);
  if (opts->help) {
    std::puts("Usage: sinfo [-N] [-h] [-s] [-p PARTITION] [-n NODES] [-t STATES] [-o FORMAT]");
    return 0;
  }
  auto nodes = client().listNodes();
  if (!nodes.ok()) return error(nodes.error().message);
  auto text = formatSinfo(std::vector<proto::NodeInfo>(nodes->nodes().begin(), nodes->nodes().end()), *opts);
  if (!text.ok()) return error(text.error().message);
  out(*text);
  return 0;
}

// ---------------------------------------------------------------- sacct

int runSacct(const std::vector<std::string>& args) {
  int64_t now = unixNow();
  auto opts = parseSacctArgs(args, now);
  if (!opts.ok()) return error(opts.error().message);
  if (opts->help) {
    std::puts("Usage: sacct [-j JOBS] [-u USERS] [-a] [-A ACCOUNTS] [-S TIME] [-E TIME] [-s STATES] [-X] [-P|-p] [-n] [-o FIELDS]");
    return 0;
  }
  // Like sacct, a user sees only their own jobs unless they ask for others (root sees all).
  if (opts->users.empty() && !opts->all_users && opts->jobs.empty() && getuid() != 0)
    opts->users.push_back(cli::currentUserName());
  auto jobs = listJobs(true);
  if (!jobs.ok()) return error(jobs.error().message);
  out(formatSacct(*jobs, *opts, now));
  return 0;
}

// ---------------------------------------------------------------- scontrol

int notSupported(const std::string& what) {
  return error(what + " is not supported by Locus yet (see docs/slurm-compatibility.md)");
}

int runScontrol(const std::vector<std::string>& raw) {
  std::vector<std::string> args;
  bool oneliner = false;
  for (const auto& a : raw) {
    if (a == "-d" || a == "-dd" || a == "--details") continue;  // details: same output for now
    if (a == "-o" || a == "--oneliner") {
      oneliner = true;
      continue;
    }
    args.push_back(a);
  }
  if (args.empty() || wantsHelp(args)) {
    std::puts("Usage: scontrol show job [ID] | show node [NAME] | show partition [NAME] | "
              "show config");
    return args.empty() ? 1 : 0;
  }
  auto print = [&](std::string block) {
    if (oneliner) {
      // One line per record: the block's newlines and indentation become single spaces.
      std::string line;
      for (size_t i = 0; i < block.size(); ++i) {
        if (block[i] == '\n') {
          while (i + 1 < block.size() && block[i + 1] == ' ') ++i;
          if (i + 1 < block.size() && block[i + 1] != '\n') line += ' ';
        } else {
          line += block[i];
        }
      }
      block = line + "\n";
    }
    out(block);
  };
  const std::string& verb = args[0];
  if (verb == "hold" || verb == "uhold" || verb == "release" || verb == "requeue") {
    // scontrol hold|release|requeue JOBID[,JOBID...] [JOBID...]
    proto::UpdateJobsRequest req;
    req.set_action(verb == "release"   ? proto::UpdateJobsRequest::RELEASE
                   : verb == "requeue" ? proto::UpdateJobsRequest::REQUEUE
                                       : proto::UpdateJobsRequest::HOLD);
    for (size_t i = 1; i < args.size(); ++i) {
      std::string list = args[i];
      size_t pos = 0;
      while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        std::string one = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        char* end = nullptr;
        unsigned long long id = std::strtoull(one.c_str(), &end, 10);
        if (one.empty() || *end != '\0' || id == 0) return error("Invalid job id specified");
        req.add_job_ids(id);
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
    }
    if (req.job_ids_size() == 0) return error("too few arguments for keyword:" + verb);
    req.set_user(cli::currentUserName());
    req.set_uid(getuid());
    auto reply = client().update(req);
    if (!reply.ok()) return error(reply.error().message);
    int status = 0;
    for (const auto& r : reply->results())
      if (!r.ok()) status = error(r.message().find("not found") != std::string::npos
                                      ? "Invalid job id specified for job " + std::to_string(r.job_id())
                                      : r.message());
    return status;
  }
  if (verb == "requeuehold" || verb == "suspend" || verb == "resume" || verb == "update" || verb == "top")
    return notSupported("scontrol " + verb);
  if (verb != "show") return error("invalid keyword: " + verb);
  if (args.size() < 2) return error("too few arguments for keyword:show");
  std::string entity = args[1];
  std::string name = args.size() > 2 ? args[2] : "";
  if (entity.rfind("job", 0) == 0 && entity.size() > 3 && name.empty()) {  // "jobid=12" or "job12"
    auto eq = entity.find('=');
    if (eq != std::string::npos) name = entity.substr(eq + 1);
    entity = "job";
  }
  if (entity == "job" || entity == "jobs" || entity == "jobid") {
    auto jobs = listJobs(true);
    if (!jobs.ok()) return error(jobs.error().message);
    auto group_name = [](uint32_t gid) {
      if (struct group* g = getgrgid(gid)) return std::string(g->gr_name);
      return std::to_string(gid);
    };
    int64_t now = unixNow();
    bool any = false;
    std::sort(jobs->begin(), jobs->end(), [](const auto& a, const auto& b) { return a.id() < b.id(); });
    if (!name.empty() && !checkJobSelector(name).ok()) {
      std::fprintf(stderr, "slurm_load_jobs error: Invalid job id specified\n");
      return 1;
    }
    for (const auto& j : *jobs) {
      if (!name.empty() && !jobMatches(j, name)) continue;
      any = true;
      print(formatScontrolJob(j, now, group_name));
    }
    if (!any && !name.empty()) {
      std::fprintf(stderr, "slurm_load_jobs error: Invalid job id specified\n");
      return 1;
    }
    if (!any) std::puts("No jobs in the system");
    return 0;
  }
  if (entity == "node" || entity == "nodes" || entity == "partition" || entity == "partitions") {
    auto nodes = client().listNodes();
    if (!nodes.ok()) return error(nodes.error().message);
    std::vector<proto::NodeInfo> list(nodes->nodes().begin(), nodes->nodes().end());
    if (entity.rfind("partition", 0) == 0) {
      if (!name.empty() && name != kDefaultPartition) {
        std::printf("Partition %s not found\n", name.c_str());
        return 1;
      }
      print(formatScontrolPartition(list));
      return 0;
    }
    bool any = false;
    for (const auto& n : list) {
      if (!name.empty() && n.name() != name) continue;
      any = true;
      print(formatScontrolNode(n));
    }
    if (!any && !name.empty()) {
      std::printf("Node %s not found\n", name.c_str());
      return 1;
    }
    return 0;
  }
  if (entity == "config") {
    // The controller has no call for its settings: read the cluster's locus.toml when
    // $LOCUS_CONFIG names it, else show Locus's defaults.
    Config config;
    if (const char* path = std::getenv("LOCUS_CONFIG"); path && *path) {
      auto loaded = loadConfig(path);
      if (!loaded.ok()) return error(loaded.error().message);
      config = std::move(*loaded);
    }
    auto nodes = client().listNodes();
    if (!nodes.ok()) return error(nodes.error().message);
    std::vector<proto::NodeInfo> list(nodes->nodes().begin(), nodes->nodes().end());
    out(formatScontrolConfig(config, cli::controllerAddress(""), list, unixNow()));
    return 0;
  }
  return error("invalid entity:" + entity + " for keyword:show");
}

}  // namespace

// ---------------------------------------------------------------- sacctmgr (read-only)

// sacctmgr [-n] [-P|-p] show|list account[s]|user[s]|assoc[iations] [where] [user=U] [account=A]
//          [format=F1,F2...]: the fair-share tree as Slurm's accounting database would list it.
int runSacctmgr(const std::vector<std::string>& raw) {
  bool header = true, parsable2 = false, parsable = false;
  std::vector<std::string> words;
  for (const auto& a : raw) {
    if (a == "--noheader") header = false;
    else if (a == "--parsable2") parsable2 = true;
    else if (a == "--parsable") parsable = true;
    else if (a == "--immediate") continue;
    else if (a.size() > 1 && a[0] == '-' && a[1] != '-') {
      for (char c : a.substr(1)) {  // bundled short flags: -nP
        if (c == 'n') header = false;
        else if (c == 'P') parsable2 = true;
        else if (c == 'p') parsable = true;
        else if (c != 'i') return error(std::string("invalid option -- '") + c + "'");
      }
    } else {
      words.push_back(a);
    }
  }
  if (words.empty() || wantsHelp(words)) {
    std::puts("Usage: sacctmgr [-nPp] show account|user|association [user=U] [account=A] [format=F,...]");
    return words.empty() ? 1 : 0;
  }
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  const std::string verb = lower(words[0]);
  if (verb != "show" && verb != "list") return error("only show/list are supported (Locus accounts change with `locus account`)");
  if (words.size() < 2) return error("no entity given");
  std::string entity = lower(words[1]);
  if (entity.back() == 's') entity.pop_back();
  if (entity == "association") entity = "assoc";
  if (entity != "account" && entity != "user" && entity != "assoc") return error("unknown entity '" + words[1] + "'");
  std::string want_user, want_account;
  std::vector<std::string> fields;
  for (size_t i = 2; i < words.size(); ++i) {
    std::string w = words[i];
    if (lower(w) == "where") continue;
    auto eq = w.find('=');
    if (eq == std::string::npos) {
      // A bare name after the entity: `sacctmgr show user alice`.
      if (entity == "user" && want_user.empty()) want_user = w;
      else if (entity == "account" && want_account.empty()) want_account = w;
      else return error("unknown option '" + w + "'");
      continue;
    }
    std::string key = lower(w.substr(0, eq)), value = w.substr(eq + 1);
    if (key == "user" || key == "users" || (key == "name" && entity == "user")) want_user = value;
    else if (key == "account" || key == "accounts" || (key == "name" && entity == "account")) want_account = value;
    else if (key == "format") {
      size_t pos = 0;
      while (pos <= value.size()) {
        size_t comma = value.find(',', pos);
        std::string f = value.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (!f.empty()) fields.push_back(f);
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
    } else if (key == "cluster" || key == "clusters") {
      continue;
    } else {
      return error("unknown option '" + w + "'");
    }
  }
  if (fields.empty()) {
    if (entity == "account") fields = {"Account", "Descr", "Org"};
    else if (entity == "user") fields = {"User", "Def Acct", "Admin"};
    else fields = {"Cluster", "Account", "User", "Share"};
  }
  auto reply = client().shares();
  if (!reply.ok()) return error(reply.error().message);
  // Rows to print: one per account, user (with their first account), or association.
  std::vector<std::map<std::string, std::string>> rows;
  std::map<std::string, std::string> default_account;
  std::map<std::string, std::string> parent_of;
  std::vector<std::string> stack;
  for (const auto& r : reply->rows()) {
    if (!r.user().empty()) {
      if (!default_account.count(r.user())) default_account[r.user()] = r.account();
      continue;
    }
    stack.resize(static_cast<size_t>(r.depth()));
    parent_of[r.account()] = stack.empty() ? "" : stack.back();
    stack.push_back(r.account());
  }
  for (const auto& r : reply->rows()) {
    std::map<std::string, std::string> row{{"cluster", "locus"},
                                           {"account", r.account()},
                                           {"user", r.user()},
                                           {"share", std::to_string(r.raw_shares())},
                                           {"parentname", r.user().empty() ? parent_of[r.account()] : ""},
                                           {"descr", r.account()},
                                           {"org", r.account()}};
    if (!want_account.empty() && r.account() != want_account) continue;
    if (!want_user.empty() && r.user() != want_user) continue;
    if (entity == "account" && !r.user().empty()) continue;
    if (entity == "user") {
      if (r.user().empty() || default_account[r.user()] != r.account()) continue;
      row = {{"user", r.user()}, {"def acct", r.account()}, {"admin", r.user() == "root" ? "Administrator" : "None"}};
    }
    rows.push_back(std::move(row));
  }
  std::string out;
  const size_t width = 10;
  auto cell = [&](const std::string& v, bool last) {
    if (parsable2) return v + (last ? "" : "|");
    if (parsable) return v + "|";
    std::string s = v.size() > width ? v.substr(0, width - 1) + "+" : v;
    return std::string(width - s.size(), ' ') + s + (last ? "" : " ");
  };
  if (header) {
    for (size_t i = 0; i < fields.size(); ++i) out += cell(fields[i], i + 1 == fields.size());
    out += "\n";
    if (!parsable && !parsable2) {
      for (size_t i = 0; i < fields.size(); ++i) out += std::string(width, '-') + (i + 1 == fields.size() ? "" : " ");
      out += "\n";
    }
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i < fields.size(); ++i) {
      auto it = row.find(lower(fields[i]));
      out += cell(it == row.end() ? "" : it->second, i + 1 == fields.size());
    }
    out += "\n";
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

int main(int argc, char** argv) {
  std::string name = std::filesystem::path(argv[0]).filename().string();
  std::vector<std::string> args(argv + 1, argv + argc);
  // `locus-slurm squeue ...` works too, for installs without the links.
  if (name == "locus-slurm" && !args.empty()) {
    name = args[0];
    args.erase(args.begin());
  }
  g_prog = name;
  static const std::map<std::string, int (*)(const std::vector<std::string>&)> kCommands{
      {"squeue", runSqueue}, {"scancel", runScancel}, {"sinfo", runSinfo},
      {"sacct", runSacct},   {"scontrol", runScontrol}, {"sacctmgr", runSacctmgr}};
  if (name == "sbatch") return runSbatch(args);
  auto it = kCommands.find(name);
  if (it == kCommands.end()) {
    std::fprintf(stderr,
                 "locus-slurm: run as sbatch, squeue, scancel, sinfo, sacct or scontrol "
                 "(or `locus-slurm COMMAND ...`)\n");
    return 2;
  }
  return it->second(args);
}
