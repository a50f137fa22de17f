#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <tessera/core/error.hpp>
#include <tessera/io/results.hpp>

namespace tessera::io {

void write_file_atomic(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IOError(path + ": cannot open for writing: " + std::strerror(errno));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw IOError(path + ": write failed: " + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw IOError(path + ": cannot rename into place: " + std::strerror(err));
  }
}

void write_json(const std::string& path, const nlohmann::json& value) {
  write_file_atomic(path, value.dump(2) + "\n");
}

std::string format_double(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buffer[32];
  const auto r = std::to_chars(buffer, buffer + sizeof(buffer), x);
  return std::string(buffer, r.ptr);
}

CsvWriter::CsvWriter(std::vector<std::string> header) : width_(header.size()) { row_text(header); }

CsvWriter& CsvWriter::row(const std::vector<double>& values) {
  std::vector<std::string> fields;
  fields.reserve(values.size());
  for (double v : values) fields.push_back(format_double(v));
  return row_text(fields);
}

CsvWriter& CsvWriter::row_text(const std::vector<std::string>& fields) {
  if (fields.size() != width_)
    throw InternalError("CsvWriter: row of " + std::to_string(fields.size()) +
                        " fields under a header of " + std::to_string(width_));
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) text_ += ',';
    text_ += fields[i];
  }
  text_ += '\n';
  return *this;
}

void make_directories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec || !std::filesystem::is_directory(path))
    throw IOError(path + ": cannot create folder: " + (ec ? ec.message() : "not a folder"));
}

}  // namespace tessera::io
