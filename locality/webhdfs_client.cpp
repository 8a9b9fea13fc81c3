// The only file of locus_locality that includes cpp-httplib (linked privately, as in common/).
#include "locality/webhdfs_client.hpp"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "common/http_server.hpp"
#include "common/logging.hpp"

namespace locus::locality {
namespace {

using nlohmann::json;

constexpr std::string_view kApiPrefix = "/webhdfs/v1";
// A RemoteException message can carry a Java stack trace; errors stay one readable line.
constexpr size_t kMaxRemoteMessage = 300;

auto log() {
  static auto l = logger("locality.webhdfs");
  return l;
}

// Percent-encodes everything but RFC 3986's unreserved characters, so a file named
// "a b#1.log" reaches the NameNode as one segment and not as a fragment or a second parameter.
std::string percentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "/logs/a b" -> "/logs/a%20b": each segment encoded, the separators kept.
std::string encodePath(const std::string& path) {
  std::string out;
  size_t start = 1;  // path is normalized: it starts with '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out += '/';
    out += percentEncode(std::string_view(path).substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// "/a//b/" and "hdfs:///a/b" -> "/a/b". The cache is keyed by the result, so both spellings of
// a path share one entry.
Result<std::string> normalizePath(const std::string& path) {
  std::string_view p = path;
  if (p.rfind("hdfs://", 0) == 0) {
    p.remove_prefix(7);
    if (p.empty() || p.front() != '/')
      return invalidArgument("'" + path +
                             "': name the HDFS path without a host (hdfs:///PATH); the namenode "
                             "is set in the configuration");
  }
  if (p.empty() || p.front() != '/')
    return invalidArgument("'" + path + "': an HDFS path must be absolute (start with '/')");
  std::string out;
  for (char c : p) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string oneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > kMaxRemoteMessage) s = s.substr(0, kMaxRemoteMessage) + "...";
  return s;
}

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string memberString(const json& object, const char* key) {
  const json* v = member(object, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// The documented error body: {"RemoteException":{"exception":"FileNotFoundException",
// "javaClassName":"java.io.FileNotFoundException","message":"File does not exist: /foo"}}.
// Returns "FileNotFoundException: File does not exist: /foo", or the body's start when it is
// something else (a proxy's HTML page), and sets `exception`.
std::string describeFailure(const std::string& body, std::string& exception) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (const json* re = member(doc, "RemoteException")) {
    exception = memberString(*re, "exception");
    if (exception.empty()) exception = memberString(*re, "javaClassName");
    std::string message = memberString(*re, "message");
    if (!exception.empty() || !message.empty())
      return oneLine(exception.empty() ? message : exception + ": " + message);
  }
  std::string start = oneLine(body);
  return start.empty() ? "(empty body)" : start;
}

// Non-negative integer member; WebHDFS sends sizes and offsets as JSON integers.
Result<uint64_t> uintMember(const json& object, const char* key, const std::string& where) {
  const json* v = member(object, key);
  if (!v) return invalidArgument(where + ": no '" + key + "'");
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer() && v->get<int64_t>() >= 0)
    return static_cast<uint64_t>(v->get<int64_t>());
  return invalidArgument(where + ": '" + key + "' is not a non-negative integer");
}

// An optional array of strings ("names", "topologyPaths"); a missing one is empty.
Result<std::vector<std::string>> stringsMember(const json& object, const char* key,
                                               const std::string& where, bool required) {
  std::vector<std::string> out;
  const json* v = member(object, key);
  if (!v) {
    if (required) return invalidArgument(where + ": no '" + key + "'");
    return out;
  }
  if (!v->is_array()) return invalidArgument(where + ": '" + key + "' is not an array");
  for (const json& e : *v) {
    if (!e.is_string()) return invalidArgument(where + ": '" + key + "' holds a non-string");
    out.push_back(e.get<std::string>());
  }
  return out;
}

// topologyPaths name the network location then the datanode: "/default-rack/10.0.0.5:9866",
// or "/dc1/rack7/10.0.0.5:9866" with a multi-level topology. The rack is everything before the
// last component.
std::string rackOf(const std::string& topology_path) {
  auto slash = topology_path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : topology_path.substr(0, slash);
}

// {"BlockLocations":{"BlockLocation":[{...}, ...]}} -> blocks sorted by offset. The error is
// what is wrong, the caller says with what.
Result<std::vector<BlockLocation>> parseBlockLocations(const json& doc) {
  const json* outer = member(doc, "BlockLocations");
  if (!outer || !outer->is_object()) return invalidArgument("no 'BlockLocations' object");
  std::vector<BlockLocation> blocks;
  const json* list = member(*outer, "BlockLocation");
  // An empty file has no blocks; some versions then leave the array out.
  if (!list) return blocks;
  if (!list->is_array()) return invalidArgument("'BlockLocation' is not an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const json& b = (*list)[i];
    const std::string where = "BlockLocation[" + std::to_string(i) + "]";
    if (!b.is_object()) return invalidArgument(where + " is not an object");
    BlockLocation block;
    auto offset = uintMember(b, "offset", where);
    if (!offset.ok()) return offset.error();
    auto length = uintMember(b, "length", where);
    if (!length.ok()) return length.error();
    auto hosts = stringsMember(b, "hosts", where, /*required=*/true);
    if (!hosts.ok()) return hosts.error();
    auto names = stringsMember(b, "names", where, false);
    if (!names.ok()) return names.error();
    auto paths = stringsMember(b, "topologyPaths", where, false);
    if (!paths.ok()) return paths.error();
    block.offset = *offset;
    block.length = *length;
    block.hosts = std::move(*hosts);
    // names and racks are per replica; a list that does not line up with hosts would pair a
    // host with another host's rack, so it is dropped rather than trusted.
    if (names->size() == block.hosts.size()) block.names = std::move(*names);
    if (paths->size() == block.hosts.size())
      for (const auto& p : *paths) block.racks.push_back(rackOf(p));
    if (const json* corrupt = member(b, "corrupt"); corrupt && corrupt->is_boolean())
      block.corrupt = corrupt->get<bool>();
    blocks.push_back(std::move(block));
  }
  std::sort(blocks.begin(), blocks.end(),
            [](const BlockLocation& a, const BlockLocation& b) { return a.offset < b.offset; });
  return blocks;
}

struct FileStatus {
  std::string type;  // "FILE", "DIRECTORY", "SYMLINK"
  uint64_t length = 0;
  std::string suffix;  // the entry's name in LISTSTATUS, "" in GETFILESTATUS
};

Result<FileStatus> parseStatus(const json& s, const std::string& where) {
  if (!s.is_object()) return invalidArgument(where + " is not an object");
  FileStatus st;
  st.type = memberString(s, "type");
  if (st.type.empty()) return invalidArgument(where + ": no 'type'");
  auto length = uintMember(s, "length", where);
  if (!length.ok()) return length.error();
  st.length = *length;
  st.suffix = memberString(s, "pathSuffix");
  return st;
}

// One locate(): one keep-alive connection for all its requests, and the wording of errors.
class Session {
 public:
  Session(const WebHdfsOptions& options, const std::string& base, const std::string& host, int port)
      : options_(options), base_(base), client_(host, port) {
    const auto sec = options.timeout_ms / 1000, usec = (options.timeout_ms % 1000) * 1000;
    client_.set_connection_timeout(sec, usec);
    client_.set_read_timeout(sec, usec);
    client_.set_write_timeout(sec, usec);
    client_.set_keep_alive(true);
    // The path is encoded here, segment by segment; httplib's own pass would encode the '%'.
    client_.set_url_encode(false);
  }

  int requests() const { return requests_; }

  Result<json> get(const std::string& op, const std::string& path) {
    std::string target = std::string(kApiPrefix) + encodePath(path) + "?op=" + op;
    if (!options_.user.empty()) target += "&user.name=" + percentEncode(options_.user);
    ++requests_;
    const auto start = std::chrono::steady_clock::now();
    httplib::Result res = client_.Get(target);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const std::string asked = op + " " + path;
    if (!res) return transportError(res.error(), elapsed, asked);
    if (res->status != 200) return statusError(res->status, res->body, op, path);
    json doc = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded())
      return internalError("malformed WebHDFS response to " + asked + ": not JSON: '" +
                           oneLine(res->body.substr(0, 80)) + "'");
    return doc;
  }

  Error malformed(const std::string& op, const std::string& path, const Error& what) const {
    return internalError("malformed WebHDFS response to " + op + " " + path + ": " + what.message);
  }

 private:
  Error transportError(httplib::Error error, std::chrono::steady_clock::duration elapsed,
                       const std::string& asked) const {
    const auto limit = std::chrono::milliseconds{options_.timeout_ms};
    // httplib says Read both when the deadline passed and when the peer hung up early; the
    // elapsed time tells which, so that "did not answer within" is only said when it is true.
    const bool timed_out = error == httplib::Error::ConnectionTimeout || elapsed >= limit * 9 / 10;
    if (timed_out)
      return unavailable("namenode " + base_ + " did not answer " + asked + " within " +
                         std::to_string(options_.timeout_ms) + " ms");
    if (error == httplib::Error::Connection)
      return unavailable("namenode " + base_ + " refused the connection (or is unreachable) for " +
                         asked);
    if (error == httplib::Error::Read)
      return unavailable("namenode " + base_ + " closed the connection without answering " + asked);
    return unavailable("namenode " + base_ + ": " + asked +
                       " failed: " + httplib::to_string(error));
  }

  Error statusError(int status, const std::string& body, const std::string& op,
                    const std::string& path) const {
    std::string exception;
    const std::string remote = describeFailure(body, exception);
    const std::string asked = op + " " + path;
    switch (status) {
      case 404:
        return notFound("hdfs://" + path + ": " + remote);
      case 403:
        // An HA pair's standby answers every read with 403 StandbyException: the namenode
        // setting points at the wrong one, which is not the user's permission problem.
        if (exception == "StandbyException")
          return unavailable("namenode " + base_ + " is a standby, not the active NameNode (" +
                             asked + ": " + remote + ")");
        return permissionDenied("hdfs://" + path + ": " + remote);
      case 401:
        return permissionDenied("namenode " + base_ + " wants authentication (Kerberos/SPNEGO " +
                                "is not supported) for " + asked + ": " + remote);
      default: {
        std::string hint;
        if (status == 400 && op == "GETFILEBLOCKLOCATIONS")
          hint = " (older NameNodes do not know GETFILEBLOCKLOCATIONS)";
        return unavailable("namenode " + base_ + " answered HTTP " + std::to_string(status) +
                           " to " + asked + ": " + remote + hint);
      }
    }
  }

  const WebHdfsOptions& options_;
  const std::string& base_;
  httplib::Client client_;
  int requests_ = 0;
};

Result<std::vector<BlockLocation>> fetchBlocks(Session& session, const std::string& path) {
  auto doc = session.get("GETFILEBLOCKLOCATIONS", path);
  if (!doc.ok()) return doc.error();
  auto blocks = parseBlockLocations(*doc);
  if (!blocks.ok()) return session.malformed("GETFILEBLOCKLOCATIONS", path, blocks.error());
  return blocks;
}

Result<InputFile> fileOf(Session& session, const std::string& path, uint64_t size) {
  InputFile file{path, size, {}};
  // An empty file has no blocks: no need to ask.
  if (size == 0) return file;
  auto blocks = fetchBlocks(session, path);
  if (!blocks.ok()) return blocks.error();
  file.blocks = std::move(*blocks);
  return file;
}

Result<std::vector<InputFile>> scan(Session& session, const std::string& root) {
  auto doc = session.get("GETFILESTATUS", root);
  if (!doc.ok()) return doc.error();
  const json* fs = member(*doc, "FileStatus");
  if (!fs)
    return session.malformed("GETFILESTATUS", root, invalidArgument("no 'FileStatus' object"));
  auto top = parseStatus(*fs, "FileStatus");
  if (!top.ok()) return session.malformed("GETFILESTATUS", root, top.error());

  std::vector<InputFile> files;
  if (top->type == "FILE") {
    auto f = fileOf(session, root, top->length);
    if (!f.ok()) return f.error();
    files.push_back(std::move(*f));
    return files;
  }
  if (top->type != "DIRECTORY")
    return invalidArgument("hdfs://" + root + ": a " + top->type + ", not a file or a directory");

  // Breadth-first over directories: an explicit work list, so a deep tree cannot exhaust the
  // stack.
  std::vector<std::string> dirs{root};
  for (size_t d = 0; d < dirs.size(); ++d) {
    const std::string dir = dirs[d];
    auto listing = session.get("LISTSTATUS", dir);
    if (!listing.ok()) return listing.error();
    const json* outer = member(*listing, "FileStatuses");
    const json* list = outer ? member(*outer, "FileStatus") : nullptr;
    if (!list || !list->is_array())
      return session.malformed("LISTSTATUS", dir,
                               invalidArgument("no 'FileStatuses.FileStatus' array"));
    for (size_t i = 0; i < list->size(); ++i) {
      auto st = parseStatus((*list)[i], "FileStatus[" + std::to_string(i) + "]");
      if (!st.ok()) return session.malformed("LISTSTATUS", dir, st.error());
      if (st->suffix.empty() || st->suffix.find('/') != std::string::npos || st->suffix == "." ||
          st->suffix == "..")
        return session.malformed("LISTSTATUS", dir,
                                 invalidArgument("FileStatus[" + std::to_string(i) +
                                                 "]: bad 'pathSuffix' '" + st->suffix + "'"));
      const std::string child = (dir == "/" ? "" : dir) + "/" + st->suffix;
      if (st->type == "DIRECTORY") {
        dirs.push_back(child);
      } else if (st->type == "FILE") {
        auto f = fileOf(session, child, st->length);
        if (!f.ok()) return f.error();
        files.push_back(std::move(*f));
      }
      // SYMLINK: skipped. HDFS symlinks are disabled by default, and following one could
      // leave the tree (or loop).
    }
  }
  std::sort(files.begin(), files.end(),
            [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
  return files;
}

}  // namespace

Result<std::unique_ptr<WebHdfsLocator>> WebHdfsLocator::create(WebHdfsOptions options,
                                                               Clock clock) {
  std::string_view url = options.namenode;
  const std::string bad = "namenode '" + options.namenode + "': expected http://HOST:PORT";
  if (url.rfind("http://", 0) != 0)
    return invalidArgument(bad +
                           (url.rfind("https://", 0) == 0 ? " (HTTPS is not supported)" : ""));
  url.remove_prefix(7);
  if (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.find_first_of("/?#@") != std::string_view::npos)
    return invalidArgument(bad + " (no path: /webhdfs/v1 is added)");
  auto hp = splitHostPort(std::string(url));
  if (!hp.ok()) return invalidArgument(bad + ": " + hp.error().message);
  if (hp->second <= 0) return invalidArgument(bad + ": port must be 1-65535");
  if (options.timeout_ms <= 0)
    return invalidArgument("webhdfs timeout_ms must be > 0, got " +
                           std::to_string(options.timeout_ms));
  if (options.cache_ttl_s < 0)
    return invalidArgument("webhdfs cache_ttl_s must be >= 0, got " +
                           std::to_string(options.cache_ttl_s));
  if (!clock) clock = [] { return std::chrono::steady_clock::now(); };
  auto [host, port] = std::move(*hp);
  return std::unique_ptr<WebHdfsLocator>(
      new WebHdfsLocator(std::move(options), std::move(host), port, std::move(clock)));
}

WebHdfsLocator::WebHdfsLocator(WebHdfsOptions options, std::string host, int port, Clock clock)
    : options_(std::move(options)), host_(std::move(host)), port_(port), clock_(std::move(clock)) {
  std::string_view url = options_.namenode;
  if (!url.empty() && url.back() == '/') url.remove_suffix(1);
  base_ = std::string(url);
}

Result<std::vector<InputFile>> WebHdfsLocator::locate(const std::string& path) {
  auto normalized = normalizePath(path);
  if (!normalized.ok()) return normalized.error();
  const std::string& key = *normalized;
  const auto ttl = std::chrono::seconds{options_.cache_ttl_s};
  if (ttl.count() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (clock_() - it->second.stored < ttl) return it->second.files;
      cache_.erase(it);
    }
  }

  // The NameNode is asked without holding mu_: a slow scan must not block other paths. Two
  // threads locating the same uncached path both ask; the later result wins the cache.
  Session session(options_, base_, host_, port_);
  auto files = scan(session, key);
  if (!files.ok()) {
    log()->debug("locate path={} requests={} error={}", key, session.requests(),
                 files.error().message);
    return files.error();
  }
  log()->debug("locate path={} files={} requests={}", key, files->size(), session.requests());
  if (ttl.count() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = clock_();
    // Expired entries go on every store, so paths asked once do not stay for the daemon's life.
    std::erase_if(cache_, [&](const auto& e) { return now - e.second.stored >= ttl; });
    cache_[key] = CacheEntry{now, *files};
  }
  return files;
}

void WebHdfsLocator::clearCache() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
}

}  // namespace locus::locality
