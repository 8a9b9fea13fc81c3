#pragma once
// A real Locus cluster for integration tests: a locus-controller on a loopback port chosen at run
// time and N locus-node daemons (emulating a small hwloc synthetic machine), each a real process
// started here and killed in the destructor. Commands run through the real `locus` CLI.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace locus::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv (argv[0] is a path), with extra environment, capturing output. Never uses a shell.
CommandResult runCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         const std::string& cwd = {});

// A command left running while the test goes on, its output in files; SIGKILLed and reaped by
// the destructor if still running.
class BackgroundCommand {
 public:
  BackgroundCommand(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                    const std::string& cwd);
  ~BackgroundCommand();
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;
  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // The result once it exits within `timeout`; nullopt while it still runs.
  std::optional<CommandResult> wait(std::chrono::milliseconds timeout);
  CommandResult finish();  // waits as long as it takes
  std::string outSoFar() const;
  std::string errSoFar() const;

 private:
  CommandResult collect(int status);
  pid_t pid_ = 0;
  std::string out_path_, err_path_;
  std::optional<CommandResult> result_;
};

// Polls `condition` every 20 ms until it is true or `timeout` passes. Returns its last value.
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

std::string readFile(const std::string& path);

// Live (not zombie) processes of this machine whose command line, its arguments joined by
// spaces, is `command_line`.
int liveProcesses(const std::string& command_line);

// The "key=value" words of `text` (a later word wins for the same key).
std::map<std::string, std::string> fieldsOf(const std::string& text);
std::string binDir();

// Two racks under one spine, r1 = n1-n3 and r2 = n4-n6, as locus.toml [[switch]] tables (for a
// six-node cluster's Options::config).
inline constexpr const char* kTwoRacksOfThree = R"(
[[switch]]
name = "r1"
nodes = "n[1-3]"
[[switch]]
name = "r2"
nodes = "n[4-6]"
[[switch]]
name = "spine"
switches = "r[1-2]"
)";

class TestCluster {
 public:
  struct Options {
    int nodes = 3;
    std::string topology = "pack:1 numa:2 core:4 pu:1";  // 8 cores in 2 NUMA domains per node
    std::string topology_xml;  // instead: every node emulates this hwloc XML (GPUs included)
    std::string config;  // extra TOML appended to the test config
    // A node silent this long is DOWN. Short, so that node-failure tests are quick; clusters that
    // load the 2 CPUs hard (dozens of busy-polling MPI ranks) need more, or a starved node daemon
    // misses its heartbeats and its jobs end NODE_FAIL.
    int node_timeout_s = 3;
    // The controller and every node daemon also serve HTTP (/metrics) on a port chosen at run
    // time: httpAddress(), nodeHttpAddress(i).
    bool http = false;
    std::vector<std::string> node_args;  // extra locus-node arguments ("--cache-dir", DIR)
    // Authentication: a private munged (its own key and socket under the cluster's directory)
    // that the controller requires credentials from; false: auth = "none".
    bool munge = true;
  };
  explicit TestCluster(Options options);
  ~TestCluster();  // stops the node daemons (SIGTERM, then SIGKILL), kills the rest, removes the temp dir

  bool startController();  // first start picks a port; later starts reuse it
  void killController();   // SIGKILL, reaped
  bool startNode(int i);   // i in [0, nodes)
  void killNode(int i);    // SIGKILL, reaped
  void signalNode(int i, int sig) const;  // e.g. SIGSTOP / SIGCONT: a hung daemon
  bool waitNodesUp(int count, std::chrono::milliseconds timeout);
  // The controller, then every node, all UP within `timeout` (and, with Options::http, the
  // controller's HTTP address known): the usual start of a test.
  bool startAll(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // `locus --controller ADDR args...`, run in the cluster's work directory.
  CommandResult locus(const std::vector<std::string>& args) const;
  // Submits; returns the job id or nullopt (the CLI's stderr goes to the test log).
  std::optional<uint64_t> submit(const std::vector<std::string>& args) const;
  nlohmann::json job(uint64_t id) const;         // locus show --json
  nlohmann::json jobs(const std::string& state) const;  // locus queue --state S --json
  bool waitTerminal(const std::vector<uint64_t>& ids, std::chrono::seconds timeout) const;

  const std::string& dir() const { return dir_; }        // temp root
  const std::string& workDir() const { return work_; }   // jobs' working directory
  std::string nodeName(int i) const { return "n" + std::to_string(i + 1); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // HOST:PORT of the controller's and node i's HTTP server (Options::http), from the http.addr
  // each writes once it listens; empty when there is none.
  std::string httpAddress() const;
  std::string nodeHttpAddress(int i) const;
  pid_t controllerPid() const { return controller_pid_; }
  pid_t nodePid(int i) const { return node_pids_[i]; }
  // Waits for node daemon i to exit on its own (after SIGQUIT, say) and reaps it.
  bool waitNodeExit(int i, std::chrono::milliseconds timeout);
  // The private munged's socket (Options::munge); every daemon and CLI run here is given it.
  const std::string& mungeSocket() const { return munge_socket_; }

 private:
  pid_t spawn(const std::vector<std::string>& argv, const std::string& log);
  Options options_;
  std::string dir_, work_, config_path_;
  int port_ = 0;
  pid_t controller_pid_ = 0;
  pid_t munged_pid_ = 0;
  std::string munge_socket_;
  std::vector<pid_t> node_pids_;
};

}  // namespace locus::testing
