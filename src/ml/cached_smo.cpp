#include "cached_smo.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include <tessera/core/error.hpp>
#include <tessera/core/memory.hpp>
#include <tessera/linalg/linalg.hpp>

namespace tessera::ml::impl {

namespace {

using FloatRows = Kokkos::View<float**, Kokkos::LayoutRight, Mem>;
using IntVector = Kokkos::View<int*, Mem>;
using Row = decltype(Kokkos::subview(FloatRows(), 0, Kokkos::ALL));
template <class T>
using HostArray = Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;

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
    // Huge pages where the system allows: the cache fills gigabytes once, and 4 KiB page
    // faults took longer than the kernel values themselves on a 50000-row problem.
    if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible)
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
#if defined(KOKKOS_ENABLE_CUDA)
    using Fill = detail::FillQRows<decltype(dots), FloatRows, IntVector, DVector>;
    Kokkos::parallel_for("tessera::svm::q_rows", Policy({0, 0}, {b, X.extent(0)}),
                         Fill{dots, rows_, picked_, targets_, y_, norms_, spec_});
#else
    // The rows in pieces of 4096 positions, each by one vector loop (kernel_row: RBF values
    // with the vectorised exp, as the kernel matrix's; libm's exp per value took longer).
    constexpr std::size_t kPiece = 4096;
    const std::size_t n = X.extent(0), pieces = (n + kPiece - 1) / kPiece;
    const FloatRows cache = rows_;
    const DVector y = y_, norms = norms_;
    const IntVector targets = targets_;
    const detail::KernelSpec spec = spec_;
    Kokkos::parallel_for("tessera::svm::q_rows", Kokkos::RangePolicy<Space>(0, b * pieces),
                         [=](const std::size_t item) {
                           const std::size_t r = item / pieces, t0 = item % pieces * kPiece;
                           const auto s = static_cast<std::size_t>(picked(r));
                           kernel_row(spec, &dots(r, t0), norms(s), &norms(t0),
                                      std::min(kPiece, n - t0), &cache(targets(r), t0), y(s),
                                      &y(t0));
                         });
#endif
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

// libsvm's shrinking for one problem: the positions still in play (ascending), G_bar =
// Σ over alphas at their upper bound of C_s·Q_s (kept for every position), and the
// gradient of the positions left out rebuilt from it when they come back.
class Shrinker {
 public:
  Shrinker(const DMatrix& X, const std::vector<double>& y, double cp, double cn,
           const detail::KernelSpec& spec)
      : X_(X),
        y_(y),
        cp_(cp),
        cn_(cn),
        spec_(spec),
        gbar_("svm_gbar", X.extent(0)),
        active_host_(X.extent(0)) {
    for (std::size_t t = 0; t < active_host_.size(); ++t) active_host_[t] = static_cast<int>(t);
  }

  /// The active positions on the device; empty while all are active.
  const IntVector& active() const { return active_; }
  int size() const { return static_cast<int>(active_host_.size()); }
  bool all() const { return active_host_.size() == X_.extent(0); }
  bool has(int t) const {
    return all() || std::binary_search(active_host_.begin(), active_host_.end(), t);
  }
  int shrinks() const { return shrinks_; }

  /// G_bar += c_i·Q_i + c_j·Q_j over every position (c: the step's delta(2), delta(3)).
  template <class Row>
  void update_gbar(const Row& qi, const Row& qj, double ci, double cj) {
    if (ci == 0.0 && cj == 0.0) return;
    const DVector gbar = gbar_;
    Kokkos::parallel_for(
        "tessera::svm::gbar", Kokkos::RangePolicy<Space>(0, static_cast<int>(X_.extent(0))),
        KOKKOS_LAMBDA(const int t) {
          gbar(t) += ci * static_cast<double>(qi(t)) + cj * static_cast<double>(qj(t));
        });
  }

  /// libsvm's do_shrinking, gmax / gmax2 the active set's extremes: once the gap is
  /// within 10·tol, everything comes back (once); then positions at a bound whose
  /// gradient keeps them out of both extremes leave.
  void shrink(DVector& alpha, DVector& grad, double gmax, double gmax2, double tol) {
    if (!unshrunk_ && gmax + gmax2 <= 10 * tol) {
      unshrunk_ = true;
      reconstruct(alpha, grad);
    }
    const auto a = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), alpha);
    const auto g = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), grad);
    std::vector<int> keep;
    keep.reserve(active_host_.size());
    for (int t : active_host_) {
      const auto u = static_cast<std::size_t>(t);
      const double c = y_[u] > 0 ? cp_ : cn_;
      bool out = false;
      if (a(u) >= c)
        out = y_[u] > 0 ? -g(u) > gmax : -g(u) > gmax2;
      else if (a(u) <= 0)
        out = y_[u] > 0 ? g(u) > gmax2 : g(u) > gmax;
      if (!out) keep.push_back(t);
    }
    if (keep.size() == active_host_.size()) return;
    ++shrinks_;
    active_host_.swap(keep);
    active_ = device_copy(active_host_, "svm_active");
  }

  /// libsvm's reconstruct_gradient: G = G_bar − 1 + Σ over free active alphas of
  /// alpha_s Q_s for the positions left out (kernel values in blocks); then all are
  /// active again.
  void reconstruct(const DVector& alpha, const DVector& grad) {
    if (all()) return;
    const std::size_t l = X_.extent(0);
    const auto a = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), alpha);
    std::vector<char> in(l, 0);
    for (int t : active_host_) in[static_cast<std::size_t>(t)] = 1;
    std::vector<int> free, out;
    std::vector<double> coef;
    for (std::size_t t = 0; t < l; ++t) {
      const double c = y_[t] > 0 ? cp_ : cn_;
      if (!in[t])
        out.push_back(static_cast<int>(t));
      else if (a(t) > 0 && a(t) < c)
        free.push_back(static_cast<int>(t)), coef.push_back(a(t) * y_[t]);
    }
    const DVector gbar = gbar_, g = grad;
    const auto outs = device_copy(out, "svm_inactive");
    const auto ys = device_copy(y_, "svm_y");
    Kokkos::parallel_for(
        "tessera::svm::gbar_gradient", Kokkos::RangePolicy<Space>(0, static_cast<int>(out.size())),
        KOKKOS_LAMBDA(const int u) { g(outs(u)) = gbar(outs(u)) - 1.0; });
    if (!free.empty()) {
      const auto coefs = device_copy(coef, "svm_free_coef");
      const DMatrix Xf = gather_rows(X_, device_copy(free, "svm_free"));
      const std::size_t nf = free.size();
      const std::size_t block = std::max<std::size_t>(64, (std::size_t(32) << 20) / (8 * nf));
      for (std::size_t b0 = 0; b0 < out.size(); b0 += block) {
        const auto rows =
            Kokkos::subview(outs, std::make_pair(b0, std::min(out.size(), b0 + block)));
        const DMatrix K = kernel_matrix(gather_rows(X_, rows), Xf, spec_);
        Kokkos::parallel_for(
            "tessera::svm::reconstruct", Kokkos::RangePolicy<Space>(0, rows.extent(0)),
            KOKKOS_LAMBDA(const std::size_t r) {
              double sum = 0;
              for (std::size_t f = 0; f < nf; ++f) sum += coefs(f) * K(r, f);
              g(rows(r)) += ys(rows(r)) * sum;
            });
      }
    }
    active_host_.resize(l);
    for (std::size_t t = 0; t < l; ++t) active_host_[t] = static_cast<int>(t);
    active_ = IntVector();
  }

 private:
  DMatrix X_;
  std::vector<double> y_;
  double cp_, cn_;
  detail::KernelSpec spec_;
  DVector gbar_;
  IntVector active_;
  std::vector<int> active_host_;
  bool unshrunk_ = false;
  int shrinks_ = 0;
};

// One binary problem over the rows of X (l × d) with labels y (±1).
Solution solve_binary(const DMatrix& X, const std::vector<double>& y_host, double cp, double cn,
                      const detail::KernelSpec& spec, double tol, std::int64_t limit,
                      std::uint64_t cache_bytes, int batch, bool shrinking, CacheStats& stats) {
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
  DVector alpha("svm_alpha", l), grad("svm_grad", l), delta("svm_delta", 4);
  Kokkos::deep_copy(grad, -1.0);
  const auto qdiag_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), qdiag);
  const auto alpha_host = Kokkos::create_mirror_view(Kokkos::HostSpace(), alpha);
  const auto grad_host = Kokkos::create_mirror_view(Kokkos::HostSpace(), grad);
  const auto delta_host = Kokkos::create_mirror_view(Kokkos::HostSpace(), delta);

  const std::uint64_t row_bytes = sizeof(float) * l;
  const std::size_t slots = std::min<std::size_t>(
      l, std::max<std::uint64_t>(3, cache_bytes / std::max<std::uint64_t>(row_bytes, 1)));
  // A batch never evicts the row picked just before it (the most recent): at most
  // slots − 2 rows unless every row fits.
  batch = static_cast<int>(
      std::min<std::size_t>(static_cast<std::size_t>(batch), slots == l ? l : slots - 2));
  RowCache cache(X, norms, y, spec, slots, batch);
  stats.slots = std::max(stats.slots, slots);
  Shrinker shrinker(X, y_host, cp, cn, spec);

  // A missing row comes with the most violating uncached active positions: score = how
  // far a position's −y·G (in I_up) or y·G (in I_low) passes the other side's extreme.
  std::vector<std::pair<double, int>> candidates;
  std::vector<int> rows;
  const auto fetch = [&](int r, double gmax, double gmax2) {
    ++stats.misses;
    Kokkos::deep_copy(alpha_host, alpha);
    Kokkos::deep_copy(grad_host, grad);
    candidates.clear();
    for (int t = 0; t < n; ++t) {
      if (t == r || cache.has(t) || !shrinker.has(t)) continue;
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

  using First = detail::SelectFirst<DVector, Row, IntVector>;
  using Second = detail::SelectSecond<DVector, Row, IntVector>;
  using Update = detail::PairUpdate<DVector, Row>;
  Row qi, qj;
  bool pending = false;  // a step not yet in the gradient (applied by the next select_i)
  const auto select_i = [&] {
    detail::FirstPick first{};
    Kokkos::parallel_reduce(
        "tessera::svm::select_i", Kokkos::RangePolicy<Space>(0, shrinker.size()),
        First{y, alpha, grad, qi, qj, delta, cp, cn, pending, shrinker.active()}, first);
    pending = false;
    return first;
  };
  const auto optimal = [&](const detail::FirstPick& f) {
    return f.i < 0 || f.gmax + f.gmax2 < tol;
  };
  // j for the pick i (its Q row fetched), over the active positions; −1: none.
  const auto select_j = [&](const detail::FirstPick& first) {
    if (!cache.has(first.i)) fetch(first.i, first.gmax, first.gmax2);
    qi = cache.row(first.i);
    detail::SecondPick second{};
    Kokkos::parallel_reduce(
        "tessera::svm::select_j", Kokkos::RangePolicy<Space>(0, shrinker.size()),
        Second{y, alpha, grad, qdiag, qi, first.gmax, qdiag_host(first.i),
               y_host[static_cast<std::size_t>(first.i)], cn, shrinker.active()},
        second);
    return second.j;
  };
  const int interval = std::min(n, 1000);  // libsvm shrinks every min(l, 1000) iterations
  int counter = interval + 1;
  std::int64_t iter = 0;
  for (;;) {
    // Applies the previous step's change to the gradient while picking i.
    detail::FirstPick first = select_i();
    if (iter >= limit) break;
    if (shrinking && --counter == 0) {
      counter = interval;
      shrinker.shrink(alpha, grad, first.gmax, first.gmax2, tol);
      first = select_i();  // over the positions still active
    }
    int j = optimal(first) ? -1 : select_j(first);
    if (j < 0) {
      // Optimal over the active positions: over all of them once they are back?
      if (shrinker.all()) break;
      shrinker.reconstruct(alpha, grad);
      first = select_i();
      if (optimal(first)) break;
      counter = 1;  // shrink again at the next iteration, as libsvm
      j = select_j(first);
      if (j < 0) break;
    }
    const int i = first.i;
    if (!cache.has(j)) fetch(j, first.gmax, first.gmax2);
    qj = cache.row(j);
    qi = cache.row(i);  // i stays the most recent (never evicted by j's batch)
    ++iter;
    Kokkos::parallel_for("tessera::svm::pair_step", Kokkos::RangePolicy<Space>(0, 1),
                         Update{y, alpha, grad, qdiag, delta, qi, i, j, cp, cn});
    pending = true;
    if (shrinking) {
      Kokkos::deep_copy(delta_host, delta);
      shrinker.update_gbar(qi, qj, delta_host(2), delta_host(3));
    }
  }
  shrinker.reconstruct(alpha, grad);
  stats.shrinks += shrinker.shrinks();
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
                            std::uint64_t cache_bytes, bool shrinking, int batch) {
  TESSERA_EXPECTS(batch >= 1, "solve_ovo_cached: batch must be >= 1");
  CacheStats stats;
  set.alpha.assign(set.index.size(), 0.0);
  set.grad.assign(set.index.size(), 0.0);
  for (std::size_t p = 0; p < set.pairs.size(); ++p) {
    const int begin = set.offset[p], end = set.offset[p + 1];
    const std::size_t l = static_cast<std::size_t>(end - begin);
    const DMatrix Xp =  // the problem's rows
        gather_rows(
            X, device_copy(std::vector<int>(set.index.begin() + begin, set.index.begin() + end),
                           "svm_index"));
    const std::vector<double> y(set.y.begin() + begin, set.y.begin() + end);
    const double cp = C * weight[static_cast<std::size_t>(set.pairs[p][0])];
    const double cn = C * weight[static_cast<std::size_t>(set.pairs[p][1])];
    const std::int64_t limit = max_iter > 0 ? max_iter : default_max_iter(l);
    const Solution s =
        solve_binary(Xp, y, cp, cn, spec, tol, limit, cache_bytes, batch, shrinking, stats);
    std::copy(s.alpha.begin(), s.alpha.end(), set.alpha.begin() + begin);
    std::copy(s.grad.begin(), s.grad.end(), set.grad.begin() + begin);
    set.rho[p] = s.rho;
    set.iterations[p] = s.iterations;
  }
  return stats;
}

}  // namespace tessera::ml::impl
