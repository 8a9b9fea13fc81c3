#pragma once
// Store host names -> Locus node names. A block store names its replica hosts its own way
// (HDFS: the DataNode's hostname, often fully qualified, "n1.cluster.example.org"; a catalog:
// whatever the administrator typed), Locus names nodes as they registered ("n1"). When the two
// disagree, every replica looks remote and locality silently stops working, so the mapping is
// explicit, ordered and testable.
//
// Rules, first match wins (host names compare case-insensitively; DNS names are):
//   1. the configured map: the host exactly, then its short name (before the first '.');
//   2. a node named exactly like the host;
//   3. the host's short name equal to a node's name, or to exactly one node's short name;
//   4. the IP of `name_ipport` ("10.0.0.5:9866", HDFS "names"), or the host itself when it is
//      an IP address, equal to exactly one node's address.
// Anything else is not mapped (std::nullopt): the replica is on a host Locus does not run.
//
// Thread-safety: immutable after construction; map() may be called from any thread.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace locus::locality {

struct NodeIdentity {
  std::string name;     // the Locus node name ("n1")
  std::string address;  // the node's IP address, "10.0.0.5" (a ":port" suffix is ignored)
};

class HostMapper {
 public:
  // `configured`: store host -> node name, from the configuration (keys compare
  // case-insensitively; values are returned as written). `nodes`: the nodes Locus knows.
  HostMapper(std::map<std::string, std::string> configured, std::vector<NodeIdentity> nodes);

  // The node holding a replica on `host`; `name_ipport` is the replica's "ip:port" when the
  // store gives one ("" when not).
  std::optional<std::string> map(const std::string& host,
                                 const std::string& name_ipport = "") const;

 private:
  std::map<std::string, std::string> configured_;               // lowercased key -> node name
  std::map<std::string, std::string> by_name_;                  // lowercased node name -> node name
  std::map<std::string, std::vector<std::string>> by_short_;    // lowercased short -> node names
  std::map<std::string, std::vector<std::string>> by_address_;  // IP -> node names
};

}  // namespace locus::locality
