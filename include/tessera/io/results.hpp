#pragma once
/// @file
/// @brief Result files: written whole or not at all (temp name + rename), numbers with
/// round-trip precision.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::io {

/// @brief Writes `content` to `path` atomically: a temporary file in the same folder,
/// then rename. Throws IOError naming the path.
void write_file_atomic(const std::string& path, std::string_view content);

/// @brief Writes JSON (2-space indent, round-trip doubles; NaN/Inf written as null).
void write_json(const std::string& path, const nlohmann::json& value);

/// @brief Shortest decimal that reads back as exactly `x` ("nan", "inf", "-inf" otherwise).
std::string format_double(double x);

/// @brief A CSV file built in memory: one header line, then rows.
class CsvWriter {
 public:
  explicit CsvWriter(std::vector<std::string> header);
  /// Appends a row; its length must match the header.
  CsvWriter& row(const std::vector<double>& values);
  /// Appends a row of already formatted fields.
  CsvWriter& row_text(const std::vector<std::string>& fields);
  const std::string& text() const { return text_; }
  void write(const std::string& path) const { write_file_atomic(path, text_); }

 private:
  std::size_t width_;
  std::string text_;
};

/// @brief Creates a folder and its parents; IOError if it cannot.
void make_directories(const std::string& path);

}  // namespace tessera::io
