#pragma once
// The gRPC status details the controller sets on every error it returns itself
// (controller/rpc/server.cpp): clients tell such an answer from a transport error (no details),
// which alone means the controller could not be reached. Both are UNAVAILABLE when, say, the
// controller cannot reach a NameNode.
#include <string_view>

namespace locus {

inline constexpr std::string_view kAnsweredByController = "locus-controller";

}  // namespace locus
