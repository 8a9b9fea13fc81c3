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
//   events_kept = 100000          # newest job/node events kept for `locus events` to resume from
//   events_in_memory = 10000      # the newest of those also in memory (older: read from the store)
//   auth = "munge"                # who calls: MUNGE credentials; "none" trusts what requests say
//                                 # (unsafe: development only)
//   munge_socket = "/run/munge/munge.socket.2"  # default: $LOCUS_MUNGE_SOCKET, else this
//   rpc_rate = 500                # calls per second per user (a token bucket); 0 = no limit
//   rpc_burst = 5000              # calls a user may make at once before the rate applies
//
//   [scheduler]
//   interval_ms = 1000            # timer-driven pass, besides the event-driven ones
//   policy = "easy-predict"       # firstfit | fcfs | easy (EASY backfill) | easy-predict (EASY++,
//                                 # the default) | conservative
//   reserve_depth = 1             # easy: how many blocked jobs in priority order get a reservation
//   protect_after = "3-00:00:00"  # easy-predict: a job waiting this long gets EASY's guarantee
//
//   [priority]                    # multifactor priority (Slurm's PriorityWeight* semantics)
//   weight_age = 1000             # age factor: min(wait / max_age, 1)
//   weight_fairshare = 10000      # classic fair-share factor 2^(-UE/S)
//   weight_job_size = 0           # job cores / cluster cores (or its inverse with favor_small)
//   fairshare_mode = "classic"    # classic (2^(-UE/S)) | fairtree | drf (dominant resource share)
//   max_age = "7-00:00:00"
//   favor_small = false
//   decay_half_life = "7-00:00:00"  # usage half-life (PriorityDecayHalfLife); "0" = no decay
//   billing_per_cpu = 1.0         # billed resource-seconds per core-second (TRES billing)
//   billing_per_mem_gb = 0.0
//   billing_per_gpu = 0.0
//
//   [[qos]]                       # QoS levels; a job without --qos gets "normal" if defined
//   name = "normal"
//   priority = 0                  # feeds the QoS factor (weight_qos in [priority])
//   max_jobs_per_user = 0         # running jobs; 0 = no limit (also max_cores_per_user,
//   max_wall = "1-00:00:00"       #   max_gpus_per_user, max_jobs_per_account,
//                                 #   max_cores_per_account, max_gpus_per_account)
//   preempt = ["scavenger"]       # levels whose jobs this level's jobs may preempt
//   preempt_mode = "requeue"      # what happens to a preempted job: requeue | cancel | suspend | off
//   preempt_exempt_time = "00:10:00"  # a job running less than this is not preempted
//
//   [[pool]]                      # a partition of the nodes with per-account quotas
//   name = "gpu"
//   nodes = "gpu[1-4]"            # hostlist; omitted = every node
//   default = true                # jobs without --pool go here; at most one pool
//   [[pool.quota]]                # guaranteed: always available to the account (lent when idle);
//   account = "physics"           # max: borrowing limit (omitted = none; a key omitted = unlimited)
//   guaranteed = { cores = 16, mem = "64G", gpus = 2 }
//   max = { cores = 32, gpus = 4 }
//
//   [[account]]                   # fair-share tree; without any, each user gets 1 share under root
//   name = "physics"
//   parent = "root"               # default root
//   shares = 10                   # default 1
//   users = ["alice", "bob"]      # each with 1 share in this account
//
//   [[switch]]                    # the network, like topology.conf: leaves list nodes,
//   name = "leaf1"                # upper switches list switches
//   nodes = "n[001-032]"
//   [[switch]]
//   name = "spine"
//   switches = "leaf[1-4]"
//
//   [[node]]                      # names nodes of `locus up` and sets their features
//   names = "n[1-4]"
//   features = ["ib", "nvme"]
//
//   [profile]                     # job profiles (--profile), HDF5 files DIR/JOBID/NODE.h5
//   dir = "/shared/locus/profiles"  # written by every node daemon, read by `locus profile`:
//                                 # shared by all nodes (or one machine); default STATE/profiles
//   interval_s = 10               # sampling interval of jobs without --profile-interval
//
//   [locality]                    # data locality (docs/locality.md)
//   locality_wait_node = 3.0      # delay scheduling: seconds a job skips non-local slots
//   locality_wait_rack = 3.0      # then seconds it skips slots outside its data's racks
//   catalog = "/etc/locus/datasets.json"  # dataset catalog (JSON or TOML): dataset:NAME inputs
//   cache_dirs = ["/scratch/datasets"]    # node daemons: datasets staged on their node
//   [locality.hdfs]
//   namenode = "http://namenode:9870"     # WebHDFS base URL of the NameNode: hdfs:///PATH inputs
//   timeout_ms = 5000             # per WebHDFS request
//   cache_s = 60                  # block locations kept this long
//   user = "hdfs"                 # user.name sent to WebHDFS (simple authentication); optional
//   hosts = { "dn1.example.org" = "n1" }  # HDFS host -> Locus node, where names differ
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace locus {

struct NodeGroupConfig {
  std::vector<std::string> names;     // expanded hostlist
  std::vector<std::string> features;
};

// One [[switch]] table, like a line of Slurm's topology.conf. Validated as a tree by
// locality::buildSwitchTree (unknown children, cycles, a node under two switches).
struct SwitchConfig {
  std::string name;
  std::string nodes;     // hostlist ("n[001-032]") of the nodes directly under it
  std::string switches;  // hostlist ("leaf[1-4]") of its child switches
  int line = 0;          // line of the table in the config file, 0 when unknown (tests)
};

struct AccountConfig {
  std::string name;
  std::string parent = "root";
  uint32_t shares = 1;
  std::vector<std::string> users;
  int line = 0;
};

// One [[qos]] level. Limits of 0 mean none.
struct QosConfig {
  std::string name;
  uint32_t priority = 0;
  uint32_t max_jobs_per_user = 0, max_cores_per_user = 0, max_gpus_per_user = 0;
  uint32_t max_jobs_per_account = 0, max_cores_per_account = 0, max_gpus_per_account = 0;
  int64_t max_wall_s = 0;  // also the default time limit of its jobs
  std::vector<std::string> preempt;     // QoS levels whose jobs this level may preempt
  std::string preempt_mode = "requeue";  // requeue | cancel | suspend | off
  int64_t preempt_exempt_s = 0;         // jobs running less than this are not preempted
  int line = 0;
};

// One resource vector of a [[pool.quota]]: `{ cores = 16, mem = "64G", gpus = 2 }`.
struct QuotaResources {
  uint64_t cores = 0;
  uint64_t mem_mb = 0;
  uint64_t gpus = 0;
};

// One [[pool.quota]]: what an account is guaranteed in a pool and how far it may borrow.
struct PoolQuotaConfig {
  std::string account;
  QuotaResources guaranteed;          // unset keys: 0
  std::optional<QuotaResources> max;  // unset table: no borrowing limit
  // When `max` is given but a key in it is missing, that resource is unlimited: UINT64_MAX.
  int line = 0;
};

// One [[pool]]: a named set of nodes (like a Slurm partition) with per-account quotas.
struct PoolConfig {
  std::string name;
  std::string nodes_hostlist;       // as written; "" = every node
  std::vector<std::string> nodes;   // expanded
  bool is_default = false;          // at most one pool is the default
  uint32_t priority = 0;            // feeds the pool factor (weight_pool in [priority])
  std::optional<uint32_t> reserve_depth;  // blocked jobs reserved in this pool; unset: [scheduler]'s
  std::vector<PoolQuotaConfig> quotas;  // in file order, one per account
  int line = 0;
};

struct PriorityConfig {
  uint32_t weight_age = 1000;
  uint32_t weight_fairshare = 10000;
  uint32_t weight_job_size = 0;
  uint32_t weight_qos = 0;
  uint32_t weight_pool = 0;  // Slurm's PriorityWeightPartition: x pool priority / highest
  std::string fairshare_mode = "classic";  // classic | fairtree | drf
  int64_t max_age_s = 7 * 24 * 3600;
  bool favor_small = false;
  int64_t decay_half_life_s = 7 * 24 * 3600;
  double billing_per_cpu = 1.0;
  double billing_per_mem_gb = 0.0;
  double billing_per_gpu = 0.0;
};

// [locality] and [locality.hdfs].
struct LocalityConfig {
  int64_t wait_node_ms = 3000;  // scheduler::kDefaultLocalityWaitNodeMs
  int64_t wait_rack_ms = 3000;
  std::string catalog;                  // empty: no catalog
  std::vector<std::string> cache_dirs;  // node daemons' staged datasets
  std::string hdfs_namenode;            // empty: hdfs:///PATH inputs are refused
  int64_t hdfs_timeout_ms = 5000;
  int64_t hdfs_cache_s = 60;
  std::string hdfs_user;
  std::map<std::string, std::string> hdfs_hosts;  // HDFS host -> Locus node name
};

// [frameworks]: two-level scheduling (docs/frameworks.md).
struct FrameworksConfig {
  uint32_t failover_timeout_s = 60;   // leases held after a framework's stream drops (its own
                                      // value, when it gives one, is capped at max_failover_timeout_s)
  uint32_t max_failover_timeout_s = 3600;
  uint32_t revocation_notice_s = 10;  // between LeaseRevoked and its tasks' kill
  uint32_t offer_timeout_s = 30;      // an offer not answered by then is rescinded
  uint32_t default_filter_s = 5;      // a decline without a filter (Mesos' refuse_seconds)
};

struct Config {
  std::string listen = "127.0.0.1:6450";
  std::string state_dir;
  std::chrono::seconds node_timeout{30};
  std::chrono::milliseconds heartbeat_interval{2000};
  std::chrono::seconds kill_grace{10};
  int64_t default_time_limit_s = 0;  // 0 = unlimited
  // Service replicas' LOCUS_PORT comes from this range ([controller] service_ports = "31000-32999"),
  // unique in the cluster (emulated nodes share one host).
  uint32_t service_port_min = 31000;
  uint32_t service_port_max = 32999;
  std::vector<std::string> admins{"root"};
  // The event log (locus events) keeps this many newest events in the store; a client resuming
  // from an older one is told they are gone.
  uint64_t events_kept = 100'000;
  // ... and the newest of them in memory (~250 bytes each; never more than events_kept): a
  // reader further behind is served from the store, so memory stays small with a long history.
  uint64_t events_in_memory = 10'000;
  // Finished jobs are dropped from the controller's memory this long after they end (Slurm's
  // MinJobAge), so its memory follows the live queue, not the history; they stay in the store,
  // where `locus show`, `locus acct` and `locus wait` still find them. 0: kept in memory forever.
  int64_t min_job_age_s = 0;
  // Authentication ([controller] auth): "munge" (the default; the controller refuses to start
  // without a working munged) or "none" (requests' own user fields are trusted: unsafe).
  std::string auth = "munge";
  std::string munge_socket;  // empty: mungeSocket() ($LOCUS_MUNGE_SOCKET or munged's default)
  // Per-user rate limit on client calls, so a runaway script cannot starve the controller
  // (Slurm 23.02's rl_enable): a bucket of rpc_burst calls refilled at rpc_rate per second.
  uint32_t rpc_rate = 500;
  uint32_t rpc_burst = 5000;
  // Where the controller keeps its state ([controller] store): "sqlite" (the default, one
  // controller, DIR/locus.db) or "etcd" (etcd v3; two or more controllers elect a leader there and
  // standbys take over; docs/reliability.md). etcd_prefix names the cluster's keys;
  // etcd_max_txn_ops must not exceed the etcd server's --max-txn-ops.
  std::string store = "sqlite";
  std::vector<std::string> etcd_endpoints;
  std::string etcd_prefix = "/locus/default/";
  uint32_t etcd_max_txn_ops = 128;
  uint32_t etcd_lease_ttl_s = 3;
  std::chrono::milliseconds scheduler_interval{1000};
  std::string scheduler_policy = "easy-predict";  // firstfit | fcfs | easy | easy-predict | conservative
  uint32_t reserve_depth = 1;             // easy: how many blocked jobs get a reservation
  int64_t protect_after_s = 3 * 86400;    // easy-predict's starvation guard (Snapshot::protect_after_s)
  std::vector<NodeGroupConfig> nodes;
  PriorityConfig priority;
  std::vector<AccountConfig> accounts;  // in file order (a parent before its children)
  std::vector<SwitchConfig> switches;   // in file order
  std::vector<QosConfig> qos;           // a job without --qos gets "normal" when it is defined
  std::vector<PoolConfig> pools;        // in file order
  // [profile]: where node daemons write job profiles and `locus profile` reads them; empty:
  // "<state_dir>/profiles" (profileDir()). Must be the same path on every node (a shared
  // filesystem), like Slurm's ProfileHDF5Dir.
  std::string profile_dir;
  uint32_t profile_interval_s = 10;  // jobs without --profile-interval
  LocalityConfig locality;
  FrameworksConfig frameworks;

  // profile_dir, or state_dir + "/profiles" when it is not set; made absolute.
  std::string profileDir() const;

  // Every node name the [[node]] tables list, in order.
  std::vector<std::string> configuredNodeNames() const;
};

// Parses TOML text; `source` names the file in error messages ("locus.toml:12: unknown key ...").
Result<Config> parseConfig(std::string_view text, const std::string& source);
Result<Config> loadConfig(const std::string& path);

}  // namespace locus
