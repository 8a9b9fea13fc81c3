// How `locus events` prints an event: the NDJSON object's keys and nulls, and the text line.
#include <gtest/gtest.h>

#include "cli/event_stream.hpp"

namespace locus::cli {
namespace {

proto::Event jobEvent(const std::string& kind, const std::string& from, const std::string& to) {
  proto::Event e;
  e.set_id(42);
  e.set_time(1795440000);  // 2026-11-23T13:20:00Z
  e.set_kind(kind);
  e.set_job_id(12);
  e.set_user("alice");
  e.set_old_state(from);
  e.set_new_state(to);
  e.set_exit_code(-1);
  e.set_array_task_id(-1);
  return e;
}

TEST(EventFormat, JsonHasEveryKeyWithNullsWhereThereIsNoValue) {
  auto submitted = eventToJson(jobEvent("submitted", "", "PENDING"));
  EXPECT_EQ(submitted.dump(),
            R"({"exit_code":null,"id":42,"job_id":12,"kind":"submitted","new_state":"PENDING",)"
            R"("node":null,"old_state":null,"reason":"","time":"2026-11-23T13:20:00Z","user":"alice"})");

  proto::Event failed = jobEvent("failed", "RUNNING", "FAILED");
  failed.set_node("n1");
  failed.set_exit_code(3);
  failed.set_reason("NonZeroExitCode");
  auto j = eventToJson(failed);
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_EQ(j["node"], "n1");
  EXPECT_EQ(j["old_state"], "RUNNING");
  EXPECT_EQ(j["reason"], "NonZeroExitCode");

  // A cancelled running job is CANCELLED before its exit code is known.
  auto cancelled = eventToJson(jobEvent("cancelled", "RUNNING", "CANCELLED"));
  EXPECT_TRUE(cancelled["exit_code"].is_null());

  proto::Event node;
  node.set_id(7);
  node.set_time(1795440000);
  node.set_kind("node_down");
  node.set_node("n2");
  node.set_old_state("UP");
  node.set_new_state("DOWN");
  node.set_reason("NotResponding");
  node.set_exit_code(-1);
  auto n = eventToJson(node);
  EXPECT_TRUE(n["job_id"].is_null());
  EXPECT_TRUE(n["user"].is_null());
  EXPECT_TRUE(n["exit_code"].is_null());
  EXPECT_EQ(n["node"], "n2");
}

TEST(EventFormat, TextLine) {
  struct Case {
    std::string name;
    proto::Event event;
    std::string want;
  };
  proto::Event started = jobEvent("started", "PENDING", "RUNNING");
  started.set_node("n1");
  proto::Event failed = jobEvent("failed", "RUNNING", "FAILED");
  failed.set_exit_code(3);
  failed.set_reason("NonZeroExitCode");
  proto::Event task = jobEvent("submitted", "", "PENDING");
  task.set_array_job_id(10);
  task.set_array_task_id(2);
  task.set_reason("Priority");
  proto::Event node;
  node.set_id(7);
  node.set_time(1795440000);
  node.set_kind("node_up");
  node.set_node("n2");
  node.set_old_state("UNKNOWN");
  node.set_new_state("UP");
  node.set_reason("Registered");
  const std::vector<Case> cases = {
      {"started", started,
       "2026-11-23T13:20:00Z      42  started       job 12       PENDING -> RUNNING     node=n1"},
      {"failed", failed,
       "2026-11-23T13:20:00Z      42  failed        job 12       RUNNING -> FAILED      exit_code=3  "
       "reason=NonZeroExitCode"},
      {"an array task", task,
       "2026-11-23T13:20:00Z      42  submitted     job 10_2     -> PENDING             user=alice  "
       "reason=Priority"},
      {"a node", node,
       "2026-11-23T13:20:00Z       7  node_up       node n2      UNKNOWN -> UP          reason=Registered"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(eventLine(c.event), c.want);
  }
}

}  // namespace
}  // namespace locus::cli
