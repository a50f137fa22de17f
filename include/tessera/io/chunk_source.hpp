#pragma once
/// @file
/// @brief Chunk sources: rows of a data set read (or generated) block by block, so data
/// larger than memory can be reduced at I/O speed.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <tessera/io/readers.hpp>
#include <tessera/io/table.hpp>

namespace tessera::io {

/// @brief Rows of a source seen in place (see ChunkSource::map): `rows` is valid while
/// `mapping` is held.
struct MappedRows {
  HostMatrix rows;
  std::shared_ptr<const void> mapping;
};

/// @brief Something that yields rows [begin, begin + n) of a rows × cols float64 matrix.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  virtual std::size_t rows() const = 0;
  virtual std::size_t cols() const = 0;
  /// @brief Fills `block` (n × cols, host memory) with rows begin .. begin + n - 1.
  /// @throws IOError / ParseError naming the file.
  virtual void read(std::size_t begin, const HostMatrix& block) = 0;
  /// @brief Whether read() may run on another host thread while the caller launches
  /// Kokkos kernels (plain file reading may; a source that launches kernels may not).
  virtual bool reads_in_background() const { return true; }
  /// @brief Rows begin .. begin + n - 1 where they already are, without a copy: a
  /// copy-on-write memory map of a file that holds them as native float64 rows (writes
  /// change the caller's pages, never the file). Empty when the source cannot (text,
  /// element conversion, generators): read() them instead.
  virtual std::optional<MappedRows> map(std::size_t /*begin*/, std::size_t /*n*/) {
    return std::nullopt;
  }
};

/// @brief A chunk source over an .npy file (float64/float32/int64/int32/uint8, C or
/// Fortran order, 1-D read as one column): reads only the rows asked for.
std::unique_ptr<ChunkSource> open_npy_source(const std::string& path);

/// @brief A chunk source over a numeric CSV file (same rules and errors as `read_csv`;
/// the label column, if any, is left out). Opening scans the file once to index every
/// 1024th row; a read then parses only the rows asked for.
std::unique_ptr<ChunkSource> open_csv_source(const std::string& path,
                                             const CsvOptions& options = {});

/// @brief Element types of raw binary files (little-endian, no header).
enum class RawType { float64, float32, int64, int32, uint8 };

/// @brief Parses "float64", "float32", "int64", "int32", "uint8" (also NumPy's "f8",
/// "f4", "i8", "i4", "u1"); throws InvalidArgument naming the accepted names.
RawType parse_raw_type(const std::string& name);

/// @brief A chunk source over a raw binary file of row-major `cols`-wide rows of `type`
/// (what `ndarray.tofile` writes). Throws ParseError when the file size is not a whole
/// number of rows.
std::unique_ptr<ChunkSource> open_raw_source(const std::string& path, std::size_t cols,
                                             RawType type = RawType::float64);

}  // namespace tessera::io
