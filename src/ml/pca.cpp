#include <tessera/ml/pca.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <tessera/array/column_stats.hpp>
#include <tessera/array/reductions.hpp>
#include <tessera/array/streaming.hpp>
#include <tessera/core/error.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/kernels/math.hpp>
#include <tessera/linalg/linalg.hpp>

#include "../core/lanes.hpp"
#include "finite.hpp"

namespace tessera::ml {

namespace {
// The automatic solver's switch to randomized: a covariance matrix of more features.
constexpr std::size_t kCovarianceFeatures = 2000;
}  // namespace

PcaSolver parse_pca_solver(const std::string& name) {
  if (name == "auto") return PcaSolver::automatic;
  if (name == "covariance") return PcaSolver::covariance;
  if (name == "randomized") return PcaSolver::randomized;
  throw InvalidArgument("unknown PCA solver '" + name + "' (auto, covariance, randomized)");
}

void PCAParams::validate() const {
  if (n_components == 0 || n_components < -1)
    throw InvalidArgument(
        fmt::format("n_components must be >= 1 (or -1 for all), got {}", n_components));
  if (oversamples < 0)
    throw InvalidArgument(fmt::format("oversamples must be >= 0, got {}", oversamples));
  if (power_iterations < -1)
    throw InvalidArgument(
        fmt::format("power_iterations must be >= 0 (or -1 for auto), got {}", power_iterations));
}

PCA::PCA(PCAParams params) : params_(std::move(params)) { params_.validate(); }

namespace {

using lanes::kLanes;
using lanes::Lanes;
using lanes::load;
constexpr std::size_t kScanRows = 4096;

// Rows' scores against components in groups of 8 (ct: per group, d × 8 transposed
// components, zero padded; shift: x̄·c per component) minus the shift.
struct ScoreScan {
  const double* x;
  std::size_t stride, d, groups;
  const double* ct;
  const double* shift;
  std::size_t row0;
};

// Rows r0 .. r1 of a block: per component its largest and smallest score and their
// global rows (the first on ties), into e = (hi, hi row, lo, lo row) × groups·8, 4 rows at
// a time (independent sums, products and sums kept apart: the same bits for every
// instruction set).
TESSERA_CLONES [[gnu::flatten]] void scan_block(const ScoreScan& f, std::size_t r0, std::size_t r1,
                                                double* e) {
  const std::size_t width = f.groups * kLanes;
  for (std::size_t g = 0; g < f.groups; ++g) {
    const double* w = f.ct + g * f.d * kLanes;
    const Lanes shift = load(f.shift + g * kLanes);
    Lanes hi = shift - __builtin_huge_val(), lo = shift + __builtin_huge_val();
    Lanes hi_row = shift * 0 - 1, lo_row = hi_row;
    const auto take = [&](const Lanes& acc, std::size_t r) {
      const Lanes s = acc - shift;
      const Lanes row = shift * 0 + static_cast<double>(f.row0 + r);
      const auto up = s > hi, down = s < lo;
      hi = up ? s : hi;
      hi_row = up ? row : hi_row;
      lo = down ? s : lo;
      lo_row = down ? row : lo_row;
    };
    std::size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
      const double* x0 = f.x + r * f.stride;
      const double* x1 = x0 + f.stride;
      const double* x2 = x1 + f.stride;
      const double* x3 = x2 + f.stride;
      Lanes a0{}, a1{}, a2{}, a3{};
      for (std::size_t j = 0; j < f.d; ++j) {
        const Lanes c = load(w + j * kLanes);
        a0 += x0[j] * c;
        a1 += x1[j] * c;
        a2 += x2[j] * c;
        a3 += x3[j] * c;
      }
      take(a0, r);
      take(a1, r + 1);
      take(a2, r + 2);
      take(a3, r + 3);
    }
    for (; r < r1; ++r) {
      const double* x0 = f.x + r * f.stride;
      Lanes a0{};
      for (std::size_t j = 0; j < f.d; ++j) a0 += x0[j] * load(w + j * kLanes);
      take(a0, r);
    }
    for (std::size_t l = 0; l < kLanes; ++l) {
      const std::size_t c = g * kLanes + l;
      e[c] = hi[l], e[width + c] = hi_row[l], e[2 * width + c] = lo[l],
      e[3 * width + c] = lo_row[l];
    }
  }
}

// scikit-learn's svd_flip (u-based) on the covariance solver's components: each
// component's sign makes its largest-magnitude score positive (the first such row on
// ties). Scores are scanned rows block by block, then the extremes are merged over ranks.
class SignScan {
 public:
  SignScan(const std::vector<double>& mean, const HostMatrix& components)
      : components_(components),
        shift_(components.extent(0), 0.0),
        hi_(components.extent(0), ValueLoc{-std::numeric_limits<double>::infinity(), -1}),
        lo_(components.extent(0), ValueLoc{std::numeric_limits<double>::infinity(), -1}) {
    for (std::size_t c = 0; c < components.extent(0); ++c)
      for (std::size_t j = 0; j < components.extent(1); ++j)
        shift_[c] += mean[j] * components(c, j);
  }

  // Rows (in any memory space) whose first is global row `row0`.
  template <class MemorySpace>
  void scan(const Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>& rows,
            std::size_t row0) {
    if (rows.extent(0) == 0) return;
    if constexpr (std::is_same_v<MemorySpace, Kokkos::HostSpace>)
      scan_host(rows, row0);
    else
      scan_device(rows, row0);
  }

  // Device rows: the scores by one GEMM, then scanned on the host.
  template <class MemorySpace>
  void scan_device(const Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>& rows,
                   std::size_t row0) {
    const std::size_t n = rows.extent(0), k = components_.extent(0);
    const auto C = Kokkos::create_mirror_view_and_copy(MemorySpace(), components_);
    Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> scores(
        Kokkos::view_alloc(std::string("pca_scores"), Kokkos::WithoutInitializing), n, k);
    linalg::gemm(linalg::Op::none, linalg::Op::transpose, 1.0, rows, C, 0.0, scores);
    const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), scores);
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t r = 0; r < n; ++r) {
        const double s = host(r, c) - shift_[c];
        const auto row = static_cast<std::int64_t>(row0 + r);
        if (s > hi_[c].value || hi_[c].index < 0) hi_[c] = {s, row};
        if (s < lo_[c].value || lo_[c].index < 0) lo_[c] = {s, row};
      }
  }

  // On the host, scores are not stored: blocks of rows in parallel, each row's scores in
  // registers (components in lanes of 8), each block's extremes kept and merged in row
  // order (ties: the first row), so the same result on any thread count.
  void scan_host(const HostMatrix& rows, std::size_t row0) {
    const std::size_t n = rows.extent(0), d = rows.extent(1), k = components_.extent(0);
    const std::size_t groups = (k + kLanes - 1) / kLanes;
    std::vector<double> ct(d * groups * kLanes, 0.0), shift(groups * kLanes, 0.0);
    for (std::size_t c = 0; c < k; ++c) {
      for (std::size_t j = 0; j < d; ++j)
        ct[(c / kLanes * d + j) * kLanes + c % kLanes] = components_(c, j);
      shift[c] = shift_[c];
    }
    const std::size_t blocks = (n + kScanRows - 1) / kScanRows, width = groups * kLanes;
    std::vector<double> extremes(blocks * width * 4);  // per block: hi, hi row, lo, lo row
    const ScoreScan f{rows.data(), rows.stride(0), d, groups, ct.data(), shift.data(), row0};
    double* const out = extremes.data();
    Kokkos::parallel_for("tessera::pca::sign_scan",
                         Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, blocks),
                         [=](const std::size_t b) {
                           const std::size_t r0 = b * kScanRows;
                           scan_block(f, r0, std::min(n, r0 + kScanRows), out + b * width * 4);
                         });
    for (std::size_t b = 0; b < blocks; ++b) {
      const double* e = out + b * width * 4;
      for (std::size_t c = 0; c < k; ++c) {
        const double hi = e[c], hi_row = e[width + c], lo = e[2 * width + c],
                     lo_row = e[3 * width + c];
        if (hi > hi_[c].value || hi_[c].index < 0) hi_[c] = {hi, static_cast<std::int64_t>(hi_row)};
        if (lo < lo_[c].value || lo_[c].index < 0) lo_[c] = {lo, static_cast<std::int64_t>(lo_row)};
      }
    }
  }

  // The signs, the same on every rank (collective).
  std::vector<double> signs(const Comm& comm) const {
    std::vector<double> out(hi_.size(), 1.0);
    for (std::size_t c = 0; c < hi_.size(); ++c) {
      const ValueLoc hi = comm.maxloc(hi_[c]), lo = comm.minloc(lo_[c]);
      const double up = std::abs(hi.value), down = std::abs(lo.value);
      const bool negative = down > up || (down == up && lo.index < hi.index && lo.value < 0);
      out[c] = negative ? -1.0 : 1.0;
    }
    return out;
  }

 private:
  HostMatrix components_;
  std::vector<double> shift_;
  std::vector<ValueLoc> hi_, lo_;
};

bool finite(const HostMatrix& M) {
  for (std::size_t i = 0; i < M.extent(0); ++i)
    for (std::size_t j = 0; j < M.extent(1); ++j)
      if (!std::isfinite(M(i, j))) return false;
  return true;
}

// eigh of a Gram or covariance matrix built from finite data: an infinite entry means
// the data's scale overflows its squares (values beyond about 1e154), which LAPACK would
// only report as a bad argument.
void eigh_of_finite(const HostMatrix& A, const HostVector& w, const HostMatrix& V) {
  if (!finite(A))
    throw InvalidArgument(
        "PCA::fit: the covariance overflows double precision (the data's values are too large "
        "to square, beyond about 1e154): scale the data first");
  linalg::eigh(A, w, V);
}

// T = W·Λ^(-1/2) from the eigendecomposition G = WΛWᵀ of a Gram matrix G = YᵀY, so that
// Y·T has orthonormal columns; directions with Λ below 1e-14·max are dropped (zeroed).
HostMatrix whitening(const HostMatrix& G) {
  const std::size_t l = G.extent(0);
  HostMatrix W("pca_w", l, l), T("pca_t", l, l);
  HostVector lambda("pca_lambda", l);
  eigh_of_finite(G, lambda, W);
  const double top = std::max(lambda(l - 1), 0.0);
  for (std::size_t i = 0; i < l; ++i)
    for (std::size_t j = 0; j < l; ++j)
      T(i, j) = lambda(j) > 1e-14 * top ? W(i, j) / std::sqrt(lambda(j)) : 0.0;
  return T;
}

// Orthonormal columns spanning those of a small host matrix A (m × l): A·whitening(AᵀA),
// twice (the second pass restores the orthogonality the squared condition number cost).
HostMatrix orthonormal(const HostMatrix& A) {
  HostMatrix Q = A;
  const std::size_t l = A.extent(1);
  for (int pass = 0; pass < 2; ++pass) {
    HostMatrix G("pca_gram", l, l);
    linalg::gemm(linalg::Op::transpose, linalg::Op::none, 1.0, Q, Q, 0.0, G);
    const HostMatrix T = whitening(G);
    HostMatrix next("pca_q", Q.extent(0), l);
    linalg::gemm(linalg::Op::none, linalg::Op::none, 1.0, Q, T, 0.0, next);
    Q = next;
  }
  return Q;
}

// Products with the centred rows X − 1·meanᵀ of a DistMatrix, without forming them
// whole: reductions over rows are summed chunk by chunk in global chunk order.
template <class MemorySpace>
class Centred {
 public:
  using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>;

  Centred(const array::DistMatrix<double, MemorySpace>& X, const std::vector<double>& mean)
      : X_(X), mean_("pca_mean", 1, mean.size()) {
    const auto host = Kokkos::create_mirror_view(Kokkos::HostSpace(), mean_);
    for (std::size_t j = 0; j < mean.size(); ++j) host(0, j) = mean[j];
    Kokkos::deep_copy(mean_, host);
  }

  // (X − mean)·Z for this rank's rows (n_local × l).
  Matrix times(const HostMatrix& Z) const {
    const Matrix Zd = Kokkos::create_mirror_view_and_copy(MemorySpace(), Z);
    const std::size_t n = X_.local().extent(0), l = Z.extent(1);
    Matrix Y("pca_y", n, l), shift("pca_shift", 1, l);
    linalg::gemm(linalg::Op::none, linalg::Op::none, 1.0, mean_, Zd, 0.0, shift);
    if (n == 0) return Y;
    linalg::gemm(linalg::Op::none, linalg::Op::none, 1.0, X_.local(), Zd, 0.0, Y);
    using Exec = typename MemorySpace::execution_space;
    Kokkos::parallel_for(
        "tessera::pca::shift", Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>({0, 0}, {n, l}),
        KOKKOS_LAMBDA(const std::size_t r, const std::size_t c) { Y(r, c) -= shift(0, c); });
    return Y;
  }

  // Σ over chunks (in global order) of A_cᵀ·B_c, A and B holding this rank's rows; with
  // centre, A is the centred data (B ignored as A then).
  HostMatrix chunk_sum(const Matrix& B, bool centre_data) const {
    const std::size_t local_chunks = X_.last_chunk() - X_.first_chunk();
    const std::size_t n = X_.local().extent(0), chunk_rows = X_.chunk_rows();
    const std::size_t a_cols = centre_data ? X_.cols() : B.extent(1), l = B.extent(1);
    Kokkos::View<double***, Kokkos::LayoutRight, MemorySpace> parts("pca_parts", local_chunks,
                                                                    a_cols, l);
    Matrix buffer("pca_centred", centre_data ? std::min(chunk_rows, n) : 0, X_.cols());
    const Matrix data = X_.local(), mean = mean_;
    using Exec = typename MemorySpace::execution_space;
    for (std::size_t c = 0; c < local_chunks; ++c) {
      const std::size_t begin = c * chunk_rows, end = std::min(n, begin + chunk_rows);
      const Matrix Bc = Kokkos::subview(B, std::make_pair(begin, end), Kokkos::ALL);
      Matrix Ac = Bc;
      if (centre_data) {
        Ac = Kokkos::subview(buffer, std::make_pair(std::size_t(0), end - begin), Kokkos::ALL);
        const Matrix out = Ac;
        Kokkos::parallel_for(
            "tessera::pca::centre",
            Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>({0, 0}, {end - begin, X_.cols()}),
            KOKKOS_LAMBDA(const std::size_t r, const std::size_t j) {
              out(r, j) = data(begin + r, j) - mean(0, j);
            });
      }
      linalg::gemm(linalg::Op::transpose, linalg::Op::none, 1.0, Ac, Bc, 0.0,
                   Kokkos::subview(parts, c, Kokkos::ALL, Kokkos::ALL));
    }
    const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), parts);
    const std::vector<double> all =
        X_.comm().allgatherv(std::vector<double>(host.data(), host.data() + host.span()));
    HostMatrix sum("pca_chunk_sum", a_cols, l);
    for (std::size_t c = 0; c < X_.grid().chunks(); ++c)
      for (std::size_t i = 0; i < a_cols; ++i)
        for (std::size_t j = 0; j < l; ++j) sum(i, j) += all[(c * a_cols + i) * l + j];
    return sum;
  }

  // Y·T with orthonormal columns over all ranks' rows (eigendecomposition of the
  // chunk-ordered YᵀY, twice).
  Matrix orthonormalise(Matrix Y) const {
    const std::size_t l = Y.extent(1);
    for (int pass = 0; pass < 2; ++pass) {
      const HostMatrix T = whitening(chunk_sum(Y, false));
      const Matrix Td = Kokkos::create_mirror_view_and_copy(MemorySpace(), T);
      Matrix next("pca_q", Y.extent(0), l);
      if (Y.extent(0)) linalg::gemm(linalg::Op::none, linalg::Op::none, 1.0, Y, Td, 0.0, next);
      Y = next;
    }
    return Y;
  }

 private:
  const array::DistMatrix<double, MemorySpace>& X_;
  Matrix mean_;
};

// n_components resolved and checked against the data's shape.
std::size_t components_for(const PCAParams& params, std::size_t n, std::size_t d) {
  if (n < 2) throw InvalidArgument(fmt::format("PCA::fit: needs at least 2 rows, got {}", n));
  TESSERA_EXPECTS(d >= 1, "PCA::fit: the data has no columns");
  const std::size_t most = std::min(n, d);
  const std::size_t k =
      params.n_components < 0 ? most : static_cast<std::size_t>(params.n_components);
  if (k > most)
    throw InvalidArgument(fmt::format(
        "PCA::fit: n_components = {} is more than min(rows, features) = min({}, {})", k, n, d));
  return k;
}

}  // namespace

void PCA::from_covariance(const array::Covariance& cov, std::size_t k) {
  const std::size_t n = cov.rows, d = cov.cov.extent(0), most = std::min(n, d);
  HostVector w("pca_eigenvalues", d);
  HostMatrix V("pca_eigenvectors", d, d);
  eigh_of_finite(cov.cov, w, V);  // ascending
  std::vector<double> ev(most);
  for (std::size_t i = 0; i < most; ++i) ev[i] = std::max(0.0, w(d - 1 - i));
  double total = 0, tail = 0;
  for (double v : ev) total += v;
  for (std::size_t i = k; i < most; ++i) tail += ev[i];
  mean_.assign(cov.mean.data(), cov.mean.data() + d);
  components_ = HostMatrix("pca_components", k, d);
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t j = 0; j < d; ++j) components_(c, j) = V(j, d - 1 - c);
  set_spectrum(std::move(ev), total, k, n, k < most ? tail / static_cast<double>(most - k) : 0.0);
}

void PCA::set_spectrum(std::vector<double> ev, double total, std::size_t k, std::size_t n,
                       double noise) {
  explained_variance_.assign(ev.begin(), ev.begin() + static_cast<std::ptrdiff_t>(k));
  explained_variance_ratio_.resize(k);
  singular_values_.resize(k);
  // Below d·ε of the largest, an eigenvalue of the covariance is rounding, not variance
  // (collinear columns gave 1.2e-16 beside 45, and whitened scores of noise × 10⁸).
  const double rounding = ev.empty() ? 0.0
                                     : ev[0] * std::numeric_limits<double>::epsilon() *
                                           static_cast<double>(components_.extent(1));
  for (std::size_t c = 0; c < k; ++c) {
    explained_variance_ratio_[c] = total > 0 ? ev[c] / total : 0.0;
    singular_values_[c] = std::sqrt(ev[c] * static_cast<double>(n - 1));
    if (params_.whiten && !(ev[c] > rounding))
      throw InvalidArgument(fmt::format(
          "PCA::fit: component {} has zero variance ({:.3g}, within rounding of 0 beside the "
          "first component's {:.3g}); whiten would divide by zero (ask for fewer components or "
          "leave whiten off)",
          c, ev[c], ev[0]));
  }
  noise_variance_ = noise;
  n_samples_ = n;
}

void PCA::flip(const std::vector<double>& signs) {
  for (std::size_t c = 0; c < components_.extent(0); ++c)
    for (std::size_t j = 0; j < components_.extent(1); ++j) components_(c, j) *= signs[c];
}

template <class MemorySpace>
void PCA::randomized(const array::DistMatrix<double, MemorySpace>& X, std::size_t k) {
  const std::size_t n = X.rows(), d = X.cols(), most = std::min(n, d);
  const array::ColumnStats stats = array::column_stats(X);
  impl::require_finite(stats, "PCA::fit");
  mean_.resize(d);
  double total = 0;  // Σ column variances (divisor n − 1)
  for (std::size_t j = 0; j < d; ++j) {
    mean_[j] = stats.columns[j].mean;
    total += stats.columns[j].std * stats.columns[j].std * static_cast<double>(n) /
             static_cast<double>(n - 1);
  }
  const std::size_t l = std::min(k + static_cast<std::size_t>(params_.oversamples), most);
  const int iterations = params_.power_iterations >= 0
                             ? params_.power_iterations
                             : (static_cast<double>(k) < 0.1 * static_cast<double>(most) ? 7 : 4);
  const CounterRng rng(params_.seed, 11);
  HostMatrix omega("pca_omega", d, l);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < l; ++j) omega(i, j) = rng.normal(i * l + j);
  const Centred<MemorySpace> C(X, mean_);
  auto Q = C.orthonormalise(C.times(omega));
  for (int q = 0; q < iterations; ++q) {
    const HostMatrix Z = orthonormal(C.chunk_sum(Q, true));  // (X − mean)ᵀ Q, d × l
    Q = C.orthonormalise(C.times(Z));
  }
  // B = Qᵀ(X − mean) (l × d), kept as Bt = Bᵀ; its SVD from the eigenvectors of BBᵀ.
  const HostMatrix Bt = C.chunk_sum(Q, true);
  HostMatrix BBt("pca_bbt", l, l), U("pca_u", l, l), V("pca_v", d, l);
  linalg::gemm(linalg::Op::transpose, linalg::Op::none, 1.0, Bt, Bt, 0.0, BBt);
  HostVector sigma2("pca_sigma2", l);
  eigh_of_finite(BBt, sigma2, U);  // ascending
  linalg::gemm(linalg::Op::none, linalg::Op::none, 1.0, Bt, U, 0.0, V);
  std::vector<double> ev(k);
  components_ = HostMatrix("pca_components", k, d);
  double head = 0;
  for (std::size_t c = 0; c < k; ++c) {
    const std::size_t col = l - 1 - c;
    const double s2 = std::max(0.0, sigma2(col));
    ev[c] = s2 / static_cast<double>(n - 1);
    head += ev[c];
    const double inv = s2 > 0 ? 1.0 / std::sqrt(s2) : 0.0;
    for (std::size_t j = 0; j < d; ++j) components_(c, j) = V(j, col) * inv;
  }
  set_spectrum(std::move(ev), total, k, n,
               k < most ? std::max(0.0, total - head) / static_cast<double>(most - k) : 0.0);
}

template <class MemorySpace>
PCA& PCA::fit_impl(const array::DistMatrix<double, MemorySpace>& X) {
  params_.validate();
  const std::size_t k = components_for(params_, X.rows(), X.cols());
  const bool randomized_solver =
      params_.solver == PcaSolver::randomized ||
      (params_.solver == PcaSolver::automatic && X.cols() > kCovarianceFeatures);
  if (randomized_solver) {
    randomized(X, k);
  } else {
    const array::Covariance cov = array::covariance(X, 1);
    // NaN and ±inf reach the covariance; only then look for the first bad row.
    if (!finite(cov.cov)) impl::require_finite(array::column_stats(X), "PCA::fit");
    from_covariance(cov, k);
  }
  SignScan scan(mean_, components_);
  scan.scan(X.local(), X.row_begin());
  flip(scan.signs(X.comm()));
  return *this;
}

PCA& PCA::fit(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows,
              std::uint64_t memory_limit) {
  params_.validate();
  if (params_.solver == PcaSolver::randomized)
    throw InvalidArgument(
        "PCA::fit: the randomized solver needs the data in memory; a streamed fit uses the "
        "covariance solver");
  const std::size_t k = components_for(params_, source.rows(), source.cols());
  const array::Covariance cov = array::covariance(comm, source, chunk_rows, 1, memory_limit);
  if (!finite(cov.cov)) {
    array::ColumnStatsOptions options;
    impl::require_finite(array::column_stats(comm, source, chunk_rows, options, memory_limit),
                         "PCA::fit");
  }
  from_covariance(cov, k);
  SignScan scan(mean_, components_);
  const array::ChunkGrid grid{source.rows(), chunk_rows};
  array::for_each_batch(comm, source, chunk_rows, memory_limit,
                        [&](const HostMatrix& rows, std::size_t first_chunk) {
                          scan.scan(rows, grid.chunk_begin(first_chunk));
                        });
  flip(scan.signs(comm));
  return *this;
}

PCA& PCA::fit(const array::DistMatrix<double, Kokkos::HostSpace>& X) { return fit_impl(X); }
#if defined(KOKKOS_ENABLE_CUDA)
PCA& PCA::fit(const array::DistMatrix<double, Kokkos::CudaSpace>& X) { return fit_impl(X); }
#endif
PCA& PCA::fit(const HostMatrix& X) { return fit_impl(array::whole(X)); }

HostMatrix PCA::transform(const HostMatrix& X) const {
  TESSERA_EXPECTS(fitted(), "PCA: the model is not fitted (call fit first)");
  const std::size_t d = components_.extent(1), k = components_.extent(0), n = X.extent(0);
  TESSERA_EXPECTS(X.extent(1) == d,
                  fmt::format("PCA::transform: {} columns, the model has {}", X.extent(1), d));
  HostMatrix centred(Kokkos::view_alloc(std::string("pca_centred"), Kokkos::WithoutInitializing), n,
                     d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) centred(i, j) = X(i, j) - mean_[j];
  HostMatrix Z("pca_scores", n, k);
  if (n) linalg::gemm(linalg::Op::none, linalg::Op::transpose, 1.0, centred, components_, 0.0, Z);
  if (params_.whiten)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < k; ++c) Z(i, c) /= std::sqrt(explained_variance_[c]);
  return Z;
}

HostMatrix PCA::inverse_transform(const HostMatrix& Z) const {
  TESSERA_EXPECTS(fitted(), "PCA: the model is not fitted (call fit first)");
  const std::size_t d = components_.extent(1), k = components_.extent(0), n = Z.extent(0);
  TESSERA_EXPECTS(Z.extent(1) == k, fmt::format("PCA::inverse_transform: {} columns, the model "
                                                "has {} components",
                                                Z.extent(1), k));
  HostMatrix scaled("pca_scaled", n, k);
  Kokkos::deep_copy(scaled, Z);
  if (params_.whiten)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < k; ++c) scaled(i, c) *= std::sqrt(explained_variance_[c]);
  HostMatrix X("pca_inverse", n, d);
  if (n) linalg::gemm(linalg::Op::none, linalg::Op::none, 1.0, scaled, components_, 0.0, X);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) X(i, j) += mean_[j];
  return X;
}

}  // namespace tessera::ml
