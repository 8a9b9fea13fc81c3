#include "cli/event_stream.hpp"

#include <algorithm>
#include <cstdio>

#include "common/time_util.hpp"

namespace locus::cli {

Status followEvents(
    const std::string& address, StopSignal& stop, std::chrono::system_clock::time_point deadline,
    const std::function<proto::WatchEventsRequest(std::optional<uint64_t> position)>& request,
    const std::function<bool(const proto::Event&)>& on_event) {
  using clock = std::chrono::system_clock;
  std::optional<uint64_t> position;
  bool ever_connected = false;
  bool told_lost = false;  // "lost the controller" said once per outage, not once per retry
  std::chrono::milliseconds delay = kFirstReconnectDelay;
  while (!stop.stopped()) {
    bool connected = false;
    // A new channel for every stream: a call on a channel whose connection was lost and came
    // back may never see its replies (observed with Debian's gRPC 1.51: the reply reaches the
    // socket, the blocked Read never returns).
    Client client(address);
    Status s = client.watchEvents(request(position), stop, deadline, [&](const proto::Event& e) {
      if (!connected) {
        connected = ever_connected = true;
        delay = kFirstReconnectDelay;
        if (told_lost) std::fprintf(stderr, "locus: reconnected to the controller\n");
        told_lost = false;
      }
      if (e.kind() != "current") position = e.id();
      return on_event(e);
    });
    if (s.ok() || stop.stopped()) return {};
    // Only a stream that was open is worth another try: a controller that was never reached, or
    // a request it refused, is an answer.
    const bool retry = ever_connected && s.error().code == ErrorCode::kUnavailable &&
                       s.error().message != "timed out";
    if (!retry) return s;
    if (!told_lost) {
      std::fprintf(stderr, "locus: %s; reconnecting\n", s.error().message.c_str());
      told_lost = true;
    }
    std::chrono::milliseconds pause = delay;
    if (deadline != clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      if (left <= std::chrono::milliseconds::zero()) return unavailable("timed out");
      pause = std::min(pause, left);
    }
    if (stop.waitFor(pause)) return {};
    delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxReconnectDelay);
  }
  return {};
}

namespace {

bool ended(const proto::Event& e) {
  static const char* const kTerminal[] = {"COMPLETED", "FAILED",    "CANCELLED",
                                          "TIMEOUT",   "NODE_FAIL", "OUT_OF_MEMORY"};
  return std::find(std::begin(kTerminal), std::end(kTerminal), e.new_state()) !=
         std::end(kTerminal);
}

}  // namespace

std::string eventLine(const proto::Event& e) {
  std::string subject;
  if (e.job_id() == 0) {
    subject = "node " + e.node();
  } else if (e.array_task_id() >= 0) {
    subject = "job " + std::to_string(e.array_job_id()) + "_" + std::to_string(e.array_task_id());
  } else {
    subject = "job " + std::to_string(e.job_id());
  }
  std::string states = (e.old_state().empty() ? "" : e.old_state() + " ") + "-> " + e.new_state();
  std::string details;
  auto add = [&](const std::string& s) { details += (details.empty() ? "" : "  ") + s; };
  if (e.job_id() != 0) {
    if (e.kind() == "submitted") add("user=" + e.user());
    if (e.new_state() == "RUNNING" && !e.node().empty()) add("node=" + e.node());
    if (ended(e) && e.exit_code() >= 0) add("exit_code=" + std::to_string(e.exit_code()));
  }
  if (!e.reason().empty()) add("reason=" + e.reason());
  char line[512];
  std::snprintf(line, sizeof line, "%s %7llu  %-13s %-12s %-22s", formatRfc3339(e.time()).c_str(),
                static_cast<unsigned long long>(e.id()), e.kind().c_str(), subject.c_str(),
                states.c_str());
  std::string out = line;
  if (details.empty()) {
    while (!out.empty() && out.back() == ' ') out.pop_back();
  } else {
    out += " " + details;
  }
  return out;
}

}  // namespace locus::cli
