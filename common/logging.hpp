#pragma once
// Named spdlog loggers per module ("controller.scheduler"), all writing to stderr.
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace locus {

// Returns the named logger, creating it on first use. Thread-safe.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

// Sets the level of every current and future logger: "trace", "debug", "info", "warn", "error".
void setLogLevel(const std::string& level);

}  // namespace locus
