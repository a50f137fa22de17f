#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <tessera/core/error.hpp>
#include <tessera/core/log.hpp>

namespace tessera {

namespace {
LogLevel initial_level() {
  const char* env = std::getenv("TESSERA_LOG");
  if (!env) return LogLevel::warn;
  try {
    return parse_log_level(env);
  } catch (const Error&) {
    return LogLevel::warn;
  }
}
std::atomic<int> g_level{-1};
std::atomic<int> g_rank{0};
}  // namespace

void set_log_level(LogLevel level) { g_level = static_cast<int>(level); }

LogLevel log_level() {
  int level = g_level.load();
  if (level < 0) {
    level = static_cast<int>(initial_level());
    g_level = level;
  }
  return static_cast<LogLevel>(level);
}

LogLevel parse_log_level(const std::string& name) {
  if (name == "error") return LogLevel::error;
  if (name == "warn" || name == "warning") return LogLevel::warn;
  if (name == "info") return LogLevel::info;
  if (name == "debug") return LogLevel::debug;
  throw InvalidArgument("log level '" + name + "' is not one of error, warn, info, debug");
}

void set_log_rank(int rank) { g_rank = rank; }

void log(LogLevel level, const std::string& message) {
  if (static_cast<int>(level) > static_cast<int>(log_level())) return;
  const int rank = g_rank.load();
  if (level <= LogLevel::warn) {
    if (rank == 0)
      std::fprintf(stderr, "[tessera] %s\n", message.c_str());
    else
      std::fprintf(stderr, "[tessera rank %d] %s\n", rank, message.c_str());
  } else if (rank == 0) {
    std::fprintf(stderr, "[tessera] %s\n", message.c_str());
  }
}

}  // namespace tessera
