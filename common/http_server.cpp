// The only file that includes cpp-httplib (Debian's libcpp-httplib: a header plus a shared
// library, linked privately by locus_common).
#include "common/http_server.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <thread>

#include "common/logging.hpp"

namespace locus {
namespace {

auto log() {
  static auto l = logger("http");
  return l;
}

// Worker threads. A scrape takes milliseconds, but a keep-alive client (Prometheus keeps its
// connection between scrapes) holds a worker while it idles, so a few are needed; an open stream
// holds one for as long as it lasts, so each may have its own on top.
constexpr size_t kThreads = 4;
// How long an idle keep-alive connection may hold its worker. Shorter than Prometheus's default
// scrape interval (15 s), so an idle scraper does not pin a thread.
constexpr time_t kKeepAliveTimeoutS = 2;
constexpr auto kStartTimeout = std::chrono::seconds{5};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string regexEscape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string HttpRequest::header(std::string_view name) const {
  auto it = headers.find(lower(std::string(name)));
  return it == headers.end() ? std::string() : it->second;
}

Result<std::pair<std::string, int>> splitHostPort(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size())
    return invalidArgument("expected HOST:PORT, got '" + address + "'");
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) return invalidArgument("no host in '" + address + "'");
  const std::string digits = address.substr(colon + 1);
  int port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9' || port > 65535) return invalidArgument("bad port in '" + address + "'");
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return invalidArgument("bad port in '" + address + "'");
  return std::make_pair(host, port);
}

struct HttpServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> streams{0};  // open streams (getStream), at most kMaxStreams
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {
  auto& s = impl_->server;
  s.new_task_queue = [] { return new httplib::ThreadPool(kThreads + kMaxStreams); };
  s.set_keep_alive_timeout(kKeepAliveTimeoutS);
  // Close-on-exec: the node daemon forks tasks, which must not inherit (and keep bound) the port.
  // SO_REUSEADDR only, not SO_REUSEPORT: a port in use must fail to bind.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    fcntl(sock, F_SETFD, fcntl(sock, F_GETFD) | FD_CLOEXEC);
  });
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->port; }

namespace {

HttpRequest toRequest(const httplib::Request& req) {
  HttpRequest request;
  request.method = req.method;
  request.path = req.path;
  request.params.insert(req.params.begin(), req.params.end());
  for (const auto& [name, value] : req.headers) request.headers.emplace(lower(name), value);
  request.body = req.body;
  return request;
}

void apply(HttpResponse r, httplib::Response& res) {
  res.status = r.status;
  for (const auto& [name, value] : r.headers) res.set_header(name.c_str(), value);
  res.set_content(std::move(r.body), r.content_type.c_str());
}

void internalError(const std::string& what, const std::exception& e, httplib::Response& res) {
  log()->error("bug: {} threw: {}", what, e.what());
  res.status = 500;
  res.set_content(std::string("internal error: ") + e.what() + "\n", "text/plain; charset=utf-8");
}

httplib::Server::Handler wrap(std::string what, HttpServer::Handler handler) {
  return [what = std::move(what), handler = std::move(handler)](const httplib::Request& req,
                                                                httplib::Response& res) {
    try {
      apply(handler(toRequest(req)), res);
    } catch (const std::exception& e) {
      internalError(req.method + " " + what, e, res);
    }
  };
}

// The HttpStream of one response: a chunk per write(), through httplib's DataSink.
class SinkStream final : public HttpStream {
 public:
  SinkStream(httplib::DataSink& sink, const std::atomic<bool>& stopping)
      : sink_(sink), stopping_(stopping) {}
  bool write(std::string_view data) override {
    if (failed_ || stopping()) return false;
    if (!data.empty() && !sink_.write(data.data(), data.size())) failed_ = true;
    return !failed_;
  }
  bool stopping() const override { return stopping_.load(); }
  bool failed() const { return failed_; }

 private:
  httplib::DataSink& sink_;
  const std::atomic<bool>& stopping_;
  bool failed_ = false;
};

// Holds one of the kMaxStreams places while the response that owns it lives.
class StreamSlot {
 public:
  explicit StreamSlot(std::atomic<size_t>& streams) : streams_(streams) {}
  ~StreamSlot() { streams_.fetch_sub(1); }
  StreamSlot(const StreamSlot&) = delete;
  StreamSlot& operator=(const StreamSlot&) = delete;

 private:
  std::atomic<size_t>& streams_;
};

}  // namespace

void HttpServer::get(const std::string& path, Handler handler) {
  impl_->server.Get(regexEscape(path), wrap(path, std::move(handler)));
}

void HttpServer::getPrefix(const std::string& prefix, Handler handler) {
  impl_->server.Get(regexEscape(prefix) + ".*", wrap(prefix + "*", std::move(handler)));
}

void HttpServer::getStream(const std::string& path, StreamHandler handler) {
  Impl* impl = impl_.get();
  impl_->server.Get(regexEscape(path), [impl, path, handler = std::move(handler)](
                                           const httplib::Request& req, httplib::Response& res) {
    HttpStreamReply reply;
    try {
      reply = handler(toRequest(req));
    } catch (const std::exception& e) {
      internalError("GET " + path, e, res);
      return;
    }
    if (!reply.produce) {
      apply(std::move(reply.response), res);
      return;
    }
    if (impl->streams.fetch_add(1) >= kMaxStreams) {
      impl->streams.fetch_sub(1);
      res.status = 503;
      res.set_header("Retry-After", "10");
      res.set_content("too many open streams\n", "text/plain; charset=utf-8");
      return;
    }
    // The slot goes with the provider, which the response owns: released however it ends.
    auto slot = std::make_shared<StreamSlot>(impl->streams);
    res.status = 200;
    for (const auto& [name, value] : reply.response.headers) res.set_header(name.c_str(), value);
    res.set_chunked_content_provider(
        reply.response.content_type,
        [impl, path, slot, produce = std::move(reply.produce)](size_t, httplib::DataSink& sink) {
          SinkStream stream(sink, impl->stopping);
          try {
            produce(stream);
          } catch (const std::exception& e) {
            log()->error("bug: stream GET {} threw: {}", path, e.what());
            return false;
          }
          if (stream.failed()) return false;  // the client is gone: drop the connection
          sink.done();
          return true;
        });
  });
}

void HttpServer::post(const std::string& pattern, Handler handler) {
  impl_->server.Post(pattern, wrap(pattern, std::move(handler)));
}

Result<int> HttpServer::start(const std::string& listen) {
  auto hp = splitHostPort(listen);
  if (!hp.ok()) return hp.error();
  auto& [host, port] = *hp;
  auto& s = impl_->server;
  // Routes match in the order added: these come after every post(). Any method without a route
  // is refused on every path, known or not.
  auto refuse = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content("method not allowed\n", "text/plain; charset=utf-8");
  };
  s.Post(".*", refuse);
  s.Put(".*", refuse);
  s.Delete(".*", refuse);
  s.Patch(".*", refuse);
  int bound = port == 0 ? s.bind_to_any_port(host) : (s.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) return unavailable("cannot listen on " + listen + " (HTTP)");
  impl_->port = bound;
  impl_->thread = std::thread([&s] { s.listen_after_bind(); });
  // The socket already listens (connections queue), but stop() can only end the accept loop
  // once it runs: wait for it, so that a stop() right after start() never hangs.
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!s.is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  if (!s.is_running()) {
    stop();
    return unavailable("HTTP server on " + listen + " did not start");
  }
  return bound;
}

void HttpServer::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->stopping = true;  // open streams end within kStreamSlice; the pool's join waits for them
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace locus
