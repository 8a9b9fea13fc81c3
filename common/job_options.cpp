// `locus submit` option parsing with sbatch's rules:
//  - getopt_long syntax: "--opt=value", "--opt value", "-n4", "-n 4", clustered flags ("-Hn4"),
//    unique prefixes of long names ("--cpus" = "--cpus-per-task"), "--" ends the options, and on
//    the command line the first positional word (the script) ends them too.
//  - Directives come from "#SBATCH"/"#LOCUS" lines at the top of the script and are applied
//    before argv, so the command line wins.
//  - Options are either acted on, stored for later issues (partition, gres, ...), or "accepted
//    but not acted on" (mail, reservation, ...) with a warning; nothing is dropped silently.
#include "common/job_options.hpp"

#include "common/constraint.hpp"
#include "common/gpu_request.hpp"
#include "common/profile_request.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/slurm_formats.hpp"

namespace locus {
namespace {

// A NUL byte this early means the file is a binary, not a script (same window as `file`/grep).
constexpr size_t kBinaryProbeBytes = 4096;

enum class Arg { kNone, kRequired, kOptional };  // kOptional: only as "--opt=value", as getopt

enum class Opt {
  kJobName,
  kNodes,
  kNtasks,
  kNtasksPerNode,
  kCpusPerTask,
  kMem,
  kMemPerCpu,
  kTime,
  kOutput,
  kError,
  kChdir,
  kArray,
  kRequeue,
  kHold,
  kNoRequeue,
  kExport,
  kParsable,
  kWrap,
  // Stored for later issues.
  kPartition,
  kAccount,
  kQos,
  kGres,
  kGpus,
  kGpusPerNode,
  kGpusPerTask,
  kGpusPerSocket,
  kConstraint,
  kDependency,
  kExclusive,
  kSwitches,
  kMemBind,
  kGpuBind,
  kProfile,
  kProfileInterval,
  kContainer,
  kInput,
  kDataflow,
  kTaskCmd,
  kSplit,
  // Parsed (so their values are consumed correctly) but not acted on: a warning each.
  kIgnored,
};

struct OptionDef {
  std::string_view name;  // long name as typed, without "--"
  char short_name;        // 0 = none
  Arg arg;
  Opt id;
  std::string_view canonical;  // name used in messages and to tell aliases apart; empty = name
  std::string_view display() const { return canonical.empty() ? name : canonical; }
};

// Names and argument kinds follow sbatch's long_options table so that scripts written for sbatch
// consume their values the same way. Aliases share `canonical`.
constexpr OptionDef kOptions[] = {
    {"job-name", 'J', Arg::kRequired, Opt::kJobName, {}},
    {"nodes", 'N', Arg::kRequired, Opt::kNodes, {}},
    {"ntasks", 'n', Arg::kRequired, Opt::kNtasks, {}},
    {"tasks", 0, Arg::kRequired, Opt::kNtasks, "ntasks"},
    {"ntasks-per-node", 0, Arg::kRequired, Opt::kNtasksPerNode, {}},
    {"tasks-per-node", 0, Arg::kRequired, Opt::kNtasksPerNode, "ntasks-per-node"},
    {"cpus-per-task", 'c', Arg::kRequired, Opt::kCpusPerTask, {}},
    {"mem", 0, Arg::kRequired, Opt::kMem, {}},
    {"mem-per-cpu", 0, Arg::kRequired, Opt::kMemPerCpu, {}},
    {"time", 't', Arg::kRequired, Opt::kTime, {}},
    {"output", 'o', Arg::kRequired, Opt::kOutput, {}},
    {"error", 'e', Arg::kRequired, Opt::kError, {}},
    {"chdir", 'D', Arg::kRequired, Opt::kChdir, {}},
    {"workdir", 0, Arg::kRequired, Opt::kChdir, "chdir"},
    {"array", 'a', Arg::kRequired, Opt::kArray, {}},
    {"requeue", 0, Arg::kNone, Opt::kRequeue, {}},
    {"hold", 'H', Arg::kNone, Opt::kHold, {}},
    {"no-requeue", 0, Arg::kNone, Opt::kNoRequeue, {}},
    {"export", 0, Arg::kRequired, Opt::kExport, {}},
    {"parsable", 0, Arg::kOptional, Opt::kParsable, {}},
    {"wrap", 0, Arg::kRequired, Opt::kWrap, {}},
    {"partition", 'p', Arg::kRequired, Opt::kPartition, {}},
    {"pool", 0, Arg::kRequired, Opt::kPartition, "partition"},
    {"account", 'A', Arg::kRequired, Opt::kAccount, {}},
    {"qos", 'q', Arg::kRequired, Opt::kQos, {}},
    {"gres", 0, Arg::kRequired, Opt::kGres, {}},
    {"gpus", 'G', Arg::kRequired, Opt::kGpus, {}},
    {"gpus-per-node", 0, Arg::kRequired, Opt::kGpusPerNode, {}},
    {"gpus-per-task", 0, Arg::kRequired, Opt::kGpusPerTask, {}},
    {"gpus-per-socket", 0, Arg::kRequired, Opt::kGpusPerSocket, {}},
    {"constraint", 'C', Arg::kRequired, Opt::kConstraint, {}},
    {"dependency", 'd', Arg::kRequired, Opt::kDependency, {}},
    {"exclusive", 0, Arg::kOptional, Opt::kExclusive, {}},
    // Accepted but not acted on.
    {"mail-type", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"mail-user", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"open-mode", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"reservation", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"comment", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"begin", 'b', Arg::kRequired, Opt::kIgnored, {}},
    {"deadline", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"nice", 0, Arg::kOptional, Opt::kIgnored, {}},
    {"priority", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"signal", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"licenses", 'L', Arg::kRequired, Opt::kIgnored, {}},
    {"wckey", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"hint", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"distribution", 'm', Arg::kRequired, Opt::kIgnored, {}},
    {"nodelist", 'w', Arg::kRequired, Opt::kIgnored, {}},
    {"exclude", 'x', Arg::kRequired, Opt::kIgnored, {}},
    {"nodefile", 'F', Arg::kRequired, Opt::kIgnored, {}},
    {"mincpus", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"tmp", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"cpu-freq", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"cpus-per-gpu", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"mem-per-gpu", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"mem-bind", 0, Arg::kRequired, Opt::kMemBind, {}},
    {"gres-flags", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"gpu-bind", 0, Arg::kRequired, Opt::kGpuBind, {}},
    {"gpu-freq", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"ntasks-per-core", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"ntasks-per-socket", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"ntasks-per-gpu", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"sockets-per-node", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"cores-per-socket", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"threads-per-core", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"extra-node-info", 'B', Arg::kRequired, Opt::kIgnored, {}},
    {"core-spec", 'S', Arg::kRequired, Opt::kIgnored, {}},
    {"thread-spec", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"switches", 0, Arg::kRequired, Opt::kSwitches, {}},
    {"time-min", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"delay-boot", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"profile", 0, Arg::kRequired, Opt::kProfile, {}},
    {"profile-interval", 0, Arg::kRequired, Opt::kProfileInterval, {}},  // Locus's own
    {"container", 0, Arg::kRequired, Opt::kContainer, {}},
    {"propagate", 0, Arg::kOptional, Opt::kIgnored, {}},
    {"get-user-env", 0, Arg::kOptional, Opt::kIgnored, {}},
    {"export-file", 0, Arg::kRequired, Opt::kIgnored, {}},
    // sbatch's --input is the script's stdin (not acted on); a store URI is a Locus input.
    {"input", 'i', Arg::kRequired, Opt::kInput, {}},
    {"dataflow", 0, Arg::kNone, Opt::kDataflow, {}},    // Locus's own
    {"task-cmd", 0, Arg::kRequired, Opt::kTaskCmd, {}},  // Locus's own
    {"split", 0, Arg::kRequired, Opt::kSplit, {}},       // Locus's own
    {"cluster", 'M', Arg::kRequired, Opt::kIgnored, {}},
    {"clusters", 0, Arg::kRequired, Opt::kIgnored, "cluster"},
    {"cluster-constraint", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"network", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"mcs-label", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"acctg-freq", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"kill-on-invalid-dep", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"wait-all-nodes", 0, Arg::kRequired, Opt::kIgnored, {}},
    {"no-kill", 'k', Arg::kOptional, Opt::kIgnored, {}},

    {"wait", 'W', Arg::kNone, Opt::kIgnored, {}},
    {"quiet", 'Q', Arg::kNone, Opt::kIgnored, {}},
    {"verbose", 'v', Arg::kNone, Opt::kIgnored, {}},
    {"overcommit", 'O', Arg::kNone, Opt::kIgnored, {}},
    {"oversubscribe", 's', Arg::kNone, Opt::kIgnored, {}},
    {"contiguous", 0, Arg::kNone, Opt::kIgnored, {}},
    {"spread-job", 0, Arg::kNone, Opt::kIgnored, {}},
    {"use-min-nodes", 0, Arg::kNone, Opt::kIgnored, {}},
    {"reboot", 0, Arg::kNone, Opt::kIgnored, {}},
    {"ignore-pbs", 0, Arg::kNone, Opt::kIgnored, {}},
};

std::string inQuotes(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

bool isDataInput(std::string_view value) {
  return value.rfind("hdfs://", 0) == 0 || value.rfind("webhdfs://", 0) == 0 ||
         value.rfind("dataset:", 0) == 0;
}

namespace {

Error optionError(const OptionDef& def, std::string_view why) {
  return invalidArgument("--" + std::string(def.display()) + ": " + std::string(why));
}

const OptionDef* findShort(char c) {
  for (const OptionDef& def : kOptions) {
    if (def.short_name == c) return &def;
  }
  return nullptr;
}

// Exact match first, then a unique prefix, as getopt_long. Aliases of one option (same
// canonical name) do not make a prefix ambiguous. nullptr: not an option Locus knows.
Result<const OptionDef*> findLong(std::string_view name) {
  if (name.empty()) return static_cast<const OptionDef*>(nullptr);
  for (const OptionDef& def : kOptions) {
    if (def.name == name) return &def;
  }
  std::vector<const OptionDef*> matches;
  for (const OptionDef& def : kOptions) {
    if (def.name.substr(0, name.size()) != name) continue;
    bool alias_of_match = std::any_of(matches.begin(), matches.end(), [&](const OptionDef* m) {
      return m->display() == def.display();
    });
    if (!alias_of_match) matches.push_back(&def);
  }
  if (matches.empty()) return static_cast<const OptionDef*>(nullptr);
  if (matches.size() == 1) return matches.front();
  std::string candidates;
  for (const OptionDef* m : matches) {
    candidates += (candidates.empty() ? "--" : ", --") + std::string(m->display());
  }
  return invalidArgument("--" + std::string(name) + ": ambiguous option (could be " + candidates +
                         ")");
}

// A positive count such as --nodes or -c: digits only, at least 1, fits in uint32_t.
Result<uint32_t> parseCount(const OptionDef& def, std::string_view value) {
  uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  bool digits_only = !value.empty() && std::all_of(value.begin(), value.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only || ec != std::errc() || ptr != value.data() + value.size()) {
    return optionError(def, "invalid count " + inQuotes(value));
  }
  if (v == 0) return optionError(def, "invalid count " + inQuotes(value) + " (must be at least 1)");
  return v;
}

struct ExportSpec {
  bool all = false;                // ALL given: start from the whole environment
  std::vector<std::string> names;  // VAR: copy from the submitter's environment
  std::vector<std::pair<std::string, std::string>> assignments;  // VAR=value
};

bool isEnvName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

// "ALL" | "NONE" | "NIL" | "[ALL,]VAR[=value][,...]". NONE/NIL stand alone; a value cannot
// contain a comma (the same limitation as sbatch without quoting).
Result<ExportSpec> parseExport(std::string_view text) {
  ExportSpec spec;
  if (equalsIgnoreCase(text, "NONE") || equalsIgnoreCase(text, "NIL")) return spec;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view element = text.substr(start, comma - start);
    start = comma + 1;
    if (element.empty()) return invalidArgument("empty element in " + inQuotes(text));
    if (equalsIgnoreCase(element, "ALL")) {
      spec.all = true;
      continue;
    }
    if (equalsIgnoreCase(element, "NONE") || equalsIgnoreCase(element, "NIL")) {
      return invalidArgument(std::string(element) + " cannot be combined with other elements");
    }
    size_t eq = element.find('=');
    std::string_view name = element.substr(0, eq);
    if (!isEnvName(name)) return invalidArgument("invalid variable name " + inQuotes(name));
    if (eq == std::string_view::npos) {
      spec.names.emplace_back(name);
    } else {
      spec.assignments.emplace_back(std::string(name), std::string(element.substr(eq + 1)));
    }
  }
  return spec;
}

// GPU requests share spec.gpus, tagged by form so a later issue can tell them apart:
//   --gpus=2 / -G a100:2 -> "2" / "a100:2"   (per job, as given)
//   --gpus-per-node=4     -> "per-node:4"
//   --gpus-per-task=1     -> "per-task:1"
//   --gpus-per-socket=1   -> "per-socket:1"
// Slurm lets these be combined; one field cannot hold two, so replacing a different form warns.
std::string_view gpuTag(Opt id) {
  switch (id) {
    case Opt::kGpusPerNode:
      return "per-node:";
    case Opt::kGpusPerTask:
      return "per-task:";
    case Opt::kGpusPerSocket:
      return "per-socket:";
    default:
      return "";
  }
}

std::string_view gpuForm(std::string_view gpus) {
  for (std::string_view tag : {"per-node:", "per-task:", "per-socket:"}) {
    if (gpus.substr(0, tag.size()) == tag) return tag;
  }
  return "";
}

// Applies one recognized option. `value` is empty for options given without one.
Status applyOne(const OptionDef& def, std::string_view spelled,
                std::optional<std::string_view> value, JobSpec& spec, bool& parsable) {
  if (def.arg == Arg::kRequired && value->empty()) return optionError(def, "missing value");
  std::string v(value.value_or(""));
  switch (def.id) {
    case Opt::kJobName:
      spec.name = v;
      break;
    case Opt::kNodes: {
      // sbatch takes "min-max"; Locus allocates a fixed count, so the minimum is used.
      size_t dash = v.find('-');
      auto lo = parseCount(def, std::string_view(v).substr(0, dash));
      if (dash != std::string::npos) {
        auto hi = parseCount(def, std::string_view(v).substr(dash + 1));
        if (!lo.ok() || !hi.ok() || *hi < *lo)
          return optionError(def, "invalid count " + inQuotes(v));
        if (*hi != *lo) {
          spec.warnings.push_back("--nodes=" + v + ": node ranges are not supported, using " +
                                  std::to_string(*lo));
        }
      }
      if (!lo.ok()) return lo.error();
      spec.nodes = *lo;
      break;
    }
    case Opt::kNtasks:
    case Opt::kNtasksPerNode:
    case Opt::kCpusPerTask: {
      auto n = parseCount(def, v);
      if (!n.ok()) return n.error();
      (def.id == Opt::kNtasks          ? spec.ntasks
       : def.id == Opt::kNtasksPerNode ? spec.ntasks_per_node
                                       : spec.cpus_per_task) = *n;
      break;
    }
    case Opt::kMem:
    case Opt::kMemPerCpu: {
      auto mb = parseMemoryMb(v);
      if (!mb.ok()) return optionError(def, mb.error().message);
      (def.id == Opt::kMem ? spec.mem_mb : spec.mem_per_cpu_mb) = *mb;
      break;
    }
    case Opt::kTime: {
      auto s = parseTimeLimit(v);
      if (!s.ok()) return optionError(def, s.error().message);
      spec.time_limit_s = *s;
      break;
    }
    case Opt::kOutput:
    case Opt::kError:
      // sbatch: "none" means discard.
      (def.id == Opt::kOutput ? spec.stdout_path : spec.stderr_path) =
          equalsIgnoreCase(v, "none") ? "/dev/null" : v;
      break;
    case Opt::kChdir:
      spec.work_dir = v;
      break;  // made absolute by parseSubmitArgs
    case Opt::kArray: {
      auto a = parseArraySpec(v);
      if (!a.ok()) return optionError(def, a.error().message);
      spec.array_spec = v;
      break;
    }
    case Opt::kRequeue:
      spec.requeue = true;
      spec.no_requeue = false;
      break;
    case Opt::kHold:
      spec.hold = true;
      break;
    case Opt::kNoRequeue:
      spec.requeue = false;
      spec.no_requeue = true;
      break;
    case Opt::kExport: {
      auto e = parseExport(v);
      if (!e.ok()) return optionError(def, e.error().message);
      spec.export_spec = v;
      break;
    }
    case Opt::kParsable:
      parsable = true;
      break;
    case Opt::kWrap:
      spec.script = "#!/bin/sh\n" + v + "\n";
      break;
    case Opt::kPartition:
      spec.partition = v;
      break;
    case Opt::kAccount:
      spec.account = v;
      break;
    case Opt::kQos:
      spec.qos = v;
      break;
    case Opt::kGres:
      spec.gres = v;
      if (auto parsed = gpuRequestOf(spec); !parsed.ok()) return parsed.error();
      break;
    case Opt::kGpus:
    case Opt::kGpusPerNode:
    case Opt::kGpusPerTask:
    case Opt::kGpusPerSocket: {
      std::string_view tag = gpuTag(def.id);
      if (!spec.gpus.empty() && gpuForm(spec.gpus) != tag) {
        spec.warnings.push_back("--" + std::string(def.display()) + "=" + v +
                                " replaces the earlier GPU request '" + spec.gpus + "'");
      }
      spec.gpus = std::string(tag) + v;
      if (auto parsed = gpuRequestOf(spec); !parsed.ok()) return parsed.error();
      break;
    }
    case Opt::kConstraint: {
      auto parsed = Constraint::parse(v);
      if (!parsed.ok()) return parsed.error();
      spec.constraint = v;
      break;
    }
    case Opt::kSwitches: {
      auto parsed = parseSwitches(v);
      if (!parsed.ok()) return parsed.error();
      spec.switches = v;
      break;
    }
    case Opt::kMemBind: {
      // Slurm's "verbose," prefix only adds a report line; the binding is the same.
      std::string_view bind = v;
      if (bind.substr(0, 8) == "verbose,") bind.remove_prefix(8);
      if (Status st = checkMemBind(bind); !st.ok()) return st;
      spec.mem_bind = std::string(bind);
      break;
    }
    case Opt::kGpuBind: {
      std::string_view bind = v;
      if (bind.substr(0, 8) == "verbose,") bind.remove_prefix(8);
      if (Status st = checkGpuBind(bind); !st.ok()) return st;
      spec.gpu_bind = std::string(bind);
      break;
    }
    case Opt::kProfile: {
      auto parsed = normalizeProfile(v);
      if (!parsed.ok()) return parsed.error();
      spec.profile = *parsed;
      break;
    }
    case Opt::kProfileInterval: {
      auto parsed = parseProfileInterval(v);
      if (!parsed.ok()) return parsed.error();
      spec.profile_interval_s = *parsed;
      break;
    }
    case Opt::kContainer:
      if (v.empty()) return optionError(def, "the container path is empty");
      spec.container = v;
      break;
    case Opt::kInput:
      if (isDataInput(v)) {
        spec.inputs.push_back(v);
      } else {
        spec.warnings.push_back(std::string(spelled) + "=" + v +
                                " (stdin) accepted but not acted on by Locus; data inputs are "
                                "hdfs:///PATH, webhdfs://HOST:PORT/PATH or dataset:NAME");
      }
      break;
    case Opt::kDataflow:
      spec.dataflow = true;
      break;
    case Opt::kTaskCmd:
      if (v.empty()) return optionError(def, "the task command is empty");
      spec.script = "#!/bin/sh\n" + v + "\n";
      spec.dataflow = true;
      break;
    case Opt::kSplit:
      if (v != "block" && v != "file") return optionError(def, "'" + v + "' is not block or file");
      spec.split = v;
      break;
    case Opt::kDependency:
      spec.dependency = v;
      break;
    case Opt::kExclusive:
      // "--exclusive=user|mcs|topo" narrow sharing in Slurm; Locus only knows whole-node.
      spec.exclusive = true;
      if (!v.empty()) spec.warnings.push_back("--exclusive=" + v + " treated as --exclusive");
      break;
    case Opt::kIgnored: {
      std::string shown(spelled);
      if (value) shown += "=" + v;
      spec.warnings.push_back(shown + " accepted but not acted on by Locus");
      break;
    }
  }
  return {};
}

// Splits the text after "#SBATCH" into words like sbatch's _get_argument: whitespace separates,
// '…' and "…" group, a backslash escapes the next character, and an unquoted '#' starts a
// comment ("#SBATCH --mem=4G  # per node"). An unmatched quote runs to the end of the line.
std::vector<std::string> splitDirectiveWords(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false, escaped = false;
  char quote = 0;
  for (char c : line) {
    if (escaped) {
      word += c;
      escaped = false;
      continue;
    }
    if (c == '\\') {
      escaped = in_word = true;
      continue;
    }
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
      continue;
    }
    if (c == '#') break;
    if (c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    word += c;
    in_word = true;
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::string resolvePath(const std::string& base, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(base) / p;
  std::string out = p.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<std::string> readScript(const std::string& path, const std::string& cwd) {
  std::string full = resolvePath(cwd, path);
  std::error_code ec;
  if (std::filesystem::is_directory(full, ec)) {
    return invalidArgument("cannot read script '" + path + "': is a directory");
  }
  if (!std::filesystem::exists(full, ec)) {
    return invalidArgument("cannot read script '" + path + "': no such file");
  }
  std::ifstream in(full, std::ios::binary);
  if (!in) {
    return invalidArgument("cannot read script '" + path + "': " + std::strerror(errno));
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxScriptBytes) {
      return invalidArgument("script '" + path + "' is larger than " +
                             std::to_string(kMaxScriptBytes / (1024 * 1024)) + " MiB");
    }
  }
  if (in.bad()) return invalidArgument("cannot read script '" + path + "': read error");
  if (text.empty()) return invalidArgument("script '" + path + "' is empty");
  if (text.substr(0, kBinaryProbeBytes).find('\0') != std::string::npos) {
    return invalidArgument("script '" + path +
                           "' looks like a binary file (NUL byte in the first 4 KiB)");
  }
  if (text.find("\r\n") != std::string::npos) {
    // As sbatch: the job would fail on the node with "/bin/bash^M: bad interpreter".
    return invalidArgument("script '" + path +
                           "' has DOS line breaks (\\r\\n); convert it with dos2unix");
  }
  return text;
}

std::string baseName(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  return name.empty() ? path : name;
}

}  // namespace

std::vector<std::vector<std::string>> readDirectives(std::string_view script_text) {
  std::vector<std::vector<std::string>> out;
  size_t pos = 0;
  while (pos < script_text.size()) {
    size_t eol = script_text.find('\n', pos);
    if (eol == std::string_view::npos) eol = script_text.size();
    std::string_view line = script_text.substr(pos, eol - pos);
    pos = eol + 1;
    // As sbatch: the magic word must start the line; anything after it is parsed.
    std::string_view rest;
    if (line.substr(0, 7) == "#SBATCH") {
      rest = line.substr(7);
    } else if (line.substr(0, 6) == "#LOCUS") {
      rest = line.substr(6);
    } else {
      // A comment (including "#!" and "  # SBATCH") or a blank line keeps reading; the first
      // command stops it, which is what keeps heredoc'd "#SBATCH" lines of another job out.
      size_t first = line.find_first_not_of(" \t\r\v\f");
      if (first != std::string_view::npos && line[first] != '#') break;
      continue;
    }
    std::vector<std::string> words = splitDirectiveWords(rest);
    if (!words.empty()) out.push_back(std::move(words));
  }
  return out;
}

Status applyOptions(const std::vector<std::string>& words, JobSpec& spec, bool& parsable,
                    std::vector<std::string>& unknown, std::vector<std::string>& positional,
                    bool stop_at_first_positional) {
  // Outside argv (directives) there is no script to stop at, so an unknown option followed by a
  // word that is not an option is taken to be "--unknown value" and reported as one.
  auto takeUnknownValue = [&](size_t& i, std::string entry) {
    if (!stop_at_first_positional && i + 1 < words.size() && !words[i + 1].empty() &&
        words[i + 1][0] != '-') {
      entry += " " + words[++i];
    }
    unknown.push_back(std::move(entry));
  };

  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--") {
      positional.insert(positional.end(), words.begin() + static_cast<long>(i) + 1, words.end());
      return {};
    }
    if (w.size() < 2 || w[0] != '-') {  // includes "-" alone, which getopt treats as positional
      if (stop_at_first_positional) {
        positional.insert(positional.end(), words.begin() + static_cast<long>(i), words.end());
        return {};
      }
      positional.push_back(w);
      continue;
    }

    if (w[1] == '-') {  // --name[=value]
      std::string_view body = std::string_view(w).substr(2);
      size_t eq = body.find('=');
      std::string_view name = body.substr(0, eq);
      auto found = findLong(name);
      if (!found.ok()) return found.error();
      const OptionDef* def = *found;
      if (def == nullptr) {
        if (eq == std::string_view::npos) {
          takeUnknownValue(i, w);
        } else {
          unknown.push_back(w);
        }
        continue;
      }
      std::optional<std::string_view> value;
      if (eq != std::string_view::npos) {
        if (def->arg == Arg::kNone) return optionError(*def, "takes no value");
        value = body.substr(eq + 1);
      } else if (def->arg == Arg::kRequired) {
        if (i + 1 >= words.size()) return optionError(*def, "missing value");
        value = words[++i];
      }
      if (Status st = applyOne(*def, "--" + std::string(def->name), value, spec, parsable);
          !st.ok()) {
        return st;
      }
      continue;
    }

    // A cluster of short options: "-Hn4" = -H, -n 4. An option that takes a value eats the rest
    // of the word, or the next word when nothing is left ("-n 4").
    for (size_t j = 1; j < w.size(); ++j) {
      const OptionDef* def = findShort(w[j]);
      if (def == nullptr) {
        std::string entry = (j == 1) ? w : "-" + w.substr(j);
        if (j + 1 == w.size()) {
          takeUnknownValue(i, entry);
        } else {
          unknown.push_back(entry);
        }
        break;
      }
      std::optional<std::string_view> value;
      if (def->arg == Arg::kRequired) {
        if (j + 1 < w.size()) {
          value = std::string_view(w).substr(j + 1);
        } else if (i + 1 < words.size()) {
          value = words[++i];
        } else {
          return optionError(*def, "missing value");
        }
      }
      if (Status st = applyOne(*def, std::string("-") + w[j], value, spec, parsable); !st.ok()) {
        return st;
      }
      if (value) break;
    }
  }
  return {};
}

size_t optionLength(const std::vector<std::string>& words, size_t i) {
  const std::string& w = words[i];
  if (w == "--" || w.size() < 2 || w[0] != '-') return 0;
  if (w[1] == '-') {
    std::string_view body = std::string_view(w).substr(2);
    const size_t eq = body.find('=');
    auto found = findLong(body.substr(0, eq));
    if (!found.ok() || *found == nullptr) return 1;  // unknown or ambiguous: the caller's to judge
    return eq == std::string_view::npos && (*found)->arg == Arg::kRequired && i + 1 < words.size() ? 2 : 1;
  }
  // "-n4" carries its value; "-n" takes the next word; in a cluster ("-Hn") the last one decides.
  for (size_t j = 1; j < w.size(); ++j) {
    const OptionDef* def = findShort(w[j]);
    if (def == nullptr) return 1;
    if (def->arg == Arg::kRequired) return j + 1 == w.size() && i + 1 < words.size() ? 2 : 1;
  }
  return 1;
}

Result<SubmitRequest> parseSubmitArgs(const std::vector<std::string>& argv,
                                      const SubmitContext& ctx) {
  // Pass 1 over argv, on a scratch spec: validates every option before anything is read and finds
  // the script (the first positional word) or --wrap, like sbatch's first pass.
  JobSpec cli;
  bool cli_parsable = false;
  std::vector<std::string> unknown, positional;
  if (Status st = applyOptions(argv, cli, cli_parsable, unknown, positional, true); !st.ok()) {
    return st.error();
  }
  if (!unknown.empty()) {
    return invalidArgument("unknown option " + inQuotes(unknown.front()) +
                           " (see `locus submit --help`)");
  }
  const bool wrap = !cli.script.empty();
  if (wrap && !positional.empty()) {
    return invalidArgument(std::string(cli.dataflow ? "--task-cmd" : "--wrap") + " and a script (" +
                           inQuotes(positional.front()) + ") given; use one of them");
  }
  if (!wrap && positional.empty()) {
    return invalidArgument(
        "no script given: use `locus submit [options] SCRIPT [ARGS...]` or "
        "--wrap \"CMD\"");
  }

  SubmitRequest req;
  JobSpec& spec = req.spec;
  std::string script_text;
  if (!wrap) {
    auto text = readScript(positional.front(), ctx.cwd);
    if (!text.ok()) return text.error();
    script_text = std::move(*text);

    // Directives first, so argv (pass 2) wins. Words are flattened across lines as sbatch does.
    std::vector<std::string> words;
    for (auto& line : readDirectives(script_text)) {
      words.insert(words.end(), line.begin(), line.end());
    }
    std::vector<std::string> d_unknown, d_positional;
    if (Status st = applyOptions(words, spec, req.parsable, d_unknown, d_positional, false);
        !st.ok()) {
      return invalidArgument(st.error().message + " (in a script directive)");
    }
    for (const std::string& u : d_unknown) {
      spec.warnings.push_back("unknown directive " + u + " ignored");
    }
    for (const std::string& p : d_positional) {
      spec.warnings.push_back("directive word " + inQuotes(p) + " ignored");
    }
    if (!spec.script.empty()) {  // sbatch reads --wrap from the command line only
      spec.warnings.push_back("--wrap in a script directive ignored");
      spec.script.clear();
    }
  }

  // Pass 2: argv over the directives. Cannot fail: pass 1 accepted the same words.
  positional.clear();
  unknown.clear();
  Status st = applyOptions(argv, spec, req.parsable, unknown, positional, true);
  LOCUS_CHECK(st.ok()) << st.error().message;

  if (wrap) {
    spec.script = cli.script;
    spec.script_path.clear();
    if (spec.name.empty()) spec.name = spec.dataflow ? "dataflow" : "wrap";
  } else {
    spec.script = std::move(script_text);
    spec.script_path = positional.front();
    spec.args.assign(positional.begin() + 1, positional.end());
    if (spec.name.empty()) spec.name = baseName(spec.script_path);
  }

  // Task geometry. After this, ntasks >= 1 always (Slurm's defaults): one task per node, or
  // ntasks_per_node on each node; nodes stays 0 when not given so the scheduler may choose.
  if (spec.ntasks == 0) {
    uint64_t per_node = std::max<uint32_t>(1, spec.ntasks_per_node);
    uint64_t ntasks = spec.nodes > 0 ? spec.nodes * per_node : per_node;
    if (ntasks > UINT32_MAX) {
      return invalidArgument("--nodes (" + std::to_string(spec.nodes) + ") x --ntasks-per-node (" +
                             std::to_string(per_node) + ") is too many tasks");
    }
    spec.ntasks = static_cast<uint32_t>(ntasks);
  } else {
    if (spec.nodes > 0 && spec.ntasks < spec.nodes) {
      return invalidArgument("--ntasks (" + std::to_string(spec.ntasks) +
                             ") is smaller than --nodes (" + std::to_string(spec.nodes) + ")");
    }
    if (spec.nodes > 0 && spec.ntasks_per_node > 0 &&
        uint64_t{spec.ntasks} > uint64_t{spec.nodes} * spec.ntasks_per_node) {
      return invalidArgument("--ntasks (" + std::to_string(spec.ntasks) +
                             ") is more than --nodes (" + std::to_string(spec.nodes) +
                             ") x --ntasks-per-node (" + std::to_string(spec.ntasks_per_node) +
                             ")");
    }
  }

  if (spec.dataflow) {
    if (spec.inputs.empty())
      return invalidArgument("--dataflow needs at least one --input (hdfs:///PATH, "
                             "webhdfs://HOST:PORT/PATH or dataset:NAME): its tasks are its splits");
    if (!spec.array_spec.empty())
      return invalidArgument("--dataflow and --array cannot be combined: a dataflow job's tasks "
                             "are its input splits");
    if (spec.nodes > 1 || spec.ntasks > 1)
      return invalidArgument("--dataflow tasks run one process each: --nodes/--ntasks do not "
                             "apply (use --cpus-per-task for threads)");
  } else if (!spec.split.empty()) {
    return invalidArgument("--split applies to --dataflow jobs only");
  }

  spec.work_dir = spec.work_dir.empty() ? ctx.cwd : resolvePath(ctx.cwd, spec.work_dir);

  // Environment, filtered by --export (validated when the option was applied).
  auto exp = parseExport(spec.export_spec);
  LOCUS_CHECK(exp.ok()) << spec.export_spec;
  if (exp->all) spec.environment = ctx.environment;
  for (const std::string& name : exp->names) {
    if (auto it = ctx.environment.find(name); it != ctx.environment.end()) {
      spec.environment[name] = it->second;
    }
  }
  for (auto& [name, value] : exp->assignments) spec.environment[name] = value;

  return req;
}

}  // namespace locus
