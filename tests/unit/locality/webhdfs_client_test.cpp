#include "locality/webhdfs_client.hpp"

#include <gtest/gtest.h>

#include "tests/httplib_for_tests.hpp"  // before any other use of httplib
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace locus::locality {
namespace {

using Hosts = std::vector<std::string>;

struct FakeBlock {
  uint64_t offset, length;
  Hosts hosts;  // "h1".."h6"; host hN is 10.0.0.N:9866 on rack /rN%2 ("/r0" or "/r1")
};

std::string rackOf(const std::string& host) {
  return "/r" + std::to_string((host.back() - '0') % 2);
}
std::string ipOf(const std::string& host) { return "10.0.0." + host.substr(1) + ":9866"; }

// A test double for a NameNode's WebHDFS endpoint: a real NameNode (Hadoop on a JVM, with
// DataNodes) cannot run where the unit tests run. It serves Hadoop's documented JSON (see
// shared/data/hdfs/) for a small namespace:
//
//   /logs/2026-11/            listed out of order: z.log, sub, a.log
//     a.log       2 blocks    (128 MiB + 1000 bytes)
//     z.log       1 block
//     sub/c.log   1 block
//   /data/a b.log             a name that must be percent-encoded
//   /empty.log                0 bytes, no blocks
//   /forbidden                403 AccessControlException
//   /standby                  403 StandbyException
//   /slow                     answers after kSlowAnswer
//   /broken.log, /nolength.log  malformed GETFILEBLOCKLOCATIONS answers
// and 404 FileNotFoundException for anything else.
class FakeNameNode {
 public:
  static constexpr auto kSlowAnswer = std::chrono::milliseconds{1000};

  FakeNameNode() {
    dirs_["/logs/2026-11"] = {{"z.log", false}, {"sub", true}, {"a.log", false}};
    dirs_["/logs/2026-11/sub"] = {{"c.log", false}};
    files_["/logs/2026-11/a.log"] = {{0, 134217728, {"h1", "h2", "h3"}},
                                     {134217728, 1000, {"h2", "h3", "h4"}}};
    files_["/logs/2026-11/z.log"] = {{0, 500, {"h1", "h3", "h5"}}};
    files_["/logs/2026-11/sub/c.log"] = {{0, 42, {"h4", "h5", "h6"}}};
    files_["/data/a b.log"] = {{0, 7, {"h2"}}};
    files_["/empty.log"] = {};
    files_["/broken.log"] = {{0, 1, {"h1"}}};
    files_["/nolength.log"] = {{0, 1, {"h1"}}};

    server_.Get(R"(/webhdfs/v1(/.*)?)",
                [this](const httplib::Request& req, httplib::Response& res) { answer(req, res); });
    // httplib writes an answer's head and body apart; with Nagle's algorithm the body would
    // wait ~40 ms for the client's delayed ACK on every keep-alive request but the first.
    server_.set_tcp_nodelay(true);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // The socket already queues connections; waiting for the accept loop only makes sure that
    // stop() in the destructor can end it.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }

  ~FakeNameNode() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_; }
  std::vector<std::string> targets() const {
    std::lock_guard<std::mutex> lock(mu_);
    return targets_;
  }

 private:
  static std::string remoteException(const std::string& exception, const std::string& java,
                                     const std::string& message) {
    return R"({"RemoteException":{"exception":")" + exception + R"(","javaClassName":")" + java +
           R"(","message":")" + message + R"("}})";
  }

  static std::string fileStatus(const std::string& suffix, bool dir, uint64_t length) {
    return R"({"accessTime":1320171722771,"blockSize":134217728,"group":"supergroup","length":)" +
           std::to_string(length) + R"(,"modificationTime":1320171722771,"owner":"webuser",)" +
           R"("pathSuffix":")" + suffix + R"(","permission":"644","replication":3,"type":")" +
           (dir ? "DIRECTORY" : "FILE") + R"("})";
  }

  uint64_t sizeOf(const std::string& path) const {
    uint64_t size = 0;
    for (const auto& b : files_.at(path)) size += b.length;
    return size;
  }

  void answer(const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      targets_.push_back(req.target);
    }
    std::string path = req.path.substr(std::string("/webhdfs/v1").size());
    if (path.empty()) path = "/";
    const std::string op = req.get_param_value("op");
    auto reply = [&res](int status, const std::string& body) {
      res.status = status;
      res.set_content(body, "application/json");
    };
    if (path == "/slow") std::this_thread::sleep_for(kSlowAnswer);
    if (path == "/forbidden")
      return reply(403, remoteException("AccessControlException",
                                        "org.apache.hadoop.security.AccessControlException",
                                        "Permission denied: user=alice, access=READ_EXECUTE, "
                                        "inode=\\\"/forbidden\\\":hdfs:supergroup:drwx------"));
    if (path == "/standby")
      return reply(403,
                   remoteException("StandbyException", "org.apache.hadoop.ipc.StandbyException",
                                   "Operation category READ is not supported in state "
                                   "standby"));
    const bool is_dir = dirs_.count(path) > 0, is_file = files_.count(path) > 0;
    if (!is_dir && !is_file)
      return reply(404, remoteException("FileNotFoundException", "java.io.FileNotFoundException",
                                        "File does not exist: " + path));
    if (op == "GETFILESTATUS")
      return reply(200,
                   R"({"FileStatus":)" + fileStatus("", is_dir, is_dir ? 0 : sizeOf(path)) + "}");
    if (op == "LISTSTATUS" && is_dir) {
      std::string list;
      for (const auto& [name, sub] : dirs_.at(path)) {
        const std::string child = path + "/" + name;
        list += (list.empty() ? "" : ",") + fileStatus(name, sub, sub ? 0 : sizeOf(child));
      }
      return reply(200, R"({"FileStatuses":{"FileStatus":[)" + list + "]}}");
    }
    if (op == "GETFILEBLOCKLOCATIONS" && is_file) {
      if (path == "/broken.log") return reply(200, R"({"BlockLocations":{"BlockLocation":[{"off)");
      if (path == "/nolength.log")
        return reply(200, R"({"BlockLocations":{"BlockLocation":[{"offset":0,"hosts":["h1"]}]}})");
      std::string list;
      for (const auto& b : files_.at(path)) {
        std::string hosts, names, topology;
        for (const auto& h : b.hosts) {
          const char* sep = hosts.empty() ? "" : ",";
          hosts += sep + ("\"" + h + "\"");
          names += sep + ("\"" + ipOf(h) + "\"");
          topology += sep + ("\"" + rackOf(h) + "/" + ipOf(h) + "\"");
        }
        list += (list.empty() ? "" : ",") + std::string(R"({"cachedHosts":[],"corrupt":false,)") +
                R"("hosts":[)" + hosts + R"(],"length":)" + std::to_string(b.length) +
                R"(,"names":[)" + names + R"(],"offset":)" + std::to_string(b.offset) +
                R"(,"storageTypes":["DISK"],"topologyPaths":[)" + topology + "]}";
      }
      return reply(200, R"({"BlockLocations":{"BlockLocation":[)" + list + "]}}");
    }
    reply(400, remoteException("IllegalArgumentException", "java.lang.IllegalArgumentException",
                               "Invalid value for webhdfs parameter \\\"op\\\": " + op));
  }

  std::map<std::string, std::vector<std::pair<std::string, bool>>> dirs_;  // entry, is a dir
  std::map<std::string, std::vector<FakeBlock>> files_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::vector<std::string> targets_;  // guarded by mu_
};

class WebHdfsTest : public ::testing::Test {
 protected:
  std::unique_ptr<WebHdfsLocator> locator(int timeout_ms = 5000, int cache_ttl_s = 60,
                                          std::string user = "") {
    WebHdfsOptions o;
    o.namenode = nn_.url();
    o.timeout_ms = timeout_ms;
    o.cache_ttl_s = cache_ttl_s;
    o.user = std::move(user);
    auto r = WebHdfsLocator::create(o, [this] { return now_; });
    EXPECT_TRUE(r.ok()) << r.error().message;
    return std::move(*r);
  }

  FakeNameNode nn_;
  std::chrono::steady_clock::time_point now_{};  // the injected clock: only tests move it
};

TEST_F(WebHdfsTest, DirectoryExpandsRecursivelySortedWithBlocks) {
  auto r = locator()->locate("/logs/2026-11");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& files = *r;
  ASSERT_EQ(files.size(), 3u);
  // Sorted by path although listed z.log, sub, a.log and walked breadth-first.
  EXPECT_EQ(files[0].path, "/logs/2026-11/a.log");
  EXPECT_EQ(files[1].path, "/logs/2026-11/sub/c.log");
  EXPECT_EQ(files[2].path, "/logs/2026-11/z.log");

  // a.log: 128 MiB + 1000 bytes in two blocks.
  EXPECT_EQ(files[0].size, 134218728u);
  ASSERT_EQ(files[0].blocks.size(), 2u);
  const BlockLocation& b0 = files[0].blocks[0];
  EXPECT_EQ(b0.offset, 0u);
  EXPECT_EQ(b0.length, 134217728u);
  EXPECT_EQ(b0.hosts, (Hosts{"h1", "h2", "h3"}));
  EXPECT_EQ(b0.names, (Hosts{"10.0.0.1:9866", "10.0.0.2:9866", "10.0.0.3:9866"}));
  // topologyPaths "/r1/10.0.0.1:9866" -> rack "/r1".
  EXPECT_EQ(b0.racks, (Hosts{"/r1", "/r0", "/r1"}));
  EXPECT_FALSE(b0.corrupt);
  const BlockLocation& b1 = files[0].blocks[1];
  EXPECT_EQ(b1.offset, 134217728u);
  EXPECT_EQ(b1.length, 1000u);
  EXPECT_EQ(b1.hosts, (Hosts{"h2", "h3", "h4"}));
  EXPECT_EQ(b1.racks, (Hosts{"/r0", "/r1", "/r0"}));

  EXPECT_EQ(files[1].size, 42u);
  ASSERT_EQ(files[1].blocks.size(), 1u);
  EXPECT_EQ(files[1].blocks[0].hosts, (Hosts{"h4", "h5", "h6"}));
  EXPECT_EQ(files[2].size, 500u);
  ASSERT_EQ(files[2].blocks.size(), 1u);
  EXPECT_EQ(files[2].blocks[0].hosts, (Hosts{"h1", "h3", "h5"}));
  // 1 GETFILESTATUS + 2 LISTSTATUS + 3 GETFILEBLOCKLOCATIONS.
  EXPECT_EQ(nn_.requests(), 6);
}

TEST_F(WebHdfsTest, SingleFileAndEncodedNameAndUser) {
  auto loc = locator(5000, 60, "alice");
  auto r = loc->locate("hdfs:///data/a b.log");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].path, "/data/a b.log");
  EXPECT_EQ((*r)[0].size, 7u);
  ASSERT_EQ((*r)[0].blocks.size(), 1u);
  EXPECT_EQ((*r)[0].blocks[0].hosts, (Hosts{"h2"}));
  auto targets = nn_.targets();
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0], "/webhdfs/v1/data/a%20b.log?op=GETFILESTATUS&user.name=alice");
  EXPECT_EQ(targets[1], "/webhdfs/v1/data/a%20b.log?op=GETFILEBLOCKLOCATIONS&user.name=alice");
}

TEST_F(WebHdfsTest, EmptyFileHasNoBlocksAndCostsNoBlockRequest) {
  auto r = locator()->locate("/empty.log");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].size, 0u);
  EXPECT_TRUE((*r)[0].blocks.empty());
  EXPECT_EQ(nn_.requests(), 1);
}

TEST_F(WebHdfsTest, MissingPathIsNotFoundWithTheRemoteException) {
  auto r = locator()->locate("/foo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "hdfs:///foo: FileNotFoundException: File does not exist: /foo");
}

TEST_F(WebHdfsTest, ForbiddenIsPermissionDenied) {
  auto r = locator()->locate("/forbidden");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(r.error().message,
            "hdfs:///forbidden: AccessControlException: Permission denied: user=alice, "
            "access=READ_EXECUTE, inode=\"/forbidden\":hdfs:supergroup:drwx------");
}

TEST_F(WebHdfsTest, StandbyNameNodeIsUnavailableNotPermissionDenied) {
  auto r = locator()->locate("/standby");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("is a standby"), std::string::npos) << r.error().message;
}

TEST_F(WebHdfsTest, SlowNameNodeTimesOut) {
  // The server's sleep (1 s) is what is under test: the client must give up after 200 ms.
  const auto start = std::chrono::steady_clock::now();
  auto r = locator(200)->locate("/slow");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message,
            "namenode " + nn_.url() + " did not answer GETFILESTATUS /slow within 200 ms");
  EXPECT_LT(elapsed, FakeNameNode::kSlowAnswer);
}

TEST_F(WebHdfsTest, MalformedAnswersAreClearErrors) {
  auto r = locator()->locate("/broken.log");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  EXPECT_EQ(r.error().message.rfind(
                "malformed WebHDFS response to GETFILEBLOCKLOCATIONS /broken.log: not JSON", 0),
            0u)
      << r.error().message;

  r = locator()->locate("/nolength.log");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  EXPECT_EQ(r.error().message,
            "malformed WebHDFS response to GETFILEBLOCKLOCATIONS /nolength.log: "
            "BlockLocation[0]: no 'length'");
}

TEST_F(WebHdfsTest, RefusedConnectionIsUnavailable) {
  // A socket bound but not listening: the kernel refuses connections to its port, and no other
  // process can take the port while the test holds it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  auto loc = WebHdfsLocator::create({url, 2000, 60, ""});
  ASSERT_TRUE(loc.ok()) << loc.error().message;
  auto r = (*loc)->locate("/foo");
  close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(
      r.error().message,
      "namenode " + url + " refused the connection (or is unreachable) for GETFILESTATUS /foo");
}

TEST_F(WebHdfsTest, CacheAnswersWithinTtlWithoutRequests) {
  auto loc = locator(5000, 60);
  ASSERT_TRUE(loc->locate("/logs/2026-11").ok());
  ASSERT_EQ(nn_.requests(), 6);
  now_ += std::chrono::seconds{59};
  auto again = loc->locate("hdfs:///logs//2026-11/");  // the same path, spelled otherwise
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->size(), 3u);
  EXPECT_EQ(nn_.requests(), 6);
  now_ += std::chrono::seconds{1};  // 60 s after the scan: expired
  ASSERT_TRUE(loc->locate("/logs/2026-11").ok());
  EXPECT_EQ(nn_.requests(), 12);
  loc->clearCache();
  ASSERT_TRUE(loc->locate("/logs/2026-11").ok());
  EXPECT_EQ(nn_.requests(), 18);
}

TEST_F(WebHdfsTest, ErrorsAreNotCached) {
  auto loc = locator(5000, 60);
  ASSERT_FALSE(loc->locate("/foo").ok());
  ASSERT_FALSE(loc->locate("/foo").ok());
  EXPECT_EQ(nn_.requests(), 2);
}

TEST_F(WebHdfsTest, ZeroTtlAsksEveryTime) {
  auto loc = locator(5000, 0);
  ASSERT_TRUE(loc->locate("/logs/2026-11").ok());
  ASSERT_TRUE(loc->locate("/logs/2026-11").ok());
  EXPECT_EQ(nn_.requests(), 12);
}

TEST_F(WebHdfsTest, BadPathsAreRefusedWithoutRequests) {
  auto loc = locator();
  for (const char* path : {"logs/2026-11", "", "hdfs://nn:8020/logs"}) {
    SCOPED_TRACE(path);
    auto r = loc->locate(path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(nn_.requests(), 0);
}

TEST(WebHdfsCreate, RefusesAnythingButHttpHostPort) {
  struct Case {
    const char* namenode;
    bool ok;
  };
  const Case cases[] = {
      {"http://nn1:9870", true},
      {"http://nn1:9870/", true},
      {"http://[::1]:9870", true},
      {"", false},
      {"nn1:9870", false},
      {"https://nn1:9871", false},
      {"http://nn1", false},
      {"http://:9870", false},
      {"http://nn1:9870/webhdfs/v1", false},
      {"http://nn1:99999", false},
      {"http://nn1:0", false},
      {"http://nn1:98x0", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.namenode);
    auto r = WebHdfsLocator::create({c.namenode, 5000, 60, ""});
    EXPECT_EQ(r.ok(), c.ok) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
  }
  EXPECT_FALSE(WebHdfsLocator::create({"http://nn1:9870", 0, 60, ""}).ok());
  EXPECT_FALSE(WebHdfsLocator::create({"http://nn1:9870", 5000, -1, ""}).ok());
}

}  // namespace
}  // namespace locus::locality
