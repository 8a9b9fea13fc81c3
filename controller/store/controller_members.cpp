#include "controller/store/controller_members.hpp"

#include "controller/store/etcd_client.hpp"

namespace locus::controller {

ControllerMembers::ControllerMembers(std::shared_ptr<EtcdClient> client, std::string prefix,
                                     std::string self)
    : client_(std::move(client)), dir_(std::move(prefix) + "controllers/"), self_(std::move(self)) {}

Status ControllerMembers::join() {
  auto put = client_->put(dir_ + self_, self_);
  if (!put.ok()) return put.error();
  return {};
}

void ControllerMembers::leave() { (void)client_->del(dir_ + self_); }

Result<std::string> ControllerMembers::addressList() {
  auto members = client_->getPrefix(dir_);
  if (!members.ok()) return members.error();
  std::string list = self_;
  for (const KeyValue& kv : *members) {
    const std::string address = kv.key.substr(dir_.size());
    if (!address.empty() && address != self_) list += "," + address;
  }
  return list;
}

}  // namespace locus::controller
