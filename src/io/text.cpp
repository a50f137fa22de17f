#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include <fast_float/fast_float.h>
#include <fmt/format.h>
#include <tessera/core/error.hpp>
#include <tessera/core/memory.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/readers.hpp>

namespace tessera::io {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(path + ": cannot open for reading: " + std::strerror(errno));
  std::error_code error;
  const auto bytes = std::filesystem::file_size(path, error);
  if (!error) require_host_memory(static_cast<double>(bytes), path + ": its bytes, read whole,");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw IOError(path + ": read failed");
  return buffer.str();
}

namespace {

// The UTF-8 byte-order mark that spreadsheet programs put at the start of a file: taken
// off the first line by both line readers (not looked for in every field).
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

std::string_view without_mark(std::string_view line) {
  if (line.substr(0, kByteOrderMark.size()) == kByteOrderMark)
    line.remove_prefix(kByteOrderMark.size());
  return line;
}

// Without surrounding blanks or a '\r'.
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// A number that fills the whole field, in double quotes or not (empty -> NaN).
bool parse_number(std::string_view field, double& value) {
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"')
    field = field.substr(1, field.size() - 2);
  if (field.empty()) {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const char* begin = field.data();
  if (*begin == '+') ++begin;  // fast_float rejects a leading '+'
  const auto result = fast_float::from_chars(begin, field.data() + field.size(), value);
  return result.ec == std::errc() && result.ptr == field.data() + field.size();
}

std::string shorten(std::string_view s) {
  return s.size() > 40 ? std::string(s.substr(0, 37)) + "..." : std::string(s);
}

// Whether the first content line (its fields at `columns`, line `number` of `name`) is a
// header: asked for, or (detect) a field is not a number. A field made of digits, signs,
// points and exponent letters only is a malformed number rather than a name ("1.5.5" would
// otherwise turn the first data row into column names): an error naming it.
bool header_line(CsvHeader mode, const std::vector<std::string_view>& fields,
                 const std::vector<long>& columns, const std::string& name, long number) {
  if (mode != CsvHeader::detect) return mode == CsvHeader::yes;
  bool header = false;
  for (std::size_t c = 0; c < fields.size(); ++c) {
    double ignored;
    const std::string_view f = fields[c];
    if (f.empty() || parse_number(f, ignored)) continue;
    const bool digits = f.find_first_of("0123456789") != std::string_view::npos;
    if (digits && f.find_first_not_of("0123456789+-.eE") == std::string_view::npos)
      throw ParseError(name, number, columns[c],
                       "field " + std::to_string(c + 1) + ": cannot read '" + shorten(f) +
                           "' as a number (nor is it a column name)");
    header = true;
  }
  return header;
}

struct Line {
  std::string_view text;
  long number;  // 1-based
};

// Lines that are not blank and not '#' comments.
std::vector<Line> content_lines(std::string_view text) {
  std::vector<Line> lines;
  long number = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    ++number;
    std::string_view line = text.substr(pos, end - pos);
    if (pos == 0) line = without_mark(line);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view t = trim(line);
    if (!t.empty() && t.front() != '#') lines.push_back({line, number});
    if (end == text.size()) break;
    pos = end + 1;
  }
  return lines;
}

// Splits on the delimiter, recording each field's 1-based start column.
void split(std::string_view line, char delimiter, std::vector<std::string_view>& fields,
           std::vector<long>& columns) {
  fields.clear();
  columns.clear();
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = std::min(line.find(delimiter, pos), line.size());
    fields.push_back(trim(line.substr(pos, end - pos)));
    columns.push_back(static_cast<long>(pos) + 1);
    if (end == line.size()) break;
    pos = end + 1;
  }
}

std::string unquote(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return std::string(s);
}

}  // namespace

Table read_csv(const std::string& path, const CsvOptions& options) {
  return parse_csv(read_text_file(path), path, options);
}

Table parse_csv(std::string_view text, const std::string& name, const CsvOptions& options) {
  const std::vector<Line> lines = content_lines(text);
  if (lines.empty()) throw ParseError(name + ": empty file (no data rows)");

  std::vector<std::string_view> fields;
  std::vector<long> columns;
  split(lines[0].text, options.delimiter, fields, columns);
  const std::size_t width = fields.size();

  const bool header = header_line(options.header, fields, columns, name, lines[0].number);
  std::vector<std::string> names;
  if (header)
    for (auto f : fields) names.push_back(unquote(f));
  const std::size_t first = header ? 1 : 0;
  const std::size_t n = lines.size() - first;
  if (n == 0) throw ParseError(name + ": no data rows after the header line");

  int label = options.label_column;
  if (label == -2) label = static_cast<int>(width) - 1;
  if (label >= static_cast<int>(width) || label < -1)
    throw InvalidArgument(name + ": label column " + std::to_string(options.label_column) +
                          " is outside the " + std::to_string(width) + " columns of the file");
  if (label >= 0 && width < 2)
    throw ParseError(name + ": a labelled file needs at least 2 columns, found 1");
  const std::size_t features = label >= 0 ? width - 1 : width;

  // Sized from the first line before the others are read: refused here where it cannot be
  // held (a wide first line over many short ones asked for terabytes).
  require_host_memory(static_cast<double>(n) * static_cast<double>(width) * 8.0,
                      fmt::format("{}: {} rows × {} columns (as its first line)", name, n, width));
  Table table;
  table.source = name;
  table.X =
      HostMatrix(Kokkos::view_alloc(std::string("csv"), Kokkos::WithoutInitializing), n, features);
  if (label >= 0) {
    table.y =
        HostVector(Kokkos::view_alloc(std::string("csv_labels"), Kokkos::WithoutInitializing), n);
    table.labeled = true;
    if (!names.empty()) names.erase(names.begin() + label);
  }
  table.columns = std::move(names);

  for (std::size_t r = 0; r < n; ++r) {
    const Line& line = lines[first + r];
    split(line.text, options.delimiter, fields, columns);
    if (fields.size() != width)
      throw ParseError(name, line.number, 0,
                       "expected " + std::to_string(width) + " fields (as in line " +
                           std::to_string(lines[0].number) + "), found " +
                           std::to_string(fields.size()));
    std::size_t out = 0;
    for (std::size_t c = 0; c < width; ++c) {
      double value;
      if (!parse_number(fields[c], value))
        throw ParseError(name, line.number, columns[c],
                         "field " + std::to_string(c + 1) + ": cannot read '" + shorten(fields[c]) +
                             "' as a number");
      if (static_cast<int>(c) == label)
        table.y(r) = value;
      else
        table.X(r, out++) = value;
    }
  }
  return table;
}

namespace {

// Streams a CSV file: one pass at opening indexes every `stride`-th data row (byte
// offset and line number) and settles header, width and row count; read() then seeks
// to the nearest indexed row and parses only the rows asked for, with the same parser
// and the same file:line:column errors as read_csv.
class CsvSource final : public ChunkSource {
 public:
  CsvSource(const std::string& path, const CsvOptions& options)
      : path_(path), options_(options), in_(path, std::ios::binary) {
    if (!in_) throw IOError(path + ": cannot open for reading: " + std::strerror(errno));
    index();
  }
  std::size_t rows() const override { return rows_; }
  std::size_t cols() const override { return features_; }

  void read(std::size_t begin, const HostMatrix& block) override {
    const std::size_t n = block.extent(0);
    if (block.extent(1) != features_ || begin + n > rows_)
      throw InvalidArgument(path_ + ": rows " + std::to_string(begin) + ".." +
                            std::to_string(begin + n) + " x " + std::to_string(block.extent(1)) +
                            " columns asked of a " + std::to_string(rows_) + " x " +
                            std::to_string(features_) + " CSV file");
    const Mark& mark = marks_[begin / stride];
    std::size_t row = begin / stride * stride;
    std::size_t filled = 0;
    std::vector<std::string_view> fields;
    std::vector<long> columns;
    scan_lines(mark.offset, mark.line, [&](std::string_view line, long number, std::uint64_t) {
      if (!is_content(line)) return true;
      if (row++ < begin) return true;
      split(line, options_.delimiter, fields, columns);
      if (fields.size() != width_)
        throw ParseError(path_, number, 0,
                         "expected " + std::to_string(width_) + " fields (as in line " +
                             std::to_string(first_line_) + "), found " +
                             std::to_string(fields.size()));
      std::size_t out = 0;
      for (std::size_t c = 0; c < width_; ++c) {
        if (static_cast<int>(c) == label_) continue;
        double value;
        if (!parse_number(fields[c], value))
          throw ParseError(path_, number, columns[c],
                           "field " + std::to_string(c + 1) + ": cannot read '" +
                               shorten(fields[c]) + "' as a number");
        block(filled, out++) = value;
      }
      return ++filled < n;
    });
    if (filled < n)
      throw IOError(path_ + ": the file ended (or changed) while reading rows " +
                    std::to_string(begin) + ".." + std::to_string(begin + n) + "; found " +
                    std::to_string(filled) + " of them");
  }

 private:
  struct Mark {
    std::uint64_t offset;  // byte offset of the line holding the data row
    long line;             // its 1-based line number
  };
  static constexpr std::size_t stride = 1024;
  static constexpr std::size_t block_bytes = std::size_t(8) << 20;

  static bool is_content(std::string_view line) {
    const std::string_view t = trim(line);
    return !t.empty() && t.front() != '#';
  }

  // Calls on_line(text without '\n' or '\r', line number, byte offset of the line) for
  // each line from `offset` until it returns false or the file ends.
  template <class F>
  void scan_lines(std::uint64_t offset, long line, F&& on_line) {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    std::string carry;
    std::vector<char> buffer(block_bytes);
    const auto emit = [&](std::string_view text) {
      const std::uint64_t at = offset;
      offset += text.size() + 1;
      if (at == 0) text = without_mark(text);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      return on_line(text, line++, at);
    };
    while (true) {
      in_.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto got = static_cast<std::size_t>(in_.gcount());
      if (got == 0) break;
      const std::string_view data(buffer.data(), got);
      std::size_t pos = 0;
      for (std::size_t end = data.find('\n'); end != std::string_view::npos;
           end = data.find('\n', pos)) {
        bool more;
        if (carry.empty()) {
          more = emit(data.substr(pos, end - pos));
        } else {
          carry.append(data.substr(pos, end - pos));
          more = emit(carry);
          carry.clear();
        }
        if (!more) return;
        pos = end + 1;
      }
      carry.append(data.substr(pos));
      if (in_.bad()) throw IOError(path_ + ": read failed");
    }
    if (!carry.empty()) emit(carry);
  }

  void index() {
    bool first = true;
    std::vector<std::string_view> fields;
    std::vector<long> columns;
    scan_lines(0, 1, [&](std::string_view line, long number, std::uint64_t offset) {
      if (!is_content(line)) return true;
      if (first) {
        first = false;
        first_line_ = number;
        split(line, options_.delimiter, fields, columns);
        width_ = fields.size();
        if (header_line(options_.header, fields, columns, path_, number)) return true;
      }
      if (rows_ % stride == 0) marks_.push_back({offset, number});
      ++rows_;
      return true;
    });
    if (first) throw ParseError(path_ + ": empty file (no data rows)");
    if (rows_ == 0) throw ParseError(path_ + ": no data rows after the header line");
    label_ = options_.label_column == -2 ? static_cast<int>(width_) - 1 : options_.label_column;
    if (label_ >= static_cast<int>(width_) || label_ < -1)
      throw InvalidArgument(path_ + ": label column " + std::to_string(options_.label_column) +
                            " is outside the " + std::to_string(width_) + " columns of the file");
    features_ = label_ >= 0 ? width_ - 1 : width_;
  }

  std::string path_;
  CsvOptions options_;
  std::ifstream in_;
  std::vector<Mark> marks_;
  std::size_t rows_ = 0, width_ = 0, features_ = 0;
  long first_line_ = 0;
  int label_ = -1;
};

}  // namespace

std::unique_ptr<ChunkSource> open_csv_source(const std::string& path, const CsvOptions& options) {
  return std::make_unique<CsvSource>(path, options);
}

Table read_libsvm(const std::string& path, std::size_t n_features) {
  return parse_libsvm(read_text_file(path), path, n_features);
}

Table parse_libsvm(std::string_view text, const std::string& name, std::size_t n_features) {
  struct Entry {
    std::size_t row, col;
    double value;
  };
  std::vector<Entry> entries;
  std::vector<double> labels;
  std::size_t max_index = 0;
  for (const Line& line : content_lines(text)) {
    std::string_view body = line.text;
    if (const auto hash = body.find('#'); hash != std::string_view::npos)
      body = body.substr(0, hash);
    std::size_t pos = 0;
    auto next_token = [&](long& column) -> std::string_view {
      while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
      const std::size_t start = pos;
      while (pos < body.size() && body[pos] != ' ' && body[pos] != '\t') ++pos;
      column = static_cast<long>(start) + 1;
      return trim(body.substr(start, pos - start));
    };
    long column = 0;
    const std::string_view label_text = next_token(column);
    double label;
    if (!parse_number(label_text, label) || label_text.empty())
      throw ParseError(name, line.number, column,
                       "cannot read label '" + shorten(label_text) + "' as a number");
    labels.push_back(label);
    std::size_t previous = 0;
    for (std::string_view token = next_token(column); !token.empty(); token = next_token(column)) {
      const auto colon = token.find(':');
      if (colon == std::string_view::npos)
        throw ParseError(name, line.number, column,
                         "expected index:value, found '" + shorten(token) + "'");
      const std::string_view index_text = token.substr(0, colon);
      std::size_t index = 0;
      const auto r =
          std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
      if (r.ec != std::errc() || r.ptr != index_text.data() + index_text.size() || index == 0)
        throw ParseError(name, line.number, column,
                         "feature index '" + shorten(index_text) +
                             "' is not a positive integer (indices are 1-based)");
      if (index <= previous)
        throw ParseError(name, line.number, column,
                         "feature index " + std::to_string(index) + " after " +
                             std::to_string(previous) + ": indices must be ascending");
      previous = index;
      double value;
      const std::string_view value_text = token.substr(colon + 1);
      if (value_text.empty() || !parse_number(value_text, value))
        throw ParseError(name, line.number, column + static_cast<long>(colon) + 1,
                         "cannot read value '" + shorten(value_text) + "' as a number");
      entries.push_back({labels.size() - 1, index - 1, value});
      max_index = std::max(max_index, index);
    }
  }
  if (labels.empty()) throw ParseError(name + ": empty file (no data rows)");
  if (n_features && max_index > n_features)
    throw ParseError(name + ": feature index " + std::to_string(max_index) + " exceeds the " +
                     std::to_string(n_features) + " features requested");
  const std::size_t cols = n_features ? n_features : max_index;
  // held dense: a large feature index (10^9 in a text-classification file) would be zeroed
  // row by row until the kernel killed the process
  require_host_memory(static_cast<double>(labels.size()) * static_cast<double>(cols) * 8.0,
                      fmt::format("{}: the data is held dense: {} rows × {} features (the "
                                  "largest index)",
                                  name, labels.size(), cols));
  Table table;
  table.source = name;
  table.X = HostMatrix("libsvm", labels.size(), cols);
  table.y = HostVector(
      Kokkos::view_alloc(std::string("libsvm_labels"), Kokkos::WithoutInitializing), labels.size());
  table.labeled = true;
  for (std::size_t i = 0; i < labels.size(); ++i) table.y(i) = labels[i];
  for (const Entry& e : entries) table.X(e.row, e.col) = e.value;
  return table;
}

}  // namespace tessera::io
