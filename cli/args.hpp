#pragma once
// A minimal flag reader for the simple subcommands (submit has its own sbatch-compatible parser):
// `--name VALUE`, `--name=VALUE`, `-x VALUE`, boolean `--name`. Take the flags you know, then
// `positionals()` fails on anything left that looks like an option.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace locus::cli {

class Args {
 public:
  explicit Args(std::vector<std::string> args) : args_(std::move(args)) {}

  bool flag(std::string_view name) {
    for (size_t i = 0; i < args_.size(); ++i)
      if (args_[i] == name) {
        args_.erase(args_.begin() + static_cast<long>(i));
        return true;
      }
    return false;
  }

  // The value of --name (or short), removed from the list; sets error() when the value is missing.
  std::optional<std::string> value(std::string_view name, std::string_view short_name = {}) {
    std::optional<std::string> found;
    for (size_t i = 0; i < args_.size();) {
      const std::string& a = args_[i];
      std::string prefix = std::string(name) + "=";
      if (a == name || (!short_name.empty() && a == short_name)) {
        if (i + 1 >= args_.size()) {
          error_ = std::string(name) + " needs a value";
          args_.erase(args_.begin() + static_cast<long>(i));
          continue;
        }
        found = args_[i + 1];
        args_.erase(args_.begin() + static_cast<long>(i), args_.begin() + static_cast<long>(i) + 2);
      } else if (a.rfind(prefix, 0) == 0) {
        found = a.substr(prefix.size());
        args_.erase(args_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    return found;
  }

  // Every value of a repeatable --name (or --name=V), in order, removed from the list.
  std::vector<std::string> values(std::string_view name) {
    std::vector<std::string> out;
    const std::string prefix = std::string(name) + "=";
    for (size_t i = 0; i < args_.size();) {
      if (args_[i] == name) {
        if (i + 1 >= args_.size()) {
          error_ = std::string(name) + " needs a value";
          args_.erase(args_.begin() + static_cast<long>(i));
          continue;
        }
        out.push_back(args_[i + 1]);
        args_.erase(args_.begin() + static_cast<long>(i), args_.begin() + static_cast<long>(i) + 2);
      } else if (args_[i].rfind(prefix, 0) == 0) {
        out.push_back(args_[i].substr(prefix.size()));
        args_.erase(args_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    return out;
  }

  // Everything not taken yet, unchecked.
  std::vector<std::string> remaining() const { return args_; }

  // What is left; sets error() if an unknown option remains.
  std::vector<std::string> positionals() {
    for (const auto& a : args_)
      if (a.size() > 1 && a[0] == '-' && error_.empty()) error_ = "unknown option " + a;
    return args_;
  }

  const std::string& error() const { return error_; }

 private:
  std::vector<std::string> args_;
  std::string error_;
};

}  // namespace locus::cli
