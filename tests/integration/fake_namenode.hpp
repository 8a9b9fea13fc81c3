#pragma once
// A stand-in WebHDFS NameNode for integration tests (locality_test, mapreduce_example_test).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/httplib_for_tests.hpp"  // before any other use of httplib

namespace locus::testing {

struct HdfsFile {
  std::string path;  // the HDFS path, which is also the local path (emulated nodes share it)
  uint64_t size = 0;
  std::vector<std::vector<std::string>> replicas;  // per block: its DataNode hosts
};

// A stand-in NameNode (the real one cannot run here): it serves Hadoop's documented WebHDFS
// JSON (GETFILESTATUS, LISTSTATUS, GETFILEBLOCKLOCATIONS) for the directories it is given, each
// file's blocks `block_size` long with the replicas the test chose, and a RemoteException 404
// for anything else.
class FakeNameNode {
 public:
  FakeNameNode(std::map<std::string, std::vector<HdfsFile>> dirs, uint64_t block_size)
      : dirs_(std::move(dirs)), block_size_(block_size) {
    server_.Get(R"(/webhdfs/v1(.*))", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      const std::string path = req.matches[1];
      const std::string op = req.get_param_value("op");
      using nlohmann::json;
      auto status = [this](const std::string& suffix, const std::string& type, uint64_t length) {
        return json{{"pathSuffix", suffix},    {"type", type},     {"length", length},
                    {"blockSize", block_size_}, {"replication", 3}, {"permission", "644"},
                    {"owner", "hdfs"},         {"group", "hdfs"},  {"accessTime", 0},
                    {"modificationTime", 0},   {"fileId", 1},      {"childrenNum", 0}};
      };
      if (auto d = dirs_.find(path); d != dirs_.end() && op == "GETFILESTATUS") {
        res.set_content(json{{"FileStatus", status("", "DIRECTORY", 0)}}.dump(),
                        "application/json");
        return;
      } else if (d != dirs_.end() && op == "LISTSTATUS") {
        json list = json::array();
        for (const HdfsFile& f : d->second)
          list.push_back(status(std::filesystem::path(f.path).filename().string(), "FILE", f.size));
        res.set_content(json{{"FileStatuses", {{"FileStatus", list}}}}.dump(), "application/json");
        return;
      }
      for (const auto& [dir, files] : dirs_)
        for (const HdfsFile& f : files) {
          if (f.path != path) continue;
          if (op == "GETFILESTATUS") {
            res.set_content(json{{"FileStatus", status("", "FILE", f.size)}}.dump(),
                            "application/json");
            return;
          }
          if (op == "GETFILEBLOCKLOCATIONS") {
            json blocks = json::array();
            for (size_t b = 0; b < f.replicas.size(); ++b) {
              const uint64_t offset = b * block_size_;
              blocks.push_back({{"cachedHosts", json::array()},
                                {"corrupt", false},
                                {"hosts", f.replicas[b]},
                                {"length", std::min(block_size_, f.size - offset)},
                                {"names", json::array()},
                                {"offset", offset},
                                {"storageTypes", {"DISK", "DISK", "DISK"}},
                                {"topologyPaths", json::array()}});
            }
            res.set_content(json{{"BlockLocations", {{"BlockLocation", blocks}}}}.dump(),
                            "application/json");
            return;
          }
        }
      res.status = 404;
      res.set_content(json{{"RemoteException",
                            {{"exception", "FileNotFoundException"},
                             {"javaClassName", "java.io.FileNotFoundException"},
                             {"message", "File does not exist: " + path}}}}
                          .dump(),
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeNameNode() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_; }

 private:
  std::map<std::string, std::vector<HdfsFile>> dirs_;  // HDFS directory -> its files
  uint64_t block_size_ = 0;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_{0};
};

}  // namespace locus::testing
