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
#include <set>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/io/chunk_source.hpp>
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
      ml::KMeansParams p;
      p.init = ml::KMeansInit::given;
      p.initial_centers = matrix(c["init"]);
      p.k = static_cast<int>(p.initial_centers.extent(0));
      p.tol = c["tol"].get<double>();
      p.max_iter = c["max_iter"].get<int>();
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
  try {
    too_many.fit(spread(X));
    FAIL() << "no throw";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("k = 4 is more than the 3 rows"), std::string::npos)
        << e.what();
  }
  X(1, 1) = std::nan("");
  p.k = 2;
  ml::KMeans nan(p);
  try {
    nan.fit(spread(X));
    FAIL() << "no throw";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("row 1, column 1"), std::string::npos) << e.what();
  }
  // finite values too large to square: the distances' GEMM would give inf and NaN
  // (inertia NaN after one iteration, exit 0, before the check)
  HostMatrix huge("huge", 3, 2);
  for (std::size_t i = 0; i < 3; ++i) huge(i, 0) = 1.0, huge(i, 1) = (i - 1.0) * 1e160;
  try {
    ml::KMeans(p).fit(spread(huge));
    FAIL() << "no throw";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("too large to square"), std::string::npos) << e.what();
  }
  p.init = ml::KMeansInit::given;
  p.initial_centers = HostMatrix("c", 2, 3);  // 3 columns for 2-column data
  ml::KMeans shape(p);
  X(1, 1) = 0;
  EXPECT_THROW(shape.fit(spread(X)), InvalidArgument);
  p.initial_centers = HostMatrix("c", 2, 2);
  p.initial_centers(1, 0) = std::nan("");  // ran: NaN distances, every label 0
  try {
    ml::KMeans{p};
    FAIL() << "no throw";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("centroid 1, column 0 is nan"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ml::KMeans{}.predict(X), InvalidArgument);
}

// Mini-batch k-means streamed from an .npy file: the separated blobs recovered, the same
// centroids on any rank count (the steps' chunk sums combined in chunk order), an inertia
// close to Lloyd's, and a NaN named by its row.
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
