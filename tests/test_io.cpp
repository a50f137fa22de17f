// io: CSV, libsvm and NPY readers (good files and every kind of bad one), the NPY
// writer, generators, the embedded digits data, result writers and SVG plots.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <utility>

#include <tessera/core/error.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/io/generators.hpp>
#include <tessera/io/npy.hpp>
#include <tessera/io/readers.hpp>
#include <tessera/io/results.hpp>
#include <tessera/io/svg.hpp>

#include "test_support.hpp"

using namespace tessera;
namespace fs = std::filesystem;

namespace {

fs::path scratch() {
  const fs::path dir = fs::temp_directory_path() / ("tessera_test_io_" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string write_file(const std::string& name, const std::string& content) {
  const fs::path p = scratch() / name;
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

// The message of the ParseError that `f` throws (a test failure and "" if it does not).
template <class F>
std::string parse_error(F&& f) {
  return test::message_of<ParseError>(std::forward<F>(f));
}

}  // namespace

TEST(Csv, HeaderLabelsAndValues) {
  io::CsvOptions options;
  options.label_column = -2;
  const Table t =
      io::parse_csv("a, b ,label\n1,2.5,0\n\n# comment\n-3,+4e2,1\r\n", "t.csv", options);
  ASSERT_EQ(t.rows(), 2u);
  ASSERT_EQ(t.cols(), 2u);
  EXPECT_TRUE(t.has_labels());
  EXPECT_EQ(t.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.X(0, 1), 2.5);
  EXPECT_EQ(t.X(1, 0), -3.0);
  EXPECT_EQ(t.X(1, 1), 400.0);
  EXPECT_EQ(t.y(1), 1.0);
}

TEST(Csv, NoHeaderLabelColumnAndMissingValues) {
  io::CsvOptions options;
  options.label_column = 0;
  const Table t = io::parse_csv("7,1,,nan\n8,2,3,inf\n", "t.csv", options);
  ASSERT_EQ(t.cols(), 3u);
  EXPECT_EQ(t.y(0), 7.0);
  EXPECT_TRUE(std::isnan(t.X(0, 1)));  // empty field
  EXPECT_TRUE(std::isnan(t.X(0, 2)));
  EXPECT_TRUE(std::isinf(t.X(1, 2)));
  EXPECT_TRUE(t.columns.empty());
}

TEST(Csv, RaggedRowNamesLine) {
  const std::string msg = parse_error([] { io::parse_csv("x,y\n1,2\n3,4\n5\n", "r.csv"); });
  EXPECT_EQ(msg, "r.csv:4: expected 2 fields (as in line 1), found 1");
}

TEST(Csv, NonNumericFieldNamesLineAndColumn) {
  const std::string msg = parse_error([] { io::parse_csv("1,2,3\n4,five,6\n", "n.csv"); });
  EXPECT_EQ(msg, "n.csv:2:3: field 2: cannot read 'five' as a number");
}

TEST(Csv, ByteOrderMarkQuotesAndMalformedFirstLine) {
  // A spreadsheet's UTF-8 byte-order mark before numbers: still data, not a header.
  const Table bom = io::parse_csv(
      "\xEF\xBB\xBF"
      "1,2\n3,4\n",
      "bom.csv");
  ASSERT_EQ(bom.rows(), 2u);
  EXPECT_EQ(bom.X(0, 0), 1.0);
  EXPECT_TRUE(bom.columns.empty());
  const Table named = io::parse_csv(
      "\xEF\xBB\xBF"
      "a,b\n1,2\n",
      "bom.csv");
  EXPECT_EQ(named.columns, (std::vector<std::string>{"a", "b"}));
  // Numbers in double quotes (csv.QUOTE_ALL, some exports), under a quoted header.
  const Table quoted = io::parse_csv("\"a\",\"b\"\n\"1.5\",\"-2\"\n3,\"\"\n", "q.csv");
  ASSERT_EQ(quoted.rows(), 2u);
  EXPECT_EQ(quoted.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(quoted.X(0, 0), 1.5);
  EXPECT_EQ(quoted.X(0, 1), -2.0);
  EXPECT_TRUE(std::isnan(quoted.X(1, 1)));  // "" is an empty field
  // A malformed number in the first line is an error, not a header that hides a row;
  // names with digits stay names.
  EXPECT_EQ(parse_error([] { io::parse_csv("1,1.5.5\n3,4\n", "m.csv"); }),
            "m.csv:1:3: field 2: cannot read '1.5.5' as a number (nor is it a column name)");
  EXPECT_EQ(parse_error([] { io::parse_csv("-1e,2\n3,4\n", "m.csv"); }),
            "m.csv:1:1: field 1: cannot read '-1e' as a number (nor is it a column name)");
  EXPECT_EQ(io::parse_csv("x1,2019_sales,e\n1,2,3\n", "h.csv").columns,
            (std::vector<std::string>{"x1", "2019_sales", "e"}));
}

TEST(Csv, EmptyFiles) {
  EXPECT_EQ(parse_error([] { io::parse_csv("", "e.csv"); }), "e.csv: empty file (no data rows)");
  EXPECT_EQ(parse_error([] { io::parse_csv("\n# only a comment\n", "e.csv"); }),
            "e.csv: empty file (no data rows)");
  EXPECT_EQ(parse_error([] { io::parse_csv("a,b\n", "h.csv"); }),
            "h.csv: no data rows after the header line");
}

TEST(Csv, MissingFileIsIOError) { EXPECT_THROW(io::read_csv("/nonexistent/x.csv"), IOError); }

TEST(Csv, LabelColumnOutOfRange) {
  io::CsvOptions options;
  options.label_column = 5;
  EXPECT_THROW(io::parse_csv("1,2\n", "l.csv", options), InvalidArgument);
}

// A CSV's matrix is sized from its first line: a wide first line over many short ones
// (2.2 MB of text) asked for 800 GB before the second line was read; refused instead.
TEST(Csv, SizeBeyondMemoryIsAnError) {
  std::string text;
  for (int c = 0; c < 1000000; ++c) text += c ? ",0" : "0";
  text += '\n';
  for (int r = 0; r < 100000; ++r) text += "1\n";
  EXPECT_ERROR_MENTIONS(
      InvalidArgument, io::parse_csv(text, "wide.csv", io::CsvOptions{}),
      "wide.csv: 100001 rows × 1000000 columns (as its first line) need 800 GB, more than the");
}

// A text file read whole is checked by its size before a byte is read (8 TiB, sparse:
// nothing is written; skipped where the file system cannot hold it).
TEST(Csv, FileBeyondMemoryIsRefusedBeforeReading) {
  const std::string path = write_file("huge.csv", "1,2\n");
  std::error_code error;
  fs::resize_file(path, std::uintmax_t(1) << 43, error);
  if (error) GTEST_SKIP() << "no 8 TiB sparse file here: " << error.message();
  EXPECT_ERROR_MENTIONS(InvalidArgument, io::read_csv(path),
                        path + ": its bytes, read whole, need 8.8e+03 GB, more than the");
  fs::remove(path);
}

TEST(Libsvm, DenseSizeBeyondMemoryIsAnError) {
  // one index of 10^14: 1.6 PB dense, more than any node has (it was zero-filled until the
  // kernel killed the process)
  try {
    io::parse_libsvm("1 1:2 100000000000000:1\n0 2:1\n", "wide.libsvm");
    FAIL() << "no throw";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(
        std::string(e.what()).find("wide.libsvm: the data is held dense: 2 rows × "
                                   "100000000000000 features (the largest index) need 1.6e+06 "
                                   "GB, more than the"),
        std::string::npos)
        << e.what();
  }
}

TEST(Libsvm, Densifies) {
  const Table t = io::parse_libsvm("+1 1:0.5 3:-2\n-1 2:4 # comment\n\n2 4:1e-3\n", "s.libsvm");
  ASSERT_EQ(t.rows(), 3u);
  ASSERT_EQ(t.cols(), 4u);
  EXPECT_EQ(t.y(0), 1.0);
  EXPECT_EQ(t.y(1), -1.0);
  EXPECT_EQ(t.X(0, 0), 0.5);
  EXPECT_EQ(t.X(0, 1), 0.0);
  EXPECT_EQ(t.X(0, 2), -2.0);
  EXPECT_EQ(t.X(1, 1), 4.0);
  EXPECT_EQ(t.X(2, 3), 1e-3);
  EXPECT_EQ(io::parse_libsvm("1 1:1\n", "s", 6).cols(), 6u);
}

TEST(Libsvm, BadIndicesAndValues) {
  EXPECT_EQ(parse_error([] { io::parse_libsvm("1 1:1\n1 0:2\n", "b.svm"); }),
            "b.svm:2:3: feature index '0' is not a positive integer (indices are 1-based)");
  EXPECT_EQ(parse_error([] { io::parse_libsvm("1 3:1 2:2\n", "b.svm"); }),
            "b.svm:1:7: feature index 2 after 3: indices must be ascending");
  EXPECT_EQ(parse_error([] { io::parse_libsvm("1 x:1\n", "b.svm"); }),
            "b.svm:1:3: feature index 'x' is not a positive integer (indices are 1-based)");
  EXPECT_EQ(parse_error([] { io::parse_libsvm("1 2:abc\n", "b.svm"); }),
            "b.svm:1:5: cannot read value 'abc' as a number");
  EXPECT_EQ(parse_error([] { io::parse_libsvm("one 2:1\n", "b.svm"); }),
            "b.svm:1:1: cannot read label 'one' as a number");
  EXPECT_EQ(parse_error([] { io::parse_libsvm("1 2\n", "b.svm"); }),
            "b.svm:1:3: expected index:value, found '2'");
  EXPECT_EQ(parse_error([] { io::parse_libsvm("", "b.svm"); }), "b.svm: empty file (no data rows)");
  EXPECT_NE(parse_error([] { io::parse_libsvm("1 9:1\n", "b.svm", 4); }), "");
}

// Arrays written by NumPy (tests/fixtures/make_fixtures.py): a(i, j) = 10 i + j.
TEST(Npy, ReadsNumpyDtypesAndOrders) {
  for (const char* name : {"f8_c", "f8_fortran", "f4_c", "i4_fortran", "i8_c", "u1_c"}) {
    const HostMatrix X = io::read_npy_matrix(test::fixture(std::string("npy/") + name + ".npy"));
    ASSERT_EQ(X.extent(0), 3u) << name;
    ASSERT_EQ(X.extent(1), 4u) << name;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) EXPECT_EQ(X(i, j), 10.0 * i + j) << name;
  }
  const HostVector v = io::read_npy_vector(test::fixture("npy/f8_1d.npy"));
  ASSERT_EQ(v.extent(0), 5u);
  EXPECT_EQ(v(1), -1.25);
  EXPECT_EQ(v(3), 1e300);
  EXPECT_TRUE(std::signbit(v(4)));
}

TEST(Npy, RejectsWhatItCannotRead) {
  const auto msg = [](const std::string& path) {
    return parse_error([&] { io::read_npy_matrix(path); });
  };
  EXPECT_NE(msg(test::fixture("npy/f8_3d.npy")).find("3 dimensions"), std::string::npos);
  EXPECT_NE(msg(test::fixture("npy/f8_bigendian.npy")).find("big-endian"), std::string::npos);
  EXPECT_NE(msg(test::fixture("npy/c16.npy")).find("unsupported .npy dtype '<c16'"),
            std::string::npos);
  EXPECT_NE(msg(write_file("magic.npy", "PK\x03\x04 this is a zip file")).find("wrong magic"),
            std::string::npos);
  EXPECT_NE(msg(write_file("short.npy", "\x93NUM")).find("shorter than"), std::string::npos);
  // Cut a good file short inside the data.
  const std::string good = io::read_text_file(test::fixture("npy/f8_c.npy"));
  const std::string cut = msg(write_file("cut.npy", good.substr(0, good.size() - 8)));
  EXPECT_NE(cut.find("truncated .npy data: expected 96 bytes, found 88"), std::string::npos) << cut;
  const std::string cut_header = msg(write_file("cuthead.npy", good.substr(0, 40)));
  EXPECT_NE(cut_header.find("truncated .npy header"), std::string::npos) << cut_header;
  EXPECT_THROW(io::read_npy_matrix("/nonexistent.npy"), IOError);
  EXPECT_THROW(io::read_npy_vector(test::fixture("npy/f8_c.npy")), ParseError);
}

TEST(Npy, WriteReadRoundTrip) {
  HostMatrix X("X", 5, 3);
  std::mt19937_64 gen(1);
  std::normal_distribution<double> normal;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) X(i, j) = normal(gen);
  const std::string path = (scratch() / "round.npy").string();
  io::write_npy(path, X);
  const io::NpyHeader h = io::read_npy_header(path);
  EXPECT_EQ(h.data_offset % 64, 0u);  // NumPy aligns the data to 64 bytes
  EXPECT_EQ(h.shape, (std::vector<std::size_t>{5, 3}));
  const HostMatrix Y = io::read_npy_matrix(path);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(X(i, j), Y(i, j));
  HostVector v("v", 4);
  for (int i = 0; i < 4; ++i) v(i) = i * 0.1;
  io::write_npy(path, v);
  EXPECT_EQ(io::read_npy_header(path).shape, (std::vector<std::size_t>{4}));
  EXPECT_EQ(io::read_npy_vector(path)(3), 0.30000000000000004);
}

// Sources that hold native float64 rows hand them over in place (a copy-on-write map):
// the same values read() gives, at any row offset (not page-aligned in the file), and a
// write to the mapped rows never reaches the file. Other element types and Fortran order
// cannot be mapped.
TEST(Npy, MapGivesTheRowsReadGivesWithoutTouchingTheFile) {
  HostMatrix X("X", 700, 3);  // 24-byte rows: most row offsets are not page-aligned
  for (int i = 0; i < 700; ++i)
    for (int j = 0; j < 3; ++j) X(i, j) = 0.5 * i - j;
  const std::string path = (scratch() / "map.npy").string();
  io::write_npy(path, X);
  auto source = io::open_npy_source(path);
  for (std::size_t begin : {std::size_t(0), std::size_t(171), std::size_t(699)}) {
    const std::size_t n = 700 - begin;
    const auto mapped = source->map(begin, n);
    ASSERT_TRUE(mapped.has_value()) << begin;
    ASSERT_EQ(mapped->rows.extent(0), n);
    ASSERT_EQ(mapped->rows.extent(1), 3u);
    HostMatrix read("read", n, 3);
    source->read(begin, read);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < 3; ++j) ASSERT_EQ(mapped->rows(i, j), read(i, j)) << begin;
    mapped->rows(0, 0) = -1e300;  // the caller's page only
  }
  EXPECT_EQ(io::read_npy_matrix(path)(171, 0), 0.5 * 171);
  try {
    source->map(600, 101);
    ADD_FAILURE() << "rows past the end were mapped";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("rows 600..701 x 3 columns asked of a 700 x 3 array"),
              std::string::npos)
        << e.what();
  }
  for (const char* name : {"f8_fortran", "f4_c", "i8_c"})
    EXPECT_FALSE(io::open_npy_source(test::fixture(std::string("npy/") + name + ".npy"))
                     ->map(0, 3)
                     .has_value())
        << name;
}

TEST(Digits, EmbeddedMatchesScikitLearnCopy) {
  const Table t = io::digits();
  ASSERT_EQ(t.rows(), 1797u);
  ASSERT_EQ(t.cols(), 64u);
  const auto ref = test::read_json(test::fixture("digits_stats.json"));
  std::vector<int> counts(10, 0);
  for (std::size_t i = 0; i < t.rows(); ++i) counts.at(static_cast<int>(t.y(i)))++;
  EXPECT_EQ(counts, ref.at("label_counts").get<std::vector<int>>());
  for (std::size_t j = 0; j < 64; ++j) {
    double sum = 0;
    for (std::size_t i = 0; i < t.rows(); ++i) sum += t.X(i, j);
    EXPECT_EQ(sum, ref.at("sum")[j].get<double>()) << j;
  }
}

TEST(Dataset, SpecsAndErrors) {
  const Table b = io::load_table("blobs:n=50,features=3,centers=2,seed=9");
  EXPECT_EQ(b.rows(), 50u);
  EXPECT_EQ(b.cols(), 3u);
  EXPECT_TRUE(b.has_labels());
  EXPECT_EQ(io::load_table("random:rows=7,cols=2").rows(), 7u);
  EXPECT_EQ(io::load_table("classification:n=10,features=4,classes=3").cols(), 4u);
  EXPECT_THROW(io::load_table("blobs:n=10,colour=red"), InvalidArgument);
  EXPECT_THROW(io::load_table("blobs:n=ten"), InvalidArgument);
  EXPECT_THROW(io::load_table("random:rows=0"), InvalidArgument);
  // 10^22 elements: the wrapped product would allocate some unrelated size
  try {
    io::load_table("random:rows=100000000000,cols=100000000000");
    ADD_FAILURE() << "no error for 10^22 elements";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("are more than 64-bit sizes can hold"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(io::load_table("data.parquet"), InvalidArgument);
  // a folder (it read as an empty file: "no data rows")
  const auto folder = std::filesystem::temp_directory_path() /
                      ("tessera_folder_" + std::to_string(getpid()) + ".csv");
  std::filesystem::create_directory(folder);
  try {
    io::load_table(folder.string());
    ADD_FAILURE() << "no error for a folder";
  } catch (const IOError& e) {
    EXPECT_EQ(std::string(e.what()), folder.string() + ": is a folder, not a data file");
  }
  EXPECT_THROW(io::open_source(folder.string()), IOError);
  std::filesystem::remove(folder);
  const std::string csv = write_file("d.txt", "1,2\n3,4\n");
  io::LoadOptions options;
  options.format = "csv";
  EXPECT_EQ(io::load_table(csv, options).rows(), 2u);
  options.format = "npy";
  options.labels_path = test::fixture("npy/f8_1d.npy");
  EXPECT_THROW(io::load_table(test::fixture("npy/f8_c.npy"), options), InvalidArgument);
  EXPECT_FALSE(io::dataset_catalog().empty());
  EXPECT_EQ(io::dataset_catalog().front().name, "digits");
}

void blobs_block(const io::BlobsSpec& spec, std::size_t begin, std::size_t rows, HostMatrix& X,
                 HostVector& y) {
  io::DeviceMatrix dX("X", rows, spec.features);
  io::DeviceVector dy("y", rows);
  io::generate_blobs(spec, begin, dX, dy);
  X = HostMatrix("hX", rows, spec.features);
  y = HostVector("hy", rows);
  Kokkos::deep_copy(X, dX);
  Kokkos::deep_copy(y, dy);
}

// Blocks generated apart equal the whole generated at once, bit for bit: this is what
// makes the data the same on any rank count.
TEST(Generators, BlocksAreIndependentOfSplitting) {
  io::BlobsSpec spec;
  spec.n = 1000;
  spec.features = 5;
  spec.centers = 4;
  spec.seed = 77;
  HostMatrix whole, a, b;
  HostVector ywhole, ya, yb;
  blobs_block(spec, 0, 1000, whole, ywhole);
  blobs_block(spec, 0, 333, a, ya);
  blobs_block(spec, 333, 667, b, yb);
  for (std::size_t i = 0; i < 1000; ++i)
    for (std::size_t j = 0; j < 5; ++j) {
      const double part = i < 333 ? a(i, j) : b(i - 333, j);
      ASSERT_EQ(whole(i, j), part);
    }
  EXPECT_THROW(blobs_block(spec, 900, 200, a, ya), InvalidArgument);
}

TEST(Generators, BlobsClusterAroundTheirCentres) {
  io::BlobsSpec spec;
  spec.n = 20000;
  spec.features = 3;
  spec.centers = 4;
  spec.std = 0.5;
  spec.seed = 3;
  HostMatrix X;
  HostVector y;
  blobs_block(spec, 0, spec.n, X, y);
  // Within each cluster the spread is std; the cluster means differ.
  for (std::size_t c = 0; c < 4; ++c) {
    double n = 0, s = 0, s2 = 0;
    for (std::size_t i = 0; i < spec.n; ++i)
      if (y(i) == c) {
        n += 1;
        s += X(i, 0);
        s2 += X(i, 0) * X(i, 0);
      }
    EXPECT_EQ(n, 5000);
    const double var = s2 / n - (s / n) * (s / n);
    EXPECT_NEAR(std::sqrt(var), 0.5, 0.02);
    EXPECT_LE(std::abs(s / n), 10.5);
  }
}

TEST(Results, FormatDoubleRoundTrips) {
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  for (int i = 0; i < 1000; ++i) {
    const double x = u(gen) * std::pow(10.0, (i % 40) - 20);
    EXPECT_EQ(std::stod(io::format_double(x)), x);
  }
  EXPECT_EQ(io::format_double(0.1), "0.1");
  EXPECT_EQ(io::format_double(NAN), "nan");
}

TEST(Results, AtomicWritesAndCsv) {
  const fs::path dir = scratch() / "results";
  io::make_directories(dir.string());
  io::CsvWriter csv({"k", "inertia"});
  csv.row({2, 0.1}).row({3, 1e-20});
  EXPECT_EQ(csv.text(), "k,inertia\n2,0.1\n3,1e-20\n");
  EXPECT_THROW(csv.row({1}), InternalError);
  csv.write((dir / "a.csv").string());
  io::write_json((dir / "a.json").string(), {{"x", 0.1}, {"n", NAN}});
  EXPECT_EQ(io::read_text_file((dir / "a.csv").string()), csv.text());
  const auto j = test::read_json((dir / "a.json").string());
  EXPECT_EQ(j.at("x").get<double>(), 0.1);
  EXPECT_TRUE(j.at("n").is_null());
  for (const auto& entry : fs::directory_iterator(dir))  // no temporary left behind
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  EXPECT_THROW(io::write_file_atomic("/nonexistent/dir/x.json", "{}"), IOError);
}

namespace {
std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}
}  // namespace

TEST(Svg, HeatmapHasEveryCellAndLabel) {
  io::Heatmap h;
  h.values = {{0.1, 0.5, NAN}, {0.9, 0.3, 0.2}};
  h.row_labels = {"C=1", "C=10"};
  h.col_labels = {"g=0.1", "g=1", "g=<10>"};
  h.title = "CV accuracy";
  h.x_label = "gamma";
  h.y_label = "C";
  h.value_label = "accuracy";
  const std::string svg = io::svg_heatmap(h);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(count(svg, "class=\"cell\""), 6u);
  EXPECT_EQ(count(svg, "<text"), count(svg, "</text>"));
  EXPECT_NE(svg.find("g=&lt;10&gt;"), std::string::npos);
  EXPECT_NE(svg.find(">accuracy</text>"), std::string::npos);
  EXPECT_NE(svg.find(">gamma</text>"), std::string::npos);
  EXPECT_NE(svg.find("#bbbbbb"), std::string::npos);  // the NaN cell
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  h.values.push_back({1.0});
  EXPECT_THROW(io::svg_heatmap(h), InvalidArgument);
}

TEST(Svg, LinePlotLogScale) {
  io::LinePlot p;
  p.title = "convergence";
  p.x_label = "generation";
  p.y_label = "fitness";
  p.log_y = true;
  p.series = {{"best", {0, 1, 2, 3}, {100, 1, 1e-4, 0}}, {"avg", {0, 1, 2, 3}, {200, 50, 1, 0.5}}};
  const std::string svg = io::svg_line_plot(p);
  EXPECT_EQ(count(svg, "class=\"series\""), 2u);
  EXPECT_NE(svg.find("fitness (log)"), std::string::npos);
  EXPECT_NE(svg.find(">best</text>"), std::string::npos);
  EXPECT_NE(svg.find("1e-4"), std::string::npos);
  EXPECT_EQ(count(svg, "<text"), count(svg, "</text>"));
}
