#pragma once
/// @file
/// @brief NumPy `.npy` files: float64/float32/int32/int64/uint8, C or Fortran order,
/// read as float64; written as little-endian float64 in C order.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tessera/io/table.hpp>

namespace tessera::io {

/// @brief The parsed header of an .npy file.
struct NpyHeader {
  char kind = 'f';             ///< 'f' float, 'i' signed int, 'u' unsigned int
  std::size_t item_size = 8;   ///< bytes per element
  bool fortran_order = false;  ///< column-major data
  std::vector<std::size_t> shape;
  std::size_t data_offset = 0;  ///< bytes from the file start to the data

  std::size_t count() const {
    std::size_t n = 1;
    for (auto s : shape) n *= s;
    return n;
  }
};

/// @brief Parses the header of `path` (checks magic, version, dtype, shape, size).
NpyHeader read_npy_header(const std::string& path);

/// @brief A 1-D or 2-D array as a row-major float64 matrix (1-D gives n × 1).
HostMatrix read_npy_matrix(const std::string& path);
/// @brief A 1-D (or n × 1) array as a vector.
HostVector read_npy_vector(const std::string& path);

/// @brief Writes a matrix / vector as float64 .npy, atomically (temp name + rename).
void write_npy(const std::string& path, const HostMatrix& X);
void write_npy(const std::string& path, const HostVector& v);

}  // namespace tessera::io
