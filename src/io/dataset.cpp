#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include <tessera/core/error.hpp>
#include <tessera/core/memory.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/io/generators.hpp>
#include <tessera/io/npy.hpp>
#include <tessera/io/readers.hpp>

namespace tessera::io {

namespace detail {
// The digits CSV text, compiled in from data/digits.csv (generated source).
extern const char* const digits_csv;
}  // namespace detail

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "name:k=v,k=v" -> {k: v}; every key must be one of `allowed`.
std::map<std::string, std::string> parse_keys(const std::string& spec,
                                              const std::vector<std::string>& allowed) {
  std::map<std::string, std::string> keys;
  const auto colon = spec.find(':');
  if (colon == std::string::npos) return keys;
  std::string rest = spec.substr(colon + 1);
  std::size_t pos = 0;
  while (pos <= rest.size() && !rest.empty()) {
    const std::size_t end = std::min(rest.find(',', pos), rest.size());
    const std::string item = rest.substr(pos, end - pos);
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InvalidArgument("data spec '" + spec + "': expected key=value, found '" + item + "'");
    const std::string key = item.substr(0, eq);
    bool known = false;
    for (const auto& a : allowed) known = known || a == key;
    if (!known) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw InvalidArgument("data spec '" + spec + "': unknown key '" + key + "' (known: " + list +
                            ")");
    }
    keys[key] = item.substr(eq + 1);
    if (end == rest.size()) break;
    pos = end + 1;
  }
  return keys;
}

template <class T>
T key_value(const std::map<std::string, std::string>& keys, const std::string& key, T fallback,
            const std::string& spec) {
  const auto it = keys.find(key);
  if (it == keys.end()) return fallback;
  const std::string& text = it->second;
  T value{};
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size())
    throw InvalidArgument("data spec '" + spec + "': " + key + "='" + text + "' is not a valid " +
                          (std::is_integral_v<T> ? "non-negative integer" : "number"));
  return value;
}

Table from_device(const DeviceMatrix& X, const DeviceVector& y, const std::string& source) {
  Table t;
  t.source = source;
  t.X = HostMatrix(Kokkos::view_alloc(std::string("X"), Kokkos::WithoutInitializing), X.extent(0),
                   X.extent(1));
  Kokkos::deep_copy(t.X, X);
  if (y.extent(0) > 0) {
    t.y =
        HostVector(Kokkos::view_alloc(std::string("y"), Kokkos::WithoutInitializing), y.extent(0));
    Kokkos::deep_copy(t.y, y);
    t.labeled = true;
  }
  return t;
}

void check_size(const std::string& spec, std::size_t rows, std::size_t cols) {
  TESSERA_EXPECTS(rows >= 1 && cols >= 1,
                  "data spec '" + spec + "': needs at least one row and one column");
  // the element count and its bytes must be countable (a wrapped product would allocate
  // some unrelated size)
  TESSERA_EXPECTS(cols <= std::numeric_limits<std::size_t>::max() / sizeof(double) / rows,
                  "data spec '" + spec + "': " + std::to_string(rows) + " × " +
                      std::to_string(cols) + " elements are more than 64-bit sizes can hold");
}

// Reads `key=value` settings of a generator spec into the fields of its struct.
class SpecKeys {
 public:
  SpecKeys(const std::string& spec, const std::vector<std::string>& allowed)
      : spec_(spec), keys_(parse_keys(spec, allowed)) {}
  template <class T>
  SpecKeys& read(const std::string& key, T& field) {
    field = key_value(keys_, key, field, spec_);
    return *this;
  }

 private:
  const std::string& spec_;
  std::map<std::string, std::string> keys_;
};

using GeneratorSpec = std::variant<BlobsSpec, ClassificationSpec, RandomSpec>;

GeneratorSpec parse_generator(const std::string& spec) {
  if (starts_with(spec, "blobs")) {
    BlobsSpec s;
    SpecKeys(spec, {"n", "features", "centers", "std", "box", "seed"})
        .read("n", s.n)
        .read("features", s.features)
        .read("centers", s.centers)
        .read("std", s.std)
        .read("box", s.box)
        .read("seed", s.seed);
    check_size(spec, s.n, s.features);
    return s;
  }
  if (starts_with(spec, "classification")) {
    ClassificationSpec s;
    SpecKeys(spec, {"n", "features", "classes", "sep", "seed"})
        .read("n", s.n)
        .read("features", s.features)
        .read("classes", s.classes)
        .read("sep", s.sep)
        .read("seed", s.seed);
    check_size(spec, s.n, s.features);
    return s;
  }
  RandomSpec s;
  SpecKeys(spec, {"rows", "cols", "seed"})
      .read("rows", s.rows)
      .read("cols", s.cols)
      .read("seed", s.seed);
  check_size(spec, s.rows, s.cols);
  return s;
}

}  // namespace

bool is_generator_spec(const std::string& spec) {
  for (const char* name : {"blobs", "classification", "random"})
    if (spec == name || starts_with(spec, std::string(name) + ":")) return true;
  return false;
}

std::string file_format(const std::string& spec, const std::string& format) {
  // (a folder opened as a stream reads as empty: "empty file (no data rows)")
  std::error_code ignored;
  if (std::filesystem::is_directory(spec, ignored))
    throw IOError(spec + ": is a folder, not a data file");
  if (!format.empty()) return format;
  if (ends_with(spec, ".csv")) return "csv";
  if (ends_with(spec, ".libsvm") || ends_with(spec, ".svm")) return "libsvm";
  if (ends_with(spec, ".npy")) return "npy";
  if (ends_with(spec, ".bin") || ends_with(spec, ".raw")) return "raw";
  return "";
}

namespace {

// Rows of a generator made on demand: counter-based, so any row range of any chunk comes
// out as it would in the whole matrix.
class GeneratorSource final : public ChunkSource {
 public:
  explicit GeneratorSource(std::string spec)
      : spec_(std::move(spec)), shape_(generator_shape(spec_)) {}
  std::size_t rows() const override { return shape_.rows; }
  std::size_t cols() const override { return shape_.cols; }
  bool reads_in_background() const override { return false; }  // generating is a kernel
  void read(std::size_t begin, const HostMatrix& block) override {
    TESSERA_EXPECTS(block.extent(1) == shape_.cols && begin + block.extent(0) <= shape_.rows,
                    spec_ + ": rows " + std::to_string(begin) + ".." +
                        std::to_string(begin + block.extent(0)) + " asked of " +
                        std::to_string(shape_.rows));
    if (buffer_.extent(0) != block.extent(0))
      buffer_ =
          DeviceMatrix(Kokkos::view_alloc(std::string("generated"), Kokkos::WithoutInitializing),
                       block.extent(0), shape_.cols);
    generate_rows(spec_, begin, buffer_, DeviceVector());
    Kokkos::deep_copy(block, buffer_);
  }

 private:
  std::string spec_;
  GeneratorShape shape_;
  DeviceMatrix buffer_;
};

}  // namespace

bool can_stream(const std::string& spec, const std::string& format) {
  if (is_generator_spec(spec)) return true;
  const std::string f = file_format(spec, format);
  return f == "csv" || f == "npy" || f == "raw";
}

std::unique_ptr<ChunkSource> open_source(const std::string& spec, const LoadOptions& options) {
  if (is_generator_spec(spec)) return std::make_unique<GeneratorSource>(spec);
  if (spec == "digits") return nullptr;
  const std::string format = file_format(spec, options.format);
  if (format == "csv") {
    CsvOptions csv;
    csv.label_column = options.label_column;
    return open_csv_source(spec, csv);
  }
  if (format == "npy") return open_npy_source(spec);
  if (format == "raw")
    return open_raw_source(spec, options.raw_cols, parse_raw_type(options.raw_type));
  return nullptr;
}

GeneratorShape generator_shape(const std::string& spec) {
  TESSERA_EXPECTS(is_generator_spec(spec), "'" + spec + "' is not a generator spec");
  return std::visit(
      [](const auto& s) -> GeneratorShape {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, RandomSpec>)
          return {s.rows, s.cols, false};
        else
          return {s.n, s.features, true};
      },
      parse_generator(spec));
}

void generate_rows(const std::string& spec, std::size_t row_begin, const DeviceMatrix& X,
                   const DeviceVector& y) {
  TESSERA_EXPECTS(is_generator_spec(spec), "'" + spec + "' is not a generator spec");
  std::visit(
      [&](const auto& s) {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, BlobsSpec>)
          generate_blobs(s, row_begin, X, y);
        else if constexpr (std::is_same_v<S, ClassificationSpec>)
          generate_classification(s, row_begin, X, y);
        else
          generate_random(s, row_begin, X);
      },
      parse_generator(spec));
}

Table digits() {
  CsvOptions options;
  options.label_column = -2;
  options.header = CsvHeader::no;
  return parse_csv(detail::digits_csv, "digits", options);
}

Table load_table(const std::string& spec, const LoadOptions& options) {
  TESSERA_EXPECTS(!spec.empty(), "no data given (use --data FILE or a dataset name)");
  if (spec == "digits") return digits();
  if (is_generator_spec(spec)) {
    const GeneratorShape shape = generator_shape(spec);
    require_host_memory(
        static_cast<double>(shape.rows) * static_cast<double>(shape.cols) * sizeof(double),
        fmt::format("{}: its {} rows × {} columns, made whole,", spec, shape.rows, shape.cols));
    DeviceMatrix X("generated", shape.rows, shape.cols);
    DeviceVector y("generated_labels", shape.labeled ? shape.rows : 0);
    generate_rows(spec, 0, X, y);
    return from_device(X, y, spec);
  }

  const std::string format = file_format(spec, options.format);
  if (format.empty()) {
    throw InvalidArgument("cannot tell the format of '" + spec +
                          "' from its name: use --format csv|libsvm|npy|raw (or a dataset name: "
                          "digits, blobs:..., classification:..., random:...)");
  }
  if (format == "csv") {
    CsvOptions csv;
    csv.label_column = options.label_column;
    return read_csv(spec, csv);
  }
  if (format == "libsvm") return read_libsvm(spec);
  if (format == "npy") {
    Table t;
    t.source = spec;
    t.X = read_npy_matrix(spec);
    if (!options.labels_path.empty()) {
      t.y = read_npy_vector(options.labels_path);
      if (t.y.extent(0) != t.X.extent(0))
        throw InvalidArgument(options.labels_path + ": " + std::to_string(t.y.extent(0)) +
                              " labels for the " + std::to_string(t.X.extent(0)) + " rows of " +
                              spec);
      t.labeled = true;
    }
    return t;
  }
  if (format == "raw") {
    auto source = open_raw_source(spec, options.raw_cols, parse_raw_type(options.raw_type));
    require_host_memory(
        static_cast<double>(source->rows()) * static_cast<double>(source->cols()) * sizeof(double),
        fmt::format("{}: its {} rows × {} columns, read whole,", spec, source->rows(),
                    source->cols()));
    Table t;
    t.source = spec;
    t.X = HostMatrix(Kokkos::view_alloc(std::string("raw"), Kokkos::WithoutInitializing),
                     source->rows(), source->cols());
    source->read(0, t.X);
    return t;
  }
  throw InvalidArgument("unknown format '" + format + "' (csv, libsvm, npy, raw)");
}

std::vector<DatasetInfo> dataset_catalog() {
  return {
      {"digits", "1797 x 64, labels 0-9",
       "embedded: UCI optical recognition of handwritten digits (scikit-learn's copy)"},
      {"blobs:n=100,features=2,centers=3,std=1.0,box=10,seed=0", "n x features, labels",
       "synthetic: isotropic Gaussian blobs (make_blobs-like)"},
      {"classification:n=100,features=20,classes=2,sep=1.0,seed=0", "n x features, labels",
       "synthetic: Gaussian classes around random centroids"},
      {"random:rows=1000,cols=10,seed=0", "rows x cols",
       "synthetic: uniform [0,1), generated chunk by chunk"},
  };
}

}  // namespace tessera::io
