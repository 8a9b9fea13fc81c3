#include "common/http_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/http_get.hpp"

namespace locus {
namespace {

using testing::httpGet;

TEST(HttpServer, SplitHostPort) {
  struct Case {
    std::string address;
    bool ok;
    std::string host;
    int port;
  };
  const Case cases[] = {
      {"127.0.0.1:0", true, "127.0.0.1", 0},
      {"localhost:9090", true, "localhost", 9090},
      {"[::1]:80", true, "::1", 80},
      {"127.0.0.1", false, "", 0},
      {"127.0.0.1:", false, "", 0},
      {":80", false, "", 0},
      {"h:80x", false, "", 0},
      {"h:65536", false, "", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.address);
    auto r = splitHostPort(c.address);
    ASSERT_EQ(r.ok(), c.ok);
    if (c.ok) {
      EXPECT_EQ(r->first, c.host);
      EXPECT_EQ(r->second, c.port);
    }
  }
}

TEST(HttpServer, ServesOnAPortChosenAtRunTime) {
  HttpServer server;
  std::atomic<int> calls{0};
  server.get("/metrics", [&](const HttpRequest& req) {
    ++calls;
    return HttpResponse{200, "text/plain; version=0.0.4",
                        "answer " + std::to_string(calls.load()) + "\n"};
  });
  auto port = server.start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.error().message;
  ASSERT_GT(*port, 0);
  EXPECT_EQ(server.port(), *port);
  const std::string address = "127.0.0.1:" + std::to_string(*port);

  auto r = httpGet(address, "/metrics");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4");
  EXPECT_EQ(r.body, "answer 1\n");
  r = httpGet(address, "/metrics?x=1");  // a query string is the same path
  EXPECT_EQ(r.body, "answer 2\n");

  EXPECT_EQ(httpGet(address, "/nothing").status, 404);
  EXPECT_EQ(httpGet(address, "/metricsX").status, 404);  // exact paths only
  EXPECT_EQ(calls.load(), 2);

  server.stop();
  EXPECT_EQ(httpGet(address, "/metrics", 2).status, -1);  // nobody listens any more
  server.stop();                                          // idempotent
}

TEST(HttpServer, PrefixRoutesAndOtherMethodsAre405) {
  HttpServer server;
  server.get("/api/jobs", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "list"}; });
  server.getPrefix("/api/jobs/", [](const HttpRequest& req) {
    return HttpResponse{200, "text/plain", "one " + req.path};
  });
  auto port = server.start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.error().message;
  const std::string address = "127.0.0.1:" + std::to_string(*port);

  EXPECT_EQ(httpGet(address, "/api/jobs").body, "list");
  EXPECT_EQ(httpGet(address, "/api/jobs/42").body, "one /api/jobs/42");
  EXPECT_EQ(httpGet(address, "/api/jobs/42?x=1").body, "one /api/jobs/42");
  EXPECT_EQ(httpGet(address, "/api/jobsX").status, 404);
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    SCOPED_TRACE(method);
    EXPECT_EQ(testing::httpRequest(method, address, "/api/jobs").status, 405);
    EXPECT_EQ(testing::httpRequest(method, address, "/api/jobs/42").status, 405);
    EXPECT_EQ(testing::httpRequest(method, address, "/nothing").status, 405);
  }
}

TEST(HttpServer, APortInUseIsAnError) {
  HttpServer first;
  first.get("/", [](const HttpRequest&) { return HttpResponse{}; });
  auto port = first.start("127.0.0.1:0");
  ASSERT_TRUE(port.ok());
  HttpServer second;
  auto again = second.start("127.0.0.1:" + std::to_string(*port));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(second.start("no-port").ok());
}

TEST(HttpServer, AThrowingHandlerAnswers500) {
  HttpServer server;
  server.get("/boom",
             [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaput"); });
  auto port = server.start("127.0.0.1:0");
  ASSERT_TRUE(port.ok());
  auto r = httpGet("127.0.0.1:" + std::to_string(*port), "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("kaput"), std::string::npos);
}

TEST(HttpServer, APostRouteAnswersOnlyItsPatternOtherPostsAre405) {
  HttpServer server;
  server.post("/api/jobs/[0-9]+/cancel", [](const HttpRequest& req) {
    return HttpResponse{200, "text/plain",
                        req.method + " " + req.path + " " + req.header("AUTHORIZATION")};
  });
  server.getPrefix("/api/jobs/", [](const HttpRequest& req) {
    return HttpResponse{200, "text/plain", "get"};
  });
  auto port = server.start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.error().message;
  const std::string address = "127.0.0.1:" + std::to_string(*port);

  auto r = testing::httpRequest("POST", address, "/api/jobs/42/cancel", 10,
                                "Authorization: Bearer abc\r\n");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "POST /api/jobs/42/cancel Bearer abc");  // headers by name in any case
  for (const char* path :
       {"/api/jobs/x/cancel", "/api/jobs/42", "/api/jobs/42/cancel/more", "/api/jobs"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(testing::httpRequest("POST", address, path).status, 405);
  }
  for (const char* method : {"PUT", "DELETE", "PATCH"})
    EXPECT_EQ(testing::httpRequest(method, address, "/api/jobs/42/cancel").status, 405) << method;
  EXPECT_EQ(httpGet(address, "/api/jobs/42/cancel").body, "get");  // GET routes are apart
}

TEST(HttpServer, AStreamIsWrittenAsItGoesAndStopEndsItPromptly) {
  HttpServer server;
  std::atomic<int> writing{0};
  server.getStream("/stream", [&](const HttpRequest& req) {
    HttpStreamReply reply;
    if (req.params.count("bad")) {  // an answer instead of a stream
      reply.response = HttpResponse{400, "text/plain", "bad\n"};
      return reply;
    }
    reply.response.content_type = "text/event-stream";
    reply.response.headers = {{"Cache-Control", "no-cache"}};
    reply.produce = [&](HttpStream& out) {
      if (!out.write("data: first\n\n")) return;
      ++writing;
      // A producer with nothing more to say: it waits in slices and looks at stopping().
      while (!out.stopping()) std::this_thread::sleep_for(HttpServer::kStreamSlice);
      --writing;
    };
    return reply;
  });
  auto port = server.start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.error().message;
  const std::string address = "127.0.0.1:" + std::to_string(*port);
  EXPECT_EQ(httpGet(address, "/stream?bad=1").status, 400);

  // Every stream it allows (each read to its end on a thread of its own), then one too many.
  std::vector<testing::HttpGetResult> results(HttpServer::kMaxStreams);
  std::vector<std::thread> readers;
  for (size_t i = 0; i < HttpServer::kMaxStreams; ++i)
    readers.emplace_back([&, i] { results[i] = httpGet(address, "/stream", 30); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (writing.load() < static_cast<int>(HttpServer::kMaxStreams) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(writing.load(), static_cast<int>(HttpServer::kMaxStreams));
  EXPECT_EQ(httpGet(address, "/stream", 5).status, 503);

  // stop() ends them all within a slice or so, not at some next write.
  const auto began = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(3));
  for (auto& t : readers) t.join();
  EXPECT_EQ(writing.load(), 0);
  for (const auto& r : results) {
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.content_type, "text/event-stream");
    EXPECT_NE(r.body.find("data: first\n\n"), std::string::npos) << r.body;  // inside a chunk
  }
}

TEST(HttpServer, StopRightAfterStartReturns) {
  for (int i = 0; i < 20; ++i) {
    HttpServer server;
    ASSERT_TRUE(server.start("127.0.0.1:0").ok());
  }  // the destructor stops: the test hangs here if a stop can miss the accept loop
}

}  // namespace
}  // namespace locus
