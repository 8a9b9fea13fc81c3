#include "tests/integration/test_cluster.hpp"

#include "common/private_munged.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace locus::testing {
namespace fs = std::filesystem;

std::string binDir() { return LOCUS_BIN_DIR; }

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

namespace {
std::vector<std::string> currentEnvironment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> cStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}
}  // namespace

CommandResult runCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env, const std::string& cwd) {
  BackgroundCommand command(argv, env, cwd);
  return command.finish();
}

int liveProcesses(const std::string& command_line) {
  int found = 0;
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string base = std::string("/proc/") + e->d_name;
    std::string cmd = readFile(base + "/cmdline");
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    if (cmd != command_line) continue;
    // /proc/PID/stat: "pid (comm) state ..."; comm may hold spaces, the state follows its ')'.
    const std::string stat = readFile(base + "/stat");
    const size_t close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z') ++found;
  }
  closedir(proc);
  return found;
}

std::map<std::string, std::string> fieldsOf(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream words(text);
  std::string w;
  while (words >> w)
    if (auto eq = w.find('='); eq != std::string::npos) out[w.substr(0, eq)] = w.substr(eq + 1);
  return out;
}

BackgroundCommand::BackgroundCommand(const std::vector<std::string>& argv,
                                     const std::map<std::string, std::string>& env, const std::string& cwd) {
  char out_tmpl[] = "/tmp/locus-test-out-XXXXXX";
  char err_tmpl[] = "/tmp/locus-test-err-XXXXXX";
  int out_fd = mkstemp(out_tmpl);
  int err_fd = mkstemp(err_tmpl);
  out_path_ = out_tmpl;
  err_path_ = err_tmpl;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = currentEnvironment(env);
  auto cargs = cStrings(args);
  auto cenv = cStrings(envs);
  if (posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, cargs.data(), cenv.data()) != 0) pid_ = 0;
  posix_spawn_file_actions_destroy(&actions);
  close(out_fd);
  close(err_fd);
}

BackgroundCommand::~BackgroundCommand() {
  if (pid_ > 0 && !result_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  unlink(out_path_.c_str());
  unlink(err_path_.c_str());
}

void BackgroundCommand::signal(int sig) const {
  if (pid_ > 0 && !result_) kill(pid_, sig);
}

std::string BackgroundCommand::outSoFar() const { return readFile(out_path_); }
std::string BackgroundCommand::errSoFar() const { return readFile(err_path_); }

CommandResult BackgroundCommand::finish() {
  if (result_) return *result_;
  int status = 0;
  if (pid_ <= 0 || waitpid(pid_, &status, 0) != pid_) {
    result_ = CommandResult{};  // could not start (exit_code -1)
    return *result_;
  }
  return collect(status);
}

CommandResult BackgroundCommand::collect(int status) {
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = readFile(out_path_);
  r.err = readFile(err_path_);
  result_ = r;
  return r;
}

std::optional<CommandResult> BackgroundCommand::wait(std::chrono::milliseconds timeout) {
  if (result_ || pid_ <= 0) return result_;
  int status = 0;
  bool exited = waitUntil([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!exited) return std::nullopt;
  return collect(status);
}

TestCluster::TestCluster(Options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/locus-it-XXXXXX";
  dir_ = mkdtemp(tmpl);
  work_ = dir_ + "/work";
  fs::create_directories(work_);
  fs::create_directories(dir_ + "/logs");
  config_path_ = dir_ + "/locus.toml";
  if (options_.munge) {
    // The cluster's own munged; the daemons and CLI runs started from here inherit its socket.
    auto munged = startPrivateMunged(dir_ + "/munge");
    if (munged.ok()) {
      munged_pid_ = munged->pid;
      munge_socket_ = munged->socket;
      setenv("LOCUS_MUNGE_SOCKET", munge_socket_.c_str(), 1);
    } else {
      std::fprintf(stderr, "test cluster: %s\n", munged.error().message.c_str());
    }
  }
  std::ofstream(config_path_) << "[controller]\n"
                              << (options_.munge ? "" : "auth = \"none\"\n")
                              << "kill_grace_s = 1\n"
                                 "node_timeout_s = " << options_.node_timeout_s << "\n"
                                 "heartbeat_interval_ms = 300\n"
                              << options_.config << "\n";
  node_pids_.assign(options_.nodes, 0);
}

TestCluster::~TestCluster() {
  // Node daemons get SIGTERM first: they kill their tasks and remove their cgroups, which a
  // SIGKILL would leave behind in /sys/fs/cgroup. Whatever is still running after that is killed.
  for (pid_t pid : node_pids_)
    if (pid > 0) kill(pid, SIGTERM);
  for (pid_t& pid : node_pids_) {
    if (pid <= 0) continue;
    const pid_t mine = pid;
    if (waitUntil([mine] { return waitpid(mine, nullptr, WNOHANG) == mine; }, std::chrono::seconds(5)))
      pid = 0;
  }
  for (int i = 0; i < options_.nodes; ++i) killNode(i);
  killController();
  if (munged_pid_ > 0) {
    kill(munged_pid_, SIGTERM);
    waitpid(munged_pid_, nullptr, 0);
  }
  // LOCUS_TEST_KEEP=1 keeps the logs and state of a failed run for a look.
  if (const char* keep = std::getenv("LOCUS_TEST_KEEP"); keep && *keep == '1') {
    std::fprintf(stderr, "kept test cluster state in %s\n", dir_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

pid_t TestCluster::spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args = argv;
  auto cargs = cStrings(args);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : 0;
}

bool TestCluster::startController() {
  std::string addr_file = dir_ + "/controller/controller.addr";
  std::error_code ec;
  fs::remove(addr_file, ec);
  std::vector<std::string> argv{binDir() + "/locus-controller", "--listen",
                                "127.0.0.1:" + std::to_string(port_), "--state", dir_ + "/controller",
                                "--config", config_path_};
  if (options_.http) argv.insert(argv.end(), {"--http", "127.0.0.1:0"});
  controller_pid_ = spawn(argv, dir_ + "/logs/controller.log");
  if (controller_pid_ == 0) return false;
  bool up = waitUntil([&] { return fs::exists(addr_file); }, std::chrono::seconds(20));
  if (!up) return false;
  std::string addr = readFile(addr_file);
  port_ = std::stoi(addr.substr(addr.rfind(':') + 1));
  return true;
}

void TestCluster::killController() {
  if (controller_pid_ > 0) {
    kill(controller_pid_, SIGKILL);
    waitpid(controller_pid_, nullptr, 0);
    controller_pid_ = 0;
  }
}

bool TestCluster::startNode(int i) {
  std::string name = nodeName(i);
  const bool xml = !options_.topology_xml.empty();
  std::vector<std::string> argv{binDir() + "/locus-node", "--controller", address(), "--name", name, "--state",
                                dir_ + "/nodes/" + name, xml ? "--topology-xml" : "--topology",
                                xml ? options_.topology_xml : options_.topology};
  if (options_.http) argv.insert(argv.end(), {"--http", "127.0.0.1:0"});
  argv.insert(argv.end(), options_.node_args.begin(), options_.node_args.end());
  node_pids_[i] = spawn(argv, dir_ + "/logs/node-" + name + ".log");
  return node_pids_[i] != 0;
}

std::string TestCluster::httpAddress() const {
  std::string address;
  std::ifstream(dir_ + "/controller/http.addr") >> address;
  return address;
}

std::string TestCluster::nodeHttpAddress(int i) const {
  std::string address;
  std::ifstream(dir_ + "/nodes/" + nodeName(i) + "/http.addr") >> address;
  return address;
}

void TestCluster::signalNode(int i, int sig) const {
  if (node_pids_[i] > 0) kill(node_pids_[i], sig);
}

bool TestCluster::startAll(std::chrono::milliseconds timeout) {
  if (!startController()) return false;
  for (int i = 0; i < options_.nodes; ++i)
    if (!startNode(i)) return false;
  return waitNodesUp(options_.nodes, timeout) && (!options_.http || !httpAddress().empty());
}

bool TestCluster::waitNodeExit(int i, std::chrono::milliseconds timeout) {
  const pid_t pid = node_pids_[i];
  if (pid <= 0) return true;
  if (!waitUntil([pid] { return waitpid(pid, nullptr, WNOHANG) == pid; }, timeout)) return false;
  node_pids_[i] = 0;
  return true;
}

void TestCluster::killNode(int i) {
  if (node_pids_[i] > 0) {
    kill(node_pids_[i], SIGKILL);
    waitpid(node_pids_[i], nullptr, 0);
    node_pids_[i] = 0;
  }
}

bool TestCluster::waitNodesUp(int count, std::chrono::milliseconds timeout) {
  return waitUntil(
      [&] {
        auto r = locus({"nodes", "--json"});
        if (r.exit_code != 0) return false;
        int up = 0;
        auto parsed = nlohmann::json::parse(r.out);
        for (const auto& n : parsed["nodes"])
          if (n["state"] == "UP") ++up;
        return up >= count;
      },
      timeout);
}

CommandResult TestCluster::locus(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{binDir() + "/locus", "--controller", address()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::map<std::string, std::string> env;
  if (!munge_socket_.empty()) env["LOCUS_MUNGE_SOCKET"] = munge_socket_;
  return runCommand(argv, env, work_);
}

std::optional<uint64_t> TestCluster::submit(const std::vector<std::string>& args) const {
  std::vector<std::string> full{"submit", "--parsable"};
  full.insert(full.end(), args.begin(), args.end());
  auto r = locus(full);
  if (r.exit_code != 0) return std::nullopt;
  return std::stoull(r.out);
}

nlohmann::json TestCluster::job(uint64_t id) const {
  auto r = locus({"show", std::to_string(id), "--json"});
  if (r.exit_code != 0) return nullptr;
  return nlohmann::json::parse(r.out);
}

nlohmann::json TestCluster::jobs(const std::string& state) const {
  auto r = locus({"queue", "--state", state, "--json"});
  if (r.exit_code != 0) return nlohmann::json::array();
  return nlohmann::json::parse(r.out)["jobs"];
}

bool TestCluster::waitTerminal(const std::vector<uint64_t>& ids, std::chrono::seconds timeout) const {
  std::vector<std::string> args{"wait", "--quiet", "--timeout", std::to_string(timeout.count())};
  for (uint64_t id : ids) args.push_back(std::to_string(id));
  auto r = locus(args);
  // 0: all completed; 1: all ended, some not COMPLETED; 124 timeout; 2 error.
  return r.exit_code == 0 || r.exit_code == 1;
}

}  // namespace locus::testing
