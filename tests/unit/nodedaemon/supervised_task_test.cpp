// The spool files between the node daemon and its task supervisors (supervised_task.hpp), and the
// supervisor program itself run on its own (no daemon): it starts the task, records its end, and
// kills it when the daemon's alive file goes stale.
#include "nodedaemon/supervised_task.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace locus::nodedaemon {
namespace {

namespace fs = std::filesystem;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename Pred>
bool waitUntil(Pred pred, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

TEST(SupervisedSpec, RoundTripsEveryFieldWhateverBytesTheValuesHold) {
  SupervisedSpec spec;
  spec.task.program = "/spool/jobs/7.1.sh";
  spec.task.args = {"first arg", "", "line\nbreak"};
  spec.task.environment = {{"MULTI", "a\nb 12\n"}, {"EMPTY", ""}, {"EQ", "x=y"}};
  spec.task.work_dir = "/home/alice/run dir";
  spec.task.stdout_path = "/home/alice/out";
  spec.task.stderr_path = "/home/alice/err";
  spec.task.cpus = {0, 3, 17};
  spec.task.mem_nodes = {1};
  spec.task.cgroup_procs = {"/sys/fs/cgroup/x/cgroup.procs"};
  spec.task.pid_file = "/spool/jobs/7.1.pid";
  spec.task.switch_user = true;
  spec.task.uid = 1001;
  spec.task.gid = 100;
  spec.alive_file = "/spool/alive";
  spec.started = 1796633978;
  spec.launch = std::string("\0binary\nlaunch\xff", 15);
  auto back = decodeSpec(encodeSpec(spec));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->task.program, spec.task.program);
  EXPECT_EQ(back->task.args, spec.task.args);
  EXPECT_EQ(back->task.environment, spec.task.environment);
  EXPECT_EQ(back->task.work_dir, spec.task.work_dir);
  EXPECT_EQ(back->task.stdout_path, spec.task.stdout_path);
  EXPECT_EQ(back->task.stderr_path, spec.task.stderr_path);
  EXPECT_EQ(back->task.cpus, spec.task.cpus);
  EXPECT_EQ(back->task.mem_nodes, spec.task.mem_nodes);
  EXPECT_EQ(back->task.cgroup_procs, spec.task.cgroup_procs);
  EXPECT_EQ(back->task.pid_file, spec.task.pid_file);
  EXPECT_TRUE(back->task.switch_user);
  EXPECT_FALSE(back->task.fs_as_user);
  EXPECT_EQ(back->task.uid, 1001u);
  EXPECT_EQ(back->task.gid, 100u);
  EXPECT_EQ(back->alive_file, spec.alive_file);
  EXPECT_EQ(back->started, spec.started);
  EXPECT_EQ(back->launch, spec.launch);
}

TEST(SupervisedSpec, DamagedSpecsAreRefused) {
  SupervisedSpec spec;
  spec.task.program = "/bin/true";
  const std::string good = encodeSpec(spec);
  // Cut short: what was written whole is read (a supervisor may be appending), the rest not.
  auto cut = decodeSpec(good.substr(0, good.size() - 3));
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->task.program, "/bin/true");
  EXPECT_FALSE(decodeSpec("program 99\n/bin/true\n").ok());       // length past the end
  EXPECT_FALSE(decodeSpec("uid 3\nabc\n").ok());                  // not a number
  EXPECT_FALSE(decodeSpec("color 3\nred\n").ok());                // unknown field
  EXPECT_FALSE(decodeSpec("env 3\nabc\nprogram 1\nx\n").ok());    // env without '='
  EXPECT_FALSE(decodeSpec("").ok());                              // no program
}

TEST(SupervisorState, StartedThenEndedAndAHalfWrittenLineIsIgnored) {
  SupervisedExit e{.wait_status = 3 << 8, .cpu_time_s = 1.25, .max_rss_kb = 4096, .fenced = true};
  // As the supervisor appends them to a spec, read back through it.
  SupervisedSpec spec;
  spec.task.program = "/bin/true";
  const std::string head = encodeSpec(spec);
  auto lines = [&](const std::string& text) {
    auto decoded = decodeSpec(text);
    EXPECT_TRUE(decoded.ok());
    return decoded.ok() ? decoded->state : std::vector<std::string>{};
  };
  const std::string started = head + encodeStarted(41, 42);
  SupervisorState only_started = decodeState(lines(started));
  EXPECT_EQ(only_started.supervisor, 41);
  EXPECT_EQ(only_started.task, 42);
  EXPECT_FALSE(only_started.ended);
  const std::string ended = encodeEnded(e);
  EXPECT_FALSE(decodeState(lines(started + ended.substr(0, ended.size() - 1))).ended);  // cut short
  SupervisorState both = decodeState(lines(started + ended));
  ASSERT_TRUE(both.ended);
  EXPECT_EQ(both.task, 42);
  EXPECT_EQ(both.ended->wait_status, e.wait_status);
  EXPECT_DOUBLE_EQ(both.ended->cpu_time_s, 1.25);
  EXPECT_EQ(both.ended->max_rss_kb, 4096u);
  EXPECT_TRUE(both.ended->fenced);
  EXPECT_FALSE(decodeState({"ended cpu_time_s=1"}).ended);  // no status: not an end
  EXPECT_EQ(decodeState({}).supervisor, 0);
}

class Supervisor : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/locus-supervise-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/jobs");
    files_ = taskFiles(dir_ + "/jobs", 7, 0);
  }
  void TearDown() override {
    if (supervisor_ > 0) {
      kill(supervisor_, SIGKILL);
      waitpid(supervisor_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Writes the spec for `/bin/sh -c script` and starts locus-supervise; returns its first line.
  std::string start(const std::string& script) {
    SupervisedSpec spec;
    spec.task.program = "/bin/sh";
    spec.task.args = {"-c", script};
    spec.task.work_dir = dir_;
    spec.task.stdout_path = dir_ + "/out";
    spec.alive_file = dir_ + "/alive";
    EXPECT_TRUE(writeWholeFile(files_.spec(), encodeSpec(spec)).ok());
    const int out = spawn();
    std::string line;
    char c;
    while (read(out, &c, 1) == 1 && c != '\n') line += c;
    close(out);
    return line;
  }
  // Starts locus-supervise on the spec already written; returns the read end of its stdout.
  int spawn() {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    supervisor_ = fork();
    if (supervisor_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      const std::string program = LOCUS_SUPERVISE;
      execl(program.c_str(), program.c_str(), files_.base.c_str(), nullptr);
      _exit(126);
    }
    close(out[1]);
    return out[0];
  }
  int supervisorStatus() {
    int status = -1;
    waitpid(supervisor_, &status, 0);
    supervisor_ = 0;
    return status;
  }

  std::string dir_;
  TaskFiles files_;
  pid_t supervisor_ = 0;
};

TEST_F(Supervisor, RecordsTheTasksEndAndItsOwnPid) {
  ASSERT_TRUE(writeAliveFile(dir_ + "/alive", std::chrono::seconds(30)).ok());
  const std::string line = start("echo hello; exit 5");
  ASSERT_EQ(line.rfind("started ", 0), 0u) << line;
  const pid_t supervisor = supervisor_;
  const int status = supervisorStatus();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  SupervisorState state = decodeState(decodeSpec(readFile(files_.spec()))->state);
  ASSERT_TRUE(state.ended);
  EXPECT_TRUE(WIFEXITED(state.ended->wait_status));
  EXPECT_EQ(WEXITSTATUS(state.ended->wait_status), 5);
  EXPECT_FALSE(state.ended->fenced);
  EXPECT_EQ(readFile(dir_ + "/out"), "hello\n");
  EXPECT_EQ(state.supervisor, supervisor);
  EXPECT_EQ(state.task, std::stoi(line.substr(8)));
}

TEST_F(Supervisor, ALaunchFailureIsToldAndNothingIsRecorded) {
  ASSERT_TRUE(writeAliveFile(dir_ + "/alive", std::chrono::seconds(30)).ok());
  SupervisedSpec spec;
  spec.task.program = "/bin/true";
  spec.task.work_dir = dir_ + "/no-such-dir";
  spec.task.stdout_path = dir_ + "/out";
  spec.alive_file = dir_ + "/alive";
  ASSERT_TRUE(writeWholeFile(files_.spec(), encodeSpec(spec)).ok());
  const int out = spawn();
  std::string said;
  char buf[256];
  for (ssize_t n; (n = read(out, buf, sizeof buf)) > 0;) said.append(buf, static_cast<size_t>(n));
  close(out);
  EXPECT_NE(said.find("error cannot chdir to the working directory"), std::string::npos) << said;
  EXPECT_EQ(WEXITSTATUS(supervisorStatus()), 127);
  EXPECT_TRUE(decodeSpec(readFile(files_.spec()))->state.empty());
}

TEST_F(Supervisor, KillsItsTaskWhenTheDaemonGoesSilent) {
  ASSERT_TRUE(writeAliveFile(dir_ + "/alive", std::chrono::milliseconds(600)).ok());
  const std::string line = start("exec sleep 300");
  ASSERT_EQ(line.rfind("started ", 0), 0u) << line;
  const pid_t task = std::stoi(line.substr(8));
  // Alive while the file is rewritten...
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(writeAliveFile(dir_ + "/alive", std::chrono::milliseconds(600)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(kill(task, 0), 0) << "killed while the daemon was alive";
  // ... and killed once it is not.
  const int status = supervisorStatus();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::optional<SupervisedExit> e = decodeState(decodeSpec(readFile(files_.spec()))->state).ended;
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->fenced);
  EXPECT_TRUE(WIFSIGNALED(e->wait_status) && WTERMSIG(e->wait_status) == SIGKILL);
}

TEST_F(Supervisor, ItsTaskDiesWithIt) {
  ASSERT_TRUE(writeAliveFile(dir_ + "/alive", std::chrono::seconds(30)).ok());
  const std::string line = start("exec sleep 300");
  ASSERT_EQ(line.rfind("started ", 0), 0u) << line;
  const pid_t task = std::stoi(line.substr(8));
  kill(supervisor_, SIGKILL);
  supervisorStatus();
  EXPECT_TRUE(waitUntil(
      [&] {
        const std::string stat = readFile("/proc/" + std::to_string(task) + "/stat");
        return stat.empty() || stat.find(") Z") != std::string::npos;
      },
      std::chrono::seconds(10)));
}

}  // namespace
}  // namespace locus::nodedaemon
