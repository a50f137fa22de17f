#include "cached_smo.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <tessera/core/error.hpp>
#include <tessera/linalg/linalg.hpp>

namespace tessera::ml::impl {

namespace {

using FloatRows = Kokkos::View<float**, Kokkos::LayoutRight, Mem>;
using IntVector = Kokkos::View<int*, Mem>;
using Row = decltype(Kokkos::subview(FloatRows(), 0, Kokkos::ALL));
template <class T>
using HostArray = Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;

// Asks Linux for transparent huge pages over a large host allocation (where THP is
// "madvise"): the cache fills gigabytes once, and 4 KiB page faults took longer than the
// kernel values themselves on a 50000-row problem.
template <class T>
void advise_huge_pages([[maybe_unused]] T* data, [[maybe_unused]] std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible) {
    constexpr std::uintptr_t huge = std::uintptr_t(2) << 20;
    const auto begin = (reinterpret_cast<std::uintptr_t>(data) + huge - 1) & ~(huge - 1);
    const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(huge - 1);
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
#endif
}

// Q rows of one binary problem in `slots` cache rows, least recently used evicted first
// (a doubly linked list over the slots, most recent at the head).
class RowCache {
 public:
  RowCache(DMatrix X, DVector norms, DVector y, const detail::KernelSpec& spec, std::size_t slots,
           int batch)
      : X_(std::move(X)),
        norms_(std::move(norms)),
        y_(std::move(y)),
        spec_(spec),
        rows_(Kokkos::view_alloc(std::string("svm_q_cache"), Kokkos::WithoutInitializing), slots,
              X_.extent(0)),
        slot_of_(X_.extent(0), -1),
        row_in_(slots, -1),
        prev_(slots),
        next_(slots),
        picked_(Kokkos::view_alloc(std::string("svm_batch_rows"), Kokkos::WithoutInitializing),
                static_cast<std::size_t>(batch)),
        targets_(Kokkos::view_alloc(std::string("svm_batch_slots"), Kokkos::WithoutInitializing),
                 static_cast<std::size_t>(batch)),
        picked_host_(Kokkos::create_mirror_view(Kokkos::HostSpace(), picked_)),
        targets_host_(Kokkos::create_mirror_view(Kokkos::HostSpace(), targets_)),
        batch_x_(Kokkos::view_alloc(std::string("svm_batch_x"), Kokkos::WithoutInitializing),
                 static_cast<std::size_t>(batch), X_.extent(1)),
        dots_(Kokkos::view_alloc(std::string("svm_batch_dots"), Kokkos::WithoutInitializing),
              static_cast<std::size_t>(batch), X_.extent(0)) {
    advise_huge_pages(rows_.data(), rows_.span() * sizeof(float));
    const int n = static_cast<int>(slots);
    for (int s = 0; s < n; ++s) prev_[s] = s - 1, next_[s] = s + 1 < n ? s + 1 : -1;
    head_ = 0;
    tail_ = n - 1;
  }

  bool has(int row) const { return slot_of_[static_cast<std::size_t>(row)] >= 0; }

  /// The cached row, made the most recently used.
  Row row(int r) {
    const int s = slot_of_[static_cast<std::size_t>(r)];
    TESSERA_ASSERT(s >= 0);
    to_head(s);
    return Kokkos::subview(rows_, s, Kokkos::ALL);
  }

  /// Computes the given rows (none cached, at most `batch`) with one GEMM into the least
  /// recently used slots.
  void compute(const std::vector<int>& rows) {
    const std::size_t b = rows.size();
    TESSERA_ASSERT(b >= 1 && b <= picked_.extent(0));
    for (std::size_t r = 0; r < b; ++r) {
      const int s = tail_;
      const int old = row_in_[static_cast<std::size_t>(s)];
      if (old >= 0) slot_of_[static_cast<std::size_t>(old)] = -1;
      row_in_[static_cast<std::size_t>(s)] = rows[r];
      slot_of_[static_cast<std::size_t>(rows[r])] = s;
      to_head(s);
      picked_host_(r) = rows[r];
      targets_host_(r) = s;
    }
    Kokkos::deep_copy(picked_, picked_host_);
    Kokkos::deep_copy(targets_, targets_host_);
    const auto xb = Kokkos::subview(batch_x_, std::make_pair(std::size_t(0), b), Kokkos::ALL);
    const auto dots = Kokkos::subview(dots_, std::make_pair(std::size_t(0), b), Kokkos::ALL);
    const DMatrix X = X_;
    const IntVector picked = picked_;
    using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>;
    Kokkos::parallel_for(
        "tessera::svm::batch_rows", Policy({0, 0}, {b, X.extent(1)}),
        KOKKOS_LAMBDA(const std::size_t r, const std::size_t k) { xb(r, k) = X(picked(r), k); });
    linalg::gemm(linalg::Op::none, linalg::Op::transpose, 1.0, xb, X, 0.0, dots);
    using Fill = detail::FillQRows<decltype(dots), FloatRows, IntVector, DVector>;
    Kokkos::parallel_for("tessera::svm::q_rows", Policy({0, 0}, {b, X.extent(0)}),
                         Fill{dots, rows_, picked_, targets_, y_, norms_, spec_});
  }

 private:
  void to_head(int s) {
    if (s == head_) return;
    const auto u = static_cast<std::size_t>(s);
    next_[static_cast<std::size_t>(prev_[u])] = next_[u];  // s is not the head: prev exists
    if (next_[u] >= 0)
      prev_[static_cast<std::size_t>(next_[u])] = prev_[u];
    else
      tail_ = prev_[u];
    prev_[u] = -1;
    next_[u] = head_;
    prev_[static_cast<std::size_t>(head_)] = s;
    head_ = s;
  }

  DMatrix X_;
  DVector norms_, y_;
  detail::KernelSpec spec_;
  FloatRows rows_;
  std::vector<int> slot_of_, row_in_, prev_, next_;
  int head_ = 0, tail_ = 0;
  IntVector picked_, targets_;
  IntVector::host_mirror_type picked_host_, targets_host_;
  DMatrix batch_x_, dots_;
};

struct Solution {
  std::vector<double> alpha, grad;
  double rho = 0;
  std::int64_t iterations = 0;
};

// One binary problem over the rows of X (l × d) with labels y (±1).
Solution solve_binary(const DMatrix& X, const std::vector<double>& y_host, double cp, double cn,
                      const detail::KernelSpec& spec, double tol, std::int64_t limit,
                      std::uint64_t cache_bytes, int batch, CacheStats& stats) {
  const std::size_t l = X.extent(0);
  const int n = static_cast<int>(l);
  const DVector norms = row_norms(X);
  DVector y(Kokkos::view_alloc(std::string("svm_y"), Kokkos::WithoutInitializing), l);
  Kokkos::deep_copy(y, HostArray<double>(y_host.data(), l));
  DVector qdiag(Kokkos::view_alloc(std::string("svm_qdiag"), Kokkos::WithoutInitializing), l);
  const detail::KernelSpec k = spec;
  Kokkos::parallel_for(
      "tessera::svm::qdiag", Kokkos::RangePolicy<Space>(0, n),
      KOKKOS_LAMBDA(const int t) { qdiag(t) = k(norms(t), norms(t), norms(t)); });
  DVector alpha("svm_alpha", l), grad("svm_grad", l), delta("svm_delta", 2);
  Kokkos::deep_copy(grad, -1.0);
  const auto qdiag_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), qdiag);
  const auto alpha_host = Kokkos::create_mirror_view(Kokkos::HostSpace(), alpha);
  const auto grad_host = Kokkos::create_mirror_view(Kokkos::HostSpace(), grad);

  const std::uint64_t row_bytes = sizeof(float) * l;
  const std::size_t slots = std::min<std::size_t>(
      l, std::max<std::uint64_t>(3, cache_bytes / std::max<std::uint64_t>(row_bytes, 1)));
  // A batch never evicts the row picked just before it (the most recent): at most
  // slots − 2 rows unless every row fits.
  batch = static_cast<int>(
      std::min<std::size_t>(static_cast<std::size_t>(batch), slots == l ? l : slots - 2));
  RowCache cache(X, norms, y, spec, slots, batch);
  stats.slots = std::max(stats.slots, slots);

  // A missing row comes with the most violating uncached positions: score = how far a
  // position's −y·G (in I_up) or y·G (in I_low) passes the other side's extreme.
  std::vector<std::pair<double, int>> candidates;
  std::vector<int> rows;
  const auto fetch = [&](int r, double gmax, double gmax2) {
    ++stats.misses;
    Kokkos::deep_copy(alpha_host, alpha);
    Kokkos::deep_copy(grad_host, grad);
    candidates.clear();
    for (int t = 0; t < n; ++t) {
      if (t == r || cache.has(t)) continue;
      const double yt = y_host[static_cast<std::size_t>(t)], a = alpha_host(t);
      const double w = -yt * grad_host(t);
      const bool up = yt > 0 ? a < cp : a > 0.0;
      const bool low = yt > 0 ? a > 0.0 : a < cn;
      const double score = std::max(up ? w + gmax2 : -std::numeric_limits<double>::infinity(),
                                    low ? gmax - w : -std::numeric_limits<double>::infinity());
      if (score > 0) candidates.emplace_back(-score, t);
    }
    const std::size_t extra =
        std::min(candidates.size(), static_cast<std::size_t>(std::max(batch - 1, 0)));
    std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(extra),
                     candidates.end());
    rows.assign(1, r);
    for (std::size_t c = 0; c < extra; ++c) rows.push_back(candidates[c].second);
    cache.compute(rows);
    stats.rows_computed += static_cast<std::int64_t>(rows.size());
    ++stats.batches;
  };

  using First = detail::SelectFirst<DVector, Row>;
  using Second = detail::SelectSecond<DVector, Row>;
  using Update = detail::PairUpdate<DVector, Row>;
  Row qi, qj;
  std::int64_t iter = 0;
  for (;;) {
    // Applies the previous step's change to the gradient while picking i.
    detail::FirstPick first{};
    Kokkos::parallel_reduce("tessera::svm::select_i", Kokkos::RangePolicy<Space>(0, n),
                            First{y, alpha, grad, qi, qj, delta, cp, cn, iter > 0}, first);
    if (iter >= limit || first.i < 0 || first.gmax + first.gmax2 < tol) break;
    const int i = first.i;
    if (!cache.has(i)) fetch(i, first.gmax, first.gmax2);
    qi = cache.row(i);
    detail::SecondPick second{};
    Kokkos::parallel_reduce("tessera::svm::select_j", Kokkos::RangePolicy<Space>(0, n),
                            Second{y, alpha, grad, qdiag, qi, first.gmax, qdiag_host(i),
                                   y_host[static_cast<std::size_t>(i)], cn},
                            second);
    if (second.j < 0) break;
    const int j = second.j;
    if (!cache.has(j)) fetch(j, first.gmax, first.gmax2);
    qj = cache.row(j);
    qi = cache.row(i);  // i stays the most recent (never evicted by j's batch)
    ++iter;
    Kokkos::parallel_for("tessera::svm::pair_step", Kokkos::RangePolicy<Space>(0, 1),
                         Update{y, alpha, grad, qdiag, delta, qi, i, j, cp, cn});
  }
  Solution out;
  out.iterations = iter >= limit ? limit + 1 : iter;
  Kokkos::deep_copy(alpha_host, alpha);
  Kokkos::deep_copy(grad_host, grad);
  out.alpha.assign(alpha_host.data(), alpha_host.data() + l);
  out.grad.assign(grad_host.data(), grad_host.data() + l);
  out.rho =
      detail::smo_rho(HostArray<double>(y_host.data(), l), HostArray<double>(out.alpha.data(), l),
                      HostArray<double>(out.grad.data(), l), 0, n, cp, cn);
  return out;
}

}  // namespace

CacheStats solve_ovo_cached(const DMatrix& X, OvoSet& set, const detail::KernelSpec& spec, double C,
                            const std::vector<double>& weight, double tol, std::int64_t max_iter,
                            std::uint64_t cache_bytes, int batch) {
  TESSERA_EXPECTS(batch >= 1, "solve_ovo_cached: batch must be >= 1");
  CacheStats stats;
  set.alpha.assign(set.index.size(), 0.0);
  set.grad.assign(set.index.size(), 0.0);
  for (std::size_t p = 0; p < set.pairs.size(); ++p) {
    const int begin = set.offset[p], end = set.offset[p + 1];
    const std::size_t l = static_cast<std::size_t>(end - begin);
    // The problem's rows, gathered on the device.
    IntVector index(Kokkos::view_alloc(std::string("svm_index"), Kokkos::WithoutInitializing), l);
    Kokkos::deep_copy(index, HostArray<int>(set.index.data() + begin, l));
    DMatrix Xp(Kokkos::view_alloc(std::string("svm_problem_x"), Kokkos::WithoutInitializing), l,
               X.extent(1));
    using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>;
    Kokkos::parallel_for(
        "tessera::svm::problem_rows", Policy({0, 0}, {l, X.extent(1)}),
        KOKKOS_LAMBDA(const std::size_t r, const std::size_t k) { Xp(r, k) = X(index(r), k); });
    const std::vector<double> y(set.y.begin() + begin, set.y.begin() + end);
    const double cp = C * weight[static_cast<std::size_t>(set.pairs[p][0])];
    const double cn = C * weight[static_cast<std::size_t>(set.pairs[p][1])];
    const std::int64_t limit = max_iter > 0 ? max_iter : default_max_iter(l);
    const Solution s = solve_binary(Xp, y, cp, cn, spec, tol, limit, cache_bytes, batch, stats);
    std::copy(s.alpha.begin(), s.alpha.end(), set.alpha.begin() + begin);
    std::copy(s.grad.begin(), s.grad.end(), set.grad.begin() + begin);
    set.rho[p] = s.rho;
    set.iterations[p] = s.iterations;
  }
  return stats;
}

}  // namespace tessera::ml::impl
