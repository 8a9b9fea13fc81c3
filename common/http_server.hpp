#pragma once
// A small HTTP/1.1 server for the daemons' endpoints (/metrics, the controller's dashboard).
// cpp-httplib stays inside http_server.cpp: this header is all its users include.
//
//   HttpServer http;
//   http.get("/metrics", [&](const HttpRequest&) { return HttpResponse{200, type, text()}; });
//   auto port = http.start("127.0.0.1:0");  // port 0: the kernel picks one; *port says which
//
// Thread-safety: handlers run on the server's own threads, several at a time, and must be
// thread-safe. Routes are added before start(); stop() (or the destructor) joins every thread.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace locus {

struct HttpRequest {
  std::string method;  // "GET", "HEAD", "POST"
  std::string path;
  std::multimap<std::string, std::string> params;   // the query string, decoded
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string body;
  // The first value of header `name` (any case), or "" when absent.
  std::string header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};  // extra ones (WWW-Authenticate)
};

// The writing end of a streamed response (getStream()).
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Sends `data` at once, as one chunk. False once the client has gone away or the server is
  // stopping: the producer should return.
  virtual bool write(std::string_view data) = 0;
  // True once stop() has begun. A producer that waits for something to send must wait in slices
  // no longer than HttpServer::kStreamSlice and return when this is true: stop() joins it.
  virtual bool stopping() const = 0;
};

// What a stream route answers: `response` alone (an error, say) when `produce` is empty;
// otherwise status 200 with response.content_type and response.headers, and a body that
// produce() writes until it returns (then the response ends).
struct HttpStreamReply {
  HttpResponse response;
  std::function<void(HttpStream&)> produce;
};

// "HOST:PORT" or "[V6ADDR]:PORT" -> (host without brackets, port). Errors: kInvalidArgument.
Result<std::pair<std::string, int>> splitHostPort(const std::string& address);

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  using StreamHandler = std::function<HttpStreamReply(const HttpRequest&)>;

  // How long a stream producer may go without looking at HttpStream::stopping(): bounds how long
  // stop() waits for open streams.
  static constexpr auto kStreamSlice = std::chrono::milliseconds{250};
  // Streams open at once; one more is answered 503. Each holds a worker thread while open.
  static constexpr size_t kMaxStreams = 8;

  HttpServer();
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Answers GET (and HEAD) of exactly `path` with `handler`; any other path is a 404. An
  // exception from a handler is a bug: logged, answered 500. Any method without a route (POST
  // but where post() added one; PUT, DELETE, PATCH everywhere) is answered 405.
  void get(const std::string& path, Handler handler);
  // Like get(), for every path that starts with `prefix` ("/api/jobs/" answers /api/jobs/42);
  // the handler reads the rest from HttpRequest::path. Routes are tried in the order added.
  void getPrefix(const std::string& prefix, Handler handler);
  // Like get(), for a long response written as it is produced (chunked transfer encoding):
  // Server-Sent Events. At most kMaxStreams at once.
  void getStream(const std::string& path, StreamHandler handler);
  // Answers POST of every path that matches the regular expression `pattern` (ECMAScript, the
  // whole path: "/api/jobs/[0-9]+/cancel"). Every other POST stays 405.
  void post(const std::string& pattern, Handler handler);
  // Binds `listen` ("HOST:PORT"; port 0 picks a free one) and serves from background threads.
  // Returns the bound port. Errors: kInvalidArgument (malformed address), kUnavailable (cannot
  // bind: port in use, unknown host).
  Result<int> start(const std::string& listen);
  int port() const;  // 0 before a successful start()
  // Stops accepting, ends open connections and streams (within about kStreamSlice) and joins
  // the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus
