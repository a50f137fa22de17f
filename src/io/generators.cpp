#include <tessera/core/error.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/io/generators.hpp>

namespace tessera::io {

namespace {

// Streams of the counter-based generator: one for model parameters (centres), one for
// per-sample noise, so that changing n does not move the centres.
constexpr std::uint64_t stream_model = 0;
constexpr std::uint64_t stream_samples = 1;

void check_block(const char* who, std::size_t n, std::size_t features, std::size_t row_begin,
                 const DeviceMatrix& X, const DeviceVector& y) {
  const std::string prefix = std::string("tessera::io::") + who + ": ";
  TESSERA_EXPECTS(X.extent(1) == features, prefix + "X has " + std::to_string(X.extent(1)) +
                                               " columns, the spec has " +
                                               std::to_string(features) + " features");
  TESSERA_EXPECTS(row_begin + X.extent(0) <= n, prefix + "rows " + std::to_string(row_begin) +
                                                    ".." + std::to_string(row_begin + X.extent(0)) +
                                                    " exceed n = " + std::to_string(n));
  TESSERA_EXPECTS(y.extent(0) == 0 || y.extent(0) == X.extent(0),
                  prefix + "y must be empty or have one entry per row of X");
}

}  // namespace

// Kernel launchers keep external linkage (nvcc's rule for extended lambdas).
namespace detail {

// Shared by blobs and classification: x = centre(label) + scale * noise.
void generate_gaussian_classes(std::uint64_t seed, std::size_t groups, double low, double high,
                               double scale, std::size_t row_begin, const DeviceMatrix& X,
                               const DeviceVector& y) {
  const std::size_t features = X.extent(1);
  const CounterRng model(seed, stream_model), samples(seed, stream_samples);
  const bool labels = y.extent(0) > 0;
  Kokkos::parallel_for(
      "tessera::generate_gaussian_classes",
      Kokkos::MDRangePolicy<Kokkos::Rank<2>>({0, 0}, {X.extent(0), features}),
      KOKKOS_LAMBDA(const std::size_t r, const std::size_t j) {
        const std::uint64_t row = row_begin + r;
        const std::uint64_t group = row % groups;
        const double centre = low + (high - low) * model.uniform(group * features + j);
        X(r, j) = centre + scale * samples.normal(row * features + j);
        if (labels && j == 0) y(r) = static_cast<double>(group);
      });
}

}  // namespace detail

void generate_blobs(const BlobsSpec& spec, std::size_t row_begin, const DeviceMatrix& X,
                    const DeviceVector& y) {
  TESSERA_EXPECTS(spec.centers >= 1, "tessera::io::generate_blobs: centers must be >= 1");
  TESSERA_EXPECTS(spec.std >= 0, "tessera::io::generate_blobs: std must be >= 0");
  check_block("generate_blobs", spec.n, spec.features, row_begin, X, y);
  detail::generate_gaussian_classes(spec.seed, spec.centers, -spec.box, spec.box, spec.std,
                                    row_begin, X, y);
}

void generate_classification(const ClassificationSpec& spec, std::size_t row_begin,
                             const DeviceMatrix& X, const DeviceVector& y) {
  TESSERA_EXPECTS(spec.classes >= 2, "tessera::io::generate_classification: classes must be >= 2");
  TESSERA_EXPECTS(spec.sep > 0, "tessera::io::generate_classification: sep must be > 0");
  check_block("generate_classification", spec.n, spec.features, row_begin, X, y);
  detail::generate_gaussian_classes(spec.seed, spec.classes, -2 * spec.sep, 2 * spec.sep, 1.0,
                                    row_begin, X, y);
}

void generate_random(const RandomSpec& spec, std::size_t row_begin, const DeviceMatrix& X) {
  check_block("generate_random", spec.rows, spec.cols, row_begin, X, DeviceVector());
  const std::size_t cols = spec.cols;
  const CounterRng rng(spec.seed, stream_samples);
  Kokkos::parallel_for(
      "tessera::generate_random",
      Kokkos::MDRangePolicy<Kokkos::Rank<2>>({0, 0}, {X.extent(0), cols}),
      KOKKOS_LAMBDA(const std::size_t r, const std::size_t j) {
        X(r, j) = rng.uniform((row_begin + r) * cols + j);
      });
}

}  // namespace tessera::io
