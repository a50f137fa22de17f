#pragma once
/// @file
/// @brief A progress bar on stderr for long runs, drawn by rank 0 only and only on a
/// terminal unless forced.

#include <cstddef>
#include <cstdio>
#include <string>

#include <tessera/core/timer.hpp>

namespace tessera {

/// @brief Whether a progress bar should be drawn: rank 0, not quiet, and either
/// forced or stderr is a terminal.
bool progress_wanted(int rank, bool forced, bool quiet);

/// @brief `[label] 42/100 ( 42%) 3.1s eta 4.2s` redrawn at most ~10 times a second.
class ProgressBar {
 public:
  ProgressBar(std::size_t total, std::string label, bool enabled, std::FILE* out = stderr);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void advance(std::size_t n = 1);
  /// Draws the final state and ends the line (also done by the destructor).
  void finish();
  std::size_t done() const { return done_; }

 private:
  void draw(bool final_line);
  std::size_t total_;
  std::size_t done_ = 0;
  std::string label_;
  bool enabled_;
  bool finished_ = false;
  std::FILE* out_;
  Timer timer_;
  double last_draw_ = -1.0;
};

}  // namespace tessera
