// locus events: the controller's job and node state changes as they happen (event_stream.hpp).
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/event_stream.hpp"

namespace locus::cli {
namespace {

constexpr const char* kEventsUsage =
    "usage: locus events [--job ID]... [--user U] [--nodes] [--after ID] [--json]";

std::optional<uint64_t> parseId(const std::string& word, bool zero_ok) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(word.c_str(), &end, 10);
  if (word.empty() || word[0] == '-' || *end != '\0' || errno != 0 || (v == 0 && !zero_ok))
    return std::nullopt;
  return v;
}

// Ctrl-C (SIGINT) and SIGTERM end the stream cleanly: they are blocked in every thread and taken
// by one thread with sigwait, which stops the stream. Blocked before the first gRPC thread exists
// so that those threads inherit the mask.
class SignalStopper {
 public:
  explicit SignalStopper(StopSignal& stop) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this, &stop] {
      int sig = 0;
      sigwait(&set_, &sig);
      stop.stop();
    });
  }
  ~SignalStopper() {
    // Not stopped by a signal: wake the thread with one aimed at it alone.
    pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }

 private:
  sigset_t set_;
  std::thread thread_;
};

}  // namespace

int runEvents(const std::vector<std::string>& raw, const Globals& g) {
  Args args(raw);
  if (args.flag("--help") || args.flag("-h")) {
    std::puts(kEventsUsage);
    return 0;
  }
  const bool json = args.flag("--json");
  const bool nodes = args.flag("--nodes");
  auto user = args.value("--user", "-u");
  auto after = args.value("--after");
  auto jobs = args.values("--job");
  for (auto& j : args.values("-j")) jobs.push_back(j);
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (!rest.empty()) return fail("unexpected argument '" + rest.front() + "'\n" + kEventsUsage, 2);
  proto::WatchEventsRequest base;
  for (const auto& j : jobs) {
    auto id = parseId(j, false);
    if (!id) return fail("--job: invalid job id '" + j + "'", 2);
    base.add_job_ids(*id);
  }
  if (user) base.set_user(*user);
  base.set_nodes(nodes);
  std::optional<uint64_t> after_id;
  if (after) {
    after_id = parseId(*after, true);
    if (!after_id) return fail("--after: invalid event id '" + *after + "'", 2);
  }

  StopSignal stop;
  SignalStopper signals(stop);
  Status s = followEvents(
      g.controller, stop, std::chrono::system_clock::time_point::max(),
      [&](std::optional<uint64_t> position) {
        // Resume after the last id seen; the first stream starts where --after says, or now.
        proto::WatchEventsRequest req = base;
        if (position)
          req.set_after_id(*position);
        else if (after_id)
          req.set_after_id(*after_id);
        return req;
      },
      [&](const proto::Event& e) {
        if (e.kind() == "bookmark") return true;
        const std::string line = json ? eventToJson(e).dump() : eventLine(e);
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);  // a reader of a pipe sees each event as it happens
        return true;
      });
  if (!s.ok()) return fail(s.error().message);
  return 0;
}

}  // namespace locus::cli
