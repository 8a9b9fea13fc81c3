#pragma once
// The controller's durable state. Every job transition is written and committed before it is
// acknowledged to anyone. Writes are grouped: callers open a transaction, save any number of
// jobs, and commit once. Two implementations: sqlite_store.hpp (the default, one file in the
// state directory) and etcd_store.hpp (high availability: several controllers, one leader).
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "controller/event_log.hpp"
#include "controller/job.hpp"

namespace locus::controller {

struct StoredNode {
  std::string name;
  std::string topology;        // the node's last registered topology (serialized proto::Topology)
  uint64_t boot_id = 0;
};

// What a restart decides from for every job in the store (Store::loadJobs' `keep`): whether
// to keep the job in memory, and its part in the runtime predictor's history. Read without
// decoding the whole record where the store can (SQLite: json_extract), so a restart on a long
// history decodes only the jobs it keeps.
struct JobSummary {
  uint64_t id = 0;
  std::string user;
  JobState state = JobState::kPending;
  bool completing = false;
  int64_t start_time = 0;
  int64_t end_time = 0;
  uint64_t array_job_id = 0;
  bool lease = false;  // a framework's lease (Job::framework is set)

  static JobSummary of(const Job& job);
};

// The store's contract, whatever keeps it (SqliteStore: one local file; EtcdStore: a replicated
// etcd shared by a leader and its standbys).
//
// Transactions: begin(), any number of saves, commit() — all of it lands or none does;
// rollback() drops an open transaction and is a no-op outside one. A write outside a
// transaction is committed on its own. Loads are for start-up and a take-over, outside a
// transaction. Errors: kUnavailable (the medium is unreachable or refused the write:
// try again later), kInternal (a corrupt record), kFailedPrecondition (EtcdStore: this
// controller is no longer the leader, so its writes were refused).
// Not thread-safe: the controller calls it under its own lock.
class Store {
 public:
  // The SQLite store: opens (creating if needed) DIR/locus.db.
  static Result<std::unique_ptr<Store>> open(const std::string& state_dir);
  virtual ~Store() = default;

  // Every job, in id order.
  Result<std::vector<Job>> loadJobs() {
    std::vector<Job> jobs;
    Status s = loadJobs([](const JobSummary&) { return true; }, [&](Job&& job) { jobs.push_back(std::move(job)); });
    if (!s.ok()) return s.error();
    return jobs;
  }
  // The jobs `keep` says yes to, in id order, each handed to `take` as soon as it is decoded;
  // `keep` sees every job's summary (it may note what it needs of those it drops). A restart
  // keeps only the live part of a long history in memory, and puts each kept job in place (its
  // environment shared) without first holding them all.
  virtual Status loadJobs(const std::function<bool(const JobSummary&)>& keep,
                          const std::function<void(Job&&)>& take) = 0;
  // One job (a finished job the controller no longer keeps in memory: [controller]
  // min_job_age_s); nullopt when the store has none by that id.
  virtual Result<std::optional<Job>> loadJob(uint64_t id) = 0;
  // Every node, in name order.
  virtual Result<std::vector<StoredNode>> loadNodes() = 0;

  virtual Status begin() = 0;
  // Saving an id (name) again replaces the record.
  virtual Status saveJob(const Job& job) = 0;
  virtual Status saveNode(const StoredNode& node) = 0;
  // Decayed fair-share usage per association ("account" or "account/user").
  virtual Status saveUsage(const std::string& assoc, double value, int64_t as_of_s) = 0;
  virtual Result<std::vector<std::tuple<std::string, double, int64_t>>> loadUsage() = 0;
  // `locus account` changes, as JSON, in the order they were made (replayed over the config).
  virtual Status appendAccountChange(const std::string& change_json) = 0;
  virtual Result<std::vector<std::string>> loadAccountChanges() = 0;
  // `locus quota set` changes, as JSON (pools.hpp), in order (replayed over the config).
  virtual Status appendQuotaChange(const std::string& change_json) = 0;
  virtual Result<std::vector<std::string>> loadQuotaChanges() = 0;
  // Services (services.hpp), one JSON record each, loaded in name order.
  virtual Status saveService(const std::string& name, const std::string& record) = 0;
  virtual Status deleteService(const std::string& name) = 0;
  virtual Result<std::vector<std::string>> loadServices() = 0;
  // The event log (event_log.hpp): saved in the transaction of the change it records, pruned
  // by count (every id up to `up_to_id` deleted), the newest `count` loaded in id order; and,
  // for a reader behind what the log keeps in memory, the first `max` after `after_id`.
  virtual Status saveEvent(const Event& event) = 0;
  virtual Status pruneEvents(uint64_t up_to_id) = 0;
  virtual Result<std::vector<Event>> loadEvents(size_t count) = 0;
  virtual Result<std::vector<Event>> loadEventsAfter(uint64_t after_id, size_t max) = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;

 protected:
  Store() = default;
};

// JSON codec of a Job, the store's record format (also handy for debugging with sqlite3).
std::string jobToJson(const Job& job);
Result<Job> jobFromJson(const std::string& text);

}  // namespace locus::controller
