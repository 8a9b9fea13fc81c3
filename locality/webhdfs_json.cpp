#include "locality/webhdfs_json.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

namespace locus::locality::webhdfs {
namespace {

using nlohmann::json;

// A RemoteException message can carry a Java stack trace; errors stay one readable line.
constexpr size_t kMaxRemoteMessage = 300;
// How much of an answer that is not JSON an error quotes.
constexpr size_t kQuotedBody = 80;

std::string oneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > kMaxRemoteMessage) s = s.substr(0, kMaxRemoteMessage) + "...";
  return s;
}

// Without exceptions: a body that is not JSON is the NameNode's (or a proxy's) fault, not ours.
Result<json> parseDocument(std::string_view body) {
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return invalidArgument("not JSON: '" + oneLine(std::string(body.substr(0, kQuotedBody))) + "'");
  return doc;
}

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string memberString(const json& object, const char* key) {
  const json* v = member(object, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// Non-negative integer member; WebHDFS sends sizes and offsets as JSON integers.
Result<uint64_t> uintMember(const json& object, const char* key, const std::string& where) {
  const json* v = member(object, key);
  if (!v) return invalidArgument(where + ": no '" + key + "'");
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer() && v->get<int64_t>() >= 0)
    return static_cast<uint64_t>(v->get<int64_t>());
  return invalidArgument(where + ": '" + key + "' is not a non-negative integer");
}

// An optional array of strings ("names", "topologyPaths"); a missing one is empty.
Result<std::vector<std::string>> stringsMember(const json& object, const char* key,
                                               const std::string& where, bool required) {
  std::vector<std::string> out;
  const json* v = member(object, key);
  if (!v) {
    if (required) return invalidArgument(where + ": no '" + key + "'");
    return out;
  }
  if (!v->is_array()) return invalidArgument(where + ": '" + key + "' is not an array");
  for (const json& e : *v) {
    if (!e.is_string()) return invalidArgument(where + ": '" + key + "' holds a non-string");
    out.push_back(e.get<std::string>());
  }
  return out;
}

// topologyPaths name the network location then the datanode: "/default-rack/10.0.0.5:9866",
// or "/dc1/rack7/10.0.0.5:9866" with a multi-level topology. The rack is everything before the
// last component.
std::string rackOf(const std::string& topology_path) {
  auto slash = topology_path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : topology_path.substr(0, slash);
}

Result<FileStatus> statusOf(const json& s, const std::string& where) {
  if (!s.is_object()) return invalidArgument(where + " is not an object");
  FileStatus st;
  st.type = memberString(s, "type");
  if (st.type.empty()) return invalidArgument(where + ": no 'type'");
  auto length = uintMember(s, "length", where);
  if (!length.ok()) return length.error();
  st.length = *length;
  st.suffix = memberString(s, "pathSuffix");
  return st;
}

}  // namespace

Result<FileStatus> parseFileStatus(std::string_view body) {
  auto doc = parseDocument(body);
  if (!doc.ok()) return doc.error();
  const json* fs = member(*doc, "FileStatus");
  if (!fs) return invalidArgument("no 'FileStatus' object");
  return statusOf(*fs, "FileStatus");
}

Result<std::vector<FileStatus>> parseListStatus(std::string_view body) {
  auto doc = parseDocument(body);
  if (!doc.ok()) return doc.error();
  const json* outer = member(*doc, "FileStatuses");
  const json* list = outer ? member(*outer, "FileStatus") : nullptr;
  if (!list || !list->is_array()) return invalidArgument("no 'FileStatuses.FileStatus' array");
  std::vector<FileStatus> entries;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where = "FileStatus[" + std::to_string(i) + "]";
    auto st = statusOf((*list)[i], where);
    if (!st.ok()) return st.error();
    if (st->suffix.empty() || st->suffix.find('/') != std::string::npos || st->suffix == "." ||
        st->suffix == "..")
      return invalidArgument(where + ": bad 'pathSuffix' '" + st->suffix + "'");
    entries.push_back(std::move(*st));
  }
  return entries;
}

Result<std::vector<BlockLocation>> parseBlockLocations(std::string_view body) {
  auto doc = parseDocument(body);
  if (!doc.ok()) return doc.error();
  const json* outer = member(*doc, "BlockLocations");
  if (!outer || !outer->is_object()) return invalidArgument("no 'BlockLocations' object");
  std::vector<BlockLocation> blocks;
  const json* list = member(*outer, "BlockLocation");
  // An empty file has no blocks; some versions then leave the array out.
  if (!list) return blocks;
  if (!list->is_array()) return invalidArgument("'BlockLocation' is not an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const json& b = (*list)[i];
    const std::string where = "BlockLocation[" + std::to_string(i) + "]";
    if (!b.is_object()) return invalidArgument(where + " is not an object");
    BlockLocation block;
    auto offset = uintMember(b, "offset", where);
    if (!offset.ok()) return offset.error();
    auto length = uintMember(b, "length", where);
    if (!length.ok()) return length.error();
    auto hosts = stringsMember(b, "hosts", where, /*required=*/true);
    if (!hosts.ok()) return hosts.error();
    auto names = stringsMember(b, "names", where, false);
    if (!names.ok()) return names.error();
    auto paths = stringsMember(b, "topologyPaths", where, false);
    if (!paths.ok()) return paths.error();
    block.offset = *offset;
    block.length = *length;
    block.hosts = std::move(*hosts);
    // names and racks are per replica; a list that does not line up with hosts would pair a
    // host with another host's rack, so it is dropped rather than trusted.
    if (names->size() == block.hosts.size()) block.names = std::move(*names);
    if (paths->size() == block.hosts.size())
      for (const auto& p : *paths) block.racks.push_back(rackOf(p));
    if (const json* corrupt = member(b, "corrupt"); corrupt && corrupt->is_boolean())
      block.corrupt = corrupt->get<bool>();
    blocks.push_back(std::move(block));
  }
  std::sort(blocks.begin(), blocks.end(),
            [](const BlockLocation& a, const BlockLocation& b) { return a.offset < b.offset; });
  return blocks;
}

RemoteFailure describeFailure(std::string_view body) {
  RemoteFailure out;
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (const json* re = member(doc, "RemoteException")) {
    out.exception = memberString(*re, "exception");
    if (out.exception.empty()) out.exception = memberString(*re, "javaClassName");
    std::string message = memberString(*re, "message");
    if (!out.exception.empty() || !message.empty()) {
      out.text = oneLine(out.exception.empty() ? message : out.exception + ": " + message);
      return out;
    }
  }
  out.text = oneLine(std::string(body));
  if (out.text.empty()) out.text = "(empty body)";
  return out;
}

}  // namespace locus::locality::webhdfs
