#include <unistd.h>

#include <tessera/core/progress.hpp>

namespace tessera {

bool progress_wanted(int rank, bool forced, bool quiet) {
  if (rank != 0 || quiet) return false;
  return forced || isatty(STDERR_FILENO) == 1;
}

ProgressBar::ProgressBar(std::size_t total, std::string label, bool enabled, std::FILE* out)
    : total_(total), label_(std::move(label)), enabled_(enabled), out_(out) {
  if (enabled_) draw(false);
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(std::size_t n) {
  done_ += n;
  if (!enabled_) return;
  const double now = timer_.seconds();
  if (now - last_draw_ >= 0.1 || done_ >= total_) draw(false);
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_) draw(true);
}

void ProgressBar::draw(bool final_line) {
  last_draw_ = timer_.seconds();
  const double fraction = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  constexpr int width = 30;
  const int filled = static_cast<int>(fraction * width + 0.5);
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
  bar[width] = '\0';
  const double eta = done_ ? last_draw_ / static_cast<double>(done_) *
                                 static_cast<double>(total_ > done_ ? total_ - done_ : 0)
                           : 0.0;
  std::fprintf(out_, "\r%s [%s] %zu/%zu (%3.0f%%) %.1fs eta %.1fs", label_.c_str(), bar, done_,
               total_, 100.0 * fraction, last_draw_, eta);
  if (final_line) std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace tessera
