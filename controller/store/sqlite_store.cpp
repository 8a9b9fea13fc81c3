#include "controller/store/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>

#include "common/logging.hpp"

namespace locus::controller {
namespace {
auto log() {
  static auto l = logger("controller.store");
  return l;
}
}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return unavailable("cannot create state directory " + state_dir + ": " + ec.message());
  std::unique_ptr<SqliteStore> store(new SqliteStore());
  std::string path = state_dir + "/locus.db";
  if (sqlite3_open(path.c_str(), &store->db_) != SQLITE_OK)
    return unavailable("cannot open " + path + ": " + sqlite3_errmsg(store->db_));
  sqlite3_busy_timeout(store->db_, 5000);
  for (const char* sql : {
           "PRAGMA journal_mode=WAL",
           "PRAGMA synchronous=NORMAL",
           "CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL,"
           " user TEXT NOT NULL, record TEXT NOT NULL)",
           "CREATE TABLE IF NOT EXISTS nodes (name TEXT PRIMARY KEY, topology BLOB NOT NULL,"
           " boot_id INTEGER NOT NULL)",
           "CREATE TABLE IF NOT EXISTS usage (assoc TEXT PRIMARY KEY, value REAL NOT NULL,"
           " as_of INTEGER NOT NULL)",
           "CREATE TABLE IF NOT EXISTS account_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
           " change TEXT NOT NULL)",
           "CREATE TABLE IF NOT EXISTS quota_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
           " change TEXT NOT NULL)",
           "CREATE TABLE IF NOT EXISTS services (name TEXT PRIMARY KEY, record TEXT NOT NULL)",
           "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
           " kind TEXT NOT NULL, job_id INTEGER NOT NULL, node TEXT NOT NULL, user TEXT NOT NULL,"
           " old_state TEXT NOT NULL, new_state TEXT NOT NULL, reason TEXT NOT NULL,"
           " exit_code INTEGER NOT NULL, array_job_id INTEGER NOT NULL, array_task_id INTEGER NOT NULL,"
           " attempt INTEGER NOT NULL)",
       }) {
    Status s = store->exec(sql);
    if (!s.ok()) return s.error();
  }
  if (sqlite3_prepare_v2(store->db_,
                         "INSERT OR REPLACE INTO jobs (id, state, user, record) VALUES (?,?,?,?)",
                         -1, &store->save_job_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(store->db_,
                         "INSERT OR REPLACE INTO nodes (name, topology, boot_id) VALUES (?,?,?)",
                         -1, &store->save_node_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(store->db_, "INSERT OR REPLACE INTO usage (assoc, value, as_of) VALUES (?,?,?)",
                         -1, &store->save_usage_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(store->db_,
                         "INSERT INTO events (id, time, kind, job_id, node, user, old_state, new_state,"
                         " reason, exit_code, array_job_id, array_task_id, attempt)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         -1, &store->save_event_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(store->db_, "DELETE FROM events WHERE id <= ?", -1, &store->prune_events_,
                         nullptr) != SQLITE_OK)
    return internalError(std::string("prepare: ") + sqlite3_errmsg(store->db_));
  return store;
}

SqliteStore::~SqliteStore() {
  sqlite3_finalize(save_job_);
  sqlite3_finalize(save_node_);
  sqlite3_finalize(save_usage_);
  sqlite3_finalize(save_event_);
  sqlite3_finalize(prune_events_);
  sqlite3_close(db_);
}

Status SqliteStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string(sql) + ": " + (err ? err : "unknown error");
    sqlite3_free(err);
    return unavailable("store: " + msg);
  }
  return {};
}

Status SqliteStore::loadJobs(const std::function<bool(const JobSummary&)>& keep,
                            const std::function<void(Job&&)>& take) {
  // The summary from SQLite's own JSON reader: a fraction of the cost of decoding a record (on
  // a 109,622-job store: 0.6 s, where decoding every record took 5.5 s). Only kept jobs are
  // decoded whole.
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT id, user, state, json_extract(record, '$.completing'),"
                         " json_extract(record, '$.start_time'), json_extract(record, '$.end_time'),"
                         " json_extract(record, '$.array_job_id'), json_extract(record, '$.framework'),"
                         " record FROM jobs ORDER BY id",
                         -1, &stmt, nullptr) != SQLITE_OK)
    return internalError(sqlite3_errmsg(db_));
  uint64_t last_id = 0;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    JobSummary summary;
    summary.id = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    if (const unsigned char* user = sqlite3_column_text(stmt, 1)) summary.user = reinterpret_cast<const char*>(user);
    const unsigned char* state_text = sqlite3_column_text(stmt, 2);
    auto state = jobStateFromString(state_text ? reinterpret_cast<const char*>(state_text) : "");
    if (!state) {
      sqlite3_finalize(stmt);
      return internalError("corrupt job record " + std::to_string(summary.id) + ": unknown state");
    }
    summary.state = *state;
    summary.completing = sqlite3_column_int(stmt, 3) != 0;
    summary.start_time = sqlite3_column_int64(stmt, 4);
    summary.end_time = sqlite3_column_int64(stmt, 5);
    summary.array_job_id = static_cast<uint64_t>(sqlite3_column_int64(stmt, 6));
    summary.lease = sqlite3_column_bytes(stmt, 7) > 0;
    if (!keep(summary)) {
      last_id = summary.id;
      continue;
    }
    std::string text(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 8)));
    auto job = jobFromJson(text);
    if (!job.ok()) {
      sqlite3_finalize(stmt);
      return internalError("corrupt job record: " + job.error().message);
    }
    take(std::move(*job));
    last_id = summary.id;
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) {
    // json_extract refuses a record that is not JSON: corrupt, not a passing failure.
    const std::string why = sqlite3_errmsg(db_);
    if (why.find("JSON") != std::string::npos)
      return internalError("corrupt job record (the one after job " + std::to_string(last_id) + "): " + why);
    return unavailable(why);
  }
  return {};
}

Result<std::optional<Job>> SqliteStore::loadJob(uint64_t id) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT record FROM jobs WHERE id = ?", -1, &stmt, nullptr) != SQLITE_OK)
    return internalError(sqlite3_errmsg(db_));
  sqlite3_bind_int64(stmt, 1, static_cast<sqlite3_int64>(id));
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) {
    sqlite3_finalize(stmt);
    return std::optional<Job>();
  }
  if (rc != SQLITE_ROW) {
    const std::string why = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return unavailable(why);
  }
  std::string text(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  auto job = jobFromJson(text);
  if (!job.ok()) return internalError("corrupt job record " + std::to_string(id) + ": " + job.error().message);
  return std::optional<Job>(std::move(*job));
}

Result<std::vector<StoredNode>> SqliteStore::loadNodes() {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT name, topology, boot_id FROM nodes ORDER BY name", -1, &stmt,
                         nullptr) != SQLITE_OK)
    return internalError(sqlite3_errmsg(db_));
  std::vector<StoredNode> nodes;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    StoredNode n;
    n.name = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    n.topology.assign(static_cast<const char*>(sqlite3_column_blob(stmt, 1)), sqlite3_column_bytes(stmt, 1));
    n.boot_id = static_cast<uint64_t>(sqlite3_column_int64(stmt, 2));
    nodes.push_back(std::move(n));
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return unavailable(sqlite3_errmsg(db_));
  return nodes;
}

Status SqliteStore::begin() { return exec("BEGIN IMMEDIATE"); }
Status SqliteStore::commit() { return exec("COMMIT"); }
void SqliteStore::rollback() {
  if (!sqlite3_get_autocommit(db_)) (void)exec("ROLLBACK");
}

Status SqliteStore::saveJob(const Job& job) {
  std::string record = jobToJson(job);
  std::string_view state = toString(job.state);
  sqlite3_reset(save_job_);
  sqlite3_bind_int64(save_job_, 1, static_cast<sqlite3_int64>(job.id));
  sqlite3_bind_text(save_job_, 2, state.data(), static_cast<int>(state.size()), SQLITE_STATIC);
  sqlite3_bind_text(save_job_, 3, job.user.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(save_job_, 4, record.c_str(), static_cast<int>(record.size()), SQLITE_STATIC);
  if (sqlite3_step(save_job_) != SQLITE_DONE) {
    std::string msg = sqlite3_errmsg(db_);
    log()->error("save job={} failed: {}", job.id, msg);
    return unavailable("store: " + msg);
  }
  return {};
}

Status SqliteStore::saveNode(const StoredNode& node) {
  sqlite3_reset(save_node_);
  sqlite3_bind_text(save_node_, 1, node.name.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_blob(save_node_, 2, node.topology.data(), static_cast<int>(node.topology.size()), SQLITE_STATIC);
  sqlite3_bind_int64(save_node_, 3, static_cast<sqlite3_int64>(node.boot_id));
  if (sqlite3_step(save_node_) != SQLITE_DONE) return unavailable(std::string("store: ") + sqlite3_errmsg(db_));
  return {};
}

Status SqliteStore::saveUsage(const std::string& assoc, double value, int64_t as_of_s) {
  sqlite3_reset(save_usage_);
  sqlite3_bind_text(save_usage_, 1, assoc.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_double(save_usage_, 2, value);
  sqlite3_bind_int64(save_usage_, 3, as_of_s);
  if (sqlite3_step(save_usage_) != SQLITE_DONE) return unavailable(std::string("store: ") + sqlite3_errmsg(db_));
  return {};
}

Result<std::vector<std::tuple<std::string, double, int64_t>>> SqliteStore::loadUsage() {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT assoc, value, as_of FROM usage", -1, &stmt, nullptr) != SQLITE_OK)
    return internalError(sqlite3_errmsg(db_));
  std::vector<std::tuple<std::string, double, int64_t>> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                     sqlite3_column_double(stmt, 1), sqlite3_column_int64(stmt, 2));
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return unavailable(sqlite3_errmsg(db_));
  return out;
}

Status SqliteStore::appendChange(const char* table, const std::string& change_json) {
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = std::string("INSERT INTO ") + table + " (change) VALUES (?)";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return internalError(sqlite3_errmsg(db_));
  sqlite3_bind_text(stmt, 1, change_json.c_str(), -1, SQLITE_STATIC);
  int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return unavailable(std::string("store: ") + sqlite3_errmsg(db_));
  return {};
}

Result<std::vector<std::string>> SqliteStore::loadChanges(const char* table) {
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = std::string("SELECT change FROM ") + table + " ORDER BY seq";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return internalError(sqlite3_errmsg(db_));
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return unavailable(sqlite3_errmsg(db_));
  return out;
}

Status SqliteStore::saveService(const std::string& name, const std::string& record) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO services (name, record) VALUES (?, ?)", -1, &stmt, nullptr) !=
      SQLITE_OK)
    return internalError(sqlite3_errmsg(db_));
  sqlite3_bind_text(stmt, 1, name.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(stmt, 2, record.c_str(), -1, SQLITE_STATIC);
  int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return unavailable(std::string("store: ") + sqlite3_errmsg(db_));
  return {};
}

Status SqliteStore::deleteService(const std::string& name) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM services WHERE name = ?", -1, &stmt, nullptr) != SQLITE_OK)
    return internalError(sqlite3_errmsg(db_));
  sqlite3_bind_text(stmt, 1, name.c_str(), -1, SQLITE_STATIC);
  int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return unavailable(std::string("store: ") + sqlite3_errmsg(db_));
  return {};
}

Result<std::vector<std::string>> SqliteStore::loadServices() {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT record FROM services ORDER BY name", -1, &stmt, nullptr) != SQLITE_OK)
    return internalError(sqlite3_errmsg(db_));
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return unavailable(sqlite3_errmsg(db_));
  return out;
}

Status SqliteStore::saveEvent(const Event& e) {
  sqlite3_stmt* st = save_event_;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(e.id));
  sqlite3_bind_int64(st, 2, e.time);
  sqlite3_bind_text(st, 3, e.kind.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, static_cast<sqlite3_int64>(e.job_id));
  sqlite3_bind_text(st, 5, e.node.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, e.user.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, e.old_state.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 8, e.new_state.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 9, e.reason.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 10, e.exit_code);
  sqlite3_bind_int64(st, 11, static_cast<sqlite3_int64>(e.array_job_id));
  sqlite3_bind_int64(st, 12, e.array_task_id);
  sqlite3_bind_int64(st, 13, e.attempt);
  if (sqlite3_step(st) != SQLITE_DONE) {
    std::string msg = sqlite3_errmsg(db_);
    log()->error("save event={} failed: {}", e.id, msg);
    return unavailable("store: " + msg);
  }
  return {};
}

Status SqliteStore::pruneEvents(uint64_t up_to_id) {
  sqlite3_reset(prune_events_);
  sqlite3_bind_int64(prune_events_, 1, static_cast<sqlite3_int64>(up_to_id));
  if (sqlite3_step(prune_events_) != SQLITE_DONE) return unavailable(std::string("store: ") + sqlite3_errmsg(db_));
  return {};
}

namespace {

// Runs a SELECT of the events table's columns in their order; its rows as events.
Result<std::vector<Event>> selectEvents(sqlite3* db, const char* where_order_limit,
                                        const std::vector<sqlite3_int64>& params) {
  const std::string sql =
      std::string("SELECT id, time, kind, job_id, node, user, old_state, new_state, reason, exit_code,"
                  " array_job_id, array_task_id, attempt FROM events ") +
      where_order_limit;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    return internalError(sqlite3_errmsg(db));
  for (size_t i = 0; i < params.size(); ++i) sqlite3_bind_int64(stmt, static_cast<int>(i + 1), params[i]);
  auto text = [&](int column) {
    const unsigned char* t = sqlite3_column_text(stmt, column);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  std::vector<Event> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Event e;
    e.id = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    e.time = sqlite3_column_int64(stmt, 1);
    e.kind = text(2);
    e.job_id = static_cast<uint64_t>(sqlite3_column_int64(stmt, 3));
    e.node = text(4);
    e.user = text(5);
    e.old_state = text(6);
    e.new_state = text(7);
    e.reason = text(8);
    e.exit_code = sqlite3_column_int(stmt, 9);
    e.array_job_id = static_cast<uint64_t>(sqlite3_column_int64(stmt, 10));
    e.array_task_id = sqlite3_column_int64(stmt, 11);
    e.attempt = static_cast<uint32_t>(sqlite3_column_int64(stmt, 12));
    out.push_back(std::move(e));
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return unavailable(sqlite3_errmsg(db));
  return out;
}

}  // namespace

Result<std::vector<Event>> SqliteStore::loadEvents(size_t count) {
  // The newest `count`, read newest first (the primary key's order backwards), then reversed.
  auto out = selectEvents(db_, "ORDER BY id DESC LIMIT ?", {static_cast<sqlite3_int64>(count)});
  if (out.ok()) std::reverse(out->begin(), out->end());
  return out;
}

Result<std::vector<Event>> SqliteStore::loadEventsAfter(uint64_t after_id, size_t max) {
  // Ids above 2^63 cannot be stored: nothing is after one.
  if (after_id > static_cast<uint64_t>(INT64_MAX)) return std::vector<Event>{};
  return selectEvents(db_, "WHERE id > ? ORDER BY id LIMIT ?",
                      {static_cast<sqlite3_int64>(after_id), static_cast<sqlite3_int64>(max)});
}

Status SqliteStore::appendAccountChange(const std::string& change_json) { return appendChange("account_changes", change_json); }
Result<std::vector<std::string>> SqliteStore::loadAccountChanges() { return loadChanges("account_changes"); }
Status SqliteStore::appendQuotaChange(const std::string& change_json) { return appendChange("quota_changes", change_json); }
Result<std::vector<std::string>> SqliteStore::loadQuotaChanges() { return loadChanges("quota_changes"); }

}  // namespace locus::controller
