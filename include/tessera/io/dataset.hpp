#pragma once
/// @file
/// @brief Data specs as the `tessera` command takes them: files (CSV, libsvm, NPY),
/// the embedded `digits` set and synthetic generators (`blobs:n=...,seed=...`).

#include <memory>
#include <string>
#include <vector>

#include <tessera/io/chunk_source.hpp>
#include <tessera/io/generators.hpp>
#include <tessera/io/table.hpp>

namespace tessera::io {

/// @brief Options of `load_table`.
struct LoadOptions {
  /// "csv", "libsvm", "npy", or "" to tell from the file name.
  std::string format;
  /// CSV label column: -1 none, -2 last, >= 0 that column.
  int label_column = -1;
  /// NPY labels file (for .npy features).
  std::string labels_path;
  /// Raw binary files: columns per row (required) and element type name.
  std::size_t raw_cols = 0;
  std::string raw_type = "float64";
};

/// @brief Loads a data spec into host memory. Throws InvalidArgument for an unknown
/// spec or key, ParseError/IOError for bad files.
Table load_table(const std::string& spec, const LoadOptions& options = {});

/// @brief A chunk source over a data file that streams (CSV, NPY, raw binary) or over a
/// generator (rows made on demand), or null for a spec that does not (libsvm, `digits`). The CSV
/// label column, if any, is left out of the rows.
std::unique_ptr<ChunkSource> open_source(const std::string& spec, const LoadOptions& options = {});

/// @brief Whether a spec names a generator (blobs:..., classification:..., random:...).
bool is_generator_spec(const std::string& spec);

/// @brief Whether `open_source` streams the spec (CSV, NPY and raw files, generators),
/// its format told as `file_format` tells it.
/// @throws IOError when the spec names a folder.
bool can_stream(const std::string& spec, const std::string& format = "");

/// @brief The file format of a spec: `format` when given, else from the name's ending
/// (.csv, .libsvm/.svm, .npy, .bin/.raw → "raw"); "" when it cannot be told.
/// @throws IOError when the spec names a folder.
std::string file_format(const std::string& spec, const std::string& format = "");

/// @brief Rows, columns and whether a generator spec has labels.
struct GeneratorShape {
  std::size_t rows = 0;
  std::size_t cols = 0;
  bool labeled = false;
};
/// @throws InvalidArgument for a bad or non-generator spec.
GeneratorShape generator_shape(const std::string& spec);

/// @brief Generates rows row_begin.. (X.extent(0) of them) of a generator spec, on the
/// default execution space; y (labels) may be empty. The values depend only on the spec
/// and the global row: any split over ranks gives the same data.
void generate_rows(const std::string& spec, std::size_t row_begin, const DeviceMatrix& X,
                   const DeviceVector& y);

/// @brief The embedded handwritten digits (1797 × 64, labels 0–9).
Table digits();

/// @brief One entry of the data catalogue printed by `tessera datasets`.
struct DatasetInfo {
  std::string name;
  std::string shape;
  std::string description;
};
std::vector<DatasetInfo> dataset_catalog();

}  // namespace tessera::io
