// PCA against scikit-learn (fixtures from tests/fixtures/make_pca_fixtures.py): components
// with svd_flip signs, explained variance (ratio), singular values, mean, noise variance,
// transform (plain and whitened), on data spread over the ranks in small chunks and
// bitwise equal to one process holding it all; the transform round trip; bad input.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/npy.hpp>
#include <tessera/ml/pca.hpp>
#include <tessera/ml/standard_scaler.hpp>

#include "test_support.hpp"

using namespace tessera;
using nlohmann::json;
using tessera::test::g_world;

namespace {

HostMatrix matrix(const json& rows) {
  HostMatrix M("M", rows.size(), rows[0].size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j) M(i, j) = rows[i][j].get<double>();
  return M;
}

void expect_relative(const std::vector<double>& got, const json& want, double tol,
                     const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double w = want[i].get<double>();
    EXPECT_NEAR(got[i], w, tol * std::abs(w)) << what << " [" << i << "]";
  }
}

void expect_matrix(const HostMatrix& got, const json& want, double tol, const std::string& what) {
  const HostMatrix ref = matrix(want);
  ASSERT_EQ(got.extent(0), ref.extent(0)) << what;
  ASSERT_EQ(got.extent(1), ref.extent(1)) << what;
  double scale = 0;
  for (std::size_t i = 0; i < ref.extent(0); ++i)
    for (std::size_t j = 0; j < ref.extent(1); ++j) scale = std::max(scale, std::abs(ref(i, j)));
  for (std::size_t i = 0; i < ref.extent(0); ++i)
    for (std::size_t j = 0; j < ref.extent(1); ++j)
      EXPECT_NEAR(got(i, j), ref(i, j), tol * std::max(1.0, scale))
          << what << " (" << i << ", " << j << ")";
}

}  // namespace

TEST(PCA, CovarianceSolverMatchesScikitLearn) {
  const json ref = test::read_json(test::fixture("pca_reference.json"));
  for (const auto& c : ref["cases"]) {
    const std::string what = c["name"].get<std::string>();
    const HostMatrix X = matrix(c["X"]);
    for (const bool whiten : {false, true}) {
      ml::PCAParams p;
      p.n_components = c["n_components"].get<int>();
      p.whiten = whiten;
      ml::PCA pca(p);
      pca.fit(array::distribute<Kokkos::HostSpace>(*g_world, X, 32));
      expect_matrix(pca.components(), c["components"], 1e-8, what + " components");
      expect_relative(pca.explained_variance(), c["explained_variance"], 1e-10, what + " variance");
      expect_relative(pca.explained_variance_ratio(), c["explained_variance_ratio"], 1e-10,
                      what + " ratio");
      expect_relative(pca.singular_values(), c["singular_values"], 1e-10,
                      what + " singular values");
      expect_relative(pca.mean(), c["mean"], 1e-12, what + " mean");
      EXPECT_NEAR(pca.noise_variance(), c["noise_variance"].get<double>(),
                  1e-9 * std::max(1e-300, c["noise_variance"].get<double>()) + 1e-12)
          << what;
      const HostMatrix first = Kokkos::subview(X, std::make_pair(0, 6), Kokkos::ALL);
      expect_matrix(pca.transform(first), c[whiten ? "transform_whiten" : "transform"], 1e-8,
                    what + (whiten ? " whitened transform" : " transform"));
      // Round trip through the components' span: exact when all components are kept.
      const HostMatrix back = pca.inverse_transform(pca.transform(X));
      if (pca.components().extent(0) == X.extent(1)) {
        for (std::size_t i = 0; i < X.extent(0); ++i)
          for (std::size_t j = 0; j < X.extent(1); ++j)
            ASSERT_NEAR(back(i, j), X(i, j), 1e-9 * (1 + std::abs(X(i, j)))) << what;
      }
      // One process holding every row (same chunk grid): the same bits.
      ml::PCA alone(p);
      alone.fit(array::whole(X, 32));
      for (std::size_t i = 0; i < alone.components().extent(0); ++i) {
        EXPECT_EQ(alone.explained_variance()[i], pca.explained_variance()[i]) << what;
        for (std::size_t j = 0; j < alone.components().extent(1); ++j)
          ASSERT_EQ(alone.components()(i, j), pca.components()(i, j)) << what;
      }
    }
  }
}

// The randomized solver (Halko et al.) converges to scikit-learn's full-SVD answer on data
// with a decaying spectrum, and gives the same bits on any rank count.
TEST(PCA, RandomizedSolverMatchesTheFullSolution) {
  const json ref = test::read_json(test::fixture("pca_reference.json"));
  for (const auto& c : ref["cases"]) {
    const std::string what = c["name"].get<std::string>() + " (randomized)";
    const HostMatrix X = matrix(c["X"]);
    ml::PCAParams p;
    p.n_components = c["n_components"].get<int>();
    p.solver = ml::PcaSolver::randomized;
    p.power_iterations = 7;
    p.seed = 5;
    ml::PCA pca(p);
    pca.fit(array::distribute<Kokkos::HostSpace>(*g_world, X, 32));
    expect_matrix(pca.components(), c["components"], 1e-6, what + " components");
    expect_relative(pca.explained_variance(), c["explained_variance"], 1e-8, what + " variance");
    expect_relative(pca.explained_variance_ratio(), c["explained_variance_ratio"], 1e-8,
                    what + " ratio");
    EXPECT_NEAR(pca.noise_variance(), c["noise_variance"].get<double>(),
                1e-6 * c["noise_variance"].get<double>() + 1e-9)
        << what;
    ml::PCA alone(p);
    alone.fit(array::whole(X, 32));
    for (std::size_t i = 0; i < alone.components().extent(0); ++i)
      for (std::size_t j = 0; j < alone.components().extent(1); ++j)
        ASSERT_EQ(alone.components()(i, j), pca.components()(i, j)) << what;
  }
}

// A file streamed in batches (two passes) gives the in-memory fit bit for bit.
TEST(PCA, StreamedFitEqualsInMemoryFit) {
  const json ref = test::read_json(test::fixture("pca_reference.json"));
  const HostMatrix X = matrix(ref["cases"][0]["X"]);
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("tessera_pca_" + std::to_string(g_world->allreduce(getpid(), ReduceOp::max)) + ".npy"))
          .string();
  if (g_world->rank() == 0) io::write_npy(path, X);
  g_world->barrier();
  ml::PCAParams p;
  p.n_components = 4;
  ml::PCA in_memory(p);
  in_memory.fit(array::distribute<Kokkos::HostSpace>(*g_world, X, 32));
  for (std::uint64_t limit : {std::uint64_t(0), std::uint64_t(2 * 32 * 12 * 8)}) {
    auto source = io::open_npy_source(path);
    ml::PCA streamed(p);
    streamed.fit(*g_world, *source, 32, limit);
    for (std::size_t c = 0; c < 4; ++c) {
      EXPECT_EQ(streamed.explained_variance()[c], in_memory.explained_variance()[c]) << limit;
      for (std::size_t j = 0; j < 12; ++j)
        EXPECT_EQ(streamed.components()(c, j), in_memory.components()(c, j)) << limit;
    }
  }
  g_world->barrier();
  if (g_world->rank() == 0) std::remove(path.c_str());
}

// scikit-learn's svd_flip by its definition, on more rows than one block of the host's
// sign scan (4096), a row count that is not a multiple of its 4 rows at a time, and more
// components than its 8 lanes: each component's largest-magnitude score is positive.
TEST(PCA, SignsFollowSvdFlipOverManyRows) {
  const std::size_t n = 10003, d = 10;
  HostMatrix X("X", n, d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j)
      X(i, j) =
          std::sin(0.37 * double(i * (j + 1)) + double(j)) * double(j + 1) + 0.01 * double(i % 97);
  ml::PCAParams p;
  p.n_components = static_cast<int>(d);
  ml::PCA pca(p);
  pca.fit(array::distribute<Kokkos::HostSpace>(*g_world, X, 1000));
  for (std::size_t c = 0; c < d; ++c) {
    double extreme = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < d; ++j) s += (X(i, j) - pca.mean()[j]) * pca.components()(c, j);
      if (std::abs(s) > std::abs(extreme)) extreme = s;
    }
    EXPECT_GT(extreme, 0) << "component " << c;
  }
}

TEST(PCA, BadInputIsAClearError) {
  ml::PCAParams p;
  p.n_components = 0;
  EXPECT_THROW(ml::PCA{p}, InvalidArgument);
  EXPECT_THROW(ml::parse_pca_solver("svd"), InvalidArgument);
  p.n_components = 1;
  p.oversamples = -1;
  EXPECT_THROW(ml::PCA{p}, InvalidArgument);
  p.oversamples = 10;
  p.n_components = 0;
  HostMatrix X("X", 6, 3);
  for (std::size_t i = 0; i < 6; ++i) X(i, 0) = double(i), X(i, 1) = double(i * i), X(i, 2) = 1.0;
  p.n_components = 4;
  const auto expect_error = [&](const ml::PCAParams& params, const HostMatrix& data,
                                const std::string& words) {
    ml::PCA pca(params);
    try {
      pca.fit(array::distribute<Kokkos::HostSpace>(*g_world, data, 2));
      ADD_FAILURE() << "no throw for " << words;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_error(p, X, "n_components = 4 is more than min(rows, features) = min(6, 3)");
  p.n_components = 3;
  p.whiten = true;  // column 2 is constant: the third component has no variance
  expect_error(p, X, "component 2 has zero variance");
  // collinear columns: the second eigenvalue is rounding (about 1e-16 beside 45), not 0
  HostMatrix line("line", 4, 3);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 3; ++j) line(i, j) = double(3 * i + j + 1);
  p.n_components = 2;
  expect_error(p, line, "component 1 has zero variance");
  p.n_components = 3;
  p.whiten = false;
  X(4, 1) = std::nan("");
  expect_error(p, X, "row 4, column 1 is not finite");
  // finite values whose squares overflow: an error naming the scale, either solver (LAPACK
  // had reported a bad argument: "dsyevd failed (info -5)", exit 1)
  HostMatrix huge("huge", 6, 3);
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t j = 0; j < 3; ++j) huge(i, j) = ((i * 7 + j * 3) % 5 - 2.0) * 1e160;
  p.n_components = 2;
  for (const auto solver : {ml::PcaSolver::covariance, ml::PcaSolver::randomized}) {
    p.solver = solver;
    expect_error(p, huge, "the covariance overflows double precision");
  }
  p.solver = ml::PcaSolver::automatic;
  HostMatrix one("one", 1, 3);
  p.n_components = 1;
  expect_error(p, one, "needs at least 2 rows");
  EXPECT_THROW(ml::PCA{}.transform(X), InvalidArgument);
}

// StandardScaler: closed-form means and population variances, a constant column scaled
// by 1, the round trip, the same on every rank count; NaN named.
TEST(StandardScaler, ClosedFormAndRoundTrip) {
  HostMatrix X("X", 8, 3);
  for (std::size_t i = 0; i < 8; ++i)
    X(i, 0) = double(i + 1), X(i, 1) = 7.0, X(i, 2) = (i % 2) ? 1e6 : -1e6;
  ml::StandardScaler s;
  s.fit(array::distribute<Kokkos::HostSpace>(*g_world, X, 3));
  EXPECT_DOUBLE_EQ(s.mean()[0], 4.5);
  EXPECT_DOUBLE_EQ(s.var()[0], 5.25);  // (8² − 1) / 12
  EXPECT_DOUBLE_EQ(s.scale()[0], std::sqrt(5.25));
  EXPECT_EQ(s.var()[1], 0.0);
  EXPECT_EQ(s.scale()[1], 1.0);  // constant: only centred
  EXPECT_DOUBLE_EQ(s.scale()[2], 1e6);
  const HostMatrix Z = s.transform(X), back = s.inverse_transform(Z);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(Z(i, 1), 0.0);
    EXPECT_DOUBLE_EQ(std::abs(Z(i, 2)), 1.0);
    for (std::size_t j = 0; j < 3; ++j)
      EXPECT_NEAR(back(i, j), X(i, j), 1e-9 * (1 + std::abs(X(i, j))));
  }
  ml::StandardScaler centre_only(true, false);
  centre_only.fit(X);
  EXPECT_EQ(centre_only.scale()[0], 1.0);
  X(5, 2) = std::nan("");
  EXPECT_ERROR_MENTIONS(
      InvalidArgument,
      ml::StandardScaler().fit(array::distribute<Kokkos::HostSpace>(*g_world, X, 3)),
      "row 5, column 2");
  EXPECT_THROW(ml::StandardScaler().transform(X), InvalidArgument);
}
