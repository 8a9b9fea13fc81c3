#pragma once
// The default store: the controller's durable state in one SQLite file (WAL mode). Writes are
// grouped: a transaction is one fsync-free WAL append.
//
// Durability: synchronous=NORMAL in WAL mode survives a killed process (SIGKILL) — what the
// controller's restart guarantee is about; a power cut may lose the last commits.
// Not thread-safe: the controller calls it under its own lock.
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "controller/store/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace locus::controller {

class SqliteStore : public Store {
 public:
  // Opens (creating if needed) DIR/locus.db. Errors: kUnavailable (the directory or file cannot
  // be created or opened).
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& state_dir);
  ~SqliteStore() override;

  using Store::loadJobs;
  Status loadJobs(const std::function<bool(const JobSummary&)>& keep,
                  const std::function<void(Job&&)>& take) override;
  Result<std::optional<Job>> loadJob(uint64_t id) override;
  Result<std::vector<StoredNode>> loadNodes() override;
  Status begin() override;
  Status saveJob(const Job& job) override;
  Status saveNode(const StoredNode& node) override;
  Status saveUsage(const std::string& assoc, double value, int64_t as_of_s) override;
  Result<std::vector<std::tuple<std::string, double, int64_t>>> loadUsage() override;
  Status appendAccountChange(const std::string& change_json) override;
  Result<std::vector<std::string>> loadAccountChanges() override;
  Status appendQuotaChange(const std::string& change_json) override;
  Result<std::vector<std::string>> loadQuotaChanges() override;
  Status saveService(const std::string& name, const std::string& record) override;
  Status deleteService(const std::string& name) override;
  Result<std::vector<std::string>> loadServices() override;
  Status saveEvent(const Event& event) override;
  Status pruneEvents(uint64_t up_to_id) override;
  Result<std::vector<Event>> loadEvents(size_t count) override;
  Result<std::vector<Event>> loadEventsAfter(uint64_t after_id, size_t max) override;
  Status commit() override;
  void rollback() override;

 private:
  SqliteStore() = default;
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

}  // namespace locus::controller
