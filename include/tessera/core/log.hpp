#pragma once
/// @file
/// @brief Log levels and messages on stderr, printed by rank 0 only (warnings and
/// errors by every rank, prefixed with the rank).

#include <string>

namespace tessera {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

/// @brief Sets the threshold (default: warn, or TESSERA_LOG=error|warn|info|debug).
void set_log_level(LogLevel level);
LogLevel log_level();
/// @brief Parses "error", "warn", "info", "debug"; throws InvalidArgument otherwise.
LogLevel parse_log_level(const std::string& name);
/// @brief Rank used to decide who prints (set by Runtime).
void set_log_rank(int rank);

/// @brief Writes "[tessera] message" to stderr if `level` passes the threshold.
void log(LogLevel level, const std::string& message);
inline void log_info(const std::string& m) { log(LogLevel::info, m); }
inline void log_debug(const std::string& m) { log(LogLevel::debug, m); }
inline void log_warn(const std::string& m) { log(LogLevel::warn, m); }

}  // namespace tessera
