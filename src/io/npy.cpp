#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include <tessera/core/error.hpp>
#include <tessera/core/memory.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/npy.hpp>
#include <tessera/io/results.hpp>

namespace tessera::io {

namespace {

std::uint64_t file_size(std::ifstream& in) {
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0, std::ios::beg);
  return size;
}

NpyHeader parse_header(std::ifstream& in, const std::string& path) {
  const std::uint64_t size = file_size(in);
  unsigned char prefix[10];
  if (size < 10 || !in.read(reinterpret_cast<char*>(prefix), 10))
    throw ParseError(path + ": not an .npy file (shorter than the 10-byte preamble)");
  if (std::memcmp(prefix, "\x93NUMPY", 6) != 0)
    throw ParseError(path + ": not an .npy file (wrong magic string)");
  const int major = prefix[6];
  std::size_t header_length = 0, preamble = 10;
  if (major == 1) {
    header_length = prefix[8] | (prefix[9] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char extra[2];
    if (!in.read(reinterpret_cast<char*>(extra), 2))
      throw ParseError(path + ": truncated .npy preamble");
    header_length = prefix[8] | (prefix[9] << 8) | (extra[0] << 16) |
                    (static_cast<std::size_t>(extra[1]) << 24);
    preamble = 12;
  } else {
    throw ParseError(path + ": unsupported .npy format version " + std::to_string(major));
  }
  if (preamble + header_length > size)
    throw ParseError(path + ": truncated .npy header (" + std::to_string(header_length) +
                     " bytes announced, " + std::to_string(size - preamble) + " present)");
  std::string header(header_length, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_length));

  NpyHeader h;
  h.data_offset = preamble + header_length;
  // The header is a Python dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4),
  // }
  const auto value_of = [&](const std::string& key) -> std::string_view {
    const auto k = header.find("'" + key + "'");
    if (k == std::string::npos) throw ParseError(path + ": .npy header has no '" + key + "' entry");
    auto v = header.find(':', k);
    if (v == std::string::npos)
      throw ParseError(path + ": malformed .npy header near '" + key + "'");
    ++v;
    while (v < header.size() && header[v] == ' ') ++v;
    return std::string_view(header).substr(v);
  };
  std::string_view descr = value_of("descr");
  if (descr.size() < 4 || (descr[0] != '\'' && descr[0] != '"'))
    throw ParseError(path + ": .npy 'descr' is not a string");
  descr = descr.substr(1, descr.find(descr[0], 1) - 1);  // e.g. <f8
  const char order = descr.empty() ? '?' : descr[0];
  h.kind = descr.size() > 1 ? descr[1] : '?';
  h.item_size = 0;
  for (std::size_t i = 2; i < descr.size() && std::isdigit(static_cast<unsigned char>(descr[i]));
       ++i)
    h.item_size = h.item_size * 10 + static_cast<std::size_t>(descr[i] - '0');
  const bool ok_type = (h.kind == 'f' && (h.item_size == 4 || h.item_size == 8)) ||
                       (h.kind == 'i' && (h.item_size == 4 || h.item_size == 8)) ||
                       (h.kind == 'u' && h.item_size == 1);
  if (!ok_type || (order != '<' && order != '>' && order != '|' && order != '='))
    throw ParseError(path + ": unsupported .npy dtype '" + std::string(descr) +
                     "' (float64, float32, int64, int32, uint8 are read)");
  if (order == '>' && h.item_size > 1)
    throw ParseError(path + ": big-endian .npy data is not supported");
  const std::string_view fortran = value_of("fortran_order");
  if (fortran.rfind("True", 0) == 0)
    h.fortran_order = true;
  else if (fortran.rfind("False", 0) == 0)
    h.fortran_order = false;
  else
    throw ParseError(path + ": .npy 'fortran_order' is neither True nor False");
  std::string_view shape = value_of("shape");
  if (shape.empty() || shape[0] != '(' || shape.find(')') == std::string_view::npos)
    throw ParseError(path + ": .npy 'shape' is not a tuple");
  shape = shape.substr(1, shape.find(')') - 1);
  std::size_t dim = 0;
  bool in_number = false;
  for (char c : shape) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      dim = dim * 10 + static_cast<std::size_t>(c - '0');
      in_number = true;
    } else if (c == ',' || c == ' ') {
      if (in_number) h.shape.push_back(dim);
      dim = 0;
      in_number = false;
    } else {
      throw ParseError(path + ": .npy 'shape' has a non-integer entry");
    }
  }
  if (in_number) h.shape.push_back(dim);
  if (h.shape.empty() || h.shape.size() > 2)
    throw ParseError(path + ": .npy array has " + std::to_string(h.shape.size()) +
                     " dimensions; 1 or 2 are read");
  const std::uint64_t need = static_cast<std::uint64_t>(h.count()) * h.item_size;
  if (size - h.data_offset < need)
    throw ParseError(path + ": truncated .npy data: expected " + std::to_string(need) +
                     " bytes, found " + std::to_string(size - h.data_offset));
  return h;
}

template <class T>
void convert(const char* raw, std::size_t n, double* out) {
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, raw + i * sizeof(T), sizeof(T));
    out[i] = static_cast<double>(v);
  }
}

void convert_items(const NpyHeader& h, const char* raw, std::size_t n, double* out);

// Reads the data as float64 in file order.
std::vector<double> read_values(const std::string& path, NpyHeader& h) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(path + ": cannot open for reading: " + std::strerror(errno));
  h = parse_header(in, path);
  const std::size_t n = h.count();
  std::vector<char> raw(n * h.item_size);
  in.seekg(static_cast<std::streamoff>(h.data_offset));
  if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size())))
    throw IOError(path + ": read failed");
  std::vector<double> values(n);
  convert_items(h, raw.data(), n, values.data());
  return values;
}

void write_raw(const std::string& path, const double* data, const std::vector<std::size_t>& shape) {
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (";
  if (shape.size() == 1)
    dict += std::to_string(shape[0]) + ",";
  else
    dict += std::to_string(shape[0]) + ", " + std::to_string(shape[1]);
  dict += "), }";
  // preamble (10) + dict + padding + '\n' is a multiple of 64
  const std::size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  out += dict;
  std::size_t n = 1;
  for (auto s : shape) n *= s;
  out.append(reinterpret_cast<const char*>(data), n * sizeof(double));
  write_file_atomic(path, out);
}

// Converts n raw items of the file's dtype to float64.
void convert_items(const NpyHeader& h, const char* raw, std::size_t n, double* out) {
  if (h.kind == 'f' && h.item_size == 8) convert<double>(raw, n, out);
  if (h.kind == 'f' && h.item_size == 4) convert<float>(raw, n, out);
  if (h.kind == 'i' && h.item_size == 8) convert<std::int64_t>(raw, n, out);
  if (h.kind == 'i' && h.item_size == 4) convert<std::int32_t>(raw, n, out);
  if (h.kind == 'u' && h.item_size == 1) convert<std::uint8_t>(raw, n, out);
}

class NpySource final : public ChunkSource {
 public:
  // An .npy file (header read from the file) or, with `raw`, a headerless file laid out
  // as `raw` says with as many rows as the file size gives.
  explicit NpySource(const std::string& path, const NpyHeader* raw = nullptr)
      : path_(path), in_(path, std::ios::binary) {
    if (!in_) throw IOError(path + ": cannot open for reading: " + std::strerror(errno));
    if (raw) {
      in_.seekg(0, std::ios::end);
      const auto size = static_cast<std::uint64_t>(in_.tellg());
      in_.seekg(0);
      header_ = *raw;
      const std::uint64_t row_bytes = header_.shape[1] * header_.item_size;
      if (size % row_bytes != 0 || size == 0)
        throw ParseError(path + ": " + std::to_string(size) +
                         " bytes is not a whole number of rows of " +
                         std::to_string(header_.shape[1]) + " values (" +
                         std::to_string(row_bytes) + " bytes each)");
      header_.shape[0] = size / row_bytes;
    } else {
      header_ = parse_header(in_, path);  // checks the file size against the header
    }
    rows_ = header_.shape[0];
    cols_ = header_.shape.size() == 2 ? header_.shape[1] : 1;
  }
  std::size_t rows() const override { return rows_; }
  std::size_t cols() const override { return cols_; }

  void read(std::size_t begin, const HostMatrix& block) override {
    const std::size_t n = block.extent(0), item = header_.item_size;
    check_rows(begin, n, block.extent(1));
    if (!header_.fortran_order && header_.kind == 'f' && item == 8) {
      // Little-endian float64 rows: straight into the block, no conversion.
      fetch(header_.data_offset + begin * cols_ * item, n * cols_ * item,
            reinterpret_cast<char*>(block.data()));
      return;
    }
    if (!header_.fortran_order) {  // the rows are contiguous
      raw_.resize(n * cols_ * item);
      fetch(header_.data_offset + begin * cols_ * item, raw_.size(), raw_.data());
      convert_items(header_, raw_.data(), n * cols_, block.data());
      return;
    }
    // Column-major: one contiguous run per column.
    raw_.resize(n * item);
    column_.resize(n);
    for (std::size_t j = 0; j < cols_; ++j) {
      fetch(header_.data_offset + (j * rows_ + begin) * item, raw_.size(), raw_.data());
      convert_items(header_, raw_.data(), n, column_.data());
      for (std::size_t i = 0; i < n; ++i) block(i, j) = column_[i];
    }
  }

  void fetch(std::size_t offset, std::size_t bytes, char* into) {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    if (!in_.read(into, static_cast<std::streamsize>(bytes)))
      throw IOError(path_ + ": read of " + std::to_string(bytes) + " bytes at offset " +
                    std::to_string(offset) + " failed");
  }
  std::optional<MappedRows> map(std::size_t begin, std::size_t n) override {
    check_rows(begin, n, cols_);
    const std::uint64_t offset = header_.data_offset + std::uint64_t(begin) * cols_ * 8;
    if (header_.fortran_order || header_.kind != 'f' || header_.item_size != 8 ||
        offset % alignof(double) != 0 || n == 0)
      return std::nullopt;
    const auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
    const std::uint64_t start = offset - offset % page, skip = offset - start;
    const std::size_t length = static_cast<std::size_t>(skip + std::uint64_t(n) * cols_ * 8);
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;  // read() reports the error
    void* base =
        ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, static_cast<off_t>(start));
    ::close(fd);  // the mapping keeps the file
    if (base == MAP_FAILED) return std::nullopt;
    ::madvise(base, length, MADV_SEQUENTIAL);  // read ahead of a cold file, drop behind
    ::madvise(base, length, MADV_WILLNEED);
    std::shared_ptr<const void> mapping(
        base, [length](const void* p) { ::munmap(const_cast<void*>(p), length); });
    double* rows = reinterpret_cast<double*>(static_cast<char*>(base) + skip);
    return MappedRows{HostMatrix(rows, n, cols_), std::move(mapping)};
  }

 private:
  void check_rows(std::size_t begin, std::size_t n, std::size_t cols) const {
    if (cols != cols_ || begin + n > rows_)
      throw InvalidArgument(path_ + ": rows " + std::to_string(begin) + ".." +
                            std::to_string(begin + n) + " x " + std::to_string(cols) +
                            " columns asked of a " + std::to_string(rows_) + " x " +
                            std::to_string(cols_) + " array");
  }
  std::string path_;
  std::ifstream in_;
  NpyHeader header_;
  std::size_t rows_ = 0, cols_ = 0;
  std::vector<char> raw_;
  std::vector<double> column_;
};

}  // namespace

std::unique_ptr<ChunkSource> open_npy_source(const std::string& path) {
  return std::make_unique<NpySource>(path);
}

RawType parse_raw_type(const std::string& name) {
  if (name == "float64" || name == "f8" || name == "double") return RawType::float64;
  if (name == "float32" || name == "f4" || name == "float") return RawType::float32;
  if (name == "int64" || name == "i8") return RawType::int64;
  if (name == "int32" || name == "i4") return RawType::int32;
  if (name == "uint8" || name == "u1") return RawType::uint8;
  throw InvalidArgument("unknown raw element type '" + name +
                        "' (float64, float32, int64, int32, uint8)");
}

std::unique_ptr<ChunkSource> open_raw_source(const std::string& path, std::size_t cols,
                                             RawType type) {
  TESSERA_EXPECTS(cols > 0, path +
                                ": a raw binary file needs its column count (cols > 0; --raw-cols "
                                "N on the command line)");
  NpyHeader layout;
  switch (type) {
    case RawType::float64: layout.kind = 'f', layout.item_size = 8; break;
    case RawType::float32: layout.kind = 'f', layout.item_size = 4; break;
    case RawType::int64: layout.kind = 'i', layout.item_size = 8; break;
    case RawType::int32: layout.kind = 'i', layout.item_size = 4; break;
    case RawType::uint8: layout.kind = 'u', layout.item_size = 1; break;
  }
  layout.shape = {0, cols};
  return std::make_unique<NpySource>(path, &layout);
}

NpyHeader read_npy_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(path + ": cannot open for reading: " + std::strerror(errno));
  return parse_header(in, path);
}

HostMatrix read_npy_matrix(const std::string& path) {
  // Straight into the matrix, a converting read's buffer 64 MiB at most (the file's
  // bytes and a float64 copy beside the matrix made 3 times the data before).
  NpySource source(path);
  const std::size_t rows = source.rows(), cols = source.cols();
  require_host_memory(static_cast<double>(rows) * static_cast<double>(cols) * sizeof(double),
                      fmt::format("{}: its {} rows × {} columns, read whole,", path, rows, cols));
  HostMatrix X(Kokkos::view_alloc(std::string("npy"), Kokkos::WithoutInitializing), rows, cols);
  const std::size_t step = std::max<std::size_t>(1, (std::size_t(64) << 20) / (8 * cols));
  for (std::size_t begin = 0; begin < rows; begin += step)
    source.read(begin, Kokkos::subview(X, std::make_pair(begin, std::min(rows, begin + step)),
                                       Kokkos::ALL));
  return X;
}

HostVector read_npy_vector(const std::string& path) {
  NpyHeader h;
  const std::vector<double> values = read_values(path, h);
  if (h.shape.size() == 2 && h.shape[1] != 1 && h.shape[0] != 1)
    throw ParseError(path + ": expected a 1-D array, found shape (" + std::to_string(h.shape[0]) +
                     ", " + std::to_string(h.shape[1]) + ")");
  HostVector v(Kokkos::view_alloc(std::string("npy"), Kokkos::WithoutInitializing), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) v(i) = values[i];
  return v;
}

void write_npy(const std::string& path, const HostMatrix& X) {
  write_raw(path, X.data(), {X.extent(0), X.extent(1)});
}

void write_npy(const std::string& path, const HostVector& v) {
  std::vector<double> copy(v.extent(0));
  for (std::size_t i = 0; i < copy.size(); ++i) copy[i] = v(i);
  write_raw(path, copy.data(), {v.extent(0)});
}

}  // namespace tessera::io
