#pragma once
// The controller's durable state in one SQLite file (WAL mode). Every job transition is written
// and committed before it is acknowledged to anyone. Writes are grouped: callers open a
// transaction, save any number of jobs, and commit once (one fsync-free WAL append per group).
//
// Durability: synchronous=NORMAL in WAL mode survives a killed process (SIGKILL) — what the
// controller's restart guarantee is about; a power cut may lose the last commits.
// Not thread-safe: the controller calls it under its own lock.
#include <memory>
#include <tuple>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "controller/event_log.hpp"
#include "controller/job.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace locus::controller {

struct StoredNode {
  std::string name;
  std::string topology;        // the node's last registered topology (serialized proto::Topology)
  uint64_t boot_id = 0;
};

class Store {
 public:
  // Opens (creating if needed) DIR/locus.db.
  static Result<std::unique_ptr<Store>> open(const std::string& state_dir);
  ~Store();

  Result<std::vector<Job>> loadJobs();
  Result<std::vector<StoredNode>> loadNodes();

  Status begin();
  Status saveJob(const Job& job);
  Status saveNode(const StoredNode& node);
  // Decayed fair-share usage per association ("account" or "account/user").
  Status saveUsage(const std::string& assoc, double value, int64_t as_of_s);
  Result<std::vector<std::tuple<std::string, double, int64_t>>> loadUsage();
  // `locus account` changes, as JSON, in the order they were made (replayed over the config).
  Status appendAccountChange(const std::string& change_json);
  Result<std::vector<std::string>> loadAccountChanges();
  // `locus quota set` changes, as JSON (pools.hpp), in order (replayed over the config).
  Status appendQuotaChange(const std::string& change_json);
  Result<std::vector<std::string>> loadQuotaChanges();
  // Services (services.hpp), one JSON record each.
  Status saveService(const std::string& name, const std::string& record);
  Status deleteService(const std::string& name);
  Result<std::vector<std::string>> loadServices();
  // The event log (event_log.hpp): saved in the transaction of the change it records, pruned
  // by count (every id up to `up_to_id` deleted), the newest `count` loaded in id order.
  Status saveEvent(const Event& event);
  Status pruneEvents(uint64_t up_to_id);
  Result<std::vector<Event>> loadEvents(size_t count);
  Status commit();
  void rollback();

 private:
  Store() = default;
  Status exec(const char* sql);
  Status appendChange(const char* table, const std::string& change_json);
  Result<std::vector<std::string>> loadChanges(const char* table);
  sqlite3* db_ = nullptr;
  sqlite3_stmt* save_job_ = nullptr;
  sqlite3_stmt* save_node_ = nullptr;
  sqlite3_stmt* save_usage_ = nullptr;
  sqlite3_stmt* save_event_ = nullptr;
  sqlite3_stmt* prune_events_ = nullptr;
};

// JSON codec of a Job, the store's record format (also handy for debugging with sqlite3).
std::string jobToJson(const Job& job);
Result<Job> jobFromJson(const std::string& text);

}  // namespace locus::controller
