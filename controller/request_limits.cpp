#include "controller/request_limits.hpp"

#include <string>

namespace locus::controller {
namespace {

std::string size(size_t bytes) {
  if (bytes >= (1u << 20)) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

Status tooLong(const char* field, size_t got, size_t max) {
  return invalidArgument(std::string(field) + " is " + size(got) + ", more than the limit of " + size(max));
}

}  // namespace

Status checkRequestLimits(const JobSpec& s) {
  using L = RequestLimits;
  if (s.script.size() > L::kScriptBytes) return tooLong("the job script", s.script.size(), L::kScriptBytes);
  size_t env = 0;
  for (const auto& [k, v] : s.environment) env += k.size() + v.size() + 2;
  if (s.environment.size() > L::kEnvironmentEntries)
    return invalidArgument("the environment has " + std::to_string(s.environment.size()) + " variables, more than " +
                           std::to_string(L::kEnvironmentEntries));
  if (env > L::kEnvironmentBytes) return tooLong("the environment", env, L::kEnvironmentBytes);
  if (s.args.size() > L::kArgs)
    return invalidArgument(std::to_string(s.args.size()) + " script arguments, more than " + std::to_string(L::kArgs));
  size_t args = 0;
  for (const auto& a : s.args) args += a.size() + 1;
  if (args > L::kArgBytes) return tooLong("the script arguments", args, L::kArgBytes);
  struct Text {
    const char* field;
    const std::string* value;
  };
  for (const Text& t : {Text{"--job-name", &s.name}, Text{"the script path", &s.script_path},
                        Text{"--output", &s.stdout_path}, Text{"--error", &s.stderr_path},
                        Text{"--chdir", &s.work_dir}, Text{"--array", &s.array_spec},
                        Text{"--partition", &s.partition}, Text{"--account", &s.account}, Text{"--qos", &s.qos},
                        Text{"--gres", &s.gres}, Text{"--gpus", &s.gpus}, Text{"--constraint", &s.constraint},
                        Text{"--dependency", &s.dependency}, Text{"--switches", &s.switches},
                        Text{"--export", &s.export_spec}, Text{"--profile", &s.profile}, Text{"--split", &s.split},
                        Text{"--container", &s.container}})
    if (t.value->size() > L::kTextBytes) return tooLong(t.field, t.value->size(), L::kTextBytes);
  if (s.inputs.size() > L::kInputs)
    return invalidArgument(std::to_string(s.inputs.size()) + " --input values, more than " + std::to_string(L::kInputs));
  for (const auto& in : s.inputs)
    if (in.size() > L::kTextBytes) return tooLong("an --input", in.size(), L::kTextBytes);
  if (s.nodes > L::kNodes) return invalidArgument("--nodes " + std::to_string(s.nodes) + " is more than " + std::to_string(L::kNodes));
  if (s.ntasks > L::kTasks || s.ntasks_per_node > L::kTasks)
    return invalidArgument("--ntasks " + std::to_string(std::max(s.ntasks, s.ntasks_per_node)) + " is more than " +
                           std::to_string(L::kTasks));
  if (s.cpus_per_task > L::kCpusPerTask)
    return invalidArgument("--cpus-per-task " + std::to_string(s.cpus_per_task) + " is more than " +
                           std::to_string(L::kCpusPerTask));
  if (s.time_limit_s < 0) return invalidArgument("--time is negative (" + std::to_string(s.time_limit_s) + " s)");
  if (s.time_limit_s > L::kTimeLimitS) return invalidArgument("--time is more than a century");
  return {};
}

}  // namespace locus::controller
