// `locus data locate`: an input as the scheduler will see it, so an admin can tell at a glance
// whether its hosts map to Locus nodes (when names differ, every replica looks remote and
// locality silently stops working).
#include <set>

#include "controller/controller.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {

Result<proto::LocateDataReply> Controller::locateData(const std::string& uri) {
  auto resolved = data_->resolve(uri);  // without the lock: the store may take its timeout
  if (!resolved.ok()) return resolved.error();
  std::lock_guard lock(mu_);
  const locality::HostMapper mapper = hostMapper();
  proto::LocateDataReply reply;
  reply.set_source(resolved->source);
  std::set<std::string> unmapped;
  for (const locality::InputFile& f : resolved->files) {
    proto::DataFile* file = reply.add_files();
    file->set_path(f.path);
    file->set_size(f.size);
    for (const locality::BlockLocation& b : f.blocks) {
      proto::DataBlock* block = file->add_blocks();
      block->set_offset(b.offset);
      block->set_length(b.length);
      for (size_t i = 0; i < b.hosts.size(); ++i) {
        block->add_hosts(b.hosts[i]);
        auto node = mapper.map(b.hosts[i], i < b.names.size() ? b.names[i] : std::string());
        if (!node) unmapped.insert(b.hosts[i]);
        block->add_nodes(node.value_or(""));
        std::string rack;
        if (node) {
          auto it = switch_of_node_.find(*node);
          if (it != switch_of_node_.end()) rack = switches_.switches[it->second].name;
        }
        block->add_racks(rack);
      }
      if (b.corrupt) reply.add_warnings(f.path + " @" + std::to_string(b.offset) + ": every replica is corrupt");
    }
  }
  for (const std::string& host : unmapped)
    reply.add_warnings("host " + host + " maps to no Locus node (no node of that name, short name or address; "
                       "add it to [locality.hdfs] hosts)");
  return reply;
}

}  // namespace locus::controller
