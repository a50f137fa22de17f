#pragma once
/// @file
/// @brief Wall-clock timers and named phases (reported in run.json).

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace tessera {

/// @brief Seconds since construction or the last reset().
class Timer {
 public:
  Timer() : start_(clock::now()) {}
  void reset() { start_ = clock::now(); }
  double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

 private:
  using clock = std::chrono::steady_clock;
  clock::time_point start_;
};

/// @brief Accumulates wall time per named phase, in first-use order.
class PhaseTimes {
 public:
  void add(const std::string& phase, double seconds) {
    for (auto& p : phases_)
      if (p.first == phase) {
        p.second += seconds;
        return;
      }
    phases_.emplace_back(phase, seconds);
  }
  const std::vector<std::pair<std::string, double>>& phases() const { return phases_; }

  /// @brief Times a scope: `{ auto t = times.scope("read"); ... }`.
  class Scope {
   public:
    Scope(PhaseTimes& owner, std::string phase) : owner_(owner), phase_(std::move(phase)) {}
    ~Scope() { owner_.add(phase_, timer_.seconds()); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    PhaseTimes& owner_;
    std::string phase_;
    Timer timer_;
  };
  Scope scope(const std::string& phase) { return Scope(*this, phase); }

 private:
  std::vector<std::pair<std::string, double>> phases_;
};

}  // namespace tessera
