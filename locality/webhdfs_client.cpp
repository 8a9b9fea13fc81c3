// The only file of locus_locality that includes cpp-httplib (linked privately, as in common/).
#include "locality/webhdfs_client.hpp"

#include <httplib.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "common/http_server.hpp"
#include "common/logging.hpp"
#include "locality/webhdfs_json.hpp"

namespace locus::locality {
namespace {

constexpr std::string_view kApiPrefix = "/webhdfs/v1";

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

  // The body of a 200 answer; what it says is read by webhdfs_json.hpp.
  Result<std::string> get(const std::string& op, const std::string& path) {
    std::string target = std::string(kApiPrefix) + encodePath(path) + "?op=" + op;
    if (!options_.user.empty()) target += "&user.name=" + percentEncode(options_.user);
    ++requests_;
    const auto start = std::chrono::steady_clock::now();
    httplib::Result res = client_.Get(target);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const std::string asked = op + " " + path;
    if (!res) return transportError(res.error(), elapsed, asked);
    if (res->status != 200) return statusError(res->status, res->body, op, path);
    return std::move(res->body);
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
    const webhdfs::RemoteFailure failure = webhdfs::describeFailure(body);
    const std::string& exception = failure.exception;
    const std::string& remote = failure.text;
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
  auto body = session.get("GETFILEBLOCKLOCATIONS", path);
  if (!body.ok()) return body.error();
  auto blocks = webhdfs::parseBlockLocations(*body);
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
  auto body = session.get("GETFILESTATUS", root);
  if (!body.ok()) return body.error();
  auto top = webhdfs::parseFileStatus(*body);
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
    auto body = session.get("LISTSTATUS", dir);
    if (!body.ok()) return body.error();
    // The whole listing is checked before any of its files is asked for.
    auto listing = webhdfs::parseListStatus(*body);
    if (!listing.ok()) return session.malformed("LISTSTATUS", dir, listing.error());
    for (const webhdfs::FileStatus& st : *listing) {
      const std::string child = (dir == "/" ? "" : dir) + "/" + st.suffix;
      if (st.type == "DIRECTORY") {
        dirs.push_back(child);
      } else if (st.type == "FILE") {
        auto f = fileOf(session, child, st.length);
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
