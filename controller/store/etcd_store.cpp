#include "controller/store/etcd_store.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/logging.hpp"

namespace locus::controller {
namespace {

using nlohmann::json;

auto log() {
  static auto l = logger("controller.store");
  return l;
}

// Zero-padded to uint64's 20 digits, so etcd's byte order of keys is the numeric order.
std::string padded(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(n));
  return buf;
}

json eventToJson(const Event& e) {
  return {{"id", e.id},
          {"time", e.time},
          {"kind", e.kind},
          {"job_id", e.job_id},
          {"node", e.node},
          {"user", e.user},
          {"old_state", e.old_state},
          {"new_state", e.new_state},
          {"reason", e.reason},
          {"exit_code", e.exit_code},
          {"array_job_id", e.array_job_id},
          {"array_task_id", e.array_task_id},
          {"attempt", e.attempt}};
}

Result<Event> eventFromJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return internalError("not a JSON object");
  try {
    Event e;
    e.id = j.at("id").get<uint64_t>();
    e.time = j.at("time").get<int64_t>();
    e.kind = j.at("kind").get<std::string>();
    e.job_id = j.at("job_id").get<uint64_t>();
    e.node = j.at("node").get<std::string>();
    e.user = j.at("user").get<std::string>();
    e.old_state = j.at("old_state").get<std::string>();
    e.new_state = j.at("new_state").get<std::string>();
    e.reason = j.at("reason").get<std::string>();
    e.exit_code = j.at("exit_code").get<int32_t>();
    e.array_job_id = j.at("array_job_id").get<uint64_t>();
    e.array_task_id = j.at("array_task_id").get<int64_t>();
    e.attempt = j.at("attempt").get<uint32_t>();
    return e;
  } catch (const json::exception& ex) {
    return internalError(ex.what());
  }
}

}  // namespace

EtcdStore::EtcdStore(std::shared_ptr<EtcdClient> client, EtcdStoreOptions options)
    : client_(std::move(client)),
      prefix_(std::move(options.prefix)),
      max_txn_ops_(options.max_txn_ops),
      split_large_commits_(options.split_large_commits),
      fence_(std::move(options.fence)) {}

Result<std::unique_ptr<EtcdStore>> EtcdStore::open(std::shared_ptr<EtcdClient> client,
                                                   EtcdStoreOptions options) {
  if (!client) return invalidArgument("etcd store: no client");
  if (options.prefix.empty() || options.prefix.back() != '/')
    return invalidArgument("etcd store prefix '" + options.prefix + "' must end with '/'");
  if (options.max_txn_ops < 2) return invalidArgument("etcd store: max_txn_ops must be at least 2");
  std::unique_ptr<EtcdStore> store(new EtcdStore(std::move(client), std::move(options)));
  // Fail here, like SQLite's open, rather than at the first load.
  auto probe = store->client_->range(store->prefix_, etcdPrefixEnd(store->prefix_), 1);
  if (!probe.ok()) return probe.error();
  return store;
}

void EtcdStore::setFence(std::optional<EtcdFence> fence) {
  fence_ = std::move(fence);
  next_account_seq_.reset();
  next_quota_seq_.reset();
}

std::string EtcdStore::jobKey(uint64_t id) const { return key("jobs", padded(id)); }

// ---- buffering -------------------------------------------------------------------------------

void EtcdStore::put(std::string k, std::string value) {
  // A put inside a range deleted earlier in this transaction would be "a duplicate key" to etcd;
  // the range is cut around the key instead, which deletes the same keys.
  std::vector<std::pair<std::string, std::string>> ranges;
  for (auto& [from, to] : pending_.deleted_ranges) {
    if (k < from || !(k < to)) {
      ranges.emplace_back(std::move(from), std::move(to));
      continue;
    }
    std::string after = k + '\0';
    if (from < k) ranges.emplace_back(from, k);
    if (after < to) ranges.emplace_back(std::move(after), std::move(to));
  }
  pending_.deleted_ranges = std::move(ranges);
  pending_.writes[std::move(k)] = std::move(value);
}

void EtcdStore::del(const std::string& k) {
  for (const auto& [from, to] : pending_.deleted_ranges)
    if (!(k < from) && k < to) {
      pending_.writes.erase(k);  // already deleted by the range
      return;
    }
  pending_.writes[k] = std::nullopt;
}

void EtcdStore::delRange(const std::string& from, const std::string& to) {
  if (!(from < to)) return;
  pending_.writes.erase(pending_.writes.lower_bound(from), pending_.writes.lower_bound(to));
  pending_.deleted_ranges.emplace_back(from, to);
}

Status EtcdStore::autoCommit() {
  if (in_txn_) return {};
  Pending p = std::move(pending_);
  pending_ = {};
  return send(std::move(p));
}

Status EtcdStore::begin() {
  if (in_txn_) return failedPrecondition("etcd store: begin() inside an open transaction");
  in_txn_ = true;
  pending_ = {};
  return {};
}

Status EtcdStore::commit() {
  if (!in_txn_) return failedPrecondition("etcd store: commit() without begin()");
  in_txn_ = false;
  Pending p = std::move(pending_);
  pending_ = {};
  return send(std::move(p));
}

void EtcdStore::rollback() {
  if (!in_txn_) return;
  in_txn_ = false;
  pending_ = {};
  // Sequence numbers handed out in the dropped transaction are free again.
  next_account_seq_.reset();
  next_quota_seq_.reset();
}

// ---- sending ---------------------------------------------------------------------------------

Status EtcdStore::send(Pending p) {
  if (p.writes.empty() && p.deleted_ranges.empty()) return {};
  // Appended change keys first: with split_large_commits their "absent" compares go with the
  // chunk that creates them.
  std::vector<EtcdOp> ops;
  ops.reserve(p.writes.size() + p.deleted_ranges.size());
  for (const auto& k : p.appended) {
    auto it = p.writes.find(k);
    if (it == p.writes.end() || !it->second) continue;
    ops.push_back(EtcdOp::put(k, std::move(*it->second)));
    p.writes.erase(it);
  }
  const size_t appended = ops.size();
  for (auto& [k, v] : p.writes) ops.push_back(v ? EtcdOp::put(k, std::move(*v)) : EtcdOp::del(k));
  for (auto& [from, to] : p.deleted_ranges)
    ops.push_back(EtcdOp::delRange(std::move(from), std::move(to)));

  const size_t fence_compares = fence_ ? 2 : 0;
  if (ops.size() > max_txn_ops_ && !split_large_commits_)
    return failedPrecondition(
        "etcd store: a commit of " + std::to_string(ops.size()) +
        " operations is above etcd's limit of " + std::to_string(max_txn_ops_) +
        " per txn (start etcd with a larger --max-txn-ops and set max_txn_ops to match)");
  Status s;
  for (size_t at = 0; at < ops.size() && s.ok(); at += max_txn_ops_) {
    const size_t end = std::min(ops.size(), at + max_txn_ops_);
    std::vector<EtcdCompare> compares;
    if (fence_) {
      compares.push_back(EtcdCompare::createRevisionEquals(fence_->key, fence_->create_revision));
      compares.push_back(EtcdCompare::valueEquals(fence_->key, fence_->value));
    }
    for (size_t i = at; i < std::min(end, appended); ++i)
      compares.push_back(EtcdCompare::absent(ops[i].key));
    if (compares.size() > max_txn_ops_)
      return failedPrecondition("etcd store: " + std::to_string(compares.size() - fence_compares) +
                                " appends in one commit are above etcd's limit of " +
                                std::to_string(max_txn_ops_));
    std::vector<EtcdOp> chunk(std::make_move_iterator(ops.begin() + at),
                              std::make_move_iterator(ops.begin() + end));
    s = sendTxn(compares, chunk);
    if (!s.ok() && at > 0)
      log()->error("etcd store: commit split in txns of {} ops failed after {} of {} ops: {}",
                   max_txn_ops_, at, ops.size(), s.error().message);
  }
  return s;
}

Status EtcdStore::sendTxn(const std::vector<EtcdCompare>& compares,
                          const std::vector<EtcdOp>& ops) {
  std::vector<EtcdOp> failure;
  if (fence_) failure.push_back(EtcdOp::get(fence_->key));
  auto r = client_->txn(compares, ops, failure);
  if (!r.ok()) {
    next_account_seq_.reset();
    next_quota_seq_.reset();
    if (r.error().code == ErrorCode::kInvalidArgument)  // too many ops or bytes for this etcd
      return failedPrecondition("etcd store: commit of " + std::to_string(ops.size()) +
                                " operations refused: " + r.error().message);
    return r.error();
  }
  if (r->succeeded) return {};
  next_account_seq_.reset();
  next_quota_seq_.reset();
  if (fence_) {
    const auto& got = r->gets.empty() ? std::vector<KeyValue>{} : r->gets.front();
    if (got.empty() || got.front().create_revision != fence_->create_revision ||
        got.front().value != fence_->value) {
      const std::string now = got.empty() ? "nobody holds it"
                                          : "held by '" + got.front().value + "' since revision " +
                                                std::to_string(got.front().create_revision);
      log()->error("etcd store: write refused, this controller is no longer the leader ({}: {})",
                   fence_->key, now);
      return failedPrecondition("not the leader any more: the leader key " + fence_->key + " is " +
                                now + ", not ours from revision " +
                                std::to_string(fence_->create_revision) + "; nothing was written");
    }
  }
  // The fence held, so an appended change key existed already: another writer appended to the
  // same log (two unfenced controllers). The sequence is read again on the next append.
  return unavailable(
      "etcd store: a change log was appended to by another writer meanwhile; nothing was written");
}

// ---- records ---------------------------------------------------------------------------------

Status EtcdStore::saveJob(const Job& job) {
  put(jobKey(job.id), jobToJson(job));
  return autoCommit();
}

Status EtcdStore::saveNode(const StoredNode& node) {
  put(key("nodes", node.name),
      json{{"boot_id", node.boot_id}, {"topology", base64Encode(node.topology)}}.dump());
  return autoCommit();
}

Status EtcdStore::saveUsage(const std::string& assoc, double value, int64_t as_of_s) {
  put(key("usage", assoc), json{{"value", value}, {"as_of", as_of_s}}.dump());
  return autoCommit();
}

Status EtcdStore::saveService(const std::string& name, const std::string& record) {
  put(key("services", name), record);
  return autoCommit();
}

Status EtcdStore::deleteService(const std::string& name) {
  del(key("services", name));
  return autoCommit();
}

Status EtcdStore::saveEvent(const Event& event) {
  put(key("events", padded(event.id)), eventToJson(event).dump());
  return autoCommit();
}

Status EtcdStore::pruneEvents(uint64_t up_to_id) {
  const std::string dir = prefix_ + "events/";
  delRange(dir, up_to_id == UINT64_MAX ? etcdPrefixEnd(dir) : dir + padded(up_to_id + 1));
  return autoCommit();
}

Status EtcdStore::append(const char* table, std::optional<uint64_t>& next_seq,
                         const std::string& change_json) {
  const std::string dir = prefix_ + table + "/";
  if (!next_seq) {
    auto last = client_->range(dir, etcdPrefixEnd(dir), 1, /*descending=*/true);
    if (!last.ok()) {
      if (!in_txn_) pending_ = {};
      return last.error();
    }
    uint64_t seq = 0;
    if (!last->empty()) {
      const std::string tail = last->front().key.substr(dir.size());
      char* end = nullptr;
      seq = std::strtoull(tail.c_str(), &end, 10);
      if (tail.empty() || *end != '\0')
        return internalError("corrupt change log key " + last->front().key);
    }
    next_seq = seq + 1;
  }
  const std::string k = dir + padded((*next_seq)++);
  put(k, change_json);
  pending_.appended.push_back(k);
  return autoCommit();
}

Status EtcdStore::appendAccountChange(const std::string& change_json) {
  return append("account_changes", next_account_seq_, change_json);
}
Status EtcdStore::appendQuotaChange(const std::string& change_json) {
  return append("quota_changes", next_quota_seq_, change_json);
}

// ---- loading ---------------------------------------------------------------------------------

Result<std::vector<std::string>> EtcdStore::loadValues(const std::string& dir) {
  auto kvs = client_->getPrefix(prefix_ + dir + "/");
  if (!kvs.ok()) return kvs.error();
  std::vector<std::string> out;
  out.reserve(kvs->size());
  for (auto& kv : *kvs) out.push_back(std::move(kv.value));
  return out;
}

Status EtcdStore::loadJobs(const std::function<bool(const JobSummary&)>& keep,
                          const std::function<void(Job&&)>& take) {
  auto kvs = client_->getPrefix(prefix_ + "jobs/");
  if (!kvs.ok()) return kvs.error();
  for (auto& kv : *kvs) {
    auto job = jobFromJson(kv.value);
    if (!job.ok())
      return internalError("corrupt job record " + kv.key + ": " + job.error().message);
    std::string().swap(kv.value);  // the text goes as it is decoded
    if (keep(JobSummary::of(*job))) take(std::move(*job));
  }
  return {};
}

Result<std::optional<Job>> EtcdStore::loadJob(uint64_t id) {
  auto kv = client_->get(jobKey(id));
  if (!kv.ok()) return kv.error();
  if (!*kv) return std::optional<Job>();
  auto job = jobFromJson((*kv)->value);
  if (!job.ok()) return internalError("corrupt job record " + (*kv)->key + ": " + job.error().message);
  return std::optional<Job>(std::move(*job));
}

Result<std::vector<StoredNode>> EtcdStore::loadNodes() {
  const std::string dir = prefix_ + "nodes/";
  auto kvs = client_->getPrefix(dir);
  if (!kvs.ok()) return kvs.error();
  std::vector<StoredNode> nodes;
  for (const auto& kv : *kvs) {
    json j = json::parse(kv.value, nullptr, false);
    StoredNode n;
    n.name = kv.key.substr(dir.size());
    try {
      if (j.is_discarded()) throw std::runtime_error("not JSON");
      n.boot_id = j.at("boot_id").get<uint64_t>();
      auto topo = base64Decode(j.at("topology").get<std::string>());
      if (!topo.ok()) throw std::runtime_error(topo.error().message);
      n.topology = std::move(*topo);
    } catch (const std::exception& ex) {
      return internalError("corrupt node record " + kv.key + ": " + ex.what());
    }
    nodes.push_back(std::move(n));
  }
  return nodes;
}

Result<std::vector<std::tuple<std::string, double, int64_t>>> EtcdStore::loadUsage() {
  const std::string dir = prefix_ + "usage/";
  auto kvs = client_->getPrefix(dir);
  if (!kvs.ok()) return kvs.error();
  std::vector<std::tuple<std::string, double, int64_t>> out;
  for (const auto& kv : *kvs) {
    json j = json::parse(kv.value, nullptr, false);
    try {
      if (j.is_discarded()) throw std::runtime_error("not JSON");
      out.emplace_back(kv.key.substr(dir.size()), j.at("value").get<double>(),
                       j.at("as_of").get<int64_t>());
    } catch (const std::exception& ex) {
      return internalError("corrupt usage record " + kv.key + ": " + ex.what());
    }
  }
  return out;
}

Result<std::vector<std::string>> EtcdStore::loadAccountChanges() {
  return loadValues("account_changes");
}
Result<std::vector<std::string>> EtcdStore::loadQuotaChanges() {
  return loadValues("quota_changes");
}
Result<std::vector<std::string>> EtcdStore::loadServices() { return loadValues("services"); }

Result<std::vector<Event>> EtcdStore::loadEvents(size_t count) {
  if (count == 0) return std::vector<Event>{};
  const std::string dir = prefix_ + "events/";
  // The newest `count`: read in descending key order, a page at a time (each page ends where
  // the last one stopped: range ends are exclusive), then reversed.
  constexpr size_t kPage = 512;
  std::vector<KeyValue> newest_first;
  std::string end = etcdPrefixEnd(dir);
  while (newest_first.size() < count) {
    const size_t want = std::min(kPage, count - newest_first.size());
    auto page = client_->range(dir, end, static_cast<int64_t>(want), /*descending=*/true);
    if (!page.ok()) return page.error();
    for (auto& kv : *page) newest_first.push_back(std::move(kv));
    if (page->size() < want) break;
    end = newest_first.back().key;
  }
  std::vector<Event> out;
  out.reserve(newest_first.size());
  for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
    auto e = eventFromJson(it->value);
    if (!e.ok()) return internalError("corrupt event record " + it->key + ": " + e.error().message);
    out.push_back(std::move(*e));
  }
  return out;
}

Result<std::vector<Event>> EtcdStore::loadEventsAfter(uint64_t after_id, size_t max) {
  if (max == 0 || after_id == UINT64_MAX) return std::vector<Event>{};
  const std::string dir = prefix_ + "events/";
  auto kvs = client_->range(dir + padded(after_id + 1), etcdPrefixEnd(dir), static_cast<int64_t>(max));
  if (!kvs.ok()) return kvs.error();
  std::vector<Event> out;
  out.reserve(kvs->size());
  for (const auto& kv : *kvs) {
    auto e = eventFromJson(kv.value);
    if (!e.ok()) return internalError("corrupt event record " + kv.key + ": " + e.error().message);
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace locus::controller
