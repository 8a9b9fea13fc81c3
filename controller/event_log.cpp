#include "controller/event_log.hpp"

#include <algorithm>
#include <cctype>

namespace locus::controller {

bool EventFilter::matches(const Event& e) const {
  if (e.isNodeEvent()) return nodes;
  if (!user.empty() && e.user != user) return false;
  if (job_ids.empty()) return true;
  return job_ids.count(e.job_id) > 0 || (e.array_job_id != 0 && job_ids.count(e.array_job_id) > 0);
}

std::string jobEventKind(std::optional<JobState> from, JobState to, std::string_view reason) {
  if (!from) return "submitted";
  const bool preempted = reason == "Preempted" && *from != JobState::kPending;
  switch (to) {
    case JobState::kPending:
      return preempted ? "preempted" : "requeued";  // also a same-state change (a new attempt)
    case JobState::kRunning:
      if (*from == JobState::kSuspended) return "resumed";
      return *from == JobState::kRunning ? "requeued" : "started";
    case JobState::kSuspended:
      return preempted ? "preempted" : "suspended";
    default:
      break;
  }
  if (preempted) return "preempted";  // the cancel mode: CANCELLED, reason Preempted
  std::string kind(toString(to));
  std::transform(kind.begin(), kind.end(), kind.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return kind;
}

EventLog::EventLog(size_t in_memory) : EventLog(in_memory, in_memory, {}) {}

EventLog::EventLog(size_t in_memory, size_t kept, History history)
    : in_memory_(std::max<size_t>(1, std::min(in_memory, std::max<size_t>(1, kept)))),
      kept_(history ? std::max(in_memory_, kept) : in_memory_),
      history_(std::move(history)) {}

void EventLog::restore(std::vector<Event> events, uint64_t last_id) {
  std::lock_guard lock(mu_);
  ring_.clear();
  if (!events.empty()) last_id = std::max(last_id, events.back().id);
  last_id_ = last_id;
  // Only the newest run of contiguous ids ending at last_id can be kept: a reader must never be
  // handed a gap.
  for (auto it = events.rbegin(); it != events.rend() && ring_.size() < in_memory_; ++it) {
    const uint64_t want = last_id - ring_.size();
    if (it->id != want) break;
    ring_.push_front(std::move(*it));
  }
}

uint64_t EventLog::lastId() const {
  std::lock_guard lock(mu_);
  return last_id_;
}

uint64_t EventLog::oldestInMemory() const {
  std::lock_guard lock(mu_);
  return oldestInMemoryLocked();
}

uint64_t EventLog::oldestInMemoryLocked() const {
  return ring_.empty() ? last_id_ + 1 : ring_.front().id;
}

void EventLog::publish(std::vector<Event> events) {
  if (events.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& e : events) {
      LOCUS_CHECK(e.id == last_id_ + 1) << "event id " << e.id << " published after " << last_id_;
      last_id_ = e.id;
      ring_.push_back(std::move(e));
    }
    while (ring_.size() > in_memory_) ring_.pop_front();
  }
  published_.notify_all();
}

Status EventLog::checkResumable(uint64_t after_id) const {
  std::lock_guard lock(mu_);
  return checkResumableLocked(after_id);
}

Status EventLog::checkResumableLocked(uint64_t after_id) const {
  uint64_t oldest = oldestInMemoryLocked();
  // The store keeps the ids above last_id_ - kept_ (the controller prunes the rest); whether it
  // really has them (a store older than its events table may not) shows when they are read.
  if (history_) oldest = std::min(oldest, last_id_ >= kept_ ? last_id_ - kept_ + 1 : 1);
  if (after_id + 1 < oldest)
    return failedPrecondition("events before " + std::to_string(oldest) + " are no longer kept");
  if (after_id > last_id_)
    return failedPrecondition("event " + std::to_string(after_id) +
                              " is newer than the newest event (" + std::to_string(last_id_) +
                              "): was the controller's state reset?");
  return {};
}

Result<EventLog::Batch> EventLog::read(uint64_t cursor, const EventFilter& filter, size_t max,
                                       std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  published_.wait_until(lock, deadline, [&] { return stopped_ || last_id_ > cursor; });
  if (stopped_) return unavailable("the controller is shutting down");
  if (Status s = checkResumableLocked(cursor); !s.ok()) return s.error();
  Batch batch;
  batch.cursor = cursor;
  if (cursor >= last_id_) return batch;  // the deadline passed
  const uint64_t front = oldestInMemoryLocked();
  if (cursor + 1 < front) {
    // Behind the ring: the store's rows, read without this lock (publishers go on meanwhile).
    lock.unlock();
    return readHistory(cursor, front, filter, max);
  }
  // Contiguous ids: the first event after the cursor is found by arithmetic, not a search.
  for (size_t i = cursor + 1 - front, looked = 0; i < ring_.size() && looked < max; ++i, ++looked) {
    const Event& e = ring_[i];
    batch.cursor = e.id;
    if (filter.matches(e)) batch.events.push_back(e);
  }
  return batch;
}

Result<EventLog::Batch> EventLog::readHistory(uint64_t cursor, uint64_t ring_front,
                                              const EventFilter& filter, size_t max) {
  const size_t want = static_cast<size_t>(std::min<uint64_t>(max, ring_front - 1 - cursor));
  auto rows = history_(cursor, std::max<size_t>(1, want));
  if (!rows.ok()) return rows.error();
  // The store must continue exactly where the reader is: anything else is a gap it must hear of.
  if (rows->empty() || rows->front().id != cursor + 1) {
    const uint64_t oldest = rows->empty() ? ring_front : rows->front().id;
    return failedPrecondition("events before " + std::to_string(oldest) + " are no longer kept");
  }
  Batch batch;
  batch.cursor = cursor;
  for (Event& e : *rows) {
    // Stop at a gap (the next read reports it) and where the ring takes over.
    if (e.id != batch.cursor + 1 || e.id >= ring_front) break;
    batch.cursor = e.id;
    if (filter.matches(e)) batch.events.push_back(std::move(e));
  }
  return batch;
}

void EventLog::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  published_.notify_all();
}

}  // namespace locus::controller
