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
  EXPECT_EQ(defaults->scheduler_policy, "easy");
  EXPECT_EQ(defaults->reserve_depth, 1u);
  auto bad = parseConfig("[scheduler]\n\npolicy = \"lottery\"\n", "locus.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("locus.toml:3"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("scheduler.policy"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace locus
