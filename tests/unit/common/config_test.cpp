#include "common/config.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/job_spec.hpp"

namespace locus {
// Readable JobState in failure messages (found by ADL); inline so other tests may define it too.
inline void PrintTo(JobState s, std::ostream* os) { *os << toString(s); }
}  // namespace locus

namespace locus {
namespace {

using Names = std::vector<std::string>;

// Every field of a Config on one line each, so a table case can say "the default, except X" and
// a failure shows which field differs (and that no other field moved).
std::string describe(const Config& c) {
  std::ostringstream os;
  auto list = [&](const Names& v) {
    os << "[";
    for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
    os << "]";
  };
  os << "listen=" << c.listen << "\n"
     << "state_dir=" << c.state_dir << "\n"
     << "node_timeout_s=" << c.node_timeout.count() << "\n"
     << "heartbeat_interval_ms=" << c.heartbeat_interval.count() << "\n"
     << "kill_grace_s=" << c.kill_grace.count() << "\n"
     << "default_time_limit_s=" << c.default_time_limit_s << "\n"
     << "admins=";
  list(c.admins);
  os << "\nscheduler_interval_ms=" << c.scheduler_interval.count() << "\n";
  for (const auto& g : c.nodes) {
    os << "node names=";
    list(g.names);
    os << " features=";
    list(g.features);
    os << "\n";
  }
  return os.str();
}

// ---- defaults ---------------------------------------------------------------------------------

TEST(ParseConfig, EmptyTextGivesDefaults) {
  struct Case {
    const char* name;
    const char* text;
  };
  const Case cases[] = {
      {"empty file", ""},
      {"only comments and blank lines", "# locus.toml\n\n# nothing set\n"},
      {"empty sections", "[controller]\n[scheduler]\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseConfig(c.text, "locus.toml");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->listen, "127.0.0.1:6450");
    EXPECT_EQ(r->state_dir, "");
    EXPECT_EQ(r->node_timeout, std::chrono::seconds{30});
    EXPECT_EQ(r->heartbeat_interval, std::chrono::milliseconds{2000});
    EXPECT_EQ(r->kill_grace, std::chrono::seconds{10});
    EXPECT_EQ(r->default_time_limit_s, 0);  // unlimited
    EXPECT_EQ(r->admins, Names{"root"});
    EXPECT_EQ(r->scheduler_interval, std::chrono::milliseconds{1000});
    EXPECT_TRUE(r->nodes.empty());
    EXPECT_TRUE(r->configuredNodeNames().empty());
  }
}

// ---- each key ---------------------------------------------------------------------------------

TEST(ParseConfig, ReadsEachKey) {
  struct Case {
    const char* name;
    const char* text;
    std::function<void(Config&)> expect;  // applied to a default Config to get the expected one
  };
  const Case cases[] = {
      {"controller.listen", "[controller]\nlisten = \"0.0.0.0:7000\"\n",
       [](Config& c) { c.listen = "0.0.0.0:7000"; }},
      {"controller.listen with port 0", "[controller]\nlisten = \"127.0.0.1:0\"\n",
       [](Config& c) { c.listen = "127.0.0.1:0"; }},
      {"controller.state_dir", "[controller]\nstate_dir = \"/var/lib/locus\"\n",
       [](Config& c) { c.state_dir = "/var/lib/locus"; }},
      {"controller.node_timeout_s", "[controller]\nnode_timeout_s = 45\n",
       [](Config& c) { c.node_timeout = std::chrono::seconds{45}; }},
      {"controller.node_timeout_s at its minimum 1", "[controller]\nnode_timeout_s = 1\n",
       [](Config& c) { c.node_timeout = std::chrono::seconds{1}; }},
      {"controller.heartbeat_interval_ms", "[controller]\nheartbeat_interval_ms = 500\n",
       [](Config& c) { c.heartbeat_interval = std::chrono::milliseconds{500}; }},
      {"controller.heartbeat_interval_ms at its minimum 10",
       "[controller]\nheartbeat_interval_ms = 10\n",
       [](Config& c) { c.heartbeat_interval = std::chrono::milliseconds{10}; }},
      {"controller.kill_grace_s", "[controller]\nkill_grace_s = 3\n",
       [](Config& c) { c.kill_grace = std::chrono::seconds{3}; }},
      {"controller.kill_grace_s may be 0 (SIGKILL at once)", "[controller]\nkill_grace_s = 0\n",
       [](Config& c) { c.kill_grace = std::chrono::seconds{0}; }},
      // 1 day = 24 * 3600 = 86400 s
      {"default_time_limit D-HH:MM:SS", "[controller]\ndefault_time_limit = \"1-00:00:00\"\n",
       [](Config& c) { c.default_time_limit_s = 86400; }},
      // 2 h 30 min = 2 * 3600 + 30 * 60 = 9000 s
      {"default_time_limit HH:MM:SS", "[controller]\ndefault_time_limit = \"02:30:00\"\n",
       [](Config& c) { c.default_time_limit_s = 9000; }},
      // a bare number is minutes in Slurm: 90 * 60 = 5400 s
      {"default_time_limit minutes", "[controller]\ndefault_time_limit = \"90\"\n",
       [](Config& c) { c.default_time_limit_s = 5400; }},
      {"default_time_limit UNLIMITED", "[controller]\ndefault_time_limit = \"UNLIMITED\"\n",
       [](Config& c) { c.default_time_limit_s = 0; }},
      {"controller.admins", "[controller]\nadmins = [\"alice\", \"bob\"]\n",
       [](Config& c) {
         c.admins = {"alice", "bob"};
       }},
      {"controller.admins empty replaces root", "[controller]\nadmins = []\n",
       [](Config& c) { c.admins = {}; }},
      {"scheduler.interval_ms", "[scheduler]\ninterval_ms = 250\n",
       [](Config& c) { c.scheduler_interval = std::chrono::milliseconds{250}; }},
      {"dotted keys at top level", "controller.kill_grace_s = 7\nscheduler.interval_ms = 20\n",
       [](Config& c) {
         c.kill_grace = std::chrono::seconds{7};
         c.scheduler_interval = std::chrono::milliseconds{20};
       }},
      {"[[node]] names only", "[[node]]\nnames = \"n[1-3]\"\n",
       [](Config& c) {
         c.nodes = {{{"n1", "n2", "n3"}, {}}};
       }},
      {"[[node]] names and features",
       "[[node]]\nnames = \"gpu01\"\nfeatures = [\"ib\", \"nvme\"]\n",
       [](Config& c) {
         c.nodes = {{{"gpu01"}, {"ib", "nvme"}}};
       }},
      {"[[node]] zero-padded hostlist", "[[node]]\nnames = \"c[08-10]\"\n",
       [](Config& c) {
         c.nodes = {{{"c08", "c09", "c10"}, {}}};
       }},
      {"everything at once",
       "[controller]\n"
       "listen = \"10.0.0.1:6450\"\n"
       "state_dir = \"/srv/locus\"\n"
       "node_timeout_s = 60\n"
       "heartbeat_interval_ms = 1000\n"
       "kill_grace_s = 30\n"
       "default_time_limit = \"0-01:00\"\n"
       "admins = [\"ops\"]\n"
       "\n"
       "[scheduler]\n"
       "interval_ms = 5000\n"
       "\n"
       "[[node]]\n"
       "names = \"n[1-2]\"\n"
       "features = [\"ib\"]\n",
       [](Config& c) {
         c.listen = "10.0.0.1:6450";
         c.state_dir = "/srv/locus";
         c.node_timeout = std::chrono::seconds{60};
         c.heartbeat_interval = std::chrono::milliseconds{1000};
         c.kill_grace = std::chrono::seconds{30};
         c.default_time_limit_s = 3600;  // 0 days, 1 h
         c.admins = {"ops"};
         c.scheduler_interval = std::chrono::milliseconds{5000};
         c.nodes = {{{"n1", "n2"}, {"ib"}}};
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseConfig(c.text, "locus.toml");
    ASSERT_TRUE(r.ok()) << r.error().message;
    Config want;
    c.expect(want);
    EXPECT_EQ(describe(*r), describe(want));
  }
}

TEST(ParseConfig, NodeGroupsKeepFileOrder) {
  // Three [[node]] tables; configuredNodeNames() lists them in file order, each group expanded in
  // hostlist order: 2 + 1 + 3 = 6 names. "z" sorts last but comes first in the file.
  const char* text =
      "[[node]]\n"
      "names = \"z[1-2]\"\n"
      "\n"
      "[[node]]\n"
      "names = \"gpu01\"\n"
      "features = [\"gpu\"]\n"
      "\n"
      "[[node]]\n"
      "names = \"n[3,1],n2\"\n";
  auto r = parseConfig(text, "locus.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->nodes.size(), 3u);
  EXPECT_EQ(r->nodes[0].names, (Names{"z1", "z2"}));
  EXPECT_TRUE(r->nodes[0].features.empty());
  EXPECT_EQ(r->nodes[1].names, (Names{"gpu01"}));
  EXPECT_EQ(r->nodes[1].features, (Names{"gpu"}));
  EXPECT_EQ(r->nodes[2].names, (Names{"n3", "n1", "n2"}));
  EXPECT_EQ(r->configuredNodeNames(), (Names{"z1", "z2", "gpu01", "n3", "n1", "n2"}));
}

// ---- errors -----------------------------------------------------------------------------------

TEST(ParseConfig, RejectsWithKeyAndLine) {
  struct Case {
    const char* name;
    const char* text;
    const char* message;  // the whole error message
  };
  const Case cases[] = {
      // unknown keys
      {"unknown key in [controller]", "[controller]\nlisten = \"a:1\"\nlisen = \"b:2\"\n",
       "locus.toml:3: unknown key 'controller.lisen'"},
      {"unknown top-level key", "# comment\nlisten = \"a:1\"\n",
       "locus.toml:2: unknown key 'listen'"},
      {"unknown top-level table", "\n\n[controler]\nlisten = \"a:1\"\n",
       "locus.toml:3: unknown key 'controler'"},
      {"unknown key in [scheduler]", "[scheduler]\ninterval = 5\n",
       "locus.toml:2: unknown key 'scheduler.interval'"},
      {"unknown key in [[node]]", "[[node]]\nnames = \"n1\"\nfeature = [\"ib\"]\n",
       "locus.toml:3: unknown key 'node.feature'"},
      {"unknown key in the second [[node]]",
       "[[node]]\nnames = \"n1\"\n[[node]]\nnames = \"n2\"\ngpus = 4\n",
       "locus.toml:5: unknown key 'node.gpus'"},
      // wrong types
      {"string for an int", "[controller]\nnode_timeout_s = \"30\"\n",
       "locus.toml:2: key 'controller.node_timeout_s' must be an integer"},
      {"float for an int", "[scheduler]\n\ninterval_ms = 1.5\n",
       "locus.toml:3: key 'scheduler.interval_ms' must be an integer"},
      {"int for a string", "[controller]\nlisten = 6450\n",
       "locus.toml:2: key 'controller.listen' must be a string"},
      {"bool for a string", "[controller]\n\n\nstate_dir = true\n",
       "locus.toml:4: key 'controller.state_dir' must be a string"},
      {"array of ints for admins", "[controller]\nadmins = [0, 1000]\n",
       "locus.toml:2: key 'controller.admins' must be an array of strings"},
      {"a single string for admins", "[controller]\nadmins = \"root\"\n",
       "locus.toml:2: key 'controller.admins' must be an array of strings"},
      {"mixed array for features", "[[node]]\nnames = \"n1\"\nfeatures = [\"ib\", 3]\n",
       "locus.toml:3: key 'node.features' must be an array of strings"},
      {"int for node names", "[[node]]\nnames = 1\n",
       "locus.toml:2: key 'node.names' must be a string (hostlist, e.g. \"n[1-8]\")"},
      {"int for default_time_limit", "[controller]\ndefault_time_limit = 60\n",
       "locus.toml:2: key 'controller.default_time_limit' must be a string (Slurm time format)"},
      {"controller not a table", "controller = 1\n", "locus.toml:1: 'controller' must be a table"},
      {"node as a single table", "[node]\nnames = \"n1\"\n",
       "locus.toml:1: 'node' must be an array of tables ([[node]])"},
      // out of range
      {"node_timeout_s below 1", "[controller]\nnode_timeout_s = 0\n",
       "locus.toml:2: key 'controller.node_timeout_s' must be >= 1"},
      {"heartbeat_interval_ms below 10", "[controller]\nheartbeat_interval_ms = 9\n",
       "locus.toml:2: key 'controller.heartbeat_interval_ms' must be >= 10"},
      {"negative kill_grace_s", "[controller]\nkill_grace_s = -1\n",
       "locus.toml:2: key 'controller.kill_grace_s' must be >= 0"},
      {"interval_ms 0", "[scheduler]\ninterval_ms = 0\n",
       "locus.toml:2: key 'scheduler.interval_ms' must be >= 1"},
      // missing names
      {"[[node]] without names", "[controller]\n[[node]]\nfeatures = [\"ib\"]\n",
       "locus.toml:2: [[node]] needs 'names'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseConfig(c.text, "locus.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message, c.message);
  }
}

// Errors whose tail comes from another parser (Slurm formats, TOML): the prefix names the file,
// the line and, where there is one, the key.
TEST(ParseConfig, RejectsWithPrefix) {
  struct Case {
    const char* name;
    const char* text;
    const char* prefix;
  };
  const Case cases[] = {
      {"bad default_time_limit", "[controller]\ndefault_time_limit = \"1:2:3:4\"\n",
       "locus.toml:2: key 'controller.default_time_limit': "},
      {"default_time_limit with a unit", "[controller]\n\ndefault_time_limit = \"10m\"\n",
       "locus.toml:3: key 'controller.default_time_limit': "},
      {"bad hostlist", "[[node]]\nnames = \"n[3-1]\"\n", "locus.toml:2: key 'node.names': "},
      {"unclosed hostlist bracket", "[[node]]\nnames = \"n[1-3\"\n",
       "locus.toml:2: key 'node.names': "},
      {"TOML: value missing", "[controller]\nlisten =\n", "locus.toml:2: "},
      {"TOML: unterminated string", "[controller]\n\nlisten = \"a:1\n", "locus.toml:3: "},
      {"TOML: unclosed table header", "[controller\n", "locus.toml:1: "},
      {"TOML: duplicate key", "[controller]\nkill_grace_s = 1\nkill_grace_s = 2\n",
       "locus.toml:3: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseConfig(c.text, "locus.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    const std::string& msg = r.error().message;
    EXPECT_EQ(msg.rfind(c.prefix, 0), 0u) << msg;
    EXPECT_GT(msg.size(), std::string(c.prefix).size()) << "no explanation after the prefix";
  }
}

TEST(ParseConfig, SourceNamesTheFile) {
  auto r = parseConfig("[scheduler]\nintervall_ms = 1\n", "/etc/locus/locus.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/etc/locus/locus.toml:2: unknown key 'scheduler.intervall_ms'");
}

TEST(LoadConfig, MissingFileIsAnError) {
  auto r = loadConfig("/nonexistent/locus-config-test/locus.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/locus-config-test/locus.toml"), std::string::npos)
      << r.error().message;
}

// ---- job states (common/job_spec.hpp) ---------------------------------------------------------

TEST(JobState, ToStringAndBack) {
  struct Case {
    JobState state;
    const char* name;
    bool terminal;
  };
  const Case cases[] = {
      {JobState::kPending, "PENDING", false},    {JobState::kRunning, "RUNNING", false},
      {JobState::kCompleted, "COMPLETED", true}, {JobState::kFailed, "FAILED", true},
      {JobState::kCancelled, "CANCELLED", true}, {JobState::kTimeout, "TIMEOUT", true},
      {JobState::kNodeFail, "NODE_FAIL", true},  {JobState::kOutOfMemory, "OUT_OF_MEMORY", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(toString(c.state), c.name);
    EXPECT_EQ(jobStateFromString(c.name), c.state);
    EXPECT_EQ(jobStateFromString(toString(c.state)), c.state);
    EXPECT_EQ(isTerminal(c.state), c.terminal);
  }
}

TEST(JobState, FromStringAcceptsShortCodesAndAnyCase) {
  struct Case {
    const char* text;
    std::optional<JobState> state;
  };
  const Case cases[] = {
      // Slurm's squeue -t short codes
      {"PD", JobState::kPending},
      {"R", JobState::kRunning},
      {"CD", JobState::kCompleted},
      {"F", JobState::kFailed},
      {"CA", JobState::kCancelled},
      {"TO", JobState::kTimeout},
      {"NF", JobState::kNodeFail},
      {"OOM", JobState::kOutOfMemory},
      // case-insensitive, long and short
      {"pending", JobState::kPending},
      {"Running", JobState::kRunning},
      {"node_fail", JobState::kNodeFail},
      {"Out_Of_Memory", JobState::kOutOfMemory},
      {"pd", JobState::kPending},
      {"r", JobState::kRunning},
      {"cD", JobState::kCompleted},
      {"oom", JobState::kOutOfMemory},
      // not states
      {"", std::nullopt},
      {"RUN", std::nullopt},
      {"COMPLETING", std::nullopt},
      {"CG", std::nullopt},
      {"NODE FAIL", std::nullopt},
      {" RUNNING", std::nullopt},
      {"PENDING ", std::nullopt},
      {"UNKNOWN", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("'") + c.text + "'");
    EXPECT_EQ(jobStateFromString(c.text), c.state);
  }
}

}  // namespace
}  // namespace locus

namespace locus {
namespace {

TEST(ParseConfig, SchedulerPolicyAndDepth) {
  auto c = parseConfig("[scheduler]\npolicy = \"fcfs\"\nreserve_depth = 3\n", "locus.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->scheduler_policy, "fcfs");
  EXPECT_EQ(c->reserve_depth, 3u);
  auto defaults = parseConfig("", "locus.toml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->scheduler_policy, "easy-predict");
  EXPECT_EQ(defaults->reserve_depth, 1u);
  EXPECT_EQ(defaults->protect_after_s, 3 * 86400);
  auto bad = parseConfig("[scheduler]\n\npolicy = \"lottery\"\n", "locus.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("locus.toml:3"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("scheduler.policy"), std::string::npos) << bad.error().message;
}

TEST(ParseConfig, ProtectAfter) {
  auto c = parseConfig("[scheduler]\npolicy = \"easy-predict\"\nprotect_after = \"1-12:00:00\"\n", "locus.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->protect_after_s, 36 * 3600);
  auto off = parseConfig("[scheduler]\nprotect_after = \"UNLIMITED\"\n", "locus.toml");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_EQ(off->protect_after_s, 0);
  auto bad = parseConfig("[scheduler]\nprotect_after = \"soon\"\n", "locus.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("scheduler.protect_after"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace locus

// ---- [[pool]], [[pool.quota]] and QoS preemption ----------------------------------------------

namespace locus {
namespace {

constexpr uint64_t kNoLimit = UINT64_MAX;

// One line per pool and quota, so a failing case shows the whole parsed shape at once.
std::string describePools(const Config& c) {
  std::ostringstream os;
  auto res = [&](const QuotaResources& r) {
    auto n = [&](uint64_t v) { return v == kNoLimit ? std::string("inf") : std::to_string(v); };
    os << "{" << n(r.cores) << "," << n(r.mem_mb) << "," << n(r.gpus) << "}";
  };
  for (const auto& p : c.pools) {
    os << "pool " << p.name << " line=" << p.line << " hostlist='" << p.nodes_hostlist
       << "' nodes=[";
    for (size_t i = 0; i < p.nodes.size(); ++i) os << (i ? "," : "") << p.nodes[i];
    os << "] default=" << p.is_default << "\n";
    for (const auto& q : p.quotas) {
      os << "  quota " << q.account << " line=" << q.line << " guaranteed=";
      res(q.guaranteed);
      os << " max=";
      if (q.max) res(*q.max); else os << "none";
      os << "\n";
    }
  }
  return os.str();
}

TEST(ParseConfig, Pools) {
  const char* text =
      "[[pool]]\n"                                           // 1
      "name = \"cpu\"\n"                                     // 2
      "default = true\n"                                     // 3
      "\n"                                                   // 4
      "[[pool]]\n"                                           // 5
      "name = \"gpu\"\n"                                     // 6
      "nodes = \"gpu[1-3],n7\"\n"                            // 7
      "\n"                                                   // 8
      "[[pool.quota]]\n"                                     // 9
      "account = \"physics\"\n"                              // 10
      "guaranteed = { cores = 16, mem = \"64G\", gpus = 2 }\n"  // 11
      "max = { cores = 32, mem = \"128G\", gpus = 4 }\n"     // 12
      "\n"                                                   // 13
      "[[pool.quota]]\n"                                     // 14
      "account = \"chem\"\n"                                 // 15
      "guaranteed = { gpus = 1 }\n"                          // 16
      "max = { cores = 8, mem = 2048 }\n"                    // 17
      "\n"                                                   // 18
      "[[pool.quota]]\n"                                     // 19
      "account = \"bio\"\n"                                  // 20
      "max = { mem = \"512M\" }\n"                           // 21
      "\n"                                                   // 22
      "[[pool.quota]]\n"                                     // 23
      "account = \"guest\"\n";                               // 24
  auto r = parseConfig(text, "locus.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  // 64G = 64 * 1024 = 65536 MB, 128G = 131072 MB; a bare integer mem is MB (2048); keys left out
  // of `max` are unlimited, of `guaranteed` 0; no `max` table at all is "none".
  EXPECT_EQ(describePools(*r),
            "pool cpu line=1 hostlist='' nodes=[] default=1\n"
            "pool gpu line=5 hostlist='gpu[1-3],n7' nodes=[gpu1,gpu2,gpu3,n7] default=0\n"
            "  quota physics line=9 guaranteed={16,65536,2} max={32,131072,4}\n"
            "  quota chem line=14 guaranteed={0,0,1} max={8,2048,inf}\n"
            "  quota bio line=19 guaranteed={0,0,0} max={inf,512,inf}\n"
            "  quota guest line=23 guaranteed={0,0,0} max=none\n");
}

TEST(ParseConfig, PoolPriorityAndReserveDepth) {
  auto r = parseConfig("[priority]\nweight_pool = 500\n"
                       "[[pool]]\nname = \"a\"\npriority = 10\nreserve_depth = 4\n"
                       "[[pool]]\nname = \"b\"\n",
                       "locus.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->priority.weight_pool, 500u);
  ASSERT_EQ(r->pools.size(), 2u);
  EXPECT_EQ(r->pools[0].priority, 10u);
  EXPECT_EQ(r->pools[0].reserve_depth, std::optional<uint32_t>(4));
  EXPECT_EQ(r->pools[1].priority, 0u);
  EXPECT_FALSE(r->pools[1].reserve_depth.has_value());  // [scheduler] reserve_depth applies
  auto bad = parseConfig("[[pool]]\nname = \"a\"\nreserve_depth = -1\n", "locus.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("pool.reserve_depth"), std::string::npos) << bad.error().message;
}

TEST(ParseConfig, PoolsDefaultToNone) {
  auto r = parseConfig("[[node]]\nnames = \"n1\"\n", "locus.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->pools.empty());
}

TEST(ParseConfig, QosPreemption) {
  const char* text =
      "[[qos]]\n"
      "name = \"high\"\n"
      "preempt = [\"scavenger\", \"normal\"]\n"  // "normal" is built in: no table needed
      "preempt_mode = \"suspend\"\n"
      "preempt_exempt_time = \"00:10:00\"\n"
      "\n"
      "[[qos]]\n"
      "name = \"scavenger\"\n"
      "preempt_mode = \"cancel\"\n";
  auto r = parseConfig(text, "locus.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->qos.size(), 2u);
  EXPECT_EQ(r->qos[0].preempt, (Names{"scavenger", "normal"}));
  EXPECT_EQ(r->qos[0].preempt_mode, "suspend");
  EXPECT_EQ(r->qos[0].preempt_exempt_s, 600);  // 10 min = 600 s
  EXPECT_TRUE(r->qos[1].preempt.empty());
  EXPECT_EQ(r->qos[1].preempt_mode, "cancel");
  EXPECT_EQ(r->qos[1].preempt_exempt_s, 0);

  auto defaults = parseConfig("[[qos]]\nname = \"normal\"\n", "locus.toml");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_TRUE(defaults->qos[0].preempt.empty());
  EXPECT_EQ(defaults->qos[0].preempt_mode, "requeue");
  EXPECT_EQ(defaults->qos[0].preempt_exempt_s, 0);

  // A target defined later in the file and the built-in "service" are known.
  auto later = parseConfig(
      "[[qos]]\nname = \"a\"\npreempt = [\"b\", \"service\"]\n[[qos]]\nname = \"b\"\n"
      "preempt_mode = \"off\"\n",
      "locus.toml");
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(later->qos[1].preempt_mode, "off");
}

TEST(ParseConfig, RejectsBadPoolsAndPreemption) {
  struct Case {
    const char* name;
    const char* text;
    const char* message;  // the whole error message
  };
  const Case cases[] = {
      {"pool without name", "[[pool]]\nnodes = \"n1\"\n",
       "locus.toml:1: [[pool]] needs a non-empty 'name'"},
      {"pool with empty name", "[[pool]]\nname = \"\"\n",
       "locus.toml:1: [[pool]] needs a non-empty 'name'"},
      {"duplicate pool", "[[pool]]\nname = \"gpu\"\n\n[[pool]]\nname = \"gpu\"\n",
       "locus.toml:4: duplicate [[pool]] 'gpu'"},
      {"two default pools",
       "[[pool]]\nname = \"a\"\ndefault = true\n[[pool]]\nname = \"b\"\n[[pool]]\nname = \"c\"\n"
       "default = true\n",
       "locus.toml:6: more than one default [[pool]] ('a' and 'c')"},
      {"unknown key in pool", "[[pool]]\nname = \"a\"\nnode = \"n1\"\n",
       "locus.toml:3: unknown key 'pool.node'"},
      {"int for pool nodes", "[[pool]]\nname = \"a\"\nnodes = 3\n",
       "locus.toml:3: key 'pool.nodes' must be a string (hostlist, e.g. \"n[1-8]\")"},
      {"string for default", "[[pool]]\nname = \"a\"\ndefault = \"yes\"\n",
       "locus.toml:3: key 'pool.default' must be true or false"},
      {"pool as a single table", "[pool]\nname = \"a\"\n",
       "locus.toml:1: 'pool' must be an array of tables ([[pool]])"},
      {"quota without account", "[[pool]]\nname = \"a\"\n[[pool.quota]]\nmax = { cores = 1 }\n",
       "locus.toml:3: [[pool.quota]] needs 'account'"},
      {"duplicate quota account",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\n[[pool.quota]]\naccount = \"x\"\n",
       "locus.toml:5: duplicate [[pool.quota]] for account 'x' in pool 'a'"},
      {"unknown key in quota", "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\nmin = {}\n",
       "locus.toml:5: unknown key 'pool.quota.min'"},
      {"unknown key in guaranteed",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\nguaranteed = { cpus = 4 }\n",
       "locus.toml:5: unknown key 'pool.quota.guaranteed.cpus'"},
      {"unknown key in max",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\nmax = { cores = 4, gpu = 1 }\n",
       "locus.toml:5: unknown key 'pool.quota.max.gpu'"},
      {"guaranteed not a table",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\nguaranteed = 4\n",
       "locus.toml:5: key 'pool.quota.guaranteed' must be a table "
       "({ cores = 16, mem = \"64G\", gpus = 2 })"},
      {"negative cores",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\nmax = { cores = -1 }\n",
       "locus.toml:5: key 'pool.quota.max.cores' must be >= 0"},
      {"float gpus",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\nguaranteed = { gpus = 1.5 }\n",
       "locus.toml:5: key 'pool.quota.guaranteed.gpus' must be an integer"},
      {"bool mem",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\nmax = { mem = true }\n",
       "locus.toml:5: key 'pool.quota.max.mem' must be a size (\"64G\", \"512M\") or an integer "
       "of MB"},
      // 16 > 8 cores; the line is the quota's table
      {"guaranteed cores above max",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\n"
       "guaranteed = { cores = 16 }\nmax = { cores = 8 }\n",
       "locus.toml:3: quota of account 'x' in pool 'a': guaranteed cores (16) is greater than "
       "max (8)"},
      // 2G = 2048 MB > 1024 MB; cores within (4 <= unlimited)
      {"guaranteed mem above max",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\n"
       "guaranteed = { cores = 4, mem = \"2G\" }\nmax = { mem = \"1G\" }\n",
       "locus.toml:3: quota of account 'x' in pool 'a': guaranteed mem (2048) is greater than "
       "max (1024)"},
      {"guaranteed gpus above max in the second quota",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\n[[pool.quota]]\naccount = \"y\"\n"
       "guaranteed = { gpus = 2 }\nmax = { gpus = 1 }\n",
       "locus.toml:5: quota of account 'y' in pool 'a': guaranteed gpus (2) is greater than "
       "max (1)"},
      {"quota as a single table", "[[pool]]\nname = \"a\"\n[pool.quota]\naccount = \"x\"\n",
       "locus.toml:3: 'pool.quota' must be an array of tables ([[pool.quota]])"},
      // QoS preemption
      {"bad preempt_mode", "[[qos]]\nname = \"a\"\npreempt_mode = \"kill\"\n",
       "locus.toml:3: key 'qos.preempt_mode' must be one of requeue, cancel, suspend, off "
       "(got 'kill')"},
      {"preempt not an array", "[[qos]]\nname = \"a\"\npreempt = \"b\"\n",
       "locus.toml:3: key 'qos.preempt' must be an array of strings"},
      {"preempt_exempt_time not a string", "[[qos]]\nname = \"a\"\npreempt_exempt_time = 60\n",
       "locus.toml:3: key 'qos.preempt_exempt_time' must be a string (Slurm time format)"},
      {"preempts an unknown qos",
       "[[qos]]\nname = \"a\"\n\n[[qos]]\nname = \"high\"\npreempt = [\"a\", \"scavanger\"]\n",
       "locus.toml:4: qos 'high' preempts unknown qos 'scavanger'"},
      {"unknown key in qos", "[[qos]]\nname = \"a\"\npreempt_grace = 1\n",
       "locus.toml:3: unknown key 'qos.preempt_grace'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseConfig(c.text, "locus.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message, c.message);
  }
}

// Errors whose tail comes from the hostlist, memory and time parsers.
TEST(ParseConfig, RejectsBadPoolValuesWithPrefix) {
  struct Case {
    const char* name;
    const char* text;
    const char* prefix;
  };
  const Case cases[] = {
      {"bad pool hostlist", "[[pool]]\nname = \"a\"\nnodes = \"n[3-1]\"\n",
       "locus.toml:3: key 'pool.nodes': "},
      {"bad mem size",
       "[[pool]]\nname = \"a\"\n[[pool.quota]]\naccount = \"x\"\nmax = { mem = \"4X\" }\n",
       "locus.toml:5: key 'pool.quota.max.mem': "},
      {"bad preempt_exempt_time", "[[qos]]\nname = \"a\"\n\npreempt_exempt_time = \"1:2:3:4\"\n",
       "locus.toml:4: key 'qos.preempt_exempt_time': "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseConfig(c.text, "locus.toml");
    ASSERT_FALSE(r.ok());
    const std::string& msg = r.error().message;
    EXPECT_EQ(msg.rfind(c.prefix, 0), 0u) << msg;
    EXPECT_GT(msg.size(), std::string(c.prefix).size()) << "no explanation after the prefix";
  }
}

// The event log's sizes (locus events): how many the store keeps (100,000 by default) and how
// many of them memory does (10,000); each at least 1.
TEST(ParseConfig, EventLogSizes) {
  struct Case {
    std::string key;
    uint64_t Config::*field;
    uint64_t default_value;
  };
  auto d = parseConfig("", "locus.toml");
  ASSERT_TRUE(d.ok());
  for (const Case& c : {Case{"events_kept", &Config::events_kept, 100000},
                        Case{"events_in_memory", &Config::events_in_memory, 10000}}) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ((*d).*c.field, c.default_value);
    auto r = parseConfig("[controller]\n" + c.key + " = 5\n", "locus.toml");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ((*r).*c.field, 5u);
    auto zero = parseConfig("[controller]\n" + c.key + " = 0\n", "locus.toml");
    ASSERT_FALSE(zero.ok());
    EXPECT_NE(zero.error().message.find("controller." + c.key), std::string::npos) << zero.error().message;
  }
}

}  // namespace
}  // namespace locus

namespace locus {
namespace {

TEST(ParseConfig, LocalityDefaults) {
  auto c = parseConfig("", "t.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->locality.wait_node_ms, 3000);
  EXPECT_EQ(c->locality.wait_rack_ms, 3000);
  EXPECT_TRUE(c->locality.hdfs_namenode.empty());
  EXPECT_EQ(c->locality.hdfs_timeout_ms, 5000);
}

TEST(ParseConfig, Locality) {
  auto c = parseConfig(R"(
[locality]
locality_wait_node = 0.5
locality_wait_rack = 2
catalog = "/etc/locus/datasets.json"
cache_dirs = ["/scratch/a", "/scratch/b"]
[locality.hdfs]
namenode = "http://nn:9870"
timeout_ms = 250
cache_s = 0
user = "hdfs"
hosts = { "dn1.example.org" = "n1", "dn2" = "n2" }
)", "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const LocalityConfig& l = c->locality;
  EXPECT_EQ(l.wait_node_ms, 500);
  EXPECT_EQ(l.wait_rack_ms, 2000);
  EXPECT_EQ(l.catalog, "/etc/locus/datasets.json");
  EXPECT_EQ(l.cache_dirs, (std::vector<std::string>{"/scratch/a", "/scratch/b"}));
  EXPECT_EQ(l.hdfs_namenode, "http://nn:9870");
  EXPECT_EQ(l.hdfs_timeout_ms, 250);
  EXPECT_EQ(l.hdfs_cache_s, 0);
  EXPECT_EQ(l.hdfs_user, "hdfs");
  EXPECT_EQ(l.hdfs_hosts.at("dn1.example.org"), "n1");
  EXPECT_EQ(l.hdfs_hosts.at("dn2"), "n2");
}

TEST(ParseConfig, RejectsBadLocality) {
  struct Bad {
    std::string text, message;
  };
  for (const Bad& b : std::vector<Bad>{
           {"[locality]\nlocality_wait_node = -1\n", "t.toml:2: key 'locality.locality_wait_node' must be a number of seconds"},
           {"[locality]\nlocality_wait_rack = \"3s\"\n", "key 'locality.locality_wait_rack' must be a number"},
           {"[locality]\nwait_node = 1\n", "t.toml:2: unknown key 'locality.wait_node'"},
           {"[locality.hdfs]\nnamenode = \"hdfs://nn:8020\"\n", "must be the WebHDFS base, http://HOST:PORT"},
           {"[locality.hdfs]\nhosts = { dn1 = 1 }\n", "key 'locality.hdfs.hosts' must be a table of strings"},
           {"[locality.hdfs]\nport = 1\n", "unknown key 'locality.hdfs.port'"},
       }) {
    auto c = parseConfig(b.text, "t.toml");
    ASSERT_FALSE(c.ok()) << b.text;
    EXPECT_NE(c.error().message.find(b.message), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace locus

namespace locus {
namespace {

TEST(ParseConfig, Authentication) {
  auto d = parseConfig("", "t.toml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->auth, "munge");  // safe by default: the controller refuses to start without munged
  EXPECT_TRUE(d->munge_socket.empty());
  EXPECT_EQ(d->rpc_rate, 500u);
  EXPECT_EQ(d->rpc_burst, 5000u);
  auto c = parseConfig("[controller]\nauth = \"none\"\nmunge_socket = \"/run/m.sock\"\nrpc_rate = 0\nrpc_burst = 7\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->auth, "none");
  EXPECT_EQ(c->munge_socket, "/run/m.sock");
  EXPECT_EQ(c->rpc_rate, 0u);
  EXPECT_EQ(c->rpc_burst, 7u);
  for (const std::string bad : {"[controller]\nauth = \"kerberos\"\n", "[controller]\nrpc_rate = -1\n",
                                "[controller]\nrpc_burst = 0\n"}) {
    auto r = parseConfig(bad, "t.toml");
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find("t.toml:2"), std::string::npos) << r.error().message;
    }
  }
}

}  // namespace
}  // namespace locus
