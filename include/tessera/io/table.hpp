#pragma once
/// @file
/// @brief `Table`: a data set read into host memory (features, optional labels).

#include <string>
#include <vector>

#include <Kokkos_Core.hpp>

namespace tessera {

/// Row-major matrix in host memory (what readers produce).
using HostMatrix = Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace>;
/// Vector in host memory.
using HostVector = Kokkos::View<double*, Kokkos::HostSpace>;

/// @brief Features X (rows × columns) and, for supervised data, labels y.
struct Table {
  HostMatrix X;
  HostVector y;  ///< labels (extent rows()) when `labeled`
  bool labeled = false;
  std::vector<std::string> columns;  ///< feature names (from a header, else empty)
  std::string source;                ///< file name or dataset spec, for messages

  std::size_t rows() const { return X.extent(0); }
  std::size_t cols() const { return X.extent(1); }
  bool has_labels() const { return labeled; }
};

}  // namespace tessera
