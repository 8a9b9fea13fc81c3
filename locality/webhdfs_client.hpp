#pragma once
// Block locations from an HDFS NameNode over WebHDFS, the REST API every NameNode serves on its
// HTTP port (9870 since Hadoop 3):
//
//   GET /webhdfs/v1/logs/2026-11?op=GETFILESTATUS          file or directory? how long?
//   GET /webhdfs/v1/logs/2026-11?op=LISTSTATUS             a directory's entries (recursed)
//   GET /webhdfs/v1/logs/2026-11/a.log?op=GETFILEBLOCKLOCATIONS   one file's blocks
//
// Only the NameNode is asked (no data is read), so a scan costs one request per directory and
// one per file. cpp-httplib stays inside webhdfs_client.cpp.
//
// Not supported: Kerberos/SPNEGO (a secured NameNode answers 401: kPermissionDenied), HTTPS,
// delegation tokens. `user` is sent as `user.name`, which is what simple authentication reads.
//
// Thread-safety: locate() and clearCache() may be called from several threads at once; each
// locate() uses its own connection.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "locality/block_locator.hpp"

namespace locus::locality {

struct WebHdfsOptions {
  // The WebHDFS base, "http://HOST:PORT" (a trailing '/' is allowed; nothing else).
  std::string namenode;
  // Limit for connecting and for each read of an answer, in milliseconds; must be > 0.
  int timeout_ms = 5000;
  // How long a successful locate() of a path is remembered, in seconds; 0: never. Block
  // locations change only when files are written or re-replicated, and a burst of submissions
  // on one input should not cost the NameNode a full scan each.
  int cache_ttl_s = 60;
  // Sent as `user.name` when not empty (simple authentication); matters for permission checks.
  std::string user;
};

class WebHdfsLocator : public BlockLocator {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Errors: kInvalidArgument (namenode not "http://HOST:PORT", timeout_ms <= 0, cache_ttl_s <
  // 0). `clock` ages the cache; empty means std::chrono::steady_clock::now.
  static Result<std::unique_ptr<WebHdfsLocator>> create(WebHdfsOptions options, Clock clock = {});

  // `path` is an absolute HDFS path, "/logs/2026-11" or "hdfs:///logs/2026-11" (no authority:
  // the namenode is the one in the options). Files come sorted by path; a directory's
  // symlinks are skipped. Errors (one line, naming the path and the operation):
  //   kNotFound          the path does not exist (404): "hdfs:///foo: FileNotFoundException: ..."
  //   kPermissionDenied  403, or 401 (the NameNode wants Kerberos)
  //   kUnavailable       no answer within timeout_ms, connection refused, a standby NameNode,
  //                      any other HTTP status
  //   kInternal          an answer that is not the documented JSON
  //   kInvalidArgument   a relative path or one naming another authority
  Result<std::vector<InputFile>> locate(const std::string& path) override;

  // Forgets every cached result; the next locate() asks the NameNode again.
  void clearCache();

  const std::string& namenode() const { return base_; }

 private:
  struct CacheEntry {
    std::chrono::steady_clock::time_point stored;
    std::vector<InputFile> files;
  };

  WebHdfsLocator(WebHdfsOptions options, std::string host, int port, Clock clock);

  WebHdfsOptions options_;
  std::string base_;  // "http://HOST:PORT", for messages
  std::string host_;
  int port_ = 0;
  Clock clock_;
  std::mutex mu_;
  std::map<std::string, CacheEntry> cache_;  // guarded by mu_; key: the normalized path
};

}  // namespace locus::locality
