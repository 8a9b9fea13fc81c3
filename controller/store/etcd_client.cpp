// The only file of locus_controller that includes cpp-httplib (linked privately; pkg-config's
// flags carry the feature macros Debian's shared library was built with).
#include "controller/store/etcd_client.hpp"

#include <httplib.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/logging.hpp"

namespace locus::controller {
namespace {

using nlohmann::json;

auto log() {
  static auto l = logger("controller.etcd");
  return l;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string b64(const std::string& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v =
        (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

Result<std::string> unb64(const std::string& in) {
  if (in.size() % 4 == 1) return internalError("etcd answer: bad base64 length");
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=')
      break;
    else
      return internalError("etcd answer: bad base64");
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

// The gateway writes int64 as JSON strings ("revision":"7") and leaves zero values out.
int64_t number(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return 0;
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return it->is_number() ? it->get<int64_t>() : 0;
}

Result<KeyValue> kvFromJson(const json& j) {
  KeyValue kv;
  auto key = unb64(j.value("key", ""));
  if (!key.ok()) return key.error();
  auto value = unb64(j.value("value", ""));
  if (!value.ok()) return value.error();
  kv.key = std::move(*key);
  kv.value = std::move(*value);
  kv.create_revision = number(j, "create_revision");
  kv.mod_revision = number(j, "mod_revision");
  kv.version = number(j, "version");
  kv.lease = number(j, "lease");
  return kv;
}

Result<std::vector<KeyValue>> kvsFromJson(const json& j) {
  std::vector<KeyValue> out;
  auto it = j.find("kvs");
  if (it == j.end()) return out;
  if (!it->is_array()) return internalError("etcd answer: kvs is not an array");
  out.reserve(it->size());
  for (const auto& e : *it) {
    if (!e.is_object()) return internalError("etcd answer: a kv is not an object");
    auto kv = kvFromJson(e);
    if (!kv.ok()) return kv.error();
    out.push_back(std::move(*kv));
  }
  return out;
}

json rangeJson(const std::string& key, const std::string& range_end, int64_t limit, bool descending,
               int64_t revision) {
  json j{{"key", b64(key)}};
  if (!range_end.empty()) j["range_end"] = b64(range_end);
  if (limit > 0) j["limit"] = std::to_string(limit);
  if (descending) {
    j["sort_order"] = "DESCEND";
    j["sort_target"] = "KEY";
  }
  if (revision > 0) j["revision"] = std::to_string(revision);
  return j;
}

json opJson(const EtcdOp& op) {
  switch (op.kind) {
    case EtcdOp::Kind::kGet:
      return {{"request_range", rangeJson(op.key, op.range_end, 0, false, 0)}};
    case EtcdOp::Kind::kPut: {
      json p{{"key", b64(op.key)}, {"value", b64(op.value)}};
      if (op.lease != 0) p["lease"] = std::to_string(op.lease);
      return {{"request_put", p}};
    }
    case EtcdOp::Kind::kDelete: {
      json d{{"key", b64(op.key)}};
      if (!op.range_end.empty()) d["range_end"] = b64(op.range_end);
      return {{"request_delete_range", d}};
    }
  }
  return {};
}

json compareJson(const EtcdCompare& c) {
  static constexpr const char* kResult[] = {"EQUAL", "NOT_EQUAL", "GREATER", "LESS"};
  json j{{"key", b64(c.key)}, {"result", kResult[static_cast<int>(c.result)]}};
  switch (c.target) {
    case EtcdCompare::Target::kValue:
      j["target"] = "VALUE";
      j["value"] = b64(c.value);
      break;
    case EtcdCompare::Target::kVersion:
      j["target"] = "VERSION";
      j["version"] = std::to_string(c.number);
      break;
    case EtcdCompare::Target::kCreateRevision:
      j["target"] = "CREATE";
      j["create_revision"] = std::to_string(c.number);
      break;
    case EtcdCompare::Target::kModRevision:
      j["target"] = "MOD";
      j["mod_revision"] = std::to_string(c.number);
      break;
  }
  return j;
}

// gRPC status codes, as the gateway reports them in {"code": N, "message": ...}.
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcDeadlineExceeded = 4;
constexpr int kGrpcNotFound = 5;
constexpr int kGrpcPermissionDenied = 7;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcFailedPrecondition = 9;
constexpr int kGrpcOutOfRange = 11;
constexpr int kGrpcUnavailable = 14;
constexpr int kGrpcUnauthenticated = 16;

struct Endpoint {
  std::string host;
  int port = 0;
  std::string name;  // HOST:PORT, for messages
};

Result<Endpoint> parseEndpoint(std::string s) {
  const std::string given = s;
  if (s.rfind("https://", 0) == 0)
    return invalidArgument("etcd endpoint " + given + ": https is not supported");
  if (s.rfind("http://", 0) == 0) s = s.substr(7);
  while (!s.empty() && s.back() == '/') s.pop_back();
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    return invalidArgument("etcd endpoint '" + given + "': expected HOST:PORT");
  Endpoint e;
  e.host = s.substr(0, colon);
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']')
    e.host = e.host.substr(1, e.host.size() - 2);
  try {
    size_t used = 0;
    e.port = std::stoi(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1 || e.port <= 0 || e.port > 65535)
      throw std::out_of_range("port");
  } catch (...) {
    return invalidArgument("etcd endpoint '" + given + "': bad port");
  }
  e.name = s;
  return e;
}

}  // namespace

EtcdCompare EtcdCompare::valueEquals(std::string key, std::string value) {
  EtcdCompare c;
  c.key = std::move(key);
  c.target = Target::kValue;
  c.value = std::move(value);
  return c;
}
EtcdCompare EtcdCompare::versionEquals(std::string key, int64_t version) {
  EtcdCompare c;
  c.key = std::move(key);
  c.target = Target::kVersion;
  c.number = version;
  return c;
}
EtcdCompare EtcdCompare::createRevisionEquals(std::string key, int64_t revision) {
  EtcdCompare c;
  c.key = std::move(key);
  c.target = Target::kCreateRevision;
  c.number = revision;
  return c;
}

EtcdOp EtcdOp::get(std::string key) {
  EtcdOp op;
  op.kind = Kind::kGet;
  op.key = std::move(key);
  return op;
}
EtcdOp EtcdOp::put(std::string key, std::string value, int64_t lease) {
  EtcdOp op;
  op.kind = Kind::kPut;
  op.key = std::move(key);
  op.value = std::move(value);
  op.lease = lease;
  return op;
}
EtcdOp EtcdOp::del(std::string key) {
  EtcdOp op;
  op.kind = Kind::kDelete;
  op.key = std::move(key);
  return op;
}
EtcdOp EtcdOp::delRange(std::string key, std::string range_end) {
  EtcdOp op = del(std::move(key));
  op.range_end = std::move(range_end);
  return op;
}

std::string base64Encode(const std::string& bytes) { return b64(bytes); }
Result<std::string> base64Decode(const std::string& text) { return unb64(text); }

std::string etcdPrefixEnd(const std::string& prefix) {
  // "/locus/jobs/" -> "/locus/jobs0": the last byte that can be incremented is, the rest dropped.
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's convention)
}

class EtcdClient::Impl {
 public:
  Impl(EtcdOptions options, std::vector<Endpoint> endpoints)
      : options_(std::move(options)),
        endpoints_(std::move(endpoints)),
        clients_(endpoints_.size()) {
    for (const auto& e : endpoints_) names_.push_back(e.name);
  }

  // POSTs `body` to `path`; the parsed answer of a 200. `idempotent`: a request whose answer
  // was lost may be sent again (to the next endpoint).
  Result<json> post(const std::string& path, const json& body, bool idempotent) {
    std::lock_guard lock(mu_);
    const std::string text = body.dump();
    std::string tried;
    for (size_t attempt = 0; attempt < endpoints_.size(); ++attempt) {
      const size_t idx = (current_ + attempt) % endpoints_.size();
      const Endpoint& ep = endpoints_[idx];
      httplib::Client& client = clientFor(idx);
      const auto start = std::chrono::steady_clock::now();
      // etcd's gateway ends its error answers (HTTP 4xx/5xx, chunked) with an HTTP trailer
      // (Grpc-Trailer-Content-Type), which cpp-httplib 0.11 does not expect: it reports Read
      // after the whole body arrived. So the status and body are taken as they come, and a Read
      // failure after a complete JSON body counts as an answer.
      httplib::Request req;
      req.method = "POST";
      req.path = path;
      req.body = text;
      req.set_header("Content-Type", "application/json");
      int status = -1;
      std::string answer;
      req.response_handler = [&](const httplib::Response& r) {
        status = r.status;
        return true;
      };
      req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
        answer.append(data, len);
        return true;
      };
      httplib::Response res;
      httplib::Error err = httplib::Error::Success;
      bool answered = client.send(req, res, err);
      const auto elapsed = std::chrono::steady_clock::now() - start;
      if (!answered && err == httplib::Error::Read && status > 0) {
        clients_[idx].reset();  // httplib closed it; a fresh one next time
        answered = !json::parse(answer, nullptr, false).is_discarded();
      }
      if (!answered) {
        clients_[idx].reset();  // a fresh connection next time
        const bool not_sent =
            err == httplib::Error::Connection || err == httplib::Error::ConnectionTimeout;
        const bool timed_out = !not_sent && elapsed >= options_.request_timeout * 9 / 10;
        std::string why = not_sent    ? "cannot connect"
                          : timed_out ? "no answer within " +
                                            std::to_string(options_.request_timeout.count()) + " ms"
                                      : "connection failed (" + httplib::to_string(err) + ")";
        if (!tried.empty()) tried += "; ";
        tried += ep.name + ": " + why;
        if (not_sent || idempotent) continue;
        log()->warn("etcd {} {}: {}; the write may or may not have been applied", ep.name, path,
                    why);
        return unavailable("etcd " + ep.name + " " + path + ": " + why +
                           " (outcome unknown: it may have been applied)");
      }
      current_ = idx;  // stay with an endpoint that answers
      if (status == 200) {
        json j = json::parse(answer, nullptr, false);
        if (j.is_discarded() || !j.is_object())
          return internalError("etcd " + ep.name + " " + path +
                               ": answer is not JSON: " + answer.substr(0, 200));
        return j;
      }
      json j = json::parse(answer, nullptr, false);
      const int code = j.is_object() ? static_cast<int>(number(j, "code")) : -1;
      std::string message = j.is_object() ? j.value("message", answer) : answer;
      message = "etcd " + ep.name + " " + path + ": " + message;
      switch (code) {
        case kGrpcInvalidArgument:
        case kGrpcResourceExhausted:  // above --max-request-bytes
          return invalidArgument(message);
        case kGrpcNotFound:
          return notFound(message);
        case kGrpcPermissionDenied:
        case kGrpcUnauthenticated:
          return permissionDenied(message);
        case kGrpcFailedPrecondition:
          return failedPrecondition(message);
        case kGrpcUnavailable:
        case kGrpcDeadlineExceeded:
        case kGrpcOutOfRange:  // a compacted revision: read again
          // This member has no leader (or is shutting down); another may have one.
          if (!tried.empty()) tried += "; ";
          tried += message;
          if (idempotent) continue;
          return unavailable(message);
        default:
          return unavailable(message + " (HTTP " + std::to_string(status) + ")");
      }
    }
    return unavailable("no etcd endpoint answered (" + tried + ")");
  }

  const std::vector<std::string>& names() const { return names_; }

 private:
  httplib::Client& clientFor(size_t idx) {
    if (!clients_[idx]) {
      auto c = std::make_unique<httplib::Client>(endpoints_[idx].host, endpoints_[idx].port);
      auto set = [](auto ms, auto fn) {
        fn(static_cast<time_t>(ms.count() / 1000), static_cast<time_t>((ms.count() % 1000) * 1000));
      };
      set(options_.connect_timeout, [&](time_t s, time_t us) { c->set_connection_timeout(s, us); });
      set(options_.request_timeout, [&](time_t s, time_t us) { c->set_read_timeout(s, us); });
      set(options_.request_timeout, [&](time_t s, time_t us) { c->set_write_timeout(s, us); });
      c->set_keep_alive(true);
      // httplib writes the headers and the body separately: with Nagle's algorithm a small
      // request's body waits for the server's delayed ACK (40 ms on Linux) — a 1-job commit took
      // 44 ms instead of 2.
      c->set_tcp_nodelay(true);
      clients_[idx] = std::move(c);
    }
    return *clients_[idx];
  }

  const EtcdOptions options_;
  const std::vector<Endpoint> endpoints_;
  std::vector<std::string> names_;
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::Client>> clients_;  // guarded by mu_
  size_t current_ = 0;                                     // guarded by mu_
};

Result<std::unique_ptr<EtcdClient>> EtcdClient::create(EtcdOptions options) {
  if (options.endpoints.empty()) return invalidArgument("no etcd endpoints given");
  std::vector<Endpoint> endpoints;
  for (const auto& s : options.endpoints) {
    auto e = parseEndpoint(s);
    if (!e.ok()) return e.error();
    endpoints.push_back(std::move(*e));
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(endpoints));
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(impl)));
}

EtcdClient::EtcdClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdClient::~EtcdClient() = default;

const std::vector<std::string>& EtcdClient::endpoints() const { return impl_->names(); }

Result<std::optional<KeyValue>> EtcdClient::get(const std::string& key) {
  auto r = range(key, "", 1);
  if (!r.ok()) return r.error();
  if (r->empty()) return std::optional<KeyValue>();
  return std::optional<KeyValue>(std::move(r->front()));
}

Result<std::vector<KeyValue>> EtcdClient::range(const std::string& key,
                                                const std::string& range_end, int64_t limit,
                                                bool descending) {
  auto j = impl_->post("/v3/kv/range", rangeJson(key, range_end, limit, descending, 0), true);
  if (!j.ok()) return j.error();
  return kvsFromJson(*j);
}

Result<std::vector<KeyValue>> EtcdClient::getPrefix(const std::string& prefix, int64_t page_size) {
  const std::string end = etcdPrefixEnd(prefix);
  // Pages after the first are read at the first one's revision: one consistent snapshot. If etcd
  // compacts that revision away meanwhile (auto-compaction), the read starts over.
  constexpr int kAttempts = 3;
  Error last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::vector<KeyValue> out;
    std::string from = prefix;
    int64_t revision = 0;
    for (;;) {
      auto j = impl_->post("/v3/kv/range", rangeJson(from, end, page_size, false, revision), true);
      if (!j.ok()) {
        last = j.error();
        break;
      }
      auto kvs = kvsFromJson(*j);
      if (!kvs.ok()) return kvs.error();
      if (revision == 0 && j->contains("header")) revision = number((*j)["header"], "revision");
      for (auto& kv : *kvs) out.push_back(std::move(kv));
      if (!j->value("more", false) || kvs->empty()) return out;
      from = out.back().key + '\0';  // the next key after the last one read
    }
    if (last.message.find("compacted") == std::string::npos) return last;
  }
  return last;
}

Result<int64_t> EtcdClient::put(const std::string& key, const std::string& value, int64_t lease) {
  json body{{"key", b64(key)}, {"value", b64(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  auto j = impl_->post("/v3/kv/put", body, false);
  if (!j.ok()) return j.error();
  return number(j->value("header", json::object()), "revision");
}

Result<int64_t> EtcdClient::del(const std::string& key) {
  auto j = impl_->post("/v3/kv/deleterange", json{{"key", b64(key)}}, false);
  if (!j.ok()) return j.error();
  return number(*j, "deleted");
}

Result<int64_t> EtcdClient::delPrefix(const std::string& prefix) {
  auto j =
      impl_->post("/v3/kv/deleterange",
                  json{{"key", b64(prefix)}, {"range_end", b64(etcdPrefixEnd(prefix))}}, false);
  if (!j.ok()) return j.error();
  return number(*j, "deleted");
}

Result<EtcdTxnResult> EtcdClient::txn(const std::vector<EtcdCompare>& compares,
                                      const std::vector<EtcdOp>& success,
                                      const std::vector<EtcdOp>& failure) {
  json body = json::object();
  json c = json::array(), s = json::array(), f = json::array();
  for (const auto& x : compares) c.push_back(compareJson(x));
  for (const auto& x : success) s.push_back(opJson(x));
  for (const auto& x : failure) f.push_back(opJson(x));
  body["compare"] = std::move(c);
  body["success"] = std::move(s);
  body["failure"] = std::move(f);
  // A txn that only reads could be repeated, but none of ours does.
  auto j = impl_->post("/v3/kv/txn", body, false);
  if (!j.ok()) return j.error();
  EtcdTxnResult out;
  out.succeeded = j->value("succeeded", false);
  out.revision = number(j->value("header", json::object()), "revision");
  const auto& branch = out.succeeded ? success : failure;
  const json responses = j->value("responses", json::array());
  if (!responses.is_array() || responses.size() != branch.size())
    return internalError(
        "etcd txn answer: " + std::to_string(responses.is_array() ? responses.size() : 0) +
        " responses for " + std::to_string(branch.size()) + " ops");
  for (size_t i = 0; i < branch.size(); ++i) {
    if (branch[i].kind != EtcdOp::Kind::kGet) {
      out.gets.emplace_back();
      continue;
    }
    auto kvs = kvsFromJson(responses[i].value("response_range", json::object()));
    if (!kvs.ok()) return kvs.error();
    out.gets.push_back(std::move(*kvs));
  }
  return out;
}

Result<EtcdLease> EtcdClient::leaseGrant(std::chrono::seconds ttl) {
  auto j = impl_->post("/v3/lease/grant", json{{"TTL", std::to_string(ttl.count())}}, false);
  if (!j.ok()) return j.error();
  EtcdLease lease{number(*j, "ID"), std::chrono::seconds{number(*j, "TTL")}};
  if (lease.id == 0)
    return internalError("etcd lease grant: no lease id in the answer: " +
                         j->value("error", std::string()));
  return lease;
}

Result<std::chrono::seconds> EtcdClient::leaseKeepAlive(int64_t id) {
  // A gRPC stream behind the gateway: one request in, one {"result": ...} out, then the end.
  auto j = impl_->post("/v3/lease/keepalive", json{{"ID", std::to_string(id)}}, true);
  if (!j.ok()) return j.error();
  if (j->contains("error")) return unavailable("etcd lease keepalive: " + j->dump());
  const int64_t ttl = number(j->value("result", json::object()), "TTL");
  // etcd answers an expired or revoked lease with TTL 0 (left out) rather than an error.
  if (ttl <= 0) return notFound("etcd lease " + std::to_string(id) + " expired or was revoked");
  return std::chrono::seconds{ttl};
}

Status EtcdClient::leaseRevoke(int64_t id) {
  auto j = impl_->post("/v3/lease/revoke", json{{"ID", std::to_string(id)}}, true);
  if (!j.ok()) return j.error();
  return {};
}

}  // namespace locus::controller
