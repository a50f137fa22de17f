#include "run_support.hpp"

#include <algorithm>

#include <tessera/comm/agree.hpp>

namespace tessera::evo::impl {

std::vector<double> evaluate_rows(const Comm& comm, const double* rows, std::size_t count,
                                  std::size_t n, const Evaluator& evaluate) {
  const auto total = static_cast<std::int64_t>(count);
  const auto begin = static_cast<std::size_t>(total * comm.rank() / comm.size());
  const auto end = static_cast<std::size_t>(total * (comm.rank() + 1) / comm.size());
  Kokkos::View<double**, Kokkos::LayoutRight, Memory> pop("evo_population", end - begin, n);
  Fitness fit("evo_fitness", end - begin);
  const auto pop_h = Kokkos::create_mirror_view(Kokkos::HostSpace(), pop);
  std::copy(rows + begin * n, rows + end * n, pop_h.data());
  Kokkos::deep_copy(pop, pop_h);
  agree(comm, [&] {
    if (end > begin) evaluate(pop, fit);
  });
  const auto fit_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), fit);
  return comm.allgatherv(std::vector<double>(fit_h.data(), fit_h.data() + fit_h.extent(0)));
}

void Tracker::record(int gen, std::int64_t nevals, const std::vector<double>& f, const double* rows,
                     std::size_t n) {
  r_.evaluations += nevals;
  double avg = 0;
  for (double v : f) avg += v;
  avg /= static_cast<double>(f.size());
  double var = 0;
  for (double v : f) var += (v - avg) * (v - avg);
  r_.logbook.gen.push_back(gen);
  r_.logbook.nevals.push_back(nevals);
  r_.logbook.avg.push_back(avg);
  r_.logbook.std.push_back(std::sqrt(var / static_cast<double>(f.size())));
  r_.logbook.min.push_back(*std::min_element(f.begin(), f.end()));
  r_.logbook.max.push_back(*std::max_element(f.begin(), f.end()));
  std::size_t top = 0;
  for (std::size_t i = 1; i < f.size(); ++i)
    if (sign_ * f[i] < sign_ * f[top]) top = i;
  if (sign_ * f[top] < best_g_) {
    best_g_ = sign_ * f[top];
    r_.best_fitness = f[top];
    r_.best.assign(rows + top * n, rows + (top + 1) * n);
    since_better_ = 0;
  } else {
    ++since_better_;
  }
  r_.generations = gen;
}

std::string Tracker::stop(double target, std::int64_t max_evaluations, int stagnation) const {
  if (std::isfinite(target) && best_g_ <= sign_ * target) return "target";
  if (max_evaluations && r_.evaluations >= max_evaluations) return "evaluations";
  if (stagnation && since_better_ >= stagnation) return "stagnation";
  return "";
}

}  // namespace tessera::evo::impl
