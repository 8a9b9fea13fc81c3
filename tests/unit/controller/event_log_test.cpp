// The event log (controller/event_log.hpp): filters, kinds, the ring, resuming and its errors,
// readers woken by publish and stop; its rows in the store; and the controller feeding it from
// what it stores, across a restart.
#include "controller/event_log.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "common/config.hpp"
#include "controller/controller.hpp"
#include "controller/store/store.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

Event jobEvent(uint64_t id, uint64_t job, std::string user = "alice", uint64_t array = 0) {
  Event e;
  e.id = id;
  e.time = 1000 + static_cast<int64_t>(id);
  e.kind = "started";
  e.job_id = job;
  e.user = std::move(user);
  e.old_state = "PENDING";
  e.new_state = "RUNNING";
  e.array_job_id = array;
  return e;
}

Event nodeEvent(uint64_t id, std::string node) {
  Event e;
  e.id = id;
  e.kind = "node_down";
  e.node = std::move(node);
  e.old_state = "UP";
  e.new_state = "DOWN";
  return e;
}

EventFilter filterOf(std::set<uint64_t> jobs, std::string user = "", bool nodes = false) {
  EventFilter f;
  f.job_ids = std::move(jobs);
  f.user = std::move(user);
  f.nodes = nodes;
  return f;
}
const EventFilter kEverything = filterOf({}, "", true);

std::vector<uint64_t> idsOf(const std::vector<Event>& events) {
  std::vector<uint64_t> out;
  for (const auto& e : events) out.push_back(e.id);
  return out;
}

// Reads what is there now (no wait).
EventLog::Batch readNow(EventLog& log, uint64_t cursor, const EventFilter& filter = {},
                        size_t max = 1000) {
  auto batch = log.read(cursor, filter, max, steady_clock::now());
  EXPECT_TRUE(batch.ok()) << batch.error().message;
  return batch.ok() ? *batch : EventLog::Batch{};
}

TEST(EventFilter, Matches) {
  struct Case {
    std::string name;
    EventFilter filter;
    Event event;
    bool want;
  };
  const std::vector<Case> cases = {
      {"no filter takes every job", {}, jobEvent(1, 7), true},
      {"no filter leaves node events out", {}, nodeEvent(1, "n1"), false},
      {"nodes asked for", kEverything, nodeEvent(1, "n1"), true},
      {"job id matches", filterOf({7}), jobEvent(1, 7), true},
      {"other job", filterOf({8}), jobEvent(1, 7), false},
      {"an array id covers its tasks", filterOf({5}), jobEvent(1, 7, "alice", 5), true},
      {"user matches", filterOf({}, "alice"), jobEvent(1, 7, "alice"), true},
      {"other user", filterOf({}, "bob"), jobEvent(1, 7, "alice"), false},
      {"job and user both hold", filterOf({7}, "bob"), jobEvent(1, 7, "alice"), false},
      {"node events ignore the job filter", filterOf({7}, "bob", true), nodeEvent(1, "n1"), true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.filter.matches(c.event), c.want);
  }
}

TEST(EventKind, OfEachTransition) {
  using S = JobState;
  struct Case {
    std::optional<S> from;
    S to;
    std::string reason;
    std::string want;
  };
  const std::vector<Case> cases = {
      {std::nullopt, S::kPending, "Priority", "submitted"},
      {S::kPending, S::kRunning, "", "started"},
      {S::kRunning, S::kCompleted, "", "completed"},
      {S::kRunning, S::kFailed, "NonZeroExitCode", "failed"},
      {S::kRunning, S::kTimeout, "TimeLimit", "timeout"},
      {S::kRunning, S::kNodeFail, "NodeFail n1", "node_fail"},
      {S::kRunning, S::kOutOfMemory, "OutOfMemory", "out_of_memory"},
      {S::kPending, S::kCancelled, "Cancelled", "cancelled"},
      {S::kRunning, S::kPending, "Requeued", "requeued"},
      {S::kRunning, S::kPending, "NodeFail n1, requeued", "requeued"},
      {S::kCompleted, S::kPending, "Requeued", "requeued"},
      {S::kRunning, S::kPending, "Preempted", "preempted"},
      {S::kRunning, S::kSuspended, "Preempted", "preempted"},
      {S::kRunning, S::kCancelled, "Preempted", "preempted"},
      {S::kSuspended, S::kRunning, "", "resumed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.want + " from " + (c.from ? std::string(toString(*c.from)) : "nothing"));
    EXPECT_EQ(jobEventKind(c.from, c.to, c.reason), c.want);
  }
}

TEST(EventLog, IdsFollowOnAndReadersResumeAfterAnyId) {
  EventLog log(100);
  EXPECT_EQ(log.lastId(), 0u);
  EXPECT_EQ(log.nextId(), 1u);
  log.publish({jobEvent(1, 1), jobEvent(2, 2), nodeEvent(3, "n1"), jobEvent(4, 1)});
  EXPECT_EQ(log.lastId(), 4u);
  EXPECT_EQ(idsOf(readNow(log, 0, kEverything).events), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(idsOf(readNow(log, 2, kEverything).events), (std::vector<uint64_t>{3, 4}));
  // A filter skips what it does not want, and the cursor still moves past it.
  auto batch = readNow(log, 0, filterOf({2}));
  EXPECT_EQ(idsOf(batch.events), (std::vector<uint64_t>{2}));
  EXPECT_EQ(batch.cursor, 4u);
  // `max` bounds a batch; the cursor says where the next one begins.
  batch = readNow(log, 0, {}, 2);
  EXPECT_EQ(idsOf(batch.events), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(batch.cursor, 2u);
  // Caught up: nothing yet, the cursor stays.
  batch = readNow(log, 4);
  EXPECT_TRUE(batch.events.empty());
  EXPECT_EQ(batch.cursor, 4u);
}

TEST(EventLog, TheRingKeepsTheNewestAndRefusesToResumeBeforeThem) {
  EventLog log(3);
  for (uint64_t id = 1; id <= 5; ++id) log.publish({jobEvent(id, id)});
  EXPECT_EQ(log.oldestInMemory(), 3u);
  // After 2: 3, 4, 5 are all there, nothing is missed.
  EXPECT_EQ(idsOf(readNow(log, 2).events), (std::vector<uint64_t>{3, 4, 5}));
  // After 1: event 2 is gone. Said so, never skipped silently.
  auto old = log.read(1, {}, 10, steady_clock::now());
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(old.error().message, "events before 3 are no longer kept");
  EXPECT_EQ(log.checkResumable(0).error().message, "events before 3 are no longer kept");
  EXPECT_TRUE(log.checkResumable(2).ok());
  EXPECT_TRUE(log.checkResumable(5).ok());
  // An id from the future (another store) is refused too.
  auto future = log.checkResumable(6);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code, ErrorCode::kFailedPrecondition);
}

TEST(EventLog, AnEmptyLogResumesFromZeroOnly) {
  EventLog log(10);
  EXPECT_TRUE(log.checkResumable(0).ok());
  EXPECT_FALSE(log.checkResumable(1).ok());
}

TEST(EventLog, ReadWaitsForThePublishAndWakesAtOnce) {
  EventLog log(10);
  log.publish({jobEvent(1, 1)});
  std::thread publisher([&] { log.publish({jobEvent(2, 9)}); });
  // A long deadline: only the publish can end this wait in time.
  auto batch = log.read(1, {}, 10, steady_clock::now() + std::chrono::seconds(30));
  publisher.join();
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(idsOf(batch->events), (std::vector<uint64_t>{2}));
}

TEST(EventLog, ReadReturnsEmptyAtTheDeadline) {
  EventLog log(10);
  auto batch = log.read(0, {}, 10, steady_clock::now() + std::chrono::milliseconds(20));
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch->events.empty());
  EXPECT_EQ(batch->cursor, 0u);
}

TEST(EventLog, StopEndsEveryReader) {
  EventLog log(10);
  std::thread stopper([&] { log.stop(); });
  auto batch = log.read(0, {}, 10, steady_clock::now() + std::chrono::seconds(30));
  stopper.join();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.error().code, ErrorCode::kUnavailable);
  // And from then on.
  EXPECT_FALSE(log.read(0, {}, 10, steady_clock::now() + std::chrono::seconds(30)).ok());
}

TEST(EventLog, RestoreKeepsTheNewestContiguousRun) {
  EventLog log(3);
  // 5 is missing (never stored): only 6 and 7 can be served without a gap.
  log.restore({jobEvent(3, 1), jobEvent(4, 1), jobEvent(6, 1), jobEvent(7, 1)}, 7);
  EXPECT_EQ(log.lastId(), 7u);
  EXPECT_EQ(log.oldestInMemory(), 6u);
  log.publish({jobEvent(8, 2)});
  EXPECT_EQ(idsOf(readNow(log, 5).events), (std::vector<uint64_t>{6, 7, 8}));
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/locus-events-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(EventStore, SaveLoadNewestAndPrune) {
  TempDir dir;
  auto store = Store::open(dir.path());
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->begin().ok());
  Event full = jobEvent(1, 42, "bob", 40);
  full.kind = "failed";
  full.node = "n3";
  full.reason = "NonZeroExitCode";
  full.exit_code = 3;
  full.array_task_id = 2;
  full.attempt = 1;
  ASSERT_TRUE((*store)->saveEvent(full).ok());
  for (uint64_t id = 2; id <= 5; ++id) ASSERT_TRUE((*store)->saveEvent(jobEvent(id, id)).ok());
  ASSERT_TRUE((*store)->commit().ok());

  auto all = (*store)->loadEvents(100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(idsOf(*all), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  const Event& got = all->front();
  EXPECT_EQ(got.time, full.time);
  EXPECT_EQ(got.kind, "failed");
  EXPECT_EQ(got.job_id, 42u);
  EXPECT_EQ(got.node, "n3");
  EXPECT_EQ(got.user, "bob");
  EXPECT_EQ(got.old_state, "PENDING");
  EXPECT_EQ(got.new_state, "RUNNING");
  EXPECT_EQ(got.reason, "NonZeroExitCode");
  EXPECT_EQ(got.exit_code, 3);
  EXPECT_EQ(got.array_job_id, 40u);
  EXPECT_EQ(got.array_task_id, 2);
  EXPECT_EQ(got.attempt, 1u);

  auto newest = (*store)->loadEvents(2);
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(idsOf(*newest), (std::vector<uint64_t>{4, 5}));  // the newest, oldest first

  ASSERT_TRUE((*store)->pruneEvents(3).ok());
  auto pruned = (*store)->loadEvents(100);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(idsOf(*pruned), (std::vector<uint64_t>{4, 5}));
}

TEST(EventStore, LoadsTheEventsAfterAnId) {
  TempDir dir;
  auto store = Store::open(dir.path());
  ASSERT_TRUE(store.ok()) << store.error().message;
  for (uint64_t id = 1; id <= 6; ++id) ASSERT_TRUE((*store)->saveEvent(jobEvent(id, id)).ok());
  auto after = (*store)->loadEventsAfter(2, 3);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(idsOf(*after), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ((*store)->loadEventsAfter(0, 100)->size(), 6u);
  EXPECT_TRUE((*store)->loadEventsAfter(6, 100)->empty());
  EXPECT_TRUE((*store)->loadEventsAfter(UINT64_MAX, 100)->empty());
}

// A log with few events in memory and the rest in a real store, pruned as the controller
// prunes it (the newest `kept` rows).
class StoredEventLog : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(dir_.path());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
  }
  std::unique_ptr<EventLog> makeLog(size_t in_memory, size_t kept) {
    return std::make_unique<EventLog>(in_memory, kept, [this](uint64_t after, size_t max) {
      ++history_reads_;
      return store_->loadEventsAfter(after, max);
    });
  }
  void publish(EventLog& log, Event e) {
    ASSERT_TRUE(store_->saveEvent(e).ok());
    if (e.id > log.kept()) {
      ASSERT_TRUE(store_->pruneEvents(e.id - log.kept()).ok());
    }
    log.publish({std::move(e)});
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
  int history_reads_ = 0;
};

TEST_F(StoredEventLog, AReaderBehindTheMemoryIsServedFromTheStore) {
  auto log = makeLog(/*in_memory=*/3, /*kept=*/10);
  EXPECT_EQ(log->inMemory(), 3u);
  EXPECT_EQ(log->kept(), 10u);
  for (uint64_t id = 1; id <= 12; ++id) publish(*log, jobEvent(id, id, id % 2 ? "alice" : "bob"));
  EXPECT_EQ(log->oldestInMemory(), 10u);
  // The store keeps 3..12: resuming after 2 is fine, after 1 is not.
  EXPECT_TRUE(log->checkResumable(2).ok());
  auto gone = log->read(1, {}, 100, steady_clock::now());
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(gone.error().message, "events before 3 are no longer kept");
  // After 2: the store's rows up to where memory begins, then memory's.
  auto batch = readNow(*log, 2);
  EXPECT_EQ(idsOf(batch.events), (std::vector<uint64_t>{3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(batch.cursor, 9u);
  EXPECT_EQ(history_reads_, 1);
  batch = readNow(*log, batch.cursor);
  EXPECT_EQ(idsOf(batch.events), (std::vector<uint64_t>{10, 11, 12}));
  EXPECT_EQ(history_reads_, 1);  // memory only
  // Filters and `max` work the same on stored events: max bounds the ids looked at.
  batch = readNow(*log, 2, filterOf({}, "bob"), 4);
  EXPECT_EQ(idsOf(batch.events), (std::vector<uint64_t>{4, 6}));
  EXPECT_EQ(batch.cursor, 6u);
  // The events themselves, not just their ids.
  batch = readNow(*log, 4, {}, 1);
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].user, "alice");
  EXPECT_EQ(batch.events[0].new_state, "RUNNING");
}

TEST_F(StoredEventLog, RowsMissingFromTheStoreAreAGapTheReaderHearsOf) {
  auto log = makeLog(2, 100);
  for (uint64_t id = 1; id <= 6; ++id) publish(*log, jobEvent(id, id));
  // The store lost 1..3 (an older store, or rows deleted by hand): the log cannot know until
  // it reads, and then it says so rather than skipping them.
  ASSERT_TRUE(store_->pruneEvents(3).ok());
  EXPECT_TRUE(log->checkResumable(0).ok());
  auto gap = log->read(0, {}, 100, steady_clock::now());
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(gap.error().message, "events before 4 are no longer kept");
  EXPECT_EQ(idsOf(readNow(*log, 3).events), (std::vector<uint64_t>{4}));
}

TEST_F(StoredEventLog, AMemoryOnlyLogKeepsNoMoreThanItsMemory) {
  // Without a store, `kept` cannot exceed what memory holds.
  EventLog log(3, 10, {});
  EXPECT_EQ(log.kept(), 3u);
  // And memory never holds more than the store keeps.
  auto small = makeLog(50, 5);
  EXPECT_EQ(small->inMemory(), 5u);
}

// The controller, without nodes or a loop: submits and cancels are transitions it stores.
class ControllerEvents : public ::testing::Test {
 protected:
  std::unique_ptr<Controller> open(uint64_t kept = 100, uint64_t in_memory = 10000) {
    Config config;
    config.state_dir = dir_.path();
    config.events_kept = kept;
    config.events_in_memory = in_memory;
    auto c = Controller::create(config);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }
  static uint64_t submit(Controller& c, const std::string& array = "") {
    proto::SubmitJobRequest req;
    req.mutable_spec()->set_script("#!/bin/sh\ntrue\n");
    req.mutable_spec()->set_work_dir("/tmp");
    req.mutable_spec()->set_array_spec(array);
    req.set_user("alice");
    req.set_uid(1000);
    auto reply = c.submit(req);
    EXPECT_TRUE(reply.ok()) << reply.error().message;
    return reply.ok() ? reply->job_id() : 0;
  }
  static void cancel(Controller& c, uint64_t id) {
    proto::CancelJobRequest req;
    req.add_job_ids(id);
    req.set_user("alice");
    req.set_uid(1000);
    auto reply = c.cancel(req);
    ASSERT_EQ(reply.results_size(), 1);
    EXPECT_TRUE(reply.results(0).ok()) << reply.results(0).message();
  }
  // Every event, read until caught up (the store's part and memory's come in separate batches).
  static std::vector<Event> all(Controller& c, uint64_t after = 0) {
    std::vector<Event> out;
    while (after < c.events().lastId()) {
      auto batch = c.events().read(after, kEverything, 1000, steady_clock::now());
      EXPECT_TRUE(batch.ok()) << batch.error().message;
      if (!batch.ok() || batch->cursor == after) break;
      after = batch->cursor;
      out.insert(out.end(), batch->events.begin(), batch->events.end());
    }
    return out;
  }
  TempDir dir_;
};

TEST_F(ControllerEvents, TransitionsAreEventsAndTheirIdsSurviveARestart) {
  {
    auto c = open();
    ASSERT_TRUE(c);
    uint64_t a = submit(*c);
    uint64_t b = submit(*c);
    cancel(*c, a);
    auto events = all(*c);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(idsOf(events), (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_EQ(events[0].kind, "submitted");
    EXPECT_EQ(events[0].job_id, a);
    EXPECT_EQ(events[0].old_state, "");
    EXPECT_EQ(events[0].new_state, "PENDING");
    EXPECT_EQ(events[0].user, "alice");
    EXPECT_EQ(events[1].job_id, b);
    EXPECT_EQ(events[2].kind, "cancelled");
    EXPECT_EQ(events[2].old_state, "PENDING");
    EXPECT_EQ(events[2].new_state, "CANCELLED");
    EXPECT_EQ(events[2].reason, "Cancelled");
    // A cancel of a job already ended changes nothing: no event.
    proto::CancelJobRequest again;
    again.add_job_ids(a);
    again.set_uid(1000);
    (void)c->cancel(again);
    EXPECT_EQ(c->events().lastId(), 3u);
  }
  auto c = open();
  ASSERT_TRUE(c);
  // Reloaded from the store: the same events, and ids go on from there, with no event for the
  // jobs as they were loaded.
  auto events = all(*c);
  EXPECT_EQ(idsOf(events), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(events[2].kind, "cancelled");
  cancel(*c, 2);
  events = all(*c);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].id, 4u);
  EXPECT_EQ(events[3].job_id, 2u);
  EXPECT_EQ(events[3].kind, "cancelled");
}

TEST_F(ControllerEvents, WatchStartsNowOrAfterAKeptIdAndSaysWhenItIsGone) {
  auto c = open(/*kept=*/3);
  ASSERT_TRUE(c);
  for (int i = 0; i < 5; ++i) submit(*c);  // events 1..5; 3, 4, 5 kept
  proto::WatchEventsRequest now;
  auto w = c->watchEvents(now);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->after_id, 5u);
  proto::WatchEventsRequest resume;
  resume.set_after_id(2);
  w = c->watchEvents(resume);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->after_id, 2u);
  resume.set_after_id(1);
  w = c->watchEvents(resume);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(w.error().message, "events before 3 are no longer kept");
  // The store keeps as many: after a restart, the same answer.
  c.reset();
  c = open(3);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->events().oldestInMemory(), 3u);
  EXPECT_EQ(c->watchEvents(resume).error().message, "events before 3 are no longer kept");
}

TEST_F(ControllerEvents, ReadersBehindTheMemoryAreServedFromTheStoreAcrossARestart) {
  auto c = open(/*kept=*/100, /*in_memory=*/2);
  ASSERT_TRUE(c);
  std::vector<uint64_t> jobs;
  for (int i = 0; i < 6; ++i) jobs.push_back(submit(*c));  // events 1..6; 5, 6 in memory
  EXPECT_EQ(c->events().oldestInMemory(), 5u);
  auto events = all(*c);
  ASSERT_EQ(idsOf(events), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(events[i].job_id, jobs[i]);
  proto::WatchEventsRequest resume;
  resume.set_after_id(0);
  EXPECT_TRUE(c->watchEvents(resume).ok());
  // A restart loads only the memory's share, and the rest is still there to read.
  c.reset();
  c = open(100, 2);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->events().oldestInMemory(), 5u);
  cancel(*c, jobs[0]);
  events = all(*c, 1);
  ASSERT_EQ(idsOf(events), (std::vector<uint64_t>{2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(events.back().kind, "cancelled");
}

TEST_F(ControllerEvents, CurrentStateCoversArrayTasksAtTheBookmark) {
  auto c = open();
  ASSERT_TRUE(c);
  uint64_t single = submit(*c);
  uint64_t array = submit(*c, "0-2");  // tasks array, array + 1, array + 2
  cancel(*c, single);
  proto::WatchEventsRequest req;
  req.add_job_ids(array);
  req.add_job_ids(single);
  req.set_current_state(true);
  auto w = c->watchEvents(req);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->after_id, c->events().lastId());
  ASSERT_EQ(w->current.size(), 4u);
  EXPECT_EQ(w->current[0].job_id, single);  // by job id
  EXPECT_EQ(w->current[0].new_state, "CANCELLED");
  for (size_t i = 1; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(w->current[i].job_id, array + i - 1);
    EXPECT_EQ(w->current[i].kind, "current");
    EXPECT_EQ(w->current[i].new_state, "PENDING");
    EXPECT_EQ(w->current[i].old_state, "PENDING");
    EXPECT_EQ(w->current[i].array_task_id, static_cast<int64_t>(i - 1));
    EXPECT_EQ(w->current[i].id, w->after_id);
  }
  req.add_job_ids(999);
  auto missing = c->watchEvents(req);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace locus::controller
