// Tasks in OCI containers (--container, docs/containers.md) beside bare ones, through real runc:
// a small root filesystem built here from Debian's busybox-static, its config.json from
// `runc spec`. Checked: the container's own root, its cpuset and memory limit, exit codes and
// output files as for bare tasks, the submitting user's uid, `locus run --container` steps,
// image layouts (umoci), service replicas, launch errors, and no container left behind.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/framework_client.hpp"
#include "common/topology.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

namespace fs = std::filesystem;

std::string which(const std::string& name) {
  for (const char* dir :
       {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    const std::string path = std::string(dir) + "/" + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

// Cpus_allowed_list's value in /proc/self/status output.
std::string cpusAllowed(const std::string& output) {
  auto pos = output.find("Cpus_allowed_list:");
  if (pos == std::string::npos) return "<missing>";
  auto start = output.find_first_not_of(" \t", pos + 18);
  return output.substr(start, output.find('\n', start) - start);
}

// The host CPUs of a job's first node (the synthetic PU i is core i, modulo the host's CPUs).
std::string expectedCpus(const nlohmann::json& allocation_on_first_node) {
  long host = sysconf(_SC_NPROCESSORS_ONLN);
  std::vector<uint32_t> cpus;
  for (uint32_t core : allocation_on_first_node["cores"]) cpus.push_back(core % host);
  return formatCpuList(cpus);
}

void writeFile(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
}

// A root filesystem of busybox applets (symlinks to /bin/busybox) and the usual mount points.
// Returns "" or what went wrong.
std::string buildRootfs(const std::string& busybox, const std::string& rootfs) {
  for (const char* d : {"bin", "proc", "dev", "sys", "tmp", "etc", "root"})
    fs::create_directories(rootfs + "/" + d);
  fs::copy_file(busybox, rootfs + "/bin/busybox", fs::copy_options::overwrite_existing);
  auto list = runCommand({busybox, "--list"});
  if (list.exit_code != 0) return "busybox --list: " + list.err;
  std::istringstream names(list.out);
  for (std::string name; names >> name;)
    if (name != "busybox" && !fs::exists(rootfs + "/bin/" + name))
      fs::create_symlink("busybox", rootfs + "/bin/" + name);
  return {};
}

class Containers : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "runc needs root (the node daemon runs tasks through it)";
    runc_ = which("runc");
    busybox_ = which("busybox");
    if (runc_.empty() || busybox_.empty()) GTEST_SKIP() << "needs Debian's runc and busybox-static";
    ASSERT_TRUE(cluster_.startController());
    ASSERT_TRUE(cluster_.startNode(0));
    ASSERT_TRUE(cluster_.waitNodesUp(1, std::chrono::seconds(20)));
    // Other users must reach the bundle (its config.json is read by the daemon, its root is the
    // task's) and the work directory.
    fs::permissions(cluster_.dir(), fs::perms::owner_all | fs::perms::group_read |
                                        fs::perms::group_exec | fs::perms::others_read |
                                        fs::perms::others_exec);
    fs::permissions(cluster_.workDir(), fs::perms::all | fs::perms::sticky_bit);
    bundle_ = cluster_.dir() + "/bundle";
    ASSERT_EQ(buildRootfs(busybox_, bundle_ + "/rootfs"), "");
    auto spec = runCommand({runc_, "spec", "--bundle", bundle_});
    ASSERT_EQ(spec.exit_code, 0) << spec.err;
  }
  void TearDown() override {
    if (runc_.empty() || geteuid() != 0) return;
    // Whatever a failed test left: the cluster's destructor stops the daemons, this the rest.
    for (const std::string& id : containers())
      runCommand({runc_, "--root", runcRoot(), "delete", "--force", id});
  }

  std::string runcRoot() const { return cluster_.dir() + "/nodes/n1/runc"; }
  // The containers runc knows on node n1.
  std::vector<std::string> containers() const {
    auto r = runCommand({runc_, "--root", runcRoot(), "list", "-q"});
    std::vector<std::string> ids;
    std::istringstream in(r.out);
    for (std::string id; in >> id;) ids.push_back(id);
    return ids;
  }
  // No per-task bundle is left in the node's spool.
  bool noBundles() const {
    std::error_code ec;
    return !fs::exists(cluster_.dir() + "/nodes/n1/containers", ec) ||
           fs::is_empty(cluster_.dir() + "/nodes/n1/containers", ec);
  }
  bool noContainersWithin(std::chrono::seconds timeout) const {
    return waitUntil([&] { return containers().empty(); }, timeout);
  }
  // Submits a script file (written in the work directory).
  std::optional<uint64_t> submitScript(const std::string& name, const std::string& script,
                                       std::vector<std::string> options) const {
    const std::string path = cluster_.workDir() + "/" + name;
    writeFile(path, script, 0755);
    options.push_back(path);
    return cluster_.submit(options);
  }
  nlohmann::json finished(uint64_t id) const {
    EXPECT_TRUE(cluster_.waitTerminal({id}, std::chrono::seconds(60)));
    return cluster_.job(id);
  }
  CommandResult run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{binDir() + "/locus", "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(
        argv,
        {{"LOCUS_CONTROLLER", cluster_.address()}, {"LOCUS_MUNGE_SOCKET", cluster_.mungeSocket()}},
        cluster_.workDir());
  }

  static TestCluster::Options oneNode() {
    TestCluster::Options o;
    o.nodes = 1;
    return o;
  }
  TestCluster cluster_{oneNode()};
  std::string runc_, busybox_, bundle_;
};

TEST_F(Containers, RunBesideBareJobsWithTheirOwnRootAndTheAllocationsCpuset) {
  // Both report, then wait for each other (through files in the shared work directory): they
  // run at the same time on the one node.
  const std::string work = cluster_.workDir();
  auto script = [&](const std::string& me, const std::string& other) {
    return "#!/bin/sh\n"
           "if test -e /etc/debian_version; then echo root=host; else echo root=own; fi\n"
           "grep Cpus_allowed_list /proc/self/status\n"
           "echo pwd=$(pwd) job=$LOCUS_JOB_ID\n"
           "touch " +
           work + "/started-" + me +
           "\n"
           "i=0; while ! test -e " +
           work + "/started-" + other +
           "; do\n"
           "  i=$((i+1)); if test $i -gt 600; then echo alone; exit 9; fi; sleep 0.1\n"
           "done\n";
  };
  auto boxed =
      submitScript("boxed.sh", script("boxed", "bare"), {"-c", "1", "--container", bundle_});
  auto bare = submitScript("bare.sh", script("bare", "boxed"), {"-c", "1"});
  ASSERT_TRUE(boxed && bare);
  nlohmann::json b = finished(*boxed), h = finished(*bare);
  ASSERT_EQ(b["state"], "COMPLETED") << b.dump();
  ASSERT_EQ(h["state"], "COMPLETED") << h.dump();
  const std::string boxed_out = readFile(b["stdout"]), bare_out = readFile(h["stdout"]);
  EXPECT_NE(boxed_out.find("root=own"), std::string::npos) << boxed_out;
  EXPECT_NE(bare_out.find("root=host"), std::string::npos) << bare_out;
  EXPECT_NE(boxed_out.find("pwd=" + work + " job=" + std::to_string(*boxed)), std::string::npos)
      << boxed_out;
  EXPECT_EQ(boxed_out.find("alone"), std::string::npos);
  // Each is bound to its own allocation's cores, the container as the bare job.
  EXPECT_EQ(cpusAllowed(boxed_out), expectedCpus(b["allocation"][0])) << boxed_out;
  EXPECT_EQ(cpusAllowed(bare_out), expectedCpus(h["allocation"][0])) << bare_out;
  EXPECT_TRUE(noContainersWithin(std::chrono::seconds(10)));
  EXPECT_TRUE(noBundles());
}

TEST_F(Containers, ExitCodesAndOutputFilesFlowBackAsForBareJobs) {
  const std::string script = "#!/bin/sh\necho out-1\necho err-1 >&2\necho out-2\nexit 3\n";
  struct Ran {
    nlohmann::json job;
    std::string out, err;
  };
  auto runOne = [&](const std::string& name, std::vector<std::string> options) {
    options.insert(options.end(), {"-o", cluster_.workDir() + "/" + name + ".out", "-e",
                                   cluster_.workDir() + "/" + name + ".err"});
    auto id = submitScript(name + ".sh", script, options);
    EXPECT_TRUE(id);
    Ran r;
    r.job = id ? finished(*id) : nlohmann::json();
    r.out = readFile(cluster_.workDir() + "/" + name + ".out");
    r.err = readFile(cluster_.workDir() + "/" + name + ".err");
    return r;
  };
  Ran boxed = runOne("boxed", {"--container", bundle_});
  Ran bare = runOne("bare", {});
  EXPECT_EQ(boxed.job["state"], "FAILED") << boxed.job.dump();
  EXPECT_EQ(boxed.job["exit_code"], 3);
  EXPECT_EQ(boxed.job["state"], bare.job["state"]);
  EXPECT_EQ(boxed.job["exit_code"], bare.job["exit_code"]);
  EXPECT_EQ(boxed.out, "out-1\nout-2\n");
  EXPECT_EQ(boxed.err, "err-1\n");
  EXPECT_EQ(boxed.out, bare.out);
  EXPECT_EQ(boxed.err, bare.err);

  // A shell script without #! runs under the container's /bin/sh, as a bare one under the host's.
  auto plain = submitScript("plain.sh", "echo plain $((6*7))\n", {"--container", bundle_});
  ASSERT_TRUE(plain);
  nlohmann::json p = finished(*plain);
  EXPECT_EQ(p["state"], "COMPLETED") << p.dump();
  EXPECT_EQ(readFile(p["stdout"]), "plain 42\n");
  EXPECT_TRUE(noContainersWithin(std::chrono::seconds(10)));
}

TEST_F(Containers, TheMemoryLimitIsEnforcedAsForBareJobs) {
  // dd's 300 MB buffer does not fit in 100 MB.
  const std::string script =
      "#!/bin/sh\ndd if=/dev/zero of=/dev/null bs=300M count=1\necho survived\n";
  auto boxed = submitScript("boxed.sh", script, {"--mem", "100M", "--container", bundle_});
  auto bare = submitScript(
      "bare.sh",
      "#!/bin/sh\n" + busybox_ + " dd if=/dev/zero of=/dev/null bs=300M count=1\necho survived\n",
      {"--mem", "100M"});
  ASSERT_TRUE(boxed && bare);
  nlohmann::json b = finished(*boxed), h = finished(*bare);
  EXPECT_EQ(h["state"], "OUT_OF_MEMORY") << h.dump();
  EXPECT_EQ(b["state"], h["state"]) << b.dump();
  // Room enough: the same container job completes.
  auto roomy = submitScript("roomy.sh", script, {"--mem", "600M", "--container", bundle_});
  ASSERT_TRUE(roomy);
  nlohmann::json r = finished(*roomy);
  EXPECT_EQ(r["state"], "COMPLETED") << r.dump();
  EXPECT_NE(readFile(r["stdout"]).find("survived"), std::string::npos);
  EXPECT_TRUE(noContainersWithin(std::chrono::seconds(10)));
}

TEST_F(Containers, ACancelledContainerJobLeavesNothingBehind) {
  auto id =
      submitScript("long.sh", "#!/bin/sh\nsleep 3017 &\nsleep 3018\n", {"--container", bundle_});
  ASSERT_TRUE(id);
  ASSERT_TRUE(waitUntil(
      [&] { return liveProcesses("sleep 3017") == 1 && liveProcesses("sleep 3018") == 1; },
      std::chrono::seconds(30)));
  EXPECT_EQ(containers().size(), 1u);
  ASSERT_EQ(cluster_.locus({"cancel", std::to_string(*id)}).exit_code, 0);
  nlohmann::json j = finished(*id);
  EXPECT_EQ(j["state"], "CANCELLED") << j.dump();
  // Once the job has ended, nothing of it runs: not the container, not its background process.
  EXPECT_EQ(liveProcesses("sleep 3017"), 0);
  EXPECT_EQ(liveProcesses("sleep 3018"), 0);
  EXPECT_TRUE(containers().empty());
  EXPECT_TRUE(noBundles());
}

// The container's runc runs under the task's supervisor, which outlives the daemon: the
// successor adopts the task, and cancelling it then leaves nothing behind.
TEST_F(Containers, AContainerTaskOutlivesItsDaemonsRestartAndIsCleanedUpAfter) {
  auto id = submitScript("long.sh", "#!/bin/sh\nsleep 3019\n", {"--container", bundle_});
  ASSERT_TRUE(id);
  ASSERT_TRUE(
      waitUntil([&] { return liveProcesses("sleep 3019") == 1; }, std::chrono::seconds(30)));
  cluster_.killNode(0);  // SIGKILL
  EXPECT_EQ(liveProcesses("sleep 3019"), 1);
  ASSERT_TRUE(cluster_.startNode(0));
  ASSERT_TRUE(cluster_.waitNodesUp(1, std::chrono::seconds(20)));
  EXPECT_EQ(cluster_.job(*id)["state"], "RUNNING");
  EXPECT_EQ(liveProcesses("sleep 3019"), 1);
  EXPECT_EQ(containers().size(), 1u);
  ASSERT_EQ(cluster_.locus({"cancel", std::to_string(*id)}).exit_code, 0);
  nlohmann::json j = finished(*id);
  EXPECT_EQ(j["state"], "CANCELLED") << j.dump();
  EXPECT_EQ(liveProcesses("sleep 3019"), 0);
  EXPECT_TRUE(noContainersWithin(std::chrono::seconds(20)));
  // A cancelled job is CANCELLED at once; its node cleans up as the task ends (here an adopted
  // one, whose end the daemon notices by polling).
  EXPECT_TRUE(waitUntil([&] { return noBundles(); }, std::chrono::seconds(20)));
}

TEST_F(Containers, TasksRunAsTheSubmittingUser) {
  if (access("/usr/sbin/useradd", X_OK) != 0) GTEST_SKIP() << "no useradd";
  const char* name = "locus-t-carol";
  bool created = false;
  if (runCommand({"/usr/bin/id", "-u", name}).exit_code != 0) {
    auto r = runCommand({"/usr/sbin/useradd", "--system", "--no-create-home", "--shell",
                         "/usr/sbin/nologin", name});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    created = true;
  }
  // Removed however the test ends.
  struct UserRemover {
    const char* name;
    bool created;
    ~UserRemover() {
      if (created) runCommand({"/usr/sbin/userdel", name});
    }
  } remover{name, created};
  const std::string uid = std::to_string(std::stoi(runCommand({"/usr/bin/id", "-u", name}).out));
  const std::string cli = cluster_.dir() + "/locus";
  fs::copy_file(binDir() + "/locus", cli, fs::copy_options::overwrite_existing);
  const std::string script_path = cluster_.workDir() + "/whoami.sh";
  writeFile(script_path,
            "#!/bin/sh\necho uid=$(id -u) gid=$(id -g)\ntouch made-here\n"
            "if cat /proc/1/environ >/dev/null 2>&1; then echo read-pid1; fi\n",
            0755);
  auto submitted = runCommand(
      {"/usr/bin/setpriv", "--reuid=" + uid, "--regid=65534", "--clear-groups", cli, "--controller",
       cluster_.address(), "submit", "--parsable", "--container", bundle_, script_path},
      {{"LOCUS_MUNGE_SOCKET", cluster_.mungeSocket()}}, cluster_.workDir());
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  nlohmann::json j = finished(std::stoull(submitted.out));
  EXPECT_EQ(j["state"], "COMPLETED") << j.dump();
  const std::string out = readFile(j["stdout"]);
  EXPECT_NE(out.find("uid=" + uid + " gid=65534"), std::string::npos) << out;
  EXPECT_EQ(out.find("read-pid1"), std::string::npos) << out;  // no root powers over the host
  struct stat st {};
  ASSERT_EQ(stat((cluster_.workDir() + "/made-here").c_str(), &st), 0);
  EXPECT_EQ(std::to_string(st.st_uid), uid);
  ASSERT_EQ(stat(j["stdout"].get<std::string>().c_str(), &st), 0);
  EXPECT_EQ(std::to_string(st.st_uid), uid);  // the output file is the user's, not root's
}

TEST_F(Containers, StepsRunInTheContainerAndStreamTheirOutput) {
  auto r = run({"-n", "2", "--container", bundle_, "sh", "-c",
                "if test -e /etc/debian_version; then echo task-$LOCUS_PROCID host; "
                "else echo task-$LOCUS_PROCID own; fi; echo err-$LOCUS_PROCID >&2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("task-0 own"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("task-1 own"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("err-1"), std::string::npos) << r.err;
  auto failed = run({"--container", bundle_, "sh", "-c", "exit 5"});
  EXPECT_EQ(failed.exit_code, 5) << failed.err;
  // A relative path, from where `locus run` was started (the work directory).
  fs::create_symlink(bundle_, cluster_.workDir() + "/here");
  auto relative = run({"--container", "here", "cat", "/proc/self/status"});
  EXPECT_EQ(relative.exit_code, 0) << relative.err;
  EXPECT_NE(relative.out.find("Cpus_allowed_list"), std::string::npos);
  EXPECT_TRUE(noContainersWithin(std::chrono::seconds(10)));

  // Inside a batch job, a step in a container beside the bare script.
  auto id = cluster_.submit({"--wrap", binDir() + "/locus run --container " + bundle_ +
                                           " sh -c 'test -e /etc/debian_version || echo step-own'; "
                                           "test -e /etc/debian_version && echo script-host"});
  ASSERT_TRUE(id);
  nlohmann::json j = finished(*id);
  EXPECT_EQ(j["state"], "COMPLETED") << j.dump();
  const std::string out = readFile(j["stdout"]);
  EXPECT_NE(out.find("step-own"), std::string::npos) << out;
  EXPECT_NE(out.find("script-host"), std::string::npos) << out;
  EXPECT_TRUE(noContainersWithin(std::chrono::seconds(10)));
}

TEST_F(Containers, AnImageLayoutIsUnpackedOnceAndRun) {
  const std::string umoci = which("umoci");
  if (umoci.empty()) GTEST_SKIP() << "needs Debian's umoci";
  const std::string layout = cluster_.dir() + "/image";
  for (std::vector<std::string> cmd :
       {std::vector<std::string>{umoci, "init", "--layout", layout},
        {umoci, "new", "--image", layout + ":v1"},
        {umoci, "insert", "--image", layout + ":v1", bundle_ + "/rootfs", "/"},
        {umoci, "config", "--image", layout + ":v1", "--config.env", "FROM_IMAGE=yes"}}) {
    auto r = runCommand(cmd);
    ASSERT_EQ(r.exit_code, 0) << cmd[1] << ": " << r.err;
  }
  const std::string script =
      "#!/bin/sh\ntest -e /etc/debian_version || echo own-root\necho image=$FROM_IMAGE\n";
  auto a = submitScript("a.sh", script, {"--container", layout + ":v1"});
  auto b = submitScript("b.sh", script, {"--container", layout + ":v1"});
  ASSERT_TRUE(a && b);
  for (uint64_t id : {*a, *b}) {
    nlohmann::json j = finished(id);
    EXPECT_EQ(j["state"], "COMPLETED") << j.dump();
    const std::string out = readFile(j["stdout"]);
    EXPECT_NE(out.find("own-root"), std::string::npos) << out;
    EXPECT_NE(out.find("image=yes"), std::string::npos) << out;  // the image's environment
  }
  // One unpacked copy, whatever the two launches raced.
  int copies = 0;
  for (const auto& e : fs::directory_iterator(cluster_.dir() + "/nodes/n1/images"))
    if (fs::exists(e.path() / "config.json")) ++copies;
  EXPECT_EQ(copies, 1);
  auto missing_tag = submitScript("c.sh", script, {"--container", layout + ":v2"});
  ASSERT_TRUE(missing_tag);
  nlohmann::json j = finished(*missing_tag);
  EXPECT_EQ(j["state"], "FAILED");
  EXPECT_NE(j["reason"].get<std::string>().find("has no tag 'v2'"), std::string::npos) << j.dump();
}

TEST_F(Containers, LaunchErrorsSayWhatIsWrong) {
  struct Case {
    const char* name;
    std::string container;
    std::string reason;
  };
  fs::create_directories(cluster_.dir() + "/empty");
  fs::create_directories(cluster_.dir() + "/noroot");
  writeFile(cluster_.dir() + "/noroot/config.json", R"({"root": {"path": "rootfs"}})");
  const Case cases[] = {
      {"missing bundle", cluster_.dir() + "/nowhere",
       "container bundle " + cluster_.dir() + "/nowhere does not exist"},
      {"no config.json", cluster_.dir() + "/empty", "has no config.json"},
      {"no root filesystem", cluster_.dir() + "/noroot",
       "container root filesystem " + cluster_.dir() + "/noroot/rootfs does not exist"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto id = cluster_.submit({"--container", c.container, "--wrap", "true"});
    ASSERT_TRUE(id);
    nlohmann::json j = finished(*id);
    EXPECT_EQ(j["state"], "FAILED");
    EXPECT_NE(j["reason"].get<std::string>().find("LaunchFailed: "), std::string::npos) << j.dump();
    EXPECT_NE(j["reason"].get<std::string>().find(c.reason), std::string::npos) << j.dump();
  }
  auto step = run({"--container", cluster_.dir() + "/nowhere", "true"});
  EXPECT_NE(step.exit_code, 0);
  EXPECT_NE(step.err.find("does not exist"), std::string::npos) << step.err;
  EXPECT_TRUE(noBundles());
}

TEST_F(Containers, ServiceReplicasRunInTheContainer) {
  auto created = cluster_.locus({"service", "create", "web", "--replicas", "2", "--container",
                                 bundle_, "--health-cmd", "true", "--",
                                 "test -e /etc/debian_version || echo own; sleep 3020"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(
      waitUntil([&] { return containers().size() == 2 && liveProcesses("sleep 3020") == 2; },
                std::chrono::seconds(30)));
  auto shown = cluster_.locus({"service", "show", "web"});
  EXPECT_NE(shown.out.find("Container=" + bundle_), std::string::npos) << shown.out;
  EXPECT_TRUE(waitUntil(
      [&] {
        return cluster_.locus({"service", "show", "web"}).out.find("Healthy=2") !=
               std::string::npos;
      },
      std::chrono::seconds(30)));
  ASSERT_EQ(cluster_.locus({"service", "delete", "web"}).exit_code, 0);
  EXPECT_TRUE(noContainersWithin(std::chrono::seconds(30)));
  EXPECT_TRUE(
      waitUntil([&] { return liveProcesses("sleep 3020") == 0; }, std::chrono::seconds(10)));
}

// A framework's task (FrameworkLaunch.container) runs in the container too, beside a bare task
// of the same lease; TaskStatus reports both ends as for bare tasks.
TEST_F(Containers, FrameworkTasksRunInTheContainer) {
  ::setenv("LOCUS_MUNGE_SOCKET", cluster_.mungeSocket().c_str(), 1);
  cli::FrameworkSession fw(cluster_.address());
  proto::FrameworkRegister reg;
  reg.set_name("boxed-framework");
  ASSERT_TRUE(fw.open(reg).ok());
  proto::LeaseRequest ask;
  ask.set_count(1);
  ask.set_cpus(2);
  ASSERT_TRUE(fw.request(ask));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::optional<proto::Lease> lease;
  while (!lease)
    if (auto e = fw.next(deadline); !e) break;
    else if (e->has_lease()) lease = e->lease();
  ASSERT_TRUE(lease) << "no lease";
  const std::string work = cluster_.workDir();
  for (const bool boxed : {true, false}) {
    proto::FrameworkLaunch l;
    l.set_lease_id(lease->id());
    l.set_task_id(boxed ? "boxed" : "bare");
    for (const char* a : {"/bin/sh", "-c", "if test -e /etc/debian_version; then echo root=host; else echo root=own; fi; exit 4"})
      l.add_argv(a);
    l.set_work_dir(work);
    l.set_cpus(1);
    l.set_stdout_path(work + "/" + l.task_id() + ".out");
    if (boxed) l.set_container(bundle_);
    ASSERT_TRUE(fw.launch(l));
  }
  std::map<std::string, proto::TaskStatus> ended;
  while (ended.size() < 2)
    if (auto e = fw.next(deadline); !e) break;
    else if (e->has_task() && e->task().state() != "RUNNING") ended[e->task().task_id()] = e->task();
    else if (e->has_error()) ADD_FAILURE() << e->error();
  ASSERT_EQ(ended.size(), 2u);
  for (const auto& [id, status] : ended) {
    EXPECT_EQ(status.state(), "FAILED") << id;
    EXPECT_EQ(status.exit_code(), 4) << id;
  }
  EXPECT_EQ(readFile(work + "/boxed.out"), "root=own\n");
  EXPECT_EQ(readFile(work + "/bare.out"), "root=host\n");
  EXPECT_TRUE(noContainersWithin(std::chrono::seconds(10)));
}

}  // namespace
}  // namespace locus::testing
