#include "nodedaemon/health_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace locus::nodedaemon {
namespace {

using namespace std::chrono_literals;
using Clock = HealthTracker::Clock;

// ---------------------------------------------------------------- HealthTracker

proto::HealthCheck check(uint32_t grace_s, uint32_t interval_s, uint32_t max_failures) {
  proto::HealthCheck c;
  c.set_http_path("/healthz");
  c.set_grace_s(grace_s);
  c.set_interval_s(interval_s);
  c.set_max_failures(max_failures);
  return c;
}

const HealthCheckKey kKey{42, 1};

TEST(HealthTrackerTest, FirstProbeWaitsForTheGracePeriod) {
  HealthTracker t;
  Clock::time_point start{};
  t.add(kKey, check(/*grace_s=*/30, /*interval_s=*/10, /*max_failures=*/3), start);
  EXPECT_EQ(t.nextDue(), start + 30s);
  EXPECT_TRUE(t.due(start).empty());
  EXPECT_TRUE(t.due(start + 29s).empty());
  EXPECT_EQ(t.due(start + 30s), std::vector<HealthCheckKey>{kKey});
}

TEST(HealthTrackerTest, LaterProbesComeOneIntervalAfterTheLastResult) {
  HealthTracker t;
  Clock::time_point start{};
  t.add(kKey, check(30, 10, 3), start);
  // Probed a little late (31 s) and took 500 ms: next at 31.5 + 10 = 41.5 s.
  t.record(kKey, {true, "HTTP 200"}, start + 31500ms);
  EXPECT_EQ(t.nextDue(), start + 41500ms);
  EXPECT_TRUE(t.due(start + 41s).empty());
  EXPECT_EQ(t.due(start + 41500ms), std::vector<HealthCheckKey>{kKey});
}

TEST(HealthTrackerTest, ZeroIntervalCountsAsOneSecond) {
  HealthTracker t;
  Clock::time_point start{};
  t.add(kKey, check(0, 0, 3), start);
  EXPECT_EQ(t.due(start), std::vector<HealthCheckKey>{kKey});
  t.record(kKey, {true, "exit 0"}, start);
  EXPECT_EQ(t.nextDue(), start + 1s);
}

TEST(HealthTrackerTest, NothingTrackedNothingDue) {
  HealthTracker t;
  EXPECT_EQ(t.nextDue(), std::nullopt);
  t.add(kKey, check(0, 1, 1), Clock::time_point{});
  t.remove(kKey);
  t.remove(kKey);  // a no-op the second time
  EXPECT_EQ(t.nextDue(), std::nullopt);
  EXPECT_TRUE(t.due(Clock::time_point{} + 1h).empty());
}

struct Step {
  bool pass;
  // The report expected after this probe: nullopt = none.
  std::optional<bool> reported_healthy;
  uint32_t reported_failures = 0;
};

struct ReportCase {
  std::string name;
  uint32_t max_failures;
  std::vector<Step> steps;
};

TEST(HealthTrackerTest, ReportsOnlyWhenTheVerdictChanges) {
  const std::vector<ReportCase> cases = {
      {"first pass reported", 3, {{true, true, 0}}},
      {"passes while healthy not reported again", 3, {{true, true, 0}, {true, {}}, {true, {}}}},
      {"failures below max not reported", 3, {{false, {}}, {false, {}}}},
      {"reaching max reported once",
       3,
       {{false, {}}, {false, {}}, {false, false, 3}, {false, {}}, {false, {}}}},
      {"unhealthy before ever healthy", 1, {{false, false, 1}, {true, true, 0}}},
      {"recovery reported",
       2,
       {{true, true, 0}, {false, {}}, {false, false, 2}, {false, {}}, {true, true, 0}}},
      {"a pass resets the failure count",
       2,
       {{true, true, 0}, {false, {}}, {true, {}}, {false, {}}, {false, false, 2}}},
      {"max_failures 0 counts as 1", 0, {{false, false, 1}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    HealthTracker t;
    Clock::time_point now{};
    t.add(kKey, check(0, 10, c.max_failures), now);
    for (size_t i = 0; i < c.steps.size(); ++i) {
      SCOPED_TRACE("probe " + std::to_string(i + 1));
      const Step& s = c.steps[i];
      std::string detail = s.pass ? "HTTP 200" : "HTTP 503 #" + std::to_string(i);
      auto report = t.record(kKey, {s.pass, detail}, now);
      now += 10s;
      ASSERT_EQ(report.has_value(), s.reported_healthy.has_value());
      if (!report) continue;
      EXPECT_EQ(report->job_id(), 42u);
      EXPECT_EQ(report->attempt(), 1u);
      EXPECT_EQ(report->healthy(), *s.reported_healthy);
      EXPECT_EQ(report->consecutive_failures(), s.reported_failures);
      EXPECT_EQ(report->detail(), detail);
    }
  }
}

TEST(HealthTrackerTest, ResultOfARemovedCheckIsDropped) {
  HealthTracker t;
  t.add(kKey, check(0, 10, 1), Clock::time_point{});
  t.remove(kKey);
  EXPECT_EQ(t.record(kKey, {false, "timeout"}, Clock::time_point{}), std::nullopt);
  EXPECT_TRUE(t.allReports().empty());
}

TEST(HealthTrackerTest, AllReportsSaysEveryVerdictAgain) {
  HealthTracker t;
  Clock::time_point now{};
  const HealthCheckKey no_result{1, 1}, undecided{2, 1}, healthy{3, 1}, unhealthy{4, 2};
  for (const auto& key : {no_result, undecided, healthy, unhealthy})
    t.add(key, check(0, 10, 2), now);
  t.record(undecided, {false, "HTTP 500"}, now);  // 1 of 2 failures: no verdict yet
  t.record(healthy, {true, "HTTP 200"}, now);
  t.record(healthy, {false, "timeout"}, now);  // still healthy, 1 failure
  t.record(unhealthy, {false, "exit 1"}, now);
  t.record(unhealthy, {false, "exit 2"}, now);

  auto reports = t.allReports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].job_id(), 3u);
  EXPECT_TRUE(reports[0].healthy());
  EXPECT_EQ(reports[0].consecutive_failures(), 1u);
  EXPECT_EQ(reports[0].detail(), "timeout");
  EXPECT_EQ(reports[1].job_id(), 4u);
  EXPECT_EQ(reports[1].attempt(), 2u);
  EXPECT_FALSE(reports[1].healthy());
  EXPECT_EQ(reports[1].consecutive_failures(), 2u);
  EXPECT_EQ(reports[1].detail(), "exit 2");

  t.remove(healthy);
  reports = t.allReports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].job_id(), 4u);
}

TEST(HealthProbeTest, TimeoutIsTheIntervalAtMostTenSeconds) {
  EXPECT_EQ(probeTimeout(check(0, 3, 1)), 3s);
  EXPECT_EQ(probeTimeout(check(0, 60, 1)), 10s);
  EXPECT_EQ(probeTimeout(check(0, 0, 1)), 1s);
}

// ---------------------------------------------------------------- probeHttp

// A socket on 127.0.0.1 and a port the kernel chose.
int loopbackSocket(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

// Answers every connection with `response` after reading the request, on a thread of its own;
// keeps the request line of the last one.
class TinyHttpServer {
 public:
  explicit TinyHttpServer(std::string response) : response_(std::move(response)) {
    listen_fd_ = loopbackSocket(&port_);
    EXPECT_EQ(listen(listen_fd_, 8), 0);
    EXPECT_EQ(pipe2(stop_pipe_, O_CLOEXEC), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~TinyHttpServer() {
    EXPECT_EQ(write(stop_pipe_[1], "x", 1), 1);
    thread_.join();
    close(listen_fd_);
    close(stop_pipe_[0]);
    close(stop_pipe_[1]);
  }
  uint16_t port() const { return port_; }
  std::string requestLine() {
    std::lock_guard lock(mu_);
    return request_line_;
  }

 private:
  void serve() {
    while (true) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) return;
      int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      std::string request;
      char buf[512];
      pollfd in{conn, POLLIN, 0};
      while (request.find("\r\n\r\n") == std::string::npos && poll(&in, 1, 5000) > 0) {
        ssize_t n = recv(conn, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard lock(mu_);
        request_line_ = request.substr(0, request.find("\r\n"));
      }
      EXPECT_EQ(send(conn, response_.data(), response_.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(response_.size()));
      close(conn);
    }
  }

  std::string response_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  int stop_pipe_[2] = {-1, -1};
  std::mutex mu_;
  std::string request_line_;  // guarded by mu_
  std::thread thread_;
};

TEST(ProbeHttpTest, StatusDecidesHealth) {
  struct Case {
    std::string response;
    bool healthy;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {"HTTP/1.0 200 OK\r\n\r\nfine", true, "HTTP 200"},
      {"HTTP/1.1 204 No Content\r\n\r\n", true, "HTTP 204"},
      {"HTTP/1.0 302 Found\r\nLocation: /\r\n\r\n", true, "HTTP 302"},
      {"HTTP/1.0 399 Odd\r\n\r\n", true, "HTTP 399"},
      {"HTTP/1.0 404 Not Found\r\n\r\n", false, "HTTP 404"},
      {"HTTP/1.0 503 Service Unavailable\r\n\r\n", false, "HTTP 503"},
      {"HTTP/1.0 199 Too Early\r\n\r\n", false, "HTTP 199"},
      {"SSH-2.0-OpenSSH_9.2\r\n", false, "bad response"},
      {"", false, "bad response"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.response);
    TinyHttpServer server(c.response);
    ProbeResult r = probeHttp("127.0.0.1", server.port(), "/healthz", 5s);
    EXPECT_EQ(r.healthy, c.healthy);
    EXPECT_EQ(r.detail, c.detail);
    EXPECT_EQ(server.requestLine(), "GET /healthz HTTP/1.0");
  }
}

TEST(ProbeHttpTest, PathGetsItsLeadingSlash) {
  TinyHttpServer server("HTTP/1.0 200 OK\r\n\r\n");
  EXPECT_TRUE(probeHttp("127.0.0.1", server.port(), "ready", 5s).healthy);
  EXPECT_EQ(server.requestLine(), "GET /ready HTTP/1.0");
}

TEST(ProbeHttpTest, ClosedPortIsRefused) {
  // Bound but not listening: the port stays ours (no one else can take it), connections get RST.
  uint16_t port = 0;
  int fd = loopbackSocket(&port);
  ProbeResult r = probeHttp("127.0.0.1", port, "/", 5s);
  close(fd);
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "connection refused");
}

TEST(ProbeHttpTest, ServerThatNeverAnswersTimesOut) {
  // Listening, never accepting: the kernel completes the connection, nobody answers.
  uint16_t port = 0;
  int fd = loopbackSocket(&port);
  ASSERT_EQ(listen(fd, 8), 0);
  auto start = std::chrono::steady_clock::now();
  ProbeResult r = probeHttp("127.0.0.1", port, "/", 200ms);
  auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "timeout");
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 3s);
}

TEST(RunProbeTest, HttpCheckFindsThePortInLocusPort) {
  TinyHttpServer server("HTTP/1.0 200 OK\r\n\r\n");
  ProbeTarget target;
  target.check = check(0, 5, 1);  // port unset
  target.environment["LOCUS_PORT"] = std::to_string(server.port());
  ProbeResult r = runProbe(target, 5s);
  EXPECT_TRUE(r.healthy);
  EXPECT_EQ(r.detail, "HTTP 200");
  EXPECT_EQ(server.requestLine(), "GET /healthz HTTP/1.0");
}

// ---------------------------------------------------------------- probeCommand

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "health_probe_test.XXXXXX").string();
    EXPECT_NE(mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Waits until `path` holds a complete line (written by a probe command); "" after 5 s.
std::string waitForLine(const std::string& path) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(path);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!content.empty() && content.back() == '\n') return content;
    std::this_thread::sleep_for(5ms);
  }
  return "";
}

// Gone, or a zombie of someone else's (an orphan's new parent reaps it in its own time).
bool deadOrZombie(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto paren = line.rfind(')');
  return paren != std::string::npos && line.size() > paren + 2 && line[paren + 2] == 'Z';
}

TEST(ProbeCommandTest, ExitStatusDecidesHealth) {
  struct Case {
    std::string cmd;
    bool healthy;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {"exit 0", true, "exit 0"},
      {"exit 3", false, "exit 3"},
      {"true", true, "exit 0"},
      {"kill -9 $$", false, "killed by signal 9"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cmd);
    ProbeResult r = probeCommand(c.cmd, {}, 5s);
    EXPECT_EQ(r.healthy, c.healthy);
    EXPECT_EQ(r.detail, c.detail);
  }
}

TEST(ProbeCommandTest, SeesExactlyTheGivenEnvironment) {
  EXPECT_EQ(
      probeCommand("test \"$PROBE_GREETING\" = hello", {{"PROBE_GREETING", "hello"}}, 5s).detail,
      "exit 0");
  EXPECT_EQ(
      probeCommand("test \"$PROBE_GREETING\" = hello", {{"PROBE_GREETING", "bye"}}, 5s).detail,
      "exit 1");
  // Nothing of the caller's environment leaks in (the test runner has a HOME).
  ASSERT_NE(getenv("HOME"), nullptr);
  EXPECT_EQ(probeCommand("test -z \"$HOME\"", {{"PROBE_GREETING", "hello"}}, 5s).detail, "exit 0");
}

TEST(ProbeCommandTest, RunsInTheGivenDirectory) {
  TempDir dir;
  CommandIdentity identity;
  identity.work_dir = dir.file("");
  EXPECT_EQ(probeCommand("touch here", {}, 5s, identity).detail, "exit 0");
  EXPECT_TRUE(std::filesystem::exists(dir.file("here")));
  identity.work_dir = dir.file("missing");
  ProbeResult r = probeCommand("true", {}, 5s, identity);
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail.rfind("cannot start: chdir", 0), 0u) << r.detail;
}

TEST(ProbeCommandTest, TimeoutKillsTheWholeGroupAndReapsTheShell) {
  TempDir dir;
  std::string pids = dir.file("pids");
  // The shell and a background child of it, both in the probe's process group.
  std::string cmd = "sleep 5 & echo $$ $! > " + pids + "; wait";
  auto start = std::chrono::steady_clock::now();
  ProbeResult r = probeCommand(cmd, {}, 200ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "timeout");
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 3s);

  std::istringstream in(waitForLine(pids));
  pid_t shell = 0, background = 0;
  ASSERT_TRUE(in >> shell >> background) << "the command did not write its pids";
  // Reaped by probeCommand, not merely killed: a zombie child of ours would still answer kill 0.
  EXPECT_EQ(::kill(shell, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  // SIGKILLed with its group; as an orphan it is reaped by whoever inherited it.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!deadOrZombie(background) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(deadOrZombie(background)) << "background child " << background << " still runs";
}

TEST(ProbeCommandTest, ProcessLeftBehindAfterAPassIsKilled) {
  TempDir dir;
  std::string pids = dir.file("pids");
  ProbeResult r = probeCommand("sleep 30 & echo $! > " + pids + "; exit 0", {}, 5s);
  EXPECT_EQ(r.detail, "exit 0");
  std::istringstream in(waitForLine(pids));
  pid_t background = 0;
  ASSERT_TRUE(in >> background);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!deadOrZombie(background) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(deadOrZombie(background)) << "background child " << background << " still runs";
}

// The agent's reaper waits for any child (wait4(-1)); it must not take a probe's shell.
TEST(ProbeCommandTest, AnyChildWaitDoesNotTakeTheProbe) {
  TempDir dir;
  std::string pid_file = dir.file("pid"), fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Open for both ends: never blocks, and keeps what we write until the shell reads it.
  int release = open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(release, 0);
  auto probe = std::async(std::launch::async, [&] {
    return probeCommand("echo $$ > " + pid_file + "; read line < " + fifo + "; exit 5", {}, 10s);
  });
  ASSERT_FALSE(waitForLine(pid_file).empty());
  int status = 0;
  // The shell runs (blocked on the fifo); an ordinary child would make this return 0.
  EXPECT_EQ(waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  ASSERT_EQ(write(release, "go\n", 3), 3);
  ProbeResult r = probe.get();
  close(release);
  EXPECT_EQ(r.detail, "exit 5");
}

// ---------------------------------------------------------------- HealthProber

TEST(HealthProberTest, ProbesOnItsThreadAndReports) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<proto::HealthReport> reports;  // guarded by mu
  std::atomic<int> probes{0};
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> probed_elsewhere{true};
  HealthProber prober(
      [&](const proto::HealthReport& r) {
        std::lock_guard lock(mu);
        reports.push_back(r);
        cv.notify_all();
      },
      [&](const ProbeTarget& target, std::chrono::milliseconds timeout) {
        if (std::this_thread::get_id() == caller) probed_elsewhere = false;
        EXPECT_EQ(timeout, 1s);
        EXPECT_EQ(target.environment.at("LOCUS_PORT"), "8080");
        ++probes;
        return ProbeResult{true, "HTTP 200"};
      });
  prober.start();
  ProbeTarget target;
  target.check = check(/*grace_s=*/0, /*interval_s=*/1, /*max_failures=*/3);
  target.environment["LOCUS_PORT"] = "8080";
  prober.add({7, 0}, target, Clock::now());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return !reports.empty(); }));
    EXPECT_EQ(reports[0].job_id(), 7u);
    EXPECT_TRUE(reports[0].healthy());
    EXPECT_EQ(reports[0].detail(), "HTTP 200");
  }
  auto again = prober.allReports();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].healthy());
  prober.remove({7, 0});
  EXPECT_TRUE(prober.allReports().empty());
  prober.stop();
  prober.stop();  // idempotent
  EXPECT_GE(probes.load(), 1);
  EXPECT_TRUE(probed_elsewhere);
}

}  // namespace
}  // namespace locus::nodedaemon
