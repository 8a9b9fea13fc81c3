// EtcdClient against a real etcd (tests/etcd_server.hpp); skipped where there is no etcd binary.
#include "controller/store/etcd_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/etcd_server.hpp"

namespace locus::controller {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A port nothing listens on (bound and closed again): refused at once on loopback.
int closedPort() { return freeLoopbackPort(); }

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    etcd_ = testing::EtcdServer::shared(&why);
    if (!etcd_) GTEST_SKIP() << why;
    static int n = 0;
    prefix_ = "/client-test-" + std::to_string(++n) + "/";
    client_ = connect({etcd_->endpoint()});
    ASSERT_NE(client_, nullptr);
  }
  static std::unique_ptr<EtcdClient> connect(std::vector<std::string> endpoints) {
    EtcdOptions o;
    o.endpoints = std::move(endpoints);
    auto c = EtcdClient::create(o);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::string k(const std::string& name) const { return prefix_ + name; }

  testing::EtcdServer* etcd_ = nullptr;
  std::string prefix_;
  std::unique_ptr<EtcdClient> client_;
};

TEST(EtcdCodec, Base64RoundTrips) {
  const std::string cases[] = {
      "", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3), "/locus/jobs/0042"};
  for (const auto& c : cases) {
    SCOPED_TRACE(c);
    auto back = base64Decode(base64Encode(c));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, c);
  }
  EXPECT_EQ(base64Encode("hello"), "aGVsbG8=");  // what etcd's gateway writes for "hello"
  EXPECT_FALSE(base64Decode("a$b=").ok());
  EXPECT_FALSE(base64Decode("abcde").ok());  // a length no encoder makes
}

TEST(EtcdCodec, PrefixEnd) {
  EXPECT_EQ(etcdPrefixEnd("/locus/jobs/"), "/locus/jobs0");  // '/' + 1 == '0'
  EXPECT_EQ(etcdPrefixEnd("a"), "b");
  EXPECT_EQ(etcdPrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(etcdPrefixEnd(std::string("\xff", 1)), std::string(1, '\0'));  // every key
}

TEST(EtcdClientCreate, RefusesBadEndpoints) {
  struct Case {
    const char* name;
    std::vector<std::string> endpoints;
  };
  const Case cases[] = {
      {"none", {}},
      {"no port", {"127.0.0.1"}},
      {"port not a number", {"127.0.0.1:http"}},
      {"port out of range", {"127.0.0.1:70000"}},
      {"https", {"https://127.0.0.1:2379"}},
      {"one bad of two", {"127.0.0.1:2379", "host:"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EtcdOptions o;
    o.endpoints = c.endpoints;
    auto r = EtcdClient::create(o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  EtcdOptions o;
  o.endpoints = {"http://127.0.0.1:2379/", "[::1]:2379"};
  auto r = EtcdClient::create(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->endpoints(), (std::vector<std::string>{"127.0.0.1:2379", "[::1]:2379"}));
}

TEST(EtcdClientUnreachable, IsUnavailableQuickly) {
  EtcdOptions o;
  o.endpoints = {"127.0.0.1:" + std::to_string(closedPort()),
                 "127.0.0.1:" + std::to_string(closedPort())};
  auto client = EtcdClient::create(o);
  ASSERT_TRUE(client.ok());
  const auto start = Clock::now();
  auto got = (*client)->get("/x");
  auto put = (*client)->put("/x", "y");
  const auto took = Clock::now() - start;
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(got.error().message.find("cannot connect"), std::string::npos) << got.error().message;
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(took, milliseconds(1000)) << "refused connections must not wait for a timeout";
}

TEST_F(EtcdClientTest, PutGetDelete) {
  auto none = client_->get(k("a"));
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->has_value());

  const std::string binary("v\0\xff\n", 4);
  auto rev1 = client_->put(k("a"), binary);
  ASSERT_TRUE(rev1.ok()) << rev1.error().message;
  auto rev2 = client_->put(k("a"), "second");
  ASSERT_TRUE(rev2.ok());
  EXPECT_EQ(*rev2, *rev1 + 1);
  ASSERT_TRUE(client_->put(k("empty"), "").ok());

  auto a = client_->get(k("a"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->value, "second");
  EXPECT_EQ((*a)->version, 2);
  EXPECT_EQ((*a)->create_revision, *rev1);
  EXPECT_EQ((*a)->mod_revision, *rev2);
  auto empty = client_->get(k("empty"));
  ASSERT_TRUE(empty.ok());
  ASSERT_TRUE(empty->has_value()) << "an empty value is still a key";
  EXPECT_EQ((*empty)->value, "");

  ASSERT_TRUE(client_->put(k("b"), binary).ok());
  auto b = client_->get(k("b"));
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->value, binary);

  auto deleted = client_->del(k("a"));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  auto again = client_->del(k("a"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  auto gone = client_->get(k("a"));
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
}

TEST_F(EtcdClientTest, PrefixReadsPageAndStayInsideThePrefix) {
  // Neighbours that a sloppy range end would include: "dir0" and "dirx" sort around "dir/".
  ASSERT_TRUE(client_->put(k("dir0"), "out").ok());
  ASSERT_TRUE(client_->put(k("dirx"), "out").ok());
  ASSERT_TRUE(client_->put(k("dir"), "out").ok());
  std::vector<EtcdOp> ops;
  for (int i = 0; i < 100; ++i)
    ops.push_back(EtcdOp::put(k("dir/") + std::to_string(1000 + i), std::to_string(i)));
  ASSERT_TRUE(client_->txn({}, ops).ok());

  for (int64_t page : {7, 100, 512}) {
    SCOPED_TRACE("page size " + std::to_string(page));
    auto all = client_->getPrefix(k("dir/"), page);
    ASSERT_TRUE(all.ok()) << all.error().message;
    ASSERT_EQ(all->size(), 100u);
    for (int i = 0; i < 100; ++i) {
      EXPECT_EQ((*all)[i].key, k("dir/") + std::to_string(1000 + i));
      EXPECT_EQ((*all)[i].value, std::to_string(i));
    }
  }
  auto last3 = client_->range(k("dir/"), etcdPrefixEnd(k("dir/")), 3, /*descending=*/true);
  ASSERT_TRUE(last3.ok());
  ASSERT_EQ(last3->size(), 3u);
  EXPECT_EQ((*last3)[0].key, k("dir/1099"));
  EXPECT_EQ((*last3)[2].key, k("dir/1097"));

  auto removed = client_->delPrefix(k("dir/"));
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 100);
  auto rest = client_->getPrefix(k(""));
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 3u);  // the neighbours
}

TEST_F(EtcdClientTest, TxnComparesPickTheBranch) {
  auto rev = client_->put(k("x"), "1");
  ASSERT_TRUE(rev.ok());
  struct Case {
    const char* name;
    EtcdCompare compare;
    bool holds;
  };
  const Case cases[] = {
      {"value equal", EtcdCompare::valueEquals(k("x"), "1"), true},
      {"value differs", EtcdCompare::valueEquals(k("x"), "2"), false},
      {"version", EtcdCompare::versionEquals(k("x"), 1), true},
      {"version differs", EtcdCompare::versionEquals(k("x"), 2), false},
      {"create revision", EtcdCompare::createRevisionEquals(k("x"), *rev), true},
      {"create revision differs", EtcdCompare::createRevisionEquals(k("x"), *rev + 1), false},
      {"absent key is absent", EtcdCompare::absent(k("nope")), true},
      {"present key is not absent", EtcdCompare::absent(k("x")), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = client_->txn(
        {c.compare}, {EtcdOp::put(k("ran"), "success"), EtcdOp::get(k("x"))},
        {EtcdOp::put(k("ran"), "failure"), EtcdOp::get(k("x")), EtcdOp::get(k("nope"))});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->succeeded, c.holds);
    ASSERT_EQ(r->gets.size(), c.holds ? 2u : 3u);
    EXPECT_TRUE(r->gets[0].empty());  // a put
    ASSERT_EQ(r->gets[1].size(), 1u);
    EXPECT_EQ(r->gets[1][0].value, "1");
    auto ran = client_->get(k("ran"));
    ASSERT_TRUE(ran.ok() && ran->has_value());
    EXPECT_EQ((*ran)->value, c.holds ? "success" : "failure");
    EXPECT_EQ((*ran)->mod_revision, r->revision);
  }
  // Both compares must hold.
  auto both = client_->txn({EtcdCompare::valueEquals(k("x"), "1"), EtcdCompare::absent(k("x"))},
                           {EtcdOp::put(k("both"), "y")});
  ASSERT_TRUE(both.ok());
  EXPECT_FALSE(both->succeeded);
  auto none = client_->get(k("both"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(EtcdClientTest, RefusedTxnsWriteNothing) {
  struct Case {
    const char* name;
    std::vector<EtcdOp> ops;
  };
  std::vector<EtcdOp> too_many;
  for (int i = 0; i < 129; ++i)
    too_many.push_back(EtcdOp::put(k("many/") + std::to_string(i), "v"));
  const Case cases[] = {
      {"129 ops, above etcd's default --max-txn-ops 128", too_many},
      {"one key twice",
       {EtcdOp::put(k("dup"), "1"), EtcdOp::put(k("other"), "1"), EtcdOp::put(k("dup"), "2")}},
      {"put inside a deleted range",
       {EtcdOp::delRange(k("r/"), k("r0")), EtcdOp::put(k("r/1"), "1")}},
      {"above --max-request-bytes",
       {EtcdOp::put(k("small"), "1"), EtcdOp::put(k("big"), std::string(3 << 20, 'x'))}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = client_->txn({}, c.ops);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
    auto written = client_->getPrefix(prefix_);
    ASSERT_TRUE(written.ok());
    EXPECT_TRUE(written->empty()) << written->front().key;
  }
}

TEST_F(EtcdClientTest, LeasesKeepKeysAliveUntilRevoked) {
  auto lease = client_->leaseGrant(std::chrono::seconds{5});
  ASSERT_TRUE(lease.ok()) << lease.error().message;
  EXPECT_NE(lease->id, 0);
  EXPECT_EQ(lease->ttl, std::chrono::seconds{5});
  ASSERT_TRUE(client_->put(k("leased"), "v", lease->id).ok());
  auto kv = client_->get(k("leased"));
  ASSERT_TRUE(kv.ok() && kv->has_value());
  EXPECT_EQ((*kv)->lease, lease->id);

  auto ttl = client_->leaseKeepAlive(lease->id);
  ASSERT_TRUE(ttl.ok()) << ttl.error().message;
  EXPECT_EQ(*ttl, std::chrono::seconds{5});

  ASSERT_TRUE(client_->leaseRevoke(lease->id).ok());
  auto gone = client_->get(k("leased"));
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value()) << "revoking a lease deletes its keys";
  auto after = client_->leaseKeepAlive(lease->id);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kNotFound);
  Status again = client_->leaseRevoke(lease->id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  auto put = client_->put(k("late"), "v", lease->id);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kNotFound) << put.error().message;
}

TEST_F(EtcdClientTest, ExpiredLeaseDeletesItsKeys) {
  // etcd raises a TTL below its minimum (2 s with the default election timeout).
  auto lease = client_->leaseGrant(std::chrono::seconds{1});
  ASSERT_TRUE(lease.ok());
  ASSERT_GE(lease->ttl, std::chrono::seconds{1});
  ASSERT_TRUE(client_->put(k("short"), "v", lease->id).ok());
  const auto deadline = Clock::now() + lease->ttl + std::chrono::seconds{3};
  bool gone = false;
  while (!gone && Clock::now() < deadline) {
    auto kv = client_->get(k("short"));
    ASSERT_TRUE(kv.ok());
    gone = !kv->has_value();
    if (!gone) std::this_thread::sleep_for(milliseconds(100));  // polling, with a deadline
  }
  EXPECT_TRUE(gone) << "the key outlived its lease's TTL by 3 s";
  auto ka = client_->leaseKeepAlive(lease->id);
  ASSERT_FALSE(ka.ok());
  EXPECT_EQ(ka.error().code, ErrorCode::kNotFound);
}

TEST_F(EtcdClientTest, FailsOverToTheNextEndpoint) {
  // The first endpoint is dead: every request goes on to the live one, reads and writes alike.
  auto client = connect({"127.0.0.1:" + std::to_string(closedPort()), etcd_->endpoint()});
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->put(k("f"), std::to_string(i)).ok());
    auto kv = client->get(k("f"));
    ASSERT_TRUE(kv.ok() && kv->has_value()) << (kv.ok() ? "absent" : kv.error().message);
    EXPECT_EQ((*kv)->value, std::to_string(i));
  }
}

TEST(EtcdClientLost, UnavailableOnceEtcdDies) {
  std::string why;
  auto etcd = testing::EtcdServer::start(&why);
  if (!etcd) GTEST_SKIP() << why;
  EtcdOptions o;
  o.endpoints = {etcd->endpoint()};
  auto client = EtcdClient::create(o);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->put("/k", "v").ok());  // a kept-alive connection now exists
  etcd->kill();
  const auto start = Clock::now();
  auto got = (*client)->get("/k");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kUnavailable) << got.error().message;
  auto put = (*client)->put("/k", "w");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kUnavailable) << put.error().message;
  EXPECT_LT(Clock::now() - start, milliseconds(1500));
}

}  // namespace
}  // namespace locus::controller
