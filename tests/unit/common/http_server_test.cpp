#include "common/http_server.hpp"

#include <gtest/gtest.h>

#include <atomic>

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

TEST(HttpServer, StopRightAfterStartReturns) {
  for (int i = 0; i < 20; ++i) {
    HttpServer server;
    ASSERT_TRUE(server.start("127.0.0.1:0").ok());
  }  // the destructor stops: the test hangs here if a stop can miss the accept loop
}

}  // namespace
}  // namespace locus
