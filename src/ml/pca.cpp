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
#include <tessera/linalg/linalg.hpp>

#include "finite.hpp"

namespace tessera::ml {

PcaSolver parse_pca_solver(const std::string& name) {
  if (name == "auto") return PcaSolver::automatic;
  if (name == "covariance") return PcaSolver::covariance;
  if (name == "randomized")
    throw InvalidArgument("PCA solver 'randomized' is not available yet (use auto or covariance)");
  throw InvalidArgument("unknown PCA solver '" + name + "' (auto, covariance)");
}

void PCAParams::validate() const {
  if (n_components == 0 || n_components < -1)
    throw InvalidArgument(
        fmt::format("n_components must be >= 1 (or -1 for all), got {}", n_components));
}

PCA::PCA(PCAParams params) : params_(std::move(params)) { params_.validate(); }

namespace {

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
    const std::size_t n = rows.extent(0), k = components_.extent(0);
    if (n == 0) return;
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

bool finite(const HostMatrix& M) {
  for (std::size_t i = 0; i < M.extent(0); ++i)
    for (std::size_t j = 0; j < M.extent(1); ++j)
      if (!std::isfinite(M(i, j))) return false;
  return true;
}

}  // namespace

void PCA::from_covariance(const array::Covariance& cov, std::size_t k) {
  const std::size_t n = cov.rows, d = cov.cov.extent(0), most = std::min(n, d);
  HostVector w("pca_eigenvalues", d);
  HostMatrix V("pca_eigenvectors", d, d);
  linalg::eigh(cov.cov, w, V);  // ascending
  std::vector<double> ev(most);
  for (std::size_t i = 0; i < most; ++i) ev[i] = std::max(0.0, w(d - 1 - i));
  double total = 0;
  for (double v : ev) total += v;
  mean_.assign(cov.mean.data(), cov.mean.data() + d);
  components_ = HostMatrix("pca_components", k, d);
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t j = 0; j < d; ++j) components_(c, j) = V(j, d - 1 - c);
  explained_variance_.assign(ev.begin(), ev.begin() + static_cast<std::ptrdiff_t>(k));
  explained_variance_ratio_.resize(k);
  singular_values_.resize(k);
  for (std::size_t c = 0; c < k; ++c) {
    explained_variance_ratio_[c] = total > 0 ? ev[c] / total : 0.0;
    singular_values_[c] = std::sqrt(ev[c] * static_cast<double>(n - 1));
    if (params_.whiten && !(ev[c] > 0))
      throw InvalidArgument(fmt::format(
          "PCA::fit: component {} has zero variance; whiten would divide by zero (ask for fewer "
          "components or leave whiten off)",
          c));
  }
  noise_variance_ = 0;
  if (k < most) {
    for (std::size_t i = k; i < most; ++i) noise_variance_ += ev[i];
    noise_variance_ /= static_cast<double>(most - k);
  }
  n_samples_ = n;
}

void PCA::flip(const std::vector<double>& signs) {
  for (std::size_t c = 0; c < components_.extent(0); ++c)
    for (std::size_t j = 0; j < components_.extent(1); ++j) components_(c, j) *= signs[c];
}

template <class MemorySpace>
PCA& PCA::fit_impl(const array::DistMatrix<double, MemorySpace>& X) {
  params_.validate();
  const std::size_t k = components_for(params_, X.rows(), X.cols());
  const array::Covariance cov = array::covariance(X, 1);
  // NaN and ±inf reach the covariance; only then look for the first bad row.
  if (!finite(cov.cov)) impl::require_finite(array::column_stats(X), "PCA::fit");
  from_covariance(cov, k);
  SignScan scan(mean_, components_);
  scan.scan(X.local(), X.row_begin());
  flip(scan.signs(X.comm()));
  return *this;
}

PCA& PCA::fit(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows,
              std::uint64_t memory_limit) {
  params_.validate();
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
