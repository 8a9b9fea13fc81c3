#include "cli/slurm/slurm_args.hpp"

#include "cli/slurm/slurm_fields.hpp"

namespace locus::slurm {

std::string ParsedArgs::last(std::string_view name, std::string fallback) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return fallback;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::list(std::string_view name) const {
  std::vector<std::string> out;
  auto it = values.find(name);
  if (it == values.end()) return out;
  for (const auto& v : it->second)
    for (auto& one : splitList(v)) out.push_back(std::move(one));
  return out;
}

Result<ParsedArgs> parseArgs(const std::vector<std::string>& args,
                             const std::vector<OptionSpec>& specs) {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.positionals.insert(out.positionals.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.rfind("--", 0) == 0) {
      std::string name = a.substr(2);
      std::string value;
      bool has_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      const OptionSpec* spec = nullptr;
      for (const auto& s : specs)
        if (s.long_name == name) spec = &s;
      if (!spec) return invalidArgument("unrecognized option '" + a + "'");
      if (spec->takes_value && !has_value) {
        if (i + 1 >= args.size())
          return invalidArgument("option '--" + name + "' requires an argument");
        value = args[++i];
      } else if (!spec->takes_value && has_value) {
        return invalidArgument("option '--" + name + "' doesn't allow an argument");
      }
      out.values[std::string(spec->long_name)].push_back(value);
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      for (size_t k = 1; k < a.size(); ++k) {
        const OptionSpec* spec = nullptr;
        for (const auto& s : specs)
          if (s.short_name != 0 && s.short_name == a[k]) spec = &s;
        if (!spec) return invalidArgument(std::string("invalid option -- '") + a[k] + "'");
        if (!spec->takes_value) {
          out.values[std::string(spec->long_name)].push_back("");
          continue;
        }
        std::string value = a.substr(k + 1);
        if (value.empty()) {
          if (i + 1 >= args.size())
            return invalidArgument(std::string("option requires an argument -- '") + a[k] + "'");
          value = args[++i];
        }
        out.values[std::string(spec->long_name)].push_back(value);
        break;
      }
      continue;
    }
    out.positionals.push_back(a);
  }
  return out;
}

}  // namespace locus::slurm
