#pragma once
// Controllers sharing an etcd store are named together, "HOST:PORT,HOST:PORT" (--controller,
// $LOCUS_CONTROLLER, locus-node --controller, locus-controller --etcd): the list, in order,
// empty entries dropped.
#include <string>
#include <vector>

namespace locus {

inline std::vector<std::string> splitAddressList(const std::string& list) {
  std::vector<std::string> out;
  for (size_t at = 0; at <= list.size();) {
    size_t comma = list.find(',', at);
    if (comma == std::string::npos) comma = list.size();
    if (comma > at) out.push_back(list.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

}  // namespace locus
