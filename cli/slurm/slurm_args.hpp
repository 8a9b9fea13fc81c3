#pragma once
// getopt_long-style reading of Slurm command lines: "-hVALUE", "-h VALUE", "--long=VALUE",
// "--long VALUE", bundled short flags ("-hl"), and "--" ending the options. Pure; no exit().
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace locus::slurm {

struct OptionSpec {
  char short_name = 0;          // 0: long only
  std::string_view long_name;   // the key results are stored under
  bool takes_value = false;
};

struct ParsedArgs {
  // long_name -> every value given, in order ("" for flags). Later values win for single options.
  std::map<std::string, std::vector<std::string>, std::less<>> values;
  std::vector<std::string> positionals;

  bool has(std::string_view name) const { return values.count(name) > 0; }
  // The last value given, or `fallback`.
  std::string last(std::string_view name, std::string fallback = {}) const;
  // Every value, each split on commas: "-u a,b -u c" -> {a, b, c}.
  std::vector<std::string> list(std::string_view name) const;
};

// Errors (kInvalidArgument): "unrecognized option '--x'", "option requires an argument -- 'u'",
// "invalid option -- 'z'", worded as getopt does so users recognise them.
Result<ParsedArgs> parseArgs(const std::vector<std::string>& args,
                             const std::vector<OptionSpec>& specs);

}  // namespace locus::slurm
