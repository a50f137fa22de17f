// KMeans against scikit-learn (fixtures from tests/fixtures/make_kmeans_fixtures.py):
// Lloyd from given centroids — labels, inertia, centroids, iterations, transform — on
// data spread over the ranks in small chunks, bitwise equal to one process holding it
// all; k-means++, random and k-means|| recovering well separated blobs; bad input.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/array/streaming.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/io/npy.hpp>
#include <tessera/ml/kmeans.hpp>

#include "test_support.hpp"

using namespace tessera;
using nlohmann::json;
using tessera::test::g_world;

namespace {

const json& reference() {
  static const json ref = test::read_json(test::fixture("kmeans_reference.json"));
  return ref;
}

HostMatrix matrix(const json& rows) {
  HostMatrix M("M", rows.size(), rows[0].size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j) M(i, j) = rows[i][j].get<double>();
  return M;
}

// This rank's share of X in chunks of 64 rows (several chunks per rank).
array::DistMatrix<double, Kokkos::HostSpace> spread(const HostMatrix& X,
                                                    std::size_t chunk_rows = 64) {
  return array::distribute<Kokkos::HostSpace>(*g_world, X, chunk_rows);
}

// Labels of all rows, gathered from the ranks in row order.
std::vector<int> all_labels(const ml::KMeans& km) {
  const auto& mine = km.labels();
  return g_world->allgatherv(std::vector<int>(mine.data(), mine.data() + mine.extent(0)));
}

// Lloyd from a fixture case's given centroids, with its tol and max_iter.
ml::KMeansParams given(const json& c) {
  ml::KMeansParams p;
  p.init = ml::KMeansInit::given;
  p.initial_centers = matrix(c["init"]);
  p.k = static_cast<int>(p.initial_centers.extent(0));
  p.tol = c["tol"].get<double>();
  p.max_iter = c["max_iter"].get<int>();
  return p;
}

// TESSERA_KMEANS_KERNEL set for a scope ("" leaves it unset), unset again after.
struct KernelEnv {
  explicit KernelEnv(const char* kernel) {
    if (*kernel) setenv("TESSERA_KMEANS_KERNEL", kernel, 1);
  }
  ~KernelEnv() { unsetenv("TESSERA_KMEANS_KERNEL"); }
  KernelEnv(const KernelEnv&) = delete;
  KernelEnv& operator=(const KernelEnv&) = delete;
};

void check_near_ties(const Kokkos::View<int*, Kokkos::HostSpace>& labels, const HostMatrix& X,
                     const HostMatrix& C, const std::string& kernel, bool with_ties);

// Whether two labelings are the same partition (adjusted Rand index 1).
bool same_partition(const std::vector<int>& a, const std::vector<int>& b) {
  std::map<int, int> ab, ba;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ab.count(a[i]) && ab[a[i]] != b[i]) return false;
    if (ba.count(b[i]) && ba[b[i]] != a[i]) return false;
    ab[a[i]] = b[i];
    ba[b[i]] = a[i];
  }
  return true;
}

}  // namespace

TEST(KMeans, LloydFromGivenCentroidsMatchesScikitLearn) {
  // Chunks of 64 and 128 rows: with 128, 3 ranks hold 2, 1 and 1 chunks of the 400 rows;
  // each chunk's cluster sums are carried from one iteration to the next (updated by the
  // rows whose label changed), so the same bits on any number of ranks.
  for (const std::size_t chunk_rows : {std::size_t(64), std::size_t(128)}) {
    for (const auto& c : reference()["cases"]) {
      const std::string what =
          c["name"].get<std::string>() + ", chunks of " + std::to_string(chunk_rows) + " rows";
      const HostMatrix X = matrix(c["X"]);
      const ml::KMeansParams p = given(c);
      ml::KMeans km(p);
      km.fit(spread(X, chunk_rows));
      EXPECT_EQ(km.n_iter(), c["n_iter"].get<int>()) << what;
      const double inertia = c["inertia"].get<double>();
      EXPECT_NEAR(km.inertia(), inertia, 1e-9 * inertia) << what;
      EXPECT_EQ(all_labels(km), c["labels"].get<std::vector<int>>()) << what;
      const HostMatrix ref = matrix(c["centers"]);
      for (std::size_t i = 0; i < ref.extent(0); ++i)
        for (std::size_t j = 0; j < ref.extent(1); ++j)
          EXPECT_NEAR(km.cluster_centers()(i, j), ref(i, j), 1e-9 * (1 + std::abs(ref(i, j))))
              << what << " centroid " << i;
      const HostMatrix first = Kokkos::subview(X, std::make_pair(0, 5), Kokkos::ALL);
      const HostMatrix t = km.transform(first), tref = matrix(c["transform"]);
      for (std::size_t i = 0; i < tref.extent(0); ++i)
        for (std::size_t j = 0; j < tref.extent(1); ++j)
          EXPECT_NEAR(t(i, j), tref(i, j), 1e-9 * (1 + tref(i, j))) << what;
      // One process holding all rows (same chunk grid): the same bits.
      ml::KMeans alone(p);
      alone.fit(array::DistMatrix<double, Kokkos::HostSpace>(
          Comm::self(), array::ChunkGrid{X.extent(0), chunk_rows}, X));
      EXPECT_EQ(alone.inertia(), km.inertia()) << what;
      for (std::size_t i = 0; i < ref.extent(0); ++i)
        for (std::size_t j = 0; j < ref.extent(1); ++j)
          EXPECT_EQ(alone.cluster_centers()(i, j), km.cluster_centers()(i, j)) << what;
      const auto predicted = alone.predict(X);
      EXPECT_EQ(std::vector<int>(predicted.data(), predicted.data() + predicted.extent(0)),
                c["labels"].get<std::vector<int>>())
          << what;
    }
  }
}

TEST(KMeans, InitialisationsRecoverSeparatedBlobs) {
  const auto& sep = reference()["separated"];
  const HostMatrix X = matrix(sep["X"]);
  const auto truth = sep["labels"].get<std::vector<int>>();
  for (const auto init :
       {ml::KMeansInit::kmeans_plusplus, ml::KMeansInit::random, ml::KMeansInit::kmeans_parallel}) {
    ml::KMeansParams p;
    p.k = sep["k"].get<int>();
    p.init = init;
    p.n_init = init == ml::KMeansInit::random ? 10 : 1;
    p.seed = 3;
    ml::KMeans km(p);
    km.fit(spread(X));
    EXPECT_TRUE(same_partition(all_labels(km), truth)) << ml::to_string(init);
    // The same seed on one process: the same centroids, bit for bit.
    ml::KMeans alone(p);
    alone.fit(array::DistMatrix<double, Kokkos::HostSpace>(Comm::self(),
                                                           array::ChunkGrid{X.extent(0), 64}, X));
    for (std::size_t i = 0; i < alone.cluster_centers().extent(0); ++i)
      for (std::size_t j = 0; j < alone.cluster_centers().extent(1); ++j)
        ASSERT_EQ(alone.cluster_centers()(i, j), km.cluster_centers()(i, j)) << ml::to_string(init);
  }
}

// Labels at near ties. The assignment screens rows in float32 (the AVX-512 kernel, and the
// BLAS path) and must still give the centroid that float64 ranks nearest; reference:
// ½‖c‖² − x·c in long double; every kernel, screened and not. At an offset of 1000
// float32 resolves these values to about 1, and the points lie 1e-3 to 1e-9 of their
// centroid pair's difference off the pair's bisector (gaps 30 down to 3e-5), or on it:
// integer centroids make those exact ties in float64, where the lower index wins; 500
// ordinary points beside them. (Both screens fail this with a bound 1000 times smaller.)
TEST(KMeans, LabelsAtNearTiesAreThoseOfFloat64) {
  constexpr std::size_t k = 20, d = 16;
  std::mt19937_64 gen(7);
  std::uniform_int_distribution<int> coord(-50, 50);
  std::uniform_real_distribution<double> fraction(0, 1);
  HostMatrix C("C", k, d), F("F", k, d);  // integer centroids; the same plus fractions
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < d; ++j)
      C(i, j) = 1000 + coord(gen), F(i, j) = C(i, j) + fraction(gen);
  // Points t of a centroid pair's difference off the pair's bisector, for every pair.
  const auto near = [&](const HostMatrix& P, std::initializer_list<double> shifts) {
    std::vector<std::vector<double>> rows;
    for (std::size_t a = 0; a < k; ++a)
      for (std::size_t b = a + 1; b < k; ++b)
        for (const double t : shifts) {
          std::vector<double> x(d);
          for (std::size_t j = 0; j < d; ++j)
            x[j] = (P(a, j) + P(b, j)) / 2 + t * (P(b, j) - P(a, j));
          rows.push_back(x);
        }
    return rows;
  };
  std::vector<std::vector<double>> rows =
      near(C, {0.0, 1e-3, -1e-3, 1e-5, -1e-5, 1e-7, -1e-7, 1e-9, -1e-9});
  std::normal_distribution<double> noise(0, 20);
  for (std::size_t i = 0; i < 500; ++i) {
    std::vector<double> x(d);
    for (std::size_t j = 0; j < d; ++j) x[j] = C(i % k, j) + noise(gen);
    rows.push_back(x);
  }
  const HostMatrix X = matrix(json(rows));
  // One point near a bisector among 255 ordinary ones, in each block of 256 rows, at
  // centroids whose values float32 rounds (integers it holds exactly): the BLAS path takes
  // float64 for a whole block if one row in it needs float64, so each block has one row
  // that can be wrongly decided (its gap of 3 to 5 is within float32's error there).
  std::vector<std::vector<double>> mixed;
  const auto one_near = near(F, {1e-4, -5e-5});
  for (std::size_t b = 0; b < 200; ++b)
    for (std::size_t i = 0; i < 256; ++i) {
      if (i == 100) {
        mixed.push_back(one_near[b]);
        continue;
      }
      std::vector<double> x(d);
      for (std::size_t j = 0; j < d; ++j) x[j] = F(i % k, j) + noise(gen);
      mixed.push_back(x);
    }
  const HostMatrix M = matrix(json(mixed));

  // Fitted on the centroids themselves, one iteration leaves them where they are.
  const auto fitted = [&](const HostMatrix& P) {
    ml::KMeansParams p;
    p.k = static_cast<int>(k);
    p.init = ml::KMeansInit::given;
    p.initial_centers = P;
    p.max_iter = 1;
    ml::KMeans km(p);
    km.fit(P);
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = 0; j < d; ++j) EXPECT_EQ(km.cluster_centers()(i, j), P(i, j));
    return km;
  };
  const ml::KMeans on_c = fitted(C), on_f = fitted(F);

  // Every kernel (TESSERA_KMEANS_KERNEL): where the CPU has AVX-512 the default one, then
  // the portable BLAS path, each with its float32 screen and without.
  for (const char* kernel : {"", "float64", "blas", "blas,float64"}) {
    const KernelEnv chosen(kernel);
    check_near_ties(on_c.predict(X), X, C, kernel, true);
    check_near_ties(on_f.predict(M), M, F, std::string(kernel) + ", one near point a block", false);
  }
}

TEST(KMeans, EveryKernelGivesScikitLearnsLloyd) {
  for (const char* kernel : {"blas", "blas,float64", "float64"}) {
    const KernelEnv chosen(kernel);
    for (const auto& c : reference()["cases"]) {
      const std::string what = c["name"].get<std::string>() + ", kernel " + kernel;
      const ml::KMeansParams p = given(c);
      ml::KMeans km(p);
      km.fit(spread(matrix(c["X"])));
      EXPECT_EQ(km.n_iter(), c["n_iter"].get<int>()) << what;
      EXPECT_NEAR(km.inertia(), c["inertia"].get<double>(), 1e-9 * c["inertia"].get<double>())
          << what;
      EXPECT_EQ(all_labels(km), c["labels"].get<std::vector<int>>()) << what;
    }
  }
  const KernelEnv wrong("blas,gpu");
  EXPECT_ERROR_MENTIONS(InvalidArgument,
                        ml::KMeans(ml::KMeansParams{}).fit(matrix(reference()["cases"][0]["X"])),
                        "TESSERA_KMEANS_KERNEL: 'gpu' is not blas or float64");
}

namespace {

void check_near_ties(const Kokkos::View<int*, Kokkos::HostSpace>& labels, const HostMatrix& X,
                     const HostMatrix& C, const std::string& kernel, bool with_ties) {
  const std::size_t k = C.extent(0), d = C.extent(1);
  std::size_t decided = 0, ties = 0;
  for (std::size_t r = 0; r < X.extent(0); ++r) {
    long double best = INFINITY, second = INFINITY;
    int at = -1;
    for (std::size_t c = 0; c < k; ++c) {
      long double v = 0;
      for (std::size_t j = 0; j < d; ++j)
        v += 0.5L * C(c, j) * C(c, j) - static_cast<long double>(X(r, j)) * C(c, j);
      if (v < best) {
        second = best, best = v, at = static_cast<int>(c);
      } else if (v < second) {
        second = v;
      }
    }
    // float64's own rounding here is below 1e-7: it cannot reorder a gap of 1e-6
    if (second - best > 1e-6L) {
      EXPECT_EQ(labels(r), at) << kernel << ": row " << r << ", gap "
                               << static_cast<double>(second - best);
      ++decided;
    } else if (second == best) {
      EXPECT_EQ(labels(r), at) << kernel << ": row " << r << ", a tie";
      ++ties;
    }
  }
  EXPECT_EQ(decided + ties, X.extent(0)) << kernel;
  EXPECT_EQ(ties > 0, with_ties) << kernel;
}

}  // namespace

TEST(KMeans, BadInputIsAClearError) {
  ml::KMeansParams p;
  p.k = 0;
  EXPECT_THROW(ml::KMeans{p}, InvalidArgument);
  p.k = 2;
  p.n_init = 0;
  EXPECT_THROW(ml::KMeans{p}, InvalidArgument);
  p.n_init = 1;
  p.tol = -1;
  EXPECT_THROW(ml::KMeans{p}, InvalidArgument);
  EXPECT_THROW(ml::parse_kmeans_init("kmeans+++"), InvalidArgument);
  HostMatrix X("X", 3, 2);
  p = {};
  p.k = 4;
  ml::KMeans too_many(p);
  EXPECT_ERROR_MENTIONS(InvalidArgument, too_many.fit(spread(X)), "k = 4 is more than the 3 rows");
  X(1, 1) = std::nan("");
  p.k = 2;
  ml::KMeans nan(p);
  EXPECT_ERROR_MENTIONS(InvalidArgument, nan.fit(spread(X)), "row 1, column 1");
  // finite values too large to square: the distances' GEMM would give inf and NaN
  // (inertia NaN after one iteration, exit 0, before the check)
  HostMatrix huge("huge", 3, 2);
  for (std::size_t i = 0; i < 3; ++i) huge(i, 0) = 1.0, huge(i, 1) = (i - 1.0) * 1e160;
  EXPECT_ERROR_MENTIONS(InvalidArgument, ml::KMeans(p).fit(spread(huge)), "too large to square");
  p.init = ml::KMeansInit::given;
  p.initial_centers = HostMatrix("c", 2, 3);  // 3 columns for 2-column data
  ml::KMeans shape(p);
  X(1, 1) = 0;
  EXPECT_THROW(shape.fit(spread(X)), InvalidArgument);
  p.initial_centers = HostMatrix("c", 2, 2);
  p.initial_centers(1, 0) = std::nan("");  // ran: NaN distances, every label 0
  EXPECT_ERROR_MENTIONS(InvalidArgument, ml::KMeans{p}, "centroid 1, column 0 is nan");
  EXPECT_THROW(ml::KMeans{}.predict(X), InvalidArgument);
}

// Mini-batch k-means streamed from an .npy file: the separated blobs recovered, the same
// centroids on any rank count (the steps' chunk sums combined in chunk order), an inertia
// close to Lloyd's, and a NaN named by its row.
// A file read with read_share: each rank holds only its own rows (those `distribute` gives
// it), and the fit over them is scikit-learn's. A share beyond the node's memory is an
// error naming the need, on every rank (ranks on one node counted together).
TEST(KMeans, EachRankReadsOnlyItsRowsOfAFile) {
  const auto& c = reference()["cases"][0];
  const HostMatrix X = matrix(c["X"]);
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("tessera_share_" + std::to_string(g_world->allreduce(getpid(), ReduceOp::max)) + ".npy"))
          .string();
  if (g_world->rank() == 0) io::write_npy(path, X);
  g_world->barrier();
  auto source = io::open_npy_source(path);
  const auto D = array::read_share<Kokkos::HostSpace>(*g_world, *source, 64, path);
  const auto whole = array::distribute<Kokkos::HostSpace>(*g_world, X, 64);
  ASSERT_EQ(D.row_begin(), whole.row_begin());
  ASSERT_EQ(D.local().extent(0), whole.local().extent(0));
  if (g_world->size() > 1) {
    EXPECT_LT(D.local().extent(0), X.extent(0));
  }
  for (std::size_t i = 0; i < D.local().extent(0); ++i)
    for (std::size_t j = 0; j < X.extent(1); ++j)
      ASSERT_EQ(D.local()(i, j), X(D.row_begin() + i, j)) << "row " << D.row_begin() + i;
  const ml::KMeansParams p = given(c);
  ml::KMeans km(p);
  km.fit(D);
  EXPECT_EQ(all_labels(km), c["labels"].get<std::vector<int>>());
  g_world->barrier();
  if (g_world->rank() == 0) std::remove(path.c_str());

  // 10^9 generated rows of 10^5 columns: 800 TB, more than a node has; named as such
  // (generated rows are made only when read, so nothing is made here)
  auto huge = io::open_source("random:rows=1000000000,cols=100000,seed=1");
  try {
    array::read_share<Kokkos::HostSpace>(*g_world, *huge, 65536, "huge");
    ADD_FAILURE() << "no throw";
  } catch (const InvalidArgument& e) {
    const std::string ranks =
        g_world->size() == 1 ? "one rank holds" : std::to_string(g_world->size()) + " ranks hold";
    EXPECT_NE(std::string(e.what()).find("huge: the 1000000000 rows × 100000 columns that " +
                                         ranks + " on this node need 8e+05 GB, more than the"),
              std::string::npos)
        << e.what();
  }
}

TEST(KMeans, MiniBatchOverAFileRecoversBlobs) {
  const auto& sep = reference()["separated"];
  const HostMatrix X = matrix(sep["X"]);
  const auto truth = sep["labels"].get<std::vector<int>>();
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tessera_minibatch_" +
                             std::to_string(g_world->allreduce(getpid(), ReduceOp::max)) + ".npy"))
                               .string();
  if (g_world->rank() == 0) io::write_npy(path, X);
  g_world->barrier();
  ml::KMeansParams p;
  p.k = sep["k"].get<int>();
  p.seed = 3;
  p.max_iter = 20;
  auto source = io::open_npy_source(path);
  ml::KMeans mb(p);
  mb.fit_minibatch(*g_world, *source, 64);
  EXPECT_TRUE(same_partition(all_labels(mb), truth));
  EXPECT_GE(mb.n_iter(), 1);
  ml::KMeans alone(p);
  auto again = io::open_npy_source(path);
  alone.fit_minibatch(Comm::self(), *again, 64);
  for (std::size_t i = 0; i < alone.cluster_centers().extent(0); ++i)
    for (std::size_t j = 0; j < alone.cluster_centers().extent(1); ++j)
      ASSERT_EQ(alone.cluster_centers()(i, j), mb.cluster_centers()(i, j));
  EXPECT_EQ(alone.inertia(), mb.inertia());
  ml::KMeans lloyd(p);
  lloyd.fit(X);
  EXPECT_LT(mb.inertia(), 1.01 * lloyd.inertia());
  // X with one value changed, written to the file: the streamed fit names its row
  const auto refused = [&](std::size_t row, std::size_t col, double value,
                           const std::string& words) {
    g_world->barrier();
    if (g_world->rank() == 0) {
      HostMatrix bad("bad", X.extent(0), X.extent(1));
      Kokkos::deep_copy(bad, X);
      bad(row, col) = value;
      io::write_npy(path, bad);
    }
    g_world->barrier();
    auto damaged = io::open_npy_source(path);
    try {
      ml::KMeans(p).fit_minibatch(*g_world, *damaged, 64);
      ADD_FAILURE() << "no throw for " << words;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  refused(400, 1, std::nan(""), "row 400, column 1");
  refused(300, 0, 1e160, "row 300 is too large to square");
  g_world->barrier();
  if (g_world->rank() == 0) std::remove(path.c_str());
}
