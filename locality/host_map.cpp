#include "locality/host_map.hpp"

#include <algorithm>
#include <utility>

namespace locus::locality {
namespace {

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// "n1.cluster.example.org" -> "n1". An IP address has no short name: "10.0.0.5" -> "10" would
// match a node named "10".
std::string shortName(const std::string& host) {
  if (host.find_first_not_of("0123456789.") == std::string::npos) return host;
  if (host.find(':') != std::string::npos) return host;  // IPv6
  return host.substr(0, host.find('.'));
}

bool looksLikeIp(const std::string& s) {
  if (s.empty()) return false;
  if (s.find(':') != std::string::npos) return true;  // IPv6 (ports are stripped first)
  return s.find_first_not_of("0123456789.") == std::string::npos;
}

// "10.0.0.5:9866" -> "10.0.0.5", "[fe80::1]:9866" -> "fe80::1", "10.0.0.5" -> "10.0.0.5",
// "fe80::1" (bare IPv6, several colons) -> itself.
std::string ipOf(const std::string& address) {
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    return close == std::string::npos ? address : address.substr(1, close - 1);
  }
  auto colon = address.find(':');
  if (colon != std::string::npos && address.find(':', colon + 1) == std::string::npos)
    return address.substr(0, colon);
  return address;
}

}  // namespace

HostMapper::HostMapper(std::map<std::string, std::string> configured,
                       std::vector<NodeIdentity> nodes) {
  for (auto& [host, node] : configured) configured_[lower(host)] = std::move(node);
  for (const auto& n : nodes) {
    by_name_.emplace(lower(n.name), n.name);
    // A node listed twice is one node, not an ambiguity.
    auto addOnce = [&n](std::vector<std::string>& names) {
      if (std::find(names.begin(), names.end(), n.name) == names.end()) names.push_back(n.name);
    };
    addOnce(by_short_[lower(shortName(n.name))]);
    if (!n.address.empty()) addOnce(by_address_[lower(ipOf(n.address))]);
  }
}

std::optional<std::string> HostMapper::map(const std::string& host,
                                           const std::string& name_ipport) const {
  const std::string h = lower(host);
  const std::string short_h = shortName(h);

  // 1. The configuration first: it exists for the cases the guesses below get wrong (a store
  // that names nodes by their storage-network alias, "n1-ib"), so it must win over them. The
  // short form lets one entry cover "n1-ib" and "n1-ib.ib.example.org".
  if (auto it = configured_.find(h); it != configured_.end()) return it->second;
  if (auto it = configured_.find(short_h); it != configured_.end()) return it->second;

  // 2. Same name: the common case of a store and Locus both using the hostname.
  if (auto it = by_name_.find(h); it != by_name_.end()) return it->second;

  // 3. HDFS reports fully qualified names ("n1.cluster.example.org") where nodes registered the
  // short hostname ("n1"), or the reverse. A node named exactly like the short name wins;
  // otherwise the short names must match one node only: "n1.a" and "n1.b" are two machines.
  if (auto it = by_name_.find(short_h); it != by_name_.end()) return it->second;
  if (auto it = by_short_.find(short_h); it != by_short_.end() && it->second.size() == 1)
    return it->second.front();

  // 4. Names can differ entirely (DNS aliases, a store configured with IPs) while the address
  // is the same machine. Only a unique match counts: nodes behind one NAT address, or
  // containers sharing a host address, would otherwise all claim the replica.
  for (const std::string& ip : {name_ipport.empty() ? std::string() : lower(ipOf(name_ipport)),
                                looksLikeIp(h) ? ipOf(h) : std::string()}) {
    if (ip.empty()) continue;
    if (auto it = by_address_.find(ip); it != by_address_.end() && it->second.size() == 1)
      return it->second.front();
  }
  return std::nullopt;
}

}  // namespace locus::locality
