// deriveRuncConfig: what Locus keeps of a user's config.json, what it replaces and what it drops.
#include "nodedaemon/oci_container.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace locus::nodedaemon {
namespace {

using nlohmann::json;

// What `runc spec` writes (abridged), plus what a hostile or careless bundle might add.
json userConfig() {
  return json::parse(R"({
    "ociVersion": "1.0.2-dev",
    "process": {"terminal": true, "user": {"uid": 0, "gid": 0}, "args": ["sh"],
                "env": ["PATH=/opt/app/bin:/bin", "TERM=xterm"], "cwd": "/",
                "capabilities": {"bounding": ["CAP_SYS_ADMIN"], "effective": ["CAP_SYS_ADMIN"],
                                 "permitted": ["CAP_SYS_ADMIN"]},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
                "noNewPrivileges": false},
    "root": {"path": "rootfs", "readonly": true},
    "hostname": "runc",
    "hooks": {"prestart": [{"path": "/bin/evil"}]},
    "mounts": [
      {"destination": "/proc", "type": "proc", "source": "proc"},
      {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
      {"destination": "/host", "type": "bind", "source": "/", "options": ["rbind", "rw"]},
      {"destination": "/sneaky", "type": "none", "source": "/etc", "options": ["bind"]},
      {"destination": "/ov", "type": "overlay", "source": "overlay", "options": ["lowerdir=/etc"]}
    ],
    "linux": {
      "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                     {"type": "mount"}, {"type": "user"}, {"type": "cgroup", "path": "/proc/1/ns/cgroup"}],
      "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
      "devices": [{"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}],
      "resources": {"devices": [{"allow": true, "access": "rwm"}]},
      "sysctl": {"net.ipv4.ip_forward": "1"},
      "maskedPaths": ["/proc/kcore"],
      "readonlyPaths": ["/proc/sys"],
      "cgroupsPath": "/somewhere/else"
    }
  })");
}

ContainerProcess task() {
  ContainerProcess p;
  p.args = {"/.locus/batch_script", "a1"};
  p.environment = {{"PATH", "/usr/bin:/bin"}, {"LOCUS_JOB_ID", "7"}};
  p.cwd = "/home/alice/run";
  p.uid = 1000;
  p.gid = 100;
  p.additional_gids = {27};
  p.file_binds = {{"/var/spool/locus/jobs/7.0.sh", "/.locus/batch_script"}};
  p.cpus = "2-3";
  p.mems = "0";
  p.mem_mb = 100;
  p.cgroups_path = "n1-abc-7.0";
  return p;
}

bool hasMountAt(const json& config, const std::string& dest) {
  return std::any_of(config["mounts"].begin(), config["mounts"].end(),
                     [&](const json& m) { return m["destination"] == dest; });
}

std::vector<std::string> namespaceTypes(const json& config) {
  std::vector<std::string> out;
  for (const auto& n : config["linux"]["namespaces"]) out.push_back(n["type"]);
  return out;
}

TEST(DeriveRuncConfig, TheTaskReplacesTheImagesProcess) {
  auto c = deriveRuncConfig(userConfig(), "/b", task());
  ASSERT_TRUE(c.ok()) << c.error().message;
  const json& p = (*c)["process"];
  EXPECT_EQ(p["terminal"], false);
  EXPECT_EQ(p["args"], json({"/.locus/batch_script", "a1"}));
  EXPECT_EQ(p["cwd"], "/home/alice/run");
  EXPECT_EQ(p["user"]["uid"], 1000);
  EXPECT_EQ(p["user"]["gid"], 100);
  EXPECT_EQ(p["user"]["additionalGids"], json({27}));
  // The task's environment and the image's, the image's winning (its programs live where its
  // PATH says).
  EXPECT_EQ(p["env"], json({"LOCUS_JOB_ID=7", "PATH=/opt/app/bin:/bin", "TERM=xterm"}));
  EXPECT_EQ(p["noNewPrivileges"], true);
  EXPECT_FALSE(p.contains("rlimits"));  // the daemon's, as for a bare task
}

TEST(DeriveRuncConfig, ANonRootUserGetsNoCapabilitiesRootGetsRuncsDefaults) {
  auto user = deriveRuncConfig(userConfig(), "/b", task());
  ASSERT_TRUE(user.ok());
  EXPECT_EQ((*user)["process"]["capabilities"]["bounding"], json::array());
  EXPECT_EQ((*user)["process"]["capabilities"]["effective"], json::array());
  ContainerProcess root_task = task();
  root_task.uid = 0;
  auto root = deriveRuncConfig(userConfig(), "/b", root_task);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ((*root)["process"]["capabilities"]["bounding"],
            json({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}));
}

TEST(DeriveRuncConfig, RootIsTheUsersInPlaceRelativeToTheBundle) {
  auto c = deriveRuncConfig(userConfig(), "/data/bundle", task());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["root"]["path"], "/data/bundle/rootfs");
  EXPECT_EQ((*c)["root"]["readonly"], true);
  json absolute = userConfig();
  absolute["root"] = {{"path", "/images/x/../y/rootfs"}};
  auto a = deriveRuncConfig(absolute, "/data/bundle", task());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["root"]["path"], "/images/y/rootfs");
  EXPECT_EQ((*a)["root"]["readonly"], false);
}

TEST(DeriveRuncConfig, OnlyTheMountNamespaceAndAFreshCgroupNamespaceStayPrivate) {
  auto c = deriveRuncConfig(userConfig(), "/b", task());
  ASSERT_TRUE(c.ok());
  // Host network (MPI, 127.0.0.1 health checks), PIDs (signals), IPC and hostname; no user
  // namespace (the task's uid is the host's), and never a path to join a host namespace.
  EXPECT_EQ(namespaceTypes(*c), std::vector<std::string>({"mount", "cgroup"}));
  for (const auto& n : (*c)["linux"]["namespaces"]) EXPECT_FALSE(n.contains("path"));
  EXPECT_FALSE((*c)["linux"].contains("uidMappings"));
  EXPECT_FALSE(c->contains("hostname"));  // needs a UTS namespace
}

TEST(DeriveRuncConfig, HostBindMountsHooksDevicesAndSysctlsAreDropped) {
  auto c = deriveRuncConfig(userConfig(), "/b", task());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(hasMountAt(*c, "/proc"));
  EXPECT_TRUE(hasMountAt(*c, "/dev"));
  EXPECT_FALSE(hasMountAt(*c, "/host"));
  EXPECT_FALSE(hasMountAt(*c, "/sneaky"));
  EXPECT_FALSE(hasMountAt(*c, "/ov"));
  EXPECT_FALSE(c->contains("hooks"));
  EXPECT_FALSE((*c)["linux"].contains("devices"));
  EXPECT_FALSE((*c)["linux"].contains("sysctl"));
  EXPECT_EQ((*c)["linux"]["maskedPaths"], json({"/proc/kcore"}));
  EXPECT_EQ((*c)["linux"]["readonlyPaths"], json({"/proc/sys"}));
  // Every device denied but what Locus passes (runc adds its defaults: null, zero, tty...).
  EXPECT_EQ((*c)["linux"]["resources"]["devices"],
            json::parse(R"([{"allow": false, "access": "rwm"}])"));
}

TEST(DeriveRuncConfig, WorkDirectoryAndScriptAreBoundIn) {
  auto c = deriveRuncConfig(userConfig(), "/b", task());
  ASSERT_TRUE(c.ok());
  json work, script;
  for (const auto& m : (*c)["mounts"]) {
    if (m["destination"] == "/home/alice/run") work = m;
    if (m["destination"] == "/.locus/batch_script") script = m;
  }
  EXPECT_EQ(work["source"], "/home/alice/run");
  EXPECT_EQ(work["options"], json({"rbind", "nosuid", "nodev"}));
  EXPECT_EQ(script["source"], "/var/spool/locus/jobs/7.0.sh");
  EXPECT_EQ(script["options"], json({"bind", "ro", "nosuid", "nodev"}));
  // "/" is never bound over the container's root.
  ContainerProcess at_root = task();
  at_root.cwd = "/";
  auto r = deriveRuncConfig(userConfig(), "/b", at_root);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(hasMountAt(*r, "/"));
  EXPECT_EQ((*r)["process"]["cwd"], "/");
}

TEST(DeriveRuncConfig, TheAllocationsCpusetMemoryGpusAndCgroup) {
  ContainerProcess p = task();
  p.devices = {{"/dev/nvidia0", 'c', 195, 0, 0666}, {"/dev/nvidiactl", 'c', 195, 255, 0666}};
  auto c = deriveRuncConfig(userConfig(), "/b", p);
  ASSERT_TRUE(c.ok());
  const json& linux = (*c)["linux"];
  EXPECT_EQ(linux["cgroupsPath"], "n1-abc-7.0");  // ours, not the bundle's
  EXPECT_EQ(linux["resources"]["cpu"]["cpus"], "2-3");
  EXPECT_EQ(linux["resources"]["cpu"]["mems"], "0");
  EXPECT_EQ(linux["resources"]["memory"]["limit"], 100LL << 20);
  ASSERT_EQ(linux["devices"].size(), 2u);
  EXPECT_EQ(linux["devices"][1]["path"], "/dev/nvidiactl");
  EXPECT_EQ(linux["devices"][1]["minor"], 255);
  // deny-all, then one allow rule per device
  ASSERT_EQ(linux["resources"]["devices"].size(), 3u);
  EXPECT_EQ(linux["resources"]["devices"][1]["major"], 195);
  EXPECT_EQ(linux["resources"]["devices"][1]["allow"], true);

  ContainerProcess unlimited = task();
  unlimited.mem_mb = 0;
  unlimited.cpus.clear();
  unlimited.mems.clear();
  auto u = deriveRuncConfig(userConfig(), "/b", unlimited);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE((*u)["linux"]["resources"].contains("memory"));
  EXPECT_FALSE((*u)["linux"]["resources"].contains("cpu"));
}

TEST(DeriveRuncConfig, MalformedConfigsAreErrors) {
  struct Case {
    const char* name;
    const char* config;
  };
  const Case cases[] = {
      {"not an object", R"([1, 2])"},
      {"no root", R"({"process": {}})"},
      {"root without path", R"({"root": {}})"},
      {"empty root path", R"({"root": {"path": ""}})"},
      {"mounts not a list", R"({"root": {"path": "r"}, "mounts": 3})"},
      {"env not strings", R"({"root": {"path": "r"}, "process": {"env": [1]}})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = deriveRuncConfig(json::parse(c.config), "/b", task());
    EXPECT_FALSE(r.ok());
  }
}

TEST(DeriveRuncConfig, AMinimalConfigIsEnough) {
  auto c = deriveRuncConfig(json::parse(R"({"root": {"path": "rootfs"}})"), "/b", task());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(namespaceTypes(*c), std::vector<std::string>({"mount"}));
  EXPECT_EQ((*c)["process"]["env"], json({"LOCUS_JOB_ID=7", "PATH=/usr/bin:/bin"}));
}

}  // namespace
}  // namespace locus::nodedaemon
