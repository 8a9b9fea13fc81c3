#pragma once
// Following the controller's event log (WatchEvents) across dropped streams and controller
// restarts, for `locus events` and `locus wait`; and how `locus events` prints an event.
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/client.hpp"
#include "common/result.hpp"
#include "proto/json.hpp"
#include "proto/locus.pb.h"

namespace locus::cli {

// How long to wait before reconnecting: 100 ms, doubling up to 2 s (as the node daemons do).
constexpr auto kFirstReconnectDelay = std::chrono::milliseconds{100};
constexpr auto kMaxReconnectDelay = std::chrono::seconds{2};

// Opens a stream to the controller at `address` with request(position), where position is the id of
// the last message of any earlier stream (an event or a bookmark; nullopt before the first), and
// calls on_event for every message. When a stream that delivered at least its first message drops
// (a controller restart, a network cut), says so once on stderr and opens another after a back-off.
// Returns OK when on_event returns false or `stop` fires; "timed out" at the deadline; the
// error of a failed first connection (the controller unreachable) or of a refused request
// (kUnsatisfiable: too old a resume id; kNotFound; kInvalidArgument) at once.
Status followEvents(
    const std::string& address, StopSignal& stop, std::chrono::system_clock::time_point deadline,
    const std::function<proto::WatchEventsRequest(std::optional<uint64_t> position)>& request,
    const std::function<bool(const proto::Event&)>& on_event);

// `locus events --json`: one object per event (proto/json.hpp; the dashboard's /api/events sends
// the same objects).
using proto::eventToJson;
// `locus events`: "TIME  ID  KIND  job 12|node n1  OLD -> NEW  DETAILS", one line, no newline.
std::string eventLine(const proto::Event& e);

}  // namespace locus::cli
