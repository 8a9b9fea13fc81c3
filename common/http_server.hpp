#pragma once
// A small HTTP/1.1 server for the daemons' read-only endpoints (/metrics). cpp-httplib stays
// inside http_server.cpp: this header is all its users include.
//
//   HttpServer http;
//   http.get("/metrics", [&](const HttpRequest&) { return HttpResponse{200, type, text()}; });
//   auto port = http.start("127.0.0.1:0");  // port 0: the kernel picks one; *port says which
//
// Thread-safety: handlers run on the server's own threads, several at a time, and must be
// thread-safe. get() before start(); stop() (or the destructor) joins every thread.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "common/result.hpp"

namespace locus {

struct HttpRequest {
  std::string path;
  std::multimap<std::string, std::string> params;  // the query string, decoded
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// "HOST:PORT" or "[V6ADDR]:PORT" -> (host without brackets, port). Errors: kInvalidArgument.
Result<std::pair<std::string, int>> splitHostPort(const std::string& address);

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  HttpServer();
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Answers GET (and HEAD) of exactly `path` with `handler`; any other path is a 404. An
  // exception from a handler is a bug: logged, answered 500. Every other method (POST, PUT,
  // DELETE, PATCH) on any path is answered 405: these endpoints are read-only.
  void get(const std::string& path, Handler handler);
  // Like get(), for every path that starts with `prefix` ("/api/jobs/" answers /api/jobs/42);
  // the handler reads the rest from HttpRequest::path. Routes are tried in the order added.
  void getPrefix(const std::string& prefix, Handler handler);
  // Binds `listen` ("HOST:PORT"; port 0 picks a free one) and serves from background threads.
  // Returns the bound port. Errors: kInvalidArgument (malformed address), kUnavailable (cannot
  // bind: port in use, unknown host).
  Result<int> start(const std::string& listen);
  int port() const;  // 0 before a successful start()
  // Stops accepting, ends open connections and joins the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus
