#pragma once
// The store in etcd, for high availability: the controllers of one cluster share it, and only the
// leader (leader_election.hpp) writes. Keys, under a prefix P such as "/locus/CLUSTER/":
//
//   P jobs/<id, 20 digits>            jobToJson()              (zero-padded: key order = id order)
//   P nodes/<name>                    {"boot_id": N, "topology": base64}
//   P usage/<assoc>                   {"value": x, "as_of": unix seconds}
//   P account_changes/<seq, 20 digits> the change's JSON       (appended: ordered keys)
//   P quota_changes/<seq, 20 digits>   the change's JSON
//   P services/<name>                 the service's record
//   P events/<id, 20 digits>          {"id":..., "time":..., "kind":..., ...}
//
// Transactions: begin() starts buffering, every save only buffers, and commit() sends them all
// as ONE etcd txn — so a commit lands whole or not at all. Several saves of one key in a
// transaction collapse into the last (etcd refuses a key twice in a txn). A write outside a
// transaction is its own txn.
//
// Fencing: with a fence set (the leader key and the revision at which this controller created
// it, from LeaderElection), every txn compares the leader key's create_revision and value first;
// a controller that lost leadership — its lease expired while it was stopped, its network was
// cut — gets kFailedPrecondition and writes nothing, so it can never overwrite the new leader's
// state. Without a fence (one controller, no election) writes are not fenced.
//
// Size: etcd refuses a txn with more than --max-txn-ops operations (default 128) or a request
// above --max-request-bytes (default 1.5 MiB). A commit with more operations than
// `max_txn_ops` fails with kFailedPrecondition and writes nothing (unless split_large_commits);
// start etcd with a larger --max-txn-ops (`locus up` does) and set max_txn_ops to match.
//
// Errors: kUnavailable (etcd unreachable or timed out; a commit whose answer was lost says
// "outcome unknown": it may have landed), kFailedPrecondition (not the leader any more; a commit
// too large), kInternal (a corrupt record).
// Not thread-safe: the controller calls it under its own lock.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "controller/store/etcd_client.hpp"
#include "controller/store/store.hpp"

namespace locus::controller {

// Whose writes are accepted: those made while `key` still has this value and create_revision
// (the leader key, created by this controller when it won the election).
struct EtcdFence {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
};

struct EtcdStoreOptions {
  std::string prefix;  // "/locus/CLUSTER/": must end with '/'
  // etcd's --max-txn-ops. A commit of more operations than this is refused as a whole, or with
  // split_large_commits written as several txns in order, each fenced and atomic but the whole
  // not (a crash between two may leave the first alone in the store).
  size_t max_txn_ops = 128;
  bool split_large_commits = false;
  std::optional<EtcdFence> fence;
};

class EtcdStore : public Store {
 public:
  // Checks that etcd answers. Errors: kInvalidArgument (a bad prefix), kUnavailable.
  static Result<std::unique_ptr<EtcdStore>> open(std::shared_ptr<EtcdClient> client,
                                                 EtcdStoreOptions options);

  // Sets (or clears) the fence for the following commits: a controller that won an election sets
  // it before its first write. A transaction open now is kept.
  void setFence(std::optional<EtcdFence> fence);

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
  // Sends the buffered writes as one txn. The transaction ends whatever the outcome.
  Status commit() override;
  void rollback() override;

  // The key of a job, for tests and tools ("P jobs/00000000000000000042").
  std::string jobKey(uint64_t id) const;
  // How many etcd operations the open transaction would send now.
  size_t pendingOps() const { return pending_.writes.size() + pending_.deleted_ranges.size(); }

 private:
  // Buffered writes, as etcd will get them: at most one op per key, and no put inside a deleted
  // range (a later put splits the range around its key).
  struct Pending {
    std::map<std::string, std::optional<std::string>> writes;         // nullopt: delete the key
    std::vector<std::pair<std::string, std::string>> deleted_ranges;  // [from, to)
    std::vector<std::string> appended;  // change keys that must not exist yet
  };

  EtcdStore(std::shared_ptr<EtcdClient> client, EtcdStoreOptions options);
  void put(std::string key, std::string value);
  void del(const std::string& key);
  void delRange(const std::string& from, const std::string& to);
  // Ends a write made outside a transaction: commits it alone.
  Status autoCommit();
  Status send(Pending pending);
  Status sendTxn(const std::vector<EtcdCompare>& compares, const std::vector<EtcdOp>& ops);
  Status append(const char* table, std::optional<uint64_t>& next_seq,
                const std::string& change_json);
  Result<std::vector<std::string>> loadValues(const std::string& dir);
  std::string key(const char* dir, const std::string& name) const {
    return prefix_ + dir + "/" + name;
  }

  std::shared_ptr<EtcdClient> client_;
  const std::string prefix_;
  const size_t max_txn_ops_;
  const bool split_large_commits_;
  std::optional<EtcdFence> fence_;
  bool in_txn_ = false;
  Pending pending_;
  // The next sequence number of each change log, learned from etcd on first use and forgotten
  // after a failed commit or a new fence (another writer may have appended meanwhile).
  std::optional<uint64_t> next_account_seq_;
  std::optional<uint64_t> next_quota_seq_;
};

}  // namespace locus::controller
