#pragma once
/// @file
/// @brief Chunk sources: rows of a data set read (or generated) block by block, so data
/// larger than memory can be reduced at I/O speed.

#include <cstddef>
#include <memory>
#include <string>

#include <tessera/io/table.hpp>

namespace tessera::io {

/// @brief Something that yields rows [begin, begin + n) of a rows × cols float64 matrix.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  virtual std::size_t rows() const = 0;
  virtual std::size_t cols() const = 0;
  /// @brief Fills `block` (n × cols, host memory) with rows begin .. begin + n - 1.
  /// @throws IOError / ParseError naming the file.
  virtual void read(std::size_t begin, const HostMatrix& block) = 0;
};

/// @brief A chunk source over an .npy file (float64/float32/int64/int32/uint8, C or
/// Fortran order, 1-D read as one column): reads only the rows asked for.
std::unique_ptr<ChunkSource> open_npy_source(const std::string& path);

}  // namespace tessera::io
