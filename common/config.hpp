#pragma once
// locus.toml: one file for the whole cluster. Every key is optional with the default below.
// An unknown key or a value of the wrong type is an error naming the key and its line, so a typo
// never silently falls back to a default. Later issues add sections (switches, pools, accounts).
//
//   [controller]
//   listen = "127.0.0.1:6450"     # gRPC address; port 0 picks a free one
//   state_dir = "/var/lib/locus"  # SQLite store and pid files; --state overrides
//   node_timeout_s = 30           # a node silent this long becomes DOWN
//   heartbeat_interval_ms = 2000  # how often nodes heartbeat
//   kill_grace_s = 10             # SIGTERM -> SIGKILL delay for cancel and time limit
//   default_time_limit = "UNLIMITED"  # Slurm time format; applies when a job gives none
//   admins = ["root"]
//
//   [scheduler]
//   interval_ms = 1000            # timer-driven pass, besides the event-driven ones
//   policy = "easy"               # firstfit | fcfs | easy (EASY backfill) | conservative
//   reserve_depth = 1             # easy: how many blocked jobs in priority order get a reservation
//
//   [[node]]                      # names nodes of `locus up` and sets their features
//   names = "n[1-4]"
//   features = ["ib", "nvme"]
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace locus {

struct NodeGroupConfig {
  std::vector<std::string> names;     // expanded hostlist
  std::vector<std::string> features;
};

struct Config {
  std::string listen = "127.0.0.1:6450";
  std::string state_dir;
  std::chrono::seconds node_timeout{30};
  std::chrono::milliseconds heartbeat_interval{2000};
  std::chrono::seconds kill_grace{10};
  int64_t default_time_limit_s = 0;  // 0 = unlimited
  std::vector<std::string> admins{"root"};
  std::chrono::milliseconds scheduler_interval{1000};
  std::string scheduler_policy = "easy";  // firstfit | fcfs | easy | conservative
  uint32_t reserve_depth = 1;             // easy: how many blocked jobs get a reservation
  std::vector<NodeGroupConfig> nodes;

  // Every node name the [[node]] tables list, in order.
  std::vector<std::string> configuredNodeNames() const;
};

// Parses TOML text; `source` names the file in error messages ("locus.toml:12: unknown key ...").
Result<Config> parseConfig(std::string_view text, const std::string& source);
Result<Config> loadConfig(const std::string& path);

}  // namespace locus
