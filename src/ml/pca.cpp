#include <tessera/ml/pca.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <tessera/array/column_stats.hpp>
#include <tessera/array/reductions.hpp>
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

// scikit-learn's svd_flip (u-based) on the covariance solver's components: the sign that
// makes each component's largest-magnitude score positive (the first such row on ties).
template <class MemorySpace>
std::vector<double> flip_signs(const array::DistMatrix<double, MemorySpace>& X,
                               const std::vector<double>& mean, const HostMatrix& components) {
  const std::size_t k = components.extent(0), d = components.extent(1);
  const std::size_t n = X.local().extent(0);
  using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>;
  const auto C = Kokkos::create_mirror_view_and_copy(MemorySpace(), components);
  Matrix scores(Kokkos::view_alloc(std::string("pca_scores"), Kokkos::WithoutInitializing), n, k);
  if (n) linalg::gemm(linalg::Op::none, linalg::Op::transpose, 1.0, X.local(), C, 0.0, scores);
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), scores);
  std::vector<double> shift(k, 0.0), signs(k, 1.0);
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t j = 0; j < d; ++j) shift[c] += mean[j] * components(c, j);
  for (std::size_t c = 0; c < k; ++c) {
    // the largest positive and the most negative score, each at its first row
    ValueLoc hi{-1.0, -1}, lo{1.0, -1};
    for (std::size_t r = 0; r < n; ++r) {
      const double s = host(r, c) - shift[c];
      const auto row = static_cast<std::int64_t>(X.row_begin() + r);
      if (s > hi.value || hi.index < 0) hi = {s, row};
      if (s < lo.value || lo.index < 0) lo = {s, row};
    }
    if (n == 0)
      hi = {-std::numeric_limits<double>::infinity(), -1},
      lo = {std::numeric_limits<double>::infinity(), -1};
    hi = X.comm().maxloc(hi);
    lo = X.comm().minloc(lo);
    const double up = std::abs(hi.value), down = std::abs(lo.value);
    const bool negative = down > up || (down == up && lo.index < hi.index && lo.value < 0);
    signs[c] = negative ? -1.0 : 1.0;
  }
  return signs;
}

}  // namespace

template <class MemorySpace>
PCA& PCA::fit_impl(const array::DistMatrix<double, MemorySpace>& X) {
  params_.validate();
  const std::size_t n = X.rows(), d = X.cols();
  if (n < 2) throw InvalidArgument(fmt::format("PCA::fit: needs at least 2 rows, got {}", n));
  TESSERA_EXPECTS(d >= 1, "PCA::fit: the data has no columns");
  const std::size_t most = std::min(n, d);
  const std::size_t k =
      params_.n_components < 0 ? most : static_cast<std::size_t>(params_.n_components);
  if (k > most)
    throw InvalidArgument(fmt::format(
        "PCA::fit: n_components = {} is more than min(rows, features) = min({}, {})", k, n, d));
  const array::Covariance cov = array::covariance(X, 1);
  // NaN and ±inf reach the covariance; only then find the first bad row.
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j)
      if (!std::isfinite(cov.cov(i, j))) impl::require_finite(array::column_stats(X), "PCA::fit");
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
  const std::vector<double> signs = flip_signs(X, mean_, components_);
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t j = 0; j < d; ++j) components_(c, j) *= signs[c];
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
