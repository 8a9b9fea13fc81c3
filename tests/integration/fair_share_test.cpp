// Fair-share in the live controller: usage is charged to the job's account when it ends, stored,
// and lowers the priority of that account's next jobs against an idle account's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {
namespace fs = std::filesystem;

TEST(FairShare, UsageLowersTheUsingAccountsPriority) {
  TestCluster cluster({.nodes = 1,
                       .config = "[priority]\nweight_age = 0\nweight_fairshare = 10000\n"
                                 "[[account]]\nname = \"physics\"\nusers = [\"root\"]\n"
                                 "[[account]]\nname = \"bio\"\nusers = [\"root\"]\n"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));

  // Only physics has used the machine: 8 cores for at least a second.
  auto used = cluster.submit({"-A", "physics", "-c", "8", "--wrap", "sleep 1.2"});
  ASSERT_TRUE(used);
  ASSERT_TRUE(cluster.waitTerminal({*used}, std::chrono::seconds(30)));
  EXPECT_EQ(cluster.job(*used)["state"], "COMPLETED");

  auto shares = nlohmann::json::parse(cluster.locus({"share", "--json"}).out)["rows"];
  double physics_usage = -1, bio_usage = -1;
  for (const auto& r : shares) {
    if (r["account"] == "physics" && r["user"] == "") physics_usage = r["raw_usage"];
    if (r["account"] == "bio" && r["user"] == "") bio_usage = r["raw_usage"];
  }
  // >= 8 cores x 1 s, billed 1 per core-second, less a sliver of decay (7-day half-life).
  EXPECT_GE(physics_usage, 7.99);
  EXPECT_EQ(bio_usage, 0.0);

  // Fill the node, then queue one job per account behind it.
  auto blocker = cluster.submit({"-A", "bio", "-c", "8", "--wrap", "sleep 300"});
  ASSERT_TRUE(blocker);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*blocker)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  auto from_physics = cluster.submit({"-A", "physics", "--wrap", "true"});
  auto from_bio = cluster.submit({"-A", "bio", "--wrap", "true"});
  ASSERT_TRUE(from_physics && from_bio);
  auto prio = nlohmann::json::parse(cluster.locus({"priority", "--json"}).out)["jobs"];
  ASSERT_EQ(prio.size(), 2u);
  std::map<uint64_t, nlohmann::json> by_id;
  for (const auto& p : prio) by_id[p["id"].get<uint64_t>()] = p;
  // All usage is physics': its effective usage is 1 and its share 1/2, so F = 2^(-1/0.5) = 0.25
  // -> 2500; bio has used nothing: F = 1 -> 10000 (decay over seconds is negligible).
  EXPECT_NEAR(by_id[*from_physics]["fairshare"].get<double>(), 2500, 5);
  EXPECT_NEAR(by_id[*from_bio]["fairshare"].get<double>(), 10000, 1);
  EXPECT_GT(by_id[*from_bio]["priority"].get<int64_t>(), by_id[*from_physics]["priority"].get<int64_t>());

  // An account the user is not in, or that does not exist, is refused and nothing is stored.
  auto bad = cluster.locus({"submit", "-A", "chemistry", "--wrap", "true"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("account 'chemistry' does not exist"), std::string::npos) << bad.err;

  // Usage survives a controller restart.
  cluster.killController();
  ASSERT_TRUE(cluster.startController());
  auto after = nlohmann::json::parse(cluster.locus({"share", "--json"}).out)["rows"];
  for (const auto& r : after)
    if (r["account"] == "physics" && r["user"] == "") EXPECT_NEAR(r["raw_usage"].get<double>(), physics_usage, 0.5);

  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*blocker), std::to_string(*from_physics),
                           std::to_string(*from_bio)}).exit_code, 0);
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// `locus account` changes the tree at run time (admins only), is stored, survives a restart, and
// submissions follow it.
TEST(FairShare, AccountCommandsChangeTheTreeDurably) {
  TestCluster cluster({.nodes = 1, .config = "[[account]]\nname = \"physics\"\nusers = [\"root\"]\n"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));

  EXPECT_EQ(cluster.locus({"account", "add", "chemistry", "--shares", "5", "--users", "root"}).exit_code, 0);
  EXPECT_EQ(cluster.locus({"account", "add", "organic", "--parent", "chemistry"}).exit_code, 0);
  auto dup = cluster.locus({"account", "add", "physics"});
  EXPECT_NE(dup.exit_code, 0);
  auto busy = cluster.locus({"account", "remove", "chemistry"});  // still has a sub-account
  EXPECT_NE(busy.exit_code, 0);
  EXPECT_EQ(cluster.locus({"account", "remove", "organic"}).exit_code, 0);
  auto id = cluster.submit({"-A", "chemistry", "--wrap", "true"});
  ASSERT_TRUE(id);
  EXPECT_TRUE(cluster.waitTerminal({*id}, std::chrono::seconds(20)));

  auto listed = [&] {
    auto parsed = nlohmann::json::parse(cluster.locus({"account", "list", "--json"}).out);
    std::map<std::string, uint32_t> shares;
    for (const auto& a : parsed["accounts"]) shares[a["name"]] = a["shares"];
    return shares;
  };
  auto before = listed();
  EXPECT_EQ(before.count("organic"), 0u);
  EXPECT_EQ(before["chemistry"], 5u);
  cluster.killController();
  ASSERT_TRUE(cluster.startController());
  EXPECT_EQ(listed(), before);

  // Not an admin: refused, nothing changes.
  if (geteuid() == 0) {
    fs::permissions(cluster.dir(), fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
    const std::string cli = cluster.dir() + "/locus";
    fs::copy_file(binDir() + "/locus", cli);
    auto denied = runCommand({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", cli,
                              "--controller", cluster.address(), "account", "add", "biology"});
    EXPECT_NE(denied.exit_code, 0);
    EXPECT_NE(denied.err.find("only admins may change accounts"), std::string::npos) << denied.err;
    EXPECT_EQ(listed(), before);
  }
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// fairshare_mode = "drf": the account holding the larger dominant share of the cluster now gets the
// lower fair-share factor (Ghodsi et al.'s DRF, weighted by shares).
TEST(FairShare, DrfModeFavoursTheAccountWithTheSmallerDominantShare) {
  TestCluster cluster({.nodes = 1,
                       .config = "[priority]\nweight_age = 0\nweight_fairshare = 10000\nfairshare_mode = \"drf\"\n"
                                 "[[account]]\nname = \"physics\"\nusers = [\"root\"]\n"
                                 "[[account]]\nname = \"bio\"\nusers = [\"root\"]\n"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  auto holder = cluster.submit({"-A", "physics", "-c", "6", "--wrap", "sleep 300"});
  ASSERT_TRUE(holder);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*holder)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  auto from_physics = cluster.submit({"-A", "physics", "-c", "8", "--wrap", "true"});
  auto from_bio = cluster.submit({"-A", "bio", "-c", "8", "--wrap", "true"});
  ASSERT_TRUE(from_physics && from_bio);
  auto prio = nlohmann::json::parse(cluster.locus({"priority", "--json"}).out)["jobs"];
  std::map<uint64_t, double> fairshare;
  for (const auto& p : prio) fairshare[p["id"].get<uint64_t>()] = p["fairshare"];
  // physics holds 6 of 8 cores (dominant share 0.75), bio nothing: bio ranks first (factor 1).
  EXPECT_NEAR(fairshare[*from_bio], 10000, 1);
  EXPECT_LT(fairshare[*from_physics], fairshare[*from_bio]);
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*holder), std::to_string(*from_physics),
                           std::to_string(*from_bio)}).exit_code, 0);
}

// The pool factor (Slurm's partition factor): weight_pool x the job's pool priority / the
// highest pool priority. Two pools over the same node; a whole-node job keeps the others waiting.
TEST(FairShare, PoolFactorRaisesThePriorityOfJobsInAHigherPool) {
  TestCluster cluster({.nodes = 1,
                       .config = "[priority]\nweight_age = 0\nweight_fairshare = 0\nweight_pool = 1000\n"
                                 "[[pool]]\nname = \"urgent\"\npriority = 4\n"
                                 "[[pool]]\nname = \"batch\"\npriority = 1\ndefault = true\n"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  auto blocker = cluster.submit({"-c", "8", "--wrap", "sleep 300"});
  ASSERT_TRUE(blocker);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*blocker)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  auto in_batch = cluster.submit({"-c", "8", "--wrap", "sleep 1"});
  auto in_urgent = cluster.submit({"-p", "urgent", "-c", "8", "--wrap", "sleep 1"});
  ASSERT_TRUE(in_batch && in_urgent);
  auto prio = nlohmann::json::parse(cluster.locus({"priority", "--json"}).out)["jobs"];
  std::map<uint64_t, nlohmann::json> by_id;
  for (const auto& j : prio) by_id[j["id"].get<uint64_t>()] = j;
  ASSERT_EQ(by_id.size(), 2u) << prio.dump();
  EXPECT_DOUBLE_EQ(by_id[*in_urgent]["pool"].get<double>(), 1000.0);  // 1000 x 4/4
  EXPECT_DOUBLE_EQ(by_id[*in_batch]["pool"].get<double>(), 250.0);    // 1000 x 1/4
  EXPECT_EQ(by_id[*in_urgent]["priority"].get<int64_t>(), 1000);
  EXPECT_EQ(by_id[*in_batch]["priority"].get<int64_t>(), 250);
  // The urgent job, submitted last, runs first; both need the whole node, so one after the other.
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*blocker)}).exit_code, 0);
  ASSERT_TRUE(cluster.waitTerminal({*in_urgent, *in_batch}, std::chrono::seconds(30)));
  EXPECT_LE(cluster.job(*in_urgent)["end_time"].get<std::string>(),
            cluster.job(*in_batch)["start_time"].get<std::string>());  // RFC 3339 UTC: ordered as text
}

}  // namespace
}  // namespace locus::testing
