// `locus acct` (like sacct) against real jobs: one completes, one fails with exit 3, one is
// cancelled while it runs. Checks the table, JSON and CSV fields, the filters (-u, -A, --state,
// -j, -S/-E) and that bad input is an error that says why. Billing weights are set so that the
// billed resource-seconds show the weights were applied: 2 per core, 1 per GB of memory.
#include <gtest/gtest.h>

#include <ctime>
#include <sstream>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

std::vector<std::vector<std::string>> tableRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;) row.push_back(w);
    rows.push_back(row);
  }
  return rows;
}

// The lines of `text`.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(Acct, ReportsWhatJobsUsedWithFiltersInEveryFormat) {
  TestCluster cluster({.nodes = 1,
                       .topology = "pack:1 numa:1 core:4 pu:1",
                       .config = "[priority]\nbilling_per_cpu = 2.0\nbilling_per_mem_gb = 1.0\n"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));

  // Without accounts configured, -A is kept as given.
  auto done = cluster.submit({"-A", "physics", "-c", "2", "--mem", "512M", "--wrap", "sleep 2"});
  auto failed = cluster.submit({"-A", "chem", "--wrap", "exit 3"});
  auto cancelled = cluster.submit({"-A", "physics", "--wrap", "sleep 300"});
  ASSERT_TRUE(done && failed && cancelled);
  const std::string a = std::to_string(*done), b = std::to_string(*failed),
                    c = std::to_string(*cancelled);

  auto acctJson = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv{"acct", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = cluster.locus(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::array();
  };
  // While it runs, the job is billed for the time so far.
  ASSERT_TRUE(waitUntil(
      [&] {
        auto j = acctJson({"-j", c});
        return j.size() == 1 && j[0]["state"] == "RUNNING" && j[0]["elapsed_s"].get<int64_t>() >= 1;
      },
      std::chrono::seconds(30)));
  auto running = acctJson({"-j", c})[0];
  EXPECT_GT(running["billing"].get<double>(), 0.0) << running.dump();
  EXPECT_TRUE(running["end_time"].is_null());
  EXPECT_TRUE(running["max_rss_kb"].is_null());

  ASSERT_EQ(cluster.locus({"cancel", c}).exit_code, 0);
  ASSERT_TRUE(cluster.waitTerminal({*done, *failed, *cancelled}, std::chrono::seconds(60)));
  // CANCELLED at once; its exit status (and its charge) once the node confirms the end.
  ASSERT_TRUE(waitUntil([&] { return !cluster.job(*cancelled)["exit_code"].is_null(); },
                        std::chrono::seconds(20)));

  // The table: the default columns, one row per job.
  auto table = cluster.locus({"acct", "-S", "now-1hour"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  auto rows = tableRows(table.out);
  ASSERT_EQ(rows.size(), 4u) << table.out;
  EXPECT_EQ(rows[0], (std::vector<std::string>{"JobID", "User", "Account", "State", "Elapsed",
                                               "CPUTime", "MaxRSS", "ExitCode", "NNodes",
                                               "NodeList", "GPUs", "Billing"}))
      << table.out;
  std::map<std::string, std::vector<std::string>> by_id;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 12u) << table.out;
    by_id[rows[i][0]] = rows[i];
  }
  auto cell = [&](const std::string& id, size_t column) { return by_id[id].at(column); };
  EXPECT_EQ(cell(a, 1), "root");
  EXPECT_EQ(cell(a, 2), "physics");
  EXPECT_EQ(cell(a, 3), "COMPLETED");
  EXPECT_EQ(cell(a, 7), "0:0");
  EXPECT_EQ(cell(a, 8), "1");
  EXPECT_EQ(cell(a, 9), cluster.nodeName(0));
  EXPECT_EQ(cell(a, 10), "0");
  EXPECT_EQ(cell(b, 2), "chem");
  EXPECT_EQ(cell(b, 3), "FAILED");
  EXPECT_EQ(cell(b, 7), "3:0");
  EXPECT_EQ(cell(c, 3), "CANCELLED");
  EXPECT_EQ(cell(c, 7), "0:15");  // ended by the cancel's SIGTERM

  // JSON: every field, the figures consistent with locus show and with the billing weights.
  auto all = acctJson({"-S", "now-1hour"});
  ASSERT_EQ(all.size(), 3u) << all.dump(2);
  std::map<std::string, nlohmann::json> json_by_id;
  for (const auto& j : all) json_by_id[std::to_string(j["job_id"].get<uint64_t>())] = j;
  const auto& ja = json_by_id[a];
  const auto shown = cluster.job(*done);
  EXPECT_EQ(ja["user"], "root");
  EXPECT_EQ(ja["account"], "physics");
  EXPECT_EQ(ja["state"], "COMPLETED");
  EXPECT_EQ(ja["submit_time"], shown["submit_time"]);
  EXPECT_EQ(ja["start_time"], shown["start_time"]);
  EXPECT_EQ(ja["end_time"], shown["end_time"]);
  const int64_t elapsed = ja["elapsed_s"].get<int64_t>();
  EXPECT_GE(elapsed, 2);
  EXPECT_LT(elapsed, 30);
  EXPECT_EQ(ja["alloc_cpus"], 2);
  EXPECT_EQ(ja["cpu_time_s"], 2 * elapsed);  // cores x elapsed
  EXPECT_GT(ja["max_rss_kb"].get<uint64_t>(), 0u);
  EXPECT_EQ(ja["max_rss_mb"].get<double>(), ja["max_rss_kb"].get<double>() / 1024.0);
  EXPECT_EQ(ja["exit_code"], 0);
  EXPECT_EQ(ja["signal"], 0);
  EXPECT_EQ(ja["nodes"], 1);
  EXPECT_EQ(ja["node_list"], cluster.nodeName(0));
  EXPECT_EQ(ja["gpus"], 0);
  // 2 cores x 2 + 0.5 GB x 1 = 4.5 per second, charged from the start until the node gave the
  // resources back, a moment after the recorded end.
  const double billing = ja["billing"].get<double>();
  EXPECT_GE(billing, 4.5 * elapsed) << ja.dump();
  EXPECT_LE(billing, 4.5 * (elapsed + 2)) << ja.dump();
  EXPECT_EQ(json_by_id[b]["state"], "FAILED");
  EXPECT_EQ(json_by_id[b]["exit_code"], 3);
  EXPECT_EQ(json_by_id[b]["signal"], 0);
  EXPECT_EQ(json_by_id[b]["account"], "chem");
  EXPECT_EQ(json_by_id[c]["state"], "CANCELLED");
  EXPECT_EQ(json_by_id[c]["exit_code"], 0);
  EXPECT_EQ(json_by_id[c]["signal"], 15);
  // Ended: billed for at least the second it ran (2 per core), no longer growing.
  const double billed_c = json_by_id[c]["billing"].get<double>();
  EXPECT_GE(billed_c, 2.0) << json_by_id[c].dump();
  EXPECT_EQ(acctJson({"-j", c})[0]["billing"].get<double>(), billed_c);

  // CSV: a header line, then one line per job, in the columns asked for.
  auto csv = cluster.locus(
      {"acct", "--csv", "-S", "now-1hour", "--format", "jobid,STATE,ExitCode,nnodes"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(lines(csv.out),
            (std::vector<std::string>{"JobID,State,ExitCode,NNodes", a + ",COMPLETED,0:0,1",
                                      b + ",FAILED,3:0,1", c + ",CANCELLED,0:15,1"}))
      << csv.out;

  // Filters.
  auto ids = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{"acct", "--csv", "--noheader", "-o", "JobID"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = cluster.locus(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return lines(r.out);
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(ids({"-S", "now-1hour", "-u", "root"}), (Ids{a, b, c}));
  EXPECT_EQ(ids({"-S", "now-1hour", "-u", "0"}), (Ids{a, b, c}));  // a uid
  EXPECT_EQ(ids({"-S", "now-1hour", "-u", "nobody,daemon"}), Ids{});
  EXPECT_EQ(ids({"-S", "now-1hour", "-A", "chem"}), Ids{b});
  EXPECT_EQ(ids({"-S", "now-1hour", "--state", "completed,CA"}), (Ids{a, c}));
  EXPECT_EQ(ids({"-S", "now-1hour", "-s", "F"}), Ids{b});
  EXPECT_EQ(ids({"-j", a + "," + c}), (Ids{a, c}));  // -j alone: since the epoch
  // The window: jobs pending or running between -S and -E.
  EXPECT_EQ(ids({"-S", "2000-01-01", "-E", "2000-01-02T12:00"}), Ids{});
  EXPECT_EQ(ids({"-S", "now-1hour", "-E", "now"}), (Ids{a, b, c}));
  EXPECT_EQ(ids({"-S", std::to_string(std::time(nullptr) - 3600)}),
            (Ids{a, b, c}));  // unix seconds

  // Errors: non-zero, one clear line.
  struct Bad {
    std::vector<std::string> args;
    std::string message;
  } bad[] = {
      {{"acct", "--state", "bogus"}, "invalid job state 'bogus'"},
      {{"acct", "-S", "yesterday-ish"}, "invalid time 'yesterday-ish'"},
      {{"acct", "-E", "2024-02-30T25:00"}, "invalid time '2024-02-30T25:00'"},
      {{"acct", "--format", "JobID,Nope"}, "unknown field 'Nope'"},
      {{"acct", "--json", "--csv"}, "--json and --csv cannot be used together"},
      {{"acct", "-S", "now", "-E", "now-1day"}, "is after end time"},
  };
  for (const auto& x : bad) {
    SCOPED_TRACE(x.message);
    auto r = cluster.locus(x.args);
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("locus: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(x.message), std::string::npos) << r.err;
  }
  // Billing is stored with the job: a controller restart keeps it (the weights are not re-applied).
  cluster.killController();
  ASSERT_TRUE(cluster.startController());
  EXPECT_EQ(acctJson({"-j", a})[0]["billing"].get<double>(), billing);
  EXPECT_EQ(acctJson({"-j", c})[0]["billing"].get<double>(), billed_c);

  auto help = cluster.locus({"acct", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Billing"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace locus::testing
