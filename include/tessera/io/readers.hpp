#pragma once
/// @file
/// @brief Readers for numeric CSV and libsvm/svmlight text. Errors are
/// tessera::ParseError / IOError with messages `file:line:column: what`.

#include <string>
#include <string_view>

#include <tessera/io/table.hpp>

namespace tessera::io {

/// @brief Whether the first line of a CSV file is a header.
enum class CsvHeader { detect, yes, no };

/// @brief Options of `read_csv`.
struct CsvOptions {
  /// Label column: -1 none, -2 the last column, >= 0 that column (0-based).
  int label_column = -1;
  CsvHeader header = CsvHeader::detect;
  char delimiter = ',';
};

/// @brief Reads a numeric CSV file. Blank lines and lines starting with '#' are
/// skipped; an empty field is NaN; `nan`/`inf` are accepted.
Table read_csv(const std::string& path, const CsvOptions& options = {});
/// @brief Parses CSV text; `name` is used in error messages.
Table parse_csv(std::string_view text, const std::string& name, const CsvOptions& options = {});

/// @brief Reads svmlight/libsvm text (`label idx:val ...`, 1-based ascending indices)
/// into a dense Table with labels. `n_features` 0 means the largest index seen.
Table read_libsvm(const std::string& path, std::size_t n_features = 0);
Table parse_libsvm(std::string_view text, const std::string& name, std::size_t n_features = 0);

/// @brief Whole file as a string; IOError naming the file when it cannot be read.
std::string read_text_file(const std::string& path);

}  // namespace tessera::io
