#pragma once
// A small synchronous etcd v3 client over etcd's JSON gateway (POST /v3/kv/range, /v3/kv/txn,
// /v3/lease/...: keys and values base64 in JSON, 64-bit numbers as strings). Debian has no etcd
// C++ client; the gateway ships with every etcd-server since 3.3 and needs no gRPC stack.
//
// Endpoints: several "HOST:PORT" (or "http://HOST:PORT") of one cluster. A request that could
// not be delivered (connection refused, connect timeout) goes to the next endpoint, each tried
// once; a request that was sent and then timed out is retried elsewhere only when repeating it
// is harmless (reads, lease keepalive/revoke) — a write whose answer was lost is reported as
// kUnavailable "outcome unknown" instead, because it may have been applied.
//
// Errors: kUnavailable (no endpoint reachable, timed out, etcd has no leader), kNotFound (a lease
// etcd does not know: expired or revoked), kInvalidArgument (etcd refused the request: too many
// operations in a txn, the same key twice in a txn, a request above --max-request-bytes),
// kPermissionDenied (etcd auth), kInternal (an answer that is not the gateway's JSON).
//
// Thread-safety: every method may be called from any thread; requests are serialized by an
// internal mutex (one connection). A thread that must not wait behind another's slow request
// (a lease keepalive) uses its own client.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace locus::controller {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "127.0.0.1:2379" or "http://127.0.0.1:2379"
  // Per attempt on one endpoint: connecting, then each read/write on the socket. Loopback and a
  // LAN connect in well under a millisecond; a dead host must not hold the controller's lock.
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds request_timeout{2000};
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;  // 1 on create, +1 per put
  int64_t lease = 0;    // 0: no lease
};

// One comparison of a txn: `key`'s target compared with the given operand. A key that does not
// exist has value "", version 0 and create/mod revision 0 (etcd's rule).
struct EtcdCompare {
  enum class Target { kValue, kVersion, kCreateRevision, kModRevision };
  enum class Result { kEqual, kNotEqual, kGreater, kLess };
  std::string key;
  Target target = Target::kVersion;
  Result result = Result::kEqual;
  std::string value;   // kValue
  int64_t number = 0;  // the others

  static EtcdCompare valueEquals(std::string key, std::string value);
  static EtcdCompare versionEquals(std::string key, int64_t version);
  static EtcdCompare createRevisionEquals(std::string key, int64_t revision);
  static EtcdCompare absent(std::string key) { return createRevisionEquals(std::move(key), 0); }
};

// One operation of a txn. `range_end` empty: the one key; otherwise keys in [key, range_end).
struct EtcdOp {
  enum class Kind { kGet, kPut, kDelete };
  Kind kind = Kind::kGet;
  std::string key;
  std::string range_end;
  std::string value;  // kPut
  int64_t lease = 0;  // kPut

  static EtcdOp get(std::string key);
  static EtcdOp put(std::string key, std::string value, int64_t lease = 0);
  static EtcdOp del(std::string key);
  static EtcdOp delRange(std::string key, std::string range_end);
};

struct EtcdTxnResult {
  bool succeeded = false;  // the compares held: `success` ran, else `failure` ran
  int64_t revision = 0;    // the store's revision after the txn
  // One entry per op of the branch that ran: the kvs of a kGet, empty for the others.
  std::vector<std::vector<KeyValue>> gets;
};

struct EtcdLease {
  int64_t id = 0;
  std::chrono::seconds ttl{0};
};

// The first key after every key that starts with `prefix` (etcd's range_end for a prefix).
std::string etcdPrefixEnd(const std::string& prefix);

// Standard base64 with padding, as the gateway writes keys and values. Decoding refuses
// characters outside the alphabet (kInternal).
std::string base64Encode(const std::string& bytes);
Result<std::string> base64Decode(const std::string& text);

class EtcdClient {
 public:
  // Errors: kInvalidArgument (no endpoints, an endpoint that is not HOST:PORT or http://;
  // https is not supported). Connects lazily: creating a client never waits.
  static Result<std::unique_ptr<EtcdClient>> create(EtcdOptions options);
  ~EtcdClient();

  // The key, or nullopt when absent.
  Result<std::optional<KeyValue>> get(const std::string& key);
  // Every key starting with `prefix`, in key order, read in pages of `page_size` keys so no
  // answer exceeds etcd's message limits. Pages are read at the revision of the first page, so
  // the result is one consistent snapshot (unless etcd compacts that revision meanwhile:
  // kUnavailable, try again).
  Result<std::vector<KeyValue>> getPrefix(const std::string& prefix, int64_t page_size = 512);
  // At most `limit` keys of [key, range_end), in descending key order when `descending`.
  Result<std::vector<KeyValue>> range(const std::string& key, const std::string& range_end,
                                      int64_t limit, bool descending = false);
  // Returns the store's revision after the put.
  Result<int64_t> put(const std::string& key, const std::string& value, int64_t lease = 0);
  // Returns how many keys were deleted (0 when none was there).
  Result<int64_t> del(const std::string& key);
  Result<int64_t> delPrefix(const std::string& prefix);
  // If every compare holds, runs `success`, else `failure`, atomically. etcd refuses more than
  // --max-txn-ops (default 128) ops in a branch, and the same key written twice in a branch
  // (put+put, put+delete of it): kInvalidArgument.
  Result<EtcdTxnResult> txn(const std::vector<EtcdCompare>& compares,
                            const std::vector<EtcdOp>& success,
                            const std::vector<EtcdOp>& failure = {});

  // A lease that expires `ttl` after its last keepalive. Keys put with it go when it does.
  Result<EtcdLease> leaseGrant(std::chrono::seconds ttl);
  // Renews the lease; returns its TTL again. kNotFound: the lease expired or was revoked.
  Result<std::chrono::seconds> leaseKeepAlive(int64_t id);
  // Ends the lease now, deleting its keys. Revoking an unknown lease is kNotFound.
  Status leaseRevoke(int64_t id);

  const std::vector<std::string>& endpoints() const;

 private:
  class Impl;
  explicit EtcdClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus::controller
