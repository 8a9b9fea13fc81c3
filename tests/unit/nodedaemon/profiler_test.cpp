// Job profiles on a node: /proc parsing and process-tree usage (process_usage.hpp), and the
// Profiler writing a real child process's samples into its HDF5 file (profiler.hpp).
#include "nodedaemon/profiler.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "nodedaemon/process_usage.hpp"
#include "profile/profile_reader.hpp"

namespace locus::nodedaemon {
namespace {

TEST(ParseProcStat, Lines) {
  struct Case {
    const char* name;
    const char* line;
    std::optional<ProcStat> want;  // nullopt: malformed
  };
  // proc(5): pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss ...
  // ProcStat: pid, ppid, pgid, utime, stime, cutime, cstime, start_ticks, rss_pages.
  const Case cases[] = {
      {"plain",
       "1234 (python3) R 1000 1234 1234 0 -1 4194304 100 0 0 0 250 30 7 3 20 0 1 0 5555 123456 "
       "51200 1 2 3\n",
       ProcStat{1234, 1000, 1234, 250, 30, 7, 3, 5555, 51200}},
      {"comm with spaces and parentheses",
       "77 (a (b) c) S 1 77 77 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 99 0 10 0\n",
       ProcStat{77, 1, 77, 1, 2, 3, 4, 99, 10}},
      {"truncated", "77 (x) S 1 77", std::nullopt},
      {"no comm", "77 x S 1 77 77 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 99 0 10 0", std::nullopt},
      {"empty (the process ended)", "", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto s = parseProcStat(c.line);
    ASSERT_EQ(s.has_value(), c.want.has_value());
    if (!c.want) continue;
    EXPECT_EQ(s->pid, c.want->pid);
    EXPECT_EQ(s->ppid, c.want->ppid);
    EXPECT_EQ(s->pgid, c.want->pgid);
    EXPECT_EQ(s->utime, c.want->utime);
    EXPECT_EQ(s->stime, c.want->stime);
    EXPECT_EQ(s->cutime, c.want->cutime);
    EXPECT_EQ(s->cstime, c.want->cstime);
    EXPECT_EQ(s->start_ticks, c.want->start_ticks);
    EXPECT_EQ(s->rss_pages, c.want->rss_pages);
  }
}

TEST(ParseProcIo, Keys) {
  ProcIo io = parseProcIo(
      "rchar: 100\nwchar: 200\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\n"
      "cancelled_write_bytes: 0\n");
  EXPECT_EQ(io.read_bytes, 4096u);
  EXPECT_EQ(io.write_bytes, 8192u);
  EXPECT_EQ(parseProcIo("").read_bytes, 0u);
}

// A child in its own process group that touches `mb` MiB, forks a grandchild that does the
// same (the tree is summed), then spins until killed.
pid_t spawnLoad(size_t mb) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  setpgid(0, 0);
  auto touch = [&] {
    std::vector<char> mem(mb << 20);
    volatile char* pages = mem.data();  // stores the optimizer must keep
    for (size_t i = 0; i < mem.size(); i += 4096) pages[i] = 1;
    volatile unsigned long spin = 0;
    while (true) spin = spin + 1;
  };
  if (fork() == 0) touch();
  touch();
  _exit(0);
}

void stopLoad(pid_t pid) {
  ::kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST(ProcessTable, SumsTheTreeOfATask) {
  pid_t pid = spawnLoad(32);
  ASSERT_GT(pid, 0);
  std::optional<TreeUsage> u;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // Both processes have touched their 32 MiB.
  while (std::chrono::steady_clock::now() < deadline) {
    u = ProcessTable::scan().usage(pid);
    if (u && u->processes == 2 && u->rss_mb >= 64) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stopLoad(pid);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->processes, 2u);
  EXPECT_GE(u->rss_mb, 64.0);
  EXPECT_LT(u->rss_mb, 128.0);
  EXPECT_GT(u->age_s, 0.0);
  EXPECT_GE(u->cpu_s, 0.0);
  EXPECT_FALSE(ProcessTable::scan().usage(pid));  // gone
}

TEST(Profiler, WritesSamplesEveryIntervalAndClosesOnFinish) {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("locus-profiler-test-" + std::to_string(getpid()));
  pid_t pid = spawnLoad(16);
  ASSERT_GT(pid, 0);
  Profiler profiler(
      "n1",
      [pid] {
        return std::vector<ProfiledTask>{{7, "batch", 0, pid}};
      },
      dir + "/no-such-libnvidia-ml.so.1");
  profiler.start();
  ProfileJob job;
  job.attempt = 0;
  job.gpu = true;  // asked for, but there is no NVML here
  job.interval = std::chrono::seconds(1);
  job.dir = dir;
  profiler.enable(7, job);
  profiler.enable(7, job);  // a repeat (a step of the same attempt): no new file
  const std::string path = Profiler::path(dir, 7, "n1");
  EXPECT_EQ(path, dir + "/7/n1.h5");
  size_t samples = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (samples < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto read = profile::readProfiles(path);
    if (read.ok() && !read->front().tasks.empty()) samples = read->front().tasks[0].samples.size();
  }
  profiler.finish(7);
  stopLoad(pid);
  auto read = profile::readProfiles(path);
  ASSERT_TRUE(read.ok()) << read.error().message;
  const profile::NodeProfile& p = read->front();
  EXPECT_EQ(p.job_id, 7u);
  EXPECT_EQ(p.node, "n1");
  EXPECT_EQ(p.interval_s, 1u);
  EXPECT_EQ(p.gpu, "unavailable");
  ASSERT_EQ(p.tasks.size(), 1u);
  const auto& s = p.tasks[0].samples;
  ASSERT_GE(s.size(), 3u);
  for (size_t i = 1; i < s.size(); ++i) {
    EXPECT_NEAR(s[i].time - s[i - 1].time, 1.0, 0.5) << i;
    EXPECT_GE(s[i].rss_mb, 32.0) << i;
    // Two spinning processes on a machine others share: well above one idle process.
    EXPECT_GT(s[i].cpu_percent, 20.0) << i;
    EXPECT_FALSE(s[i].gpu_util_percent);
  }
  // Closed: no sample is added any more, and enabling the finished attempt again does nothing.
  profiler.enable(7, job);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(profile::readProfiles(path)->front().tasks[0].samples.size(), s.size());
  // A job that ends before its first sample still leaves its file, closed and empty.
  job.interval = std::chrono::seconds(60);
  profiler.enable(8, job);
  profiler.finish(8);
  auto empty = profile::readProfiles(Profiler::path(dir, 8, "n1"));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->front().job_id, 8u);
  EXPECT_EQ(empty->front().interval_s, 60u);
  EXPECT_TRUE(empty->front().tasks.empty());
  profiler.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace locus::nodedaemon
