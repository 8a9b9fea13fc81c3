#include "locality/host_map.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace locus::locality {
namespace {

TEST(HostMapper, RulesInOrder) {
  const HostMapper mapper(
      {{"n1-ib", "n1"}, {"STORE7.example.org", "n7"}, {"n2", "n9"}},
      {{"n1", "10.0.0.1"},
       {"n2", "10.0.0.2"},
       {"n3.cluster.org", "10.0.0.3:7070"},
       {"gpu1", "10.0.1.1"},
       {"a.x", "10.0.2.1"},
       {"a.y", "10.0.2.1"},  // same short name and address as a.x: ambiguous both ways
       {"fe", "fe80::1"},
       {"10", ""}});  // a node whose name is an IP's first octet
  struct Case {
    const char* name;
    std::string host, name_ipport;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"configured exact", "n1-ib", "", "n1"},
      {"configured, case-insensitive", "store7.EXAMPLE.org", "", "n7"},
      {"configured by short name", "n1-ib.ib.example.org", "", "n1"},
      {"configured beats a node of the same name", "n2", "", "n9"},
      {"exact node name", "n1", "", "n1"},
      {"exact node name, case-insensitive", "N1", "", "n1"},
      {"exact fully qualified node name", "n3.cluster.org", "", "n3.cluster.org"},
      {"short name equals a node name", "gpu1.cluster.org", "", "gpu1"},
      {"short name equals a node's short name", "n3.other.org", "", "n3.cluster.org"},
      {"short name equals a node's short name, bare", "n3", "", "n3.cluster.org"},
      {"ambiguous short name, no address", "a", "", std::nullopt},
      {"ambiguous short name, ambiguous address", "a.z", "10.0.2.1:9866", std::nullopt},
      {"unknown name, address of one node", "dn-17", "10.0.1.1:9866", "gpu1"},
      {"node address with a port", "dn-3", "10.0.0.3:9866", "n3.cluster.org"},
      {"unknown name, unknown address", "dn-17", "10.9.9.9:9866", std::nullopt},
      {"host itself is an IP", "10.0.0.2", "", "n2"},
      {"bracketed IPv6", "dn-fe", "[fe80::1]:9866", "fe"},
      {"an IP has no short name", "10.0.0.9", "", std::nullopt},
      {"unknown", "elsewhere.org", "", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(mapper.map(c.host, c.name_ipport), c.want);
  }
}

TEST(HostMapper, NodeListedTwiceIsNotAmbiguous) {
  const HostMapper mapper({}, {{"n1.a", "10.0.0.1"}, {"n1.a", "10.0.0.1"}});
  EXPECT_EQ(mapper.map("n1"), "n1.a");
  EXPECT_EQ(mapper.map("x", "10.0.0.1:1"), "n1.a");
}

}  // namespace
}  // namespace locus::locality
