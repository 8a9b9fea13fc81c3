#include "common/gpu_request.hpp"

#include <charconv>
#include <vector>

#include "common/slurm_formats.hpp"

namespace locus {
namespace {

std::optional<uint32_t> parseCount(std::string_view s) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool validType(std::string_view t) {
  if (t.empty()) return false;
  for (char c : t) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.'))
      return false;
  }
  return true;
}

// "[type:]N" -> type, count. `option` names the option in errors.
Result<GpuRequest> parseTypedCount(std::string_view text, std::string_view option,
                                   GpuRequest::Per per) {
  auto bad = [&](const std::string& why) {
    return invalidArgument("--" + std::string(option) + ": invalid GPU request '" +
                           std::string(text) + "': " + why);
  };
  GpuRequest r;
  r.per = per;
  std::string_view count = text;
  if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    r.type = std::string(text.substr(0, colon));
    count = text.substr(colon + 1);
    if (!validType(r.type)) return bad("bad GPU type '" + r.type + "'");
  }
  auto n = parseCount(count);
  if (!n) return bad("expected [TYPE:]COUNT");
  if (*n == 0) return bad("the count must be at least 1");
  if (*n > 64) return bad("at most 64 GPUs per request");
  r.count = *n;
  return r;
}

}  // namespace

Result<std::optional<GpuRequest>> gpuRequestOf(const JobSpec& spec) {
  if (!spec.gpus.empty()) {
    std::string_view g = spec.gpus;
    auto strip = [&](std::string_view tag) {
      if (g.substr(0, tag.size()) != tag) return false;
      g.remove_prefix(tag.size());
      return true;
    };
    if (strip("per-socket:"))
      return invalidArgument("--gpus-per-socket is not supported; use --gpus-per-node");
    GpuRequest::Per per = GpuRequest::Per::kJob;
    std::string_view option = "gpus";
    if (strip("per-node:")) {
      per = GpuRequest::Per::kNode;
      option = "gpus-per-node";
    } else if (strip("per-task:")) {
      per = GpuRequest::Per::kTask;
      option = "gpus-per-task";
    }
    auto r = parseTypedCount(g, option, per);
    if (!r.ok()) return r.error();
    return std::optional<GpuRequest>(std::move(*r));
  }
  // --gres=gpu[:type][:N][,other...]: only the gpu entry is acted on.
  std::string_view rest = spec.gres;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view entry = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (entry != "gpu" && entry.substr(0, 4) != "gpu:") continue;
    if (entry == "gpu") return std::optional<GpuRequest>(GpuRequest{GpuRequest::Per::kNode, 1, ""});
    std::string_view body = entry.substr(4);
    // "gpu:v100" (no count) means one of that type.
    if (!body.empty() && body.find(':') == std::string_view::npos && !parseCount(body)) {
      if (!validType(body))
        return invalidArgument("--gres: invalid GPU request '" + std::string(entry) + "'");
      return std::optional<GpuRequest>(GpuRequest{GpuRequest::Per::kNode, 1, std::string(body)});
    }
    auto r = parseTypedCount(body, "gres", GpuRequest::Per::kNode);
    if (!r.ok()) return r.error();
    return std::optional<GpuRequest>(std::move(*r));
  }
  return std::optional<GpuRequest>();
}

Result<GpuShare> gpuShareOf(const JobSpec& spec) {
  auto request = gpuRequestOf(spec);
  if (!request.ok()) return request.error();
  GpuShare share;
  if (!*request) return share;
  const GpuRequest& r = **request;
  share.type = r.type;
  switch (r.per) {
    case GpuRequest::Per::kNode:
      share.per_node = r.count;
      break;
    case GpuRequest::Per::kTask:
      share.per_task = r.count;
      break;
    case GpuRequest::Per::kJob:
      if (spec.nodes <= 1) {
        share.per_node = r.count;
        share.force_one_node = spec.nodes == 0;
      } else if (r.count % spec.nodes != 0) {
        return invalidArgument("--gpus " + std::to_string(r.count) + " cannot be spread evenly over " +
                               std::to_string(spec.nodes) +
                               " nodes; use --gpus-per-node or a multiple of the node count");
      } else {
        share.per_node = r.count / spec.nodes;
      }
      break;
  }
  return share;
}

Result<SwitchesRequest> parseSwitches(std::string_view text) {
  SwitchesRequest r;
  std::string_view count = text;
  if (size_t at = text.find('@'); at != std::string_view::npos) {
    count = text.substr(0, at);
    const std::string_view wait_text = text.substr(at + 1);
    auto wait = parseTimeLimit(wait_text);
    if (!wait.ok())
      return invalidArgument("--switches: invalid wait time in '" + std::string(text) + "'");
    // parseTimeLimit reads UNLIMITED as 0 ("no limit"); here it means wait for ever, not at all.
    r.wait_s = *wait == 0 && (wait_text == "UNLIMITED" || wait_text == "INFINITE" ||
                              wait_text == "unlimited" || wait_text == "infinite")
                   ? kSwitchesWaitForever
                   : *wait;
  }
  auto n = parseCount(count);
  if (!n || *n == 0)
    return invalidArgument("--switches: invalid value '" + std::string(text) +
                           "' (expected COUNT[@TIME], COUNT >= 1)");
  r.count = *n;
  return r;
}

Status checkMemBind(std::string_view value) {
  if (value.empty() || value == "local" || value == "none") return {};
  return invalidArgument("--mem-bind: unsupported value '" + std::string(value) +
                         "' (supported: local, none)");
}

Status checkGpuBind(std::string_view value) {
  if (value.empty() || value == "closest" || value == "none") return {};
  return invalidArgument("--gpu-bind: unsupported value '" + std::string(value) +
                         "' (supported: closest, none)");
}

}  // namespace locus
