#pragma once
// The controller's event log: every job state transition and node state change, in order, each
// with an id one above the previous one. `locus events` streams it, `locus wait` waits on it.
//
// The controller assigns ids (nextId()), stores the events in the same transaction as the state
// change (store.hpp, table `events`), and only after the commit publishes them here; so a reader
// never sees an event a restarted controller would not have, and ids continue across restarts.
// The store keeps the newest `kept` events; the log keeps the newest `in_memory` of them in
// memory, and a reader further behind is handed the store's rows (through `History`), so a long
// history costs disk, not the controller's memory. A reader that resumes after an id older than
// the store keeps gets kFailedPrecondition "events before N are no longer kept" rather than a
// silent gap.
//
// Thread-safety: every method may be called from any thread; one internal mutex. The controller
// publishes while holding its own lock (lock order: Controller::mu_, then this log's mutex);
// readers wait here without touching the controller's lock.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/job_spec.hpp"
#include "common/result.hpp"

namespace locus::proto {
class Event;
}  // namespace locus::proto

namespace locus::controller {

struct Event {
  uint64_t id = 0;
  int64_t time = 0;     // unix seconds
  std::string kind;     // jobEventKind(), or "node_up" / "node_down" ...
  uint64_t job_id = 0;  // 0: a node event
  std::string node;     // a node event's node; a job's first node, if it has one
  std::string user;
  std::string old_state;  // empty: a job just submitted, a node seen for the first time
  std::string new_state;
  std::string reason;
  int32_t exit_code = -1;
  uint64_t array_job_id = 0;
  int64_t array_task_id = -1;
  uint32_t attempt = 0;

  bool isNodeEvent() const { return job_id == 0; }
};

// The wire form of an event: what WatchEvents sends, and (through proto::eventToJson) what
// `locus events --json` prints and the dashboard's /api/events serves (events.cpp).
proto::Event toProto(const Event& e);

// Which events a reader wants. Node events are never filtered by job or user.
struct EventFilter {
  std::set<uint64_t> job_ids;  // empty: every job; an array job id covers all its tasks
  std::string user;            // empty: every user
  bool nodes = false;          // node events too
  bool matches(const Event& e) const;
};

// The kind of a job transition, a verb for people (consumers should look at the states):
// submitted (no previous state), started, resumed, suspended, requeued, preempted (reason
// "Preempted", whatever the preemption mode did), and a terminal state in lower case
// (completed, failed, cancelled, timeout, node_fail, out_of_memory). A same-state change with
// a new attempt is "requeued". (A pending job held or released is "held" / "released": the
// controller decides that, the state does not change.)
std::string jobEventKind(std::optional<JobState> from, JobState to, std::string_view reason);

class EventLog {
 public:
  static constexpr size_t kDefaultInMemory = 10'000;

  // The events after `after_id` (at most `max`, ascending ids) from where older events are kept:
  // the store. Called without the log's lock, from a reader's thread.
  using History = std::function<Result<std::vector<Event>>(uint64_t after_id, size_t max)>;

  // Memory only: the newest `in_memory` events are all there is.
  explicit EventLog(size_t in_memory = kDefaultInMemory);
  // The newest `in_memory` in memory, the newest `kept` (at least as many) in `history`.
  EventLog(size_t in_memory, size_t kept, History history);

  // Before any publish: the events loaded from the store (ascending, contiguous ids; the newest
  // `in_memory` are kept) and the last id ever handed out (at least the last event's id: the
  // store may have lost the rows, never the counter).
  void restore(std::vector<Event> events, uint64_t last_id);

  uint64_t lastId() const;  // 0: no event yet
  uint64_t nextId() const { return lastId() + 1; }
  uint64_t oldestInMemory() const;  // lastId() + 1 when none is
  size_t inMemory() const { return in_memory_; }
  size_t kept() const { return kept_; }  // the store's share: prune below lastId() + 1 - kept()

  // Appends events numbered nextId(), nextId() + 1, ... (checked: a gap or a repeat is a bug),
  // drops the oldest beyond in_memory and wakes every reader.
  void publish(std::vector<Event> events);

  // Whether a reader may start after `after_id`: kFailedPrecondition if events after it are no
  // longer kept ("events before N are no longer kept") or if it is newer than the newest event
  // (ids from another controller's store).
  Status checkResumable(uint64_t after_id) const;

  struct Batch {
    std::vector<Event> events;  // matching, ascending ids
    uint64_t cursor = 0;        // the last id looked at (matching or not): read on after it
  };
  // The events after `cursor` matching `filter`, from the `max` ids after it (so a batch may be
  // empty with the cursor moved on). If there is no event after `cursor` yet, waits until one is
  // published, the deadline passes (an empty batch, same cursor) or stop() (kUnavailable).
  // Errors: checkResumable's for a cursor that fell behind, and the history's own (kUnavailable:
  // the store could not be read).
  Result<Batch> read(uint64_t cursor, const EventFilter& filter, size_t max,
                     std::chrono::steady_clock::time_point deadline);

  // Wakes every reader with kUnavailable, now and from then on. Idempotent.
  void stop();

 private:
  Status checkResumableLocked(uint64_t after_id) const;  // requires mu_
  uint64_t oldestInMemoryLocked() const;                // requires mu_
  // The part of read() behind the ring: `cursor` + 1 is older than the ring's first id.
  Result<Batch> readHistory(uint64_t cursor, uint64_t ring_front, const EventFilter& filter,
                            size_t max);

  const size_t in_memory_;
  const size_t kept_;
  const History history_;  // empty: memory only
  mutable std::mutex mu_;
  std::condition_variable published_;
  std::deque<Event> ring_;  // guarded by mu_: ascending, contiguous ids ending at last_id_
  uint64_t last_id_ = 0;    // guarded by mu_
  bool stopped_ = false;    // guarded by mu_
};

}  // namespace locus::controller
