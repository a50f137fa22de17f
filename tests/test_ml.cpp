// SVC against scikit-learn (fixtures from tests/fixtures/make_svm_fixtures.py): decision
// values, support vector counts and predictions on digits, iris, wine, breast cancer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <tessera/io/dataset.hpp>
#include <tessera/ml/grid_search.hpp>
#include <tessera/ml/model_selection.hpp>
#include <tessera/ml/svc.hpp>

#include "../src/ml/ovo.hpp"
#include "test_support.hpp"

using namespace tessera;
using nlohmann::json;

namespace {

const json& reference() {
  static const json ref = test::read_json(test::fixture("svm_reference.json"));
  return ref;
}

ml::SVCParams params_of(const json& p) {
  ml::SVCParams out;
  out.kernel = ml::parse_kernel(p.value("kernel", "rbf"));
  out.C = p.value("C", 1.0);
  if (p.contains("gamma"))
    out.gamma = p["gamma"].is_string() ? ml::Gamma::parse(p["gamma"].get<std::string>())
                                       : ml::Gamma::value(p["gamma"].get<double>());
  out.degree = p.value("degree", 3);
  out.coef0 = p.value("coef0", 0.0);
  if (p.contains("class_weight"))
    for (const auto& [label, w] : p["class_weight"].items())
      out.class_weight[std::stod(label)] = w.get<double>();
  return out;
}

struct Split {
  HostMatrix X_train, X_test;
  HostVector y_train;
};

Split split_case(const json& c) {
  Table t;
  if (c["name"] == "digits") {
    t = io::digits();
  } else {
    const auto& X = c["X"];
    t.X = HostMatrix("X", X.size(), X[0].size());
    t.y = HostVector("y", X.size());
    for (std::size_t i = 0; i < X.size(); ++i) {
      for (std::size_t j = 0; j < X[i].size(); ++j) t.X(i, j) = X[i][j].get<double>();
      t.y(i) = c["y"][i].get<double>();
    }
  }
  const std::size_t n = t.X.extent(0), n_train = c["n_train"].get<std::size_t>();
  Split s{HostMatrix("Xtr", n_train, t.X.extent(1)), HostMatrix("Xte", n - n_train, t.X.extent(1)),
          HostVector("ytr", n_train)};
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < t.X.extent(1); ++j)
      (i < n_train ? s.X_train(i, j) : s.X_test(i - n_train, j)) = t.X(i, j);
  for (std::size_t i = 0; i < n_train; ++i) s.y_train(i) = t.y(i);
  return s;
}

}  // namespace

namespace {

// Every fixture fit, with kernel values from a budget of `kernel_memory` bytes.
void check_against_scikit_learn(std::uint64_t kernel_memory, bool shrinking = false) {
  for (const auto& c : reference()["cases"]) {
    const Split s = split_case(c);
    for (const auto& fit : c["fits"]) {
      const std::string what = c["name"].get<std::string>() + " " + fit["params"].dump();
      ml::SVCParams params = params_of(fit["params"]);
      params.kernel_memory = kernel_memory;
      params.shrinking = shrinking;
      ml::SVC clf(params);
      clf.fit(s.X_train, s.y_train);
      EXPECT_NEAR(clf.gamma_value(), fit["gamma_value"].get<double>(),
                  1e-10 * fit["gamma_value"].get<double>())  // NumPy sums pairwise
          << what;
      // support vectors per class within 1%
      const auto& ns = fit["n_support"];
      for (std::size_t k = 0; k < ns.size(); ++k)
        EXPECT_LE(std::abs(clf.n_support()[k] - ns[k].get<int>()),
                  std::max(1, ns[k].get<int>() / 100))
            << what << " class " << k;
      // decision values to 1e-3 of their scale
      const HostMatrix dec = clf.decision_function(s.X_test);
      const auto& ref = fit["decision"];
      ASSERT_EQ(dec.extent(0), ref.size()) << what;
      ASSERT_EQ(dec.extent(1), ref[0].size()) << what;
      double scale = 0, worst = 0;
      for (std::size_t i = 0; i < ref.size(); ++i)
        for (std::size_t p = 0; p < ref[i].size(); ++p)
          scale = std::max(scale, std::abs(ref[i][p].get<double>()));
      for (std::size_t i = 0; i < ref.size(); ++i)
        for (std::size_t p = 0; p < ref[i].size(); ++p)
          worst = std::max(worst, std::abs(dec(i, p) - ref[i][p].get<double>()));
      EXPECT_LE(worst, 1e-3 * std::max(1.0, scale)) << what << " (scale " << scale << ")";
      // predictions agree
      const HostVector pred = clf.predict(s.X_test);
      std::size_t differ = 0;
      for (std::size_t i = 0; i < pred.extent(0); ++i)
        differ += pred(i) != fit["predict"][i].get<double>();
      EXPECT_EQ(differ, 0u) << what;
    }
  }
}

}  // namespace

TEST(SVC, MatchesScikitLearnOnFourDatasets) { check_against_scikit_learn(std::uint64_t(8) << 30); }

// A budget far below n² doubles: every class pair solved alone with kernel rows from a
// small LRU cache (64 KiB: 16 rows of the largest problems, so rows are evicted and
// computed again); same agreement with scikit-learn.
TEST(SVC, KernelRowCacheMatchesScikitLearn) { check_against_scikit_learn(64 << 10); }
TEST(SVC, ShrinkingMatchesScikitLearn) { check_against_scikit_learn(64 << 10, true); }

// Shrinking (cached solver) on a noisy problem with many alphas at C: samples are set
// aside in several rounds and their gradient rebuilt, yet the optimum is the one without
// shrinking (within tol): same support vectors, decision values to 1e-3 of their scale,
// and the iteration path did change (fewer or more iterations, not the same run).
TEST(SVC, ShrinkingReachesTheSameOptimum) {
  const Table t = io::load_table("blobs:n=1200,features=5,centers=2,std=12,seed=1");
  ml::SVCParams p;
  p.C = 100;
  p.kernel_memory = 3 << 20;  // below 1200² floats: the cached solver
  ml::SVC plain(p);
  plain.fit(t.X, t.y);
  p.shrinking = true;
  ml::SVC shrunk(p);
  shrunk.fit(t.X, t.y);
  EXPECT_EQ(plain.shrink_rounds(), 0);
  EXPECT_GE(shrunk.shrink_rounds(), 3);
  EXPECT_NE(plain.iterations(), shrunk.iterations());
  EXPECT_EQ(plain.n_support(), shrunk.n_support());
  const HostMatrix a = plain.decision_function(t.X), b = shrunk.decision_function(t.X);
  double scale = 0, worst = 0;
  for (std::size_t i = 0; i < a.extent(0); ++i) {
    scale = std::max(scale, std::abs(a(i, 0)));
    worst = std::max(worst, std::abs(a(i, 0) - b(i, 0)));
  }
  EXPECT_LE(worst, 1e-3 * scale);
  EXPECT_GT(worst, 0.0);  // a different path, not the same computation twice
}

TEST(SVC, ModelSavesAndLoadsInLibsvmFormat) {
  const Table t = io::digits();
  ml::SVCParams p;
  p.C = 10;
  p.gamma = ml::Gamma::value(0.001);
  ml::SVC clf(p);
  clf.fit(t.X, t.y);
  const std::string path = std::filesystem::temp_directory_path() /
                           ("tessera_svc_" + std::to_string(getpid()) + ".model");
  clf.save(path);
  const ml::SVC back = ml::SVC::load(path);
  EXPECT_EQ(back.n_support(), clf.n_support());
  const HostMatrix a = clf.decision_function(t.X), b = back.decision_function(t.X);
  for (std::size_t i = 0; i < a.extent(0); ++i)
    for (std::size_t k = 0; k < a.extent(1); ++k) ASSERT_DOUBLE_EQ(a(i, k), b(i, k));
  std::remove(path.c_str());
}

TEST(SVC, BadInputIsAClearError) {
  const Table t = io::digits();
  ml::SVCParams p;
  p.C = 0;
  EXPECT_THROW(ml::SVC{p}, InvalidArgument);
  p.C = 1;
  p.gamma = ml::Gamma::value(-1);
  EXPECT_THROW(ml::SVC{p}, InvalidArgument);
  EXPECT_THROW(ml::Gamma::parse("big"), InvalidArgument);
  p = {};
  p.kernel = ml::Kernel::poly;
  p.degree = 0;
  EXPECT_THROW(ml::SVC{p}, InvalidArgument);
  ml::SVC clf;
  HostVector one("one", t.X.extent(0));
  Kokkos::deep_copy(one, 3.0);
  EXPECT_ERROR_MENTIONS(InvalidArgument, clf.fit(t.X, one), "single class");
  // finite values too large to square: kernel values inf/NaN, a model with rho NaN that
  // no reader accepts (exit 0 before the check)
  HostMatrix huge("huge", t.X.extent(0), t.X.extent(1));
  Kokkos::deep_copy(huge, t.X);
  huge(7, 3) = 1e160;
  EXPECT_ERROR_MENTIONS(InvalidArgument, clf.fit(huge, t.y), "row 7 is too large to square");
  HostVector frac("frac", t.X.extent(0));
  Kokkos::deep_copy(frac, 0.5);
  EXPECT_THROW(clf.fit(t.X, frac), InvalidArgument);
  EXPECT_THROW(clf.predict(t.X), InvalidArgument);  // not fitted
  const std::string path = std::filesystem::temp_directory_path() /
                           ("tessera_bad_" + std::to_string(getpid()) + ".model");
  std::ofstream(path) << "1,2,3\n4,5,6\n";
  EXPECT_THROW(ml::SVC::load(path), ParseError);
  std::remove(path.c_str());
}

TEST(SVC, DamagedModelFilesAreClearErrors) {
  // A three-class model; each damage of one line must be a ParseError naming it, never a
  // model that predicts something (gamma -1 and a missing kernel were read silently).
  const Table t = io::load_table("blobs:n=60,features=3,centers=3,seed=4");
  ml::SVCParams p;
  p.gamma = ml::Gamma::value(0.5);
  ml::SVC clf(p);
  clf.fit(t.X, t.y);
  const std::string path = std::filesystem::temp_directory_path() /
                           ("tessera_damaged_" + std::to_string(getpid()) + ".model");
  clf.save(path);
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_EQ(lines[2], "gamma 0.5");
  ASSERT_EQ(lines[6], "label 0 1 2");
  ASSERT_EQ(lines[8].substr(0, 3), "SV");
  ml::SVC::load(path);  // the undamaged file loads
  const auto line_starting = [&](const std::string& start) {
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (lines[i].rfind(start, 0) == 0) return i;
    ADD_FAILURE() << "no line starting " << start;
    return std::size_t{0};
  };
  const std::string sv = lines[9];  // "coef coef index:value ..."
  const std::size_t first_space = sv.find(' '), second_space = sv.find(' ', first_space + 1);
  struct Damage {
    std::string line_start, replacement, message;  // no replacement: the line removed
  };
  const std::vector<Damage> damages = {
      {"gamma", "gamma -1", "gamma must be a number > 0, got -1"},
      {"gamma", "", "no 'gamma' line (the rbf kernel needs one)"},
      {"kernel_type", "", "no 'kernel_type' line"},
      {"label", "label 0 1 1", "labels are not distinct and in increasing order"},
      {"label", "label 0 1 2.5", "label 2.5 is not an integer"},
      {"rho", "rho 0 inf 0", "cannot read the value of 'rho'"},
      {sv, "nan" + sv.substr(first_space), "coefficient 'nan' is not a finite number"},
      {sv, sv.substr(0, first_space) + " 1:2", "needs 2 coefficients, found 1"},
      {sv, sv.substr(0, second_space) + " 3000000000:1", "feature index 3000000000 is above"},
      {sv, sv.substr(0, second_space) + " 2:inf", "bad feature value '2:inf'"},
  };
  for (const Damage& d : damages) {
    std::vector<std::string> damaged = lines;
    const std::size_t at = line_starting(d.line_start);
    if (d.replacement.empty())
      damaged.erase(damaged.begin() + static_cast<std::ptrdiff_t>(at));
    else
      damaged[at] = d.replacement;
    {
      std::ofstream out(path);
      for (const auto& line : damaged) out << line << "\n";
    }
    try {
      ml::SVC::load(path);
      ADD_FAILURE() << "no error for: " << d.message;
    } catch (const ParseError& e) {
      EXPECT_NE(std::string(e.what()).find(d.message), std::string::npos) << e.what();
    }
  }
  std::remove(path.c_str());
}

namespace {
std::vector<std::vector<std::int64_t>> test_folds(const std::vector<ml::Fold>& folds) {
  std::vector<std::vector<std::int64_t>> out;
  for (const auto& f : folds) out.push_back(f.test);
  return out;
}
std::vector<std::vector<std::int64_t>> as_folds(const json& j) {
  return j.get<std::vector<std::vector<std::int64_t>>>();
}
}  // namespace

TEST(Folds, KFoldAndStratifiedKFoldMatchScikitLearn) {
  const auto& ref = reference()["folds"];
  EXPECT_EQ(test_folds(ml::kfold(23, 5)), as_folds(ref["kfold_23_5"]));
  const Table digits = io::digits();
  EXPECT_EQ(test_folds(ml::stratified_kfold(digits.y, 5)), as_folds(ref["stratified_digits_5"]));
  const auto small_y = ref["stratified_small_y"].get<std::vector<double>>();
  HostVector y("y", small_y.size());
  for (std::size_t i = 0; i < small_y.size(); ++i) y(i) = small_y[i];
  const auto folds = ml::stratified_kfold(y, 3);
  EXPECT_EQ(test_folds(folds), as_folds(ref["stratified_small_3"]));
  for (const auto& f : folds) {  // train is the complement of test
    EXPECT_EQ(f.train.size() + f.test.size(), small_y.size());
    for (auto i : f.test) EXPECT_FALSE(std::binary_search(f.train.begin(), f.train.end(), i));
  }
}

TEST(Folds, ShuffledFoldsAreSeededAndStillStratified) {
  const Table digits = io::digits();
  const auto a = ml::stratified_kfold(digits.y, 5, true, 7),
             b = ml::stratified_kfold(digits.y, 5, true, 7);
  const auto c = ml::stratified_kfold(digits.y, 5, true, 8);
  EXPECT_EQ(test_folds(a), test_folds(b));
  EXPECT_NE(test_folds(a), test_folds(c));
  EXPECT_NE(test_folds(a), test_folds(ml::stratified_kfold(digits.y, 5)));
  // each fold holds as many rows of each class as without shuffling (same allocation)
  const auto plain = ml::stratified_kfold(digits.y, 5);
  for (std::size_t f = 0; f < a.size(); ++f) {
    std::vector<int> shuffled_count(10, 0), plain_count(10, 0);
    for (auto i : a[f].test) ++shuffled_count[static_cast<int>(digits.y(i))];
    for (auto i : plain[f].test) ++plain_count[static_cast<int>(digits.y(i))];
    EXPECT_EQ(shuffled_count, plain_count) << "fold " << f;
  }
  const auto shuffled = ml::kfold(23, 5, true, 3);
  EXPECT_NE(test_folds(shuffled), test_folds(ml::kfold(23, 5)));
  EXPECT_EQ(shuffled[0].test.size(), 5u);
}

TEST(Folds, BadInputIsAClearError) {
  EXPECT_THROW(ml::kfold(3, 5), InvalidArgument);
  EXPECT_THROW(ml::kfold(10, 1), InvalidArgument);
  HostVector y("y", 6);
  for (int i = 0; i < 6; ++i) y(i) = i < 5 ? 0 : 1;  // class 1 has one row
  EXPECT_ERROR_MENTIONS(InvalidArgument, ml::stratified_kfold(y, 2), "class 1 has 1 rows");
  y(0) = 0.5;
  EXPECT_THROW(ml::stratified_kfold(y, 2), InvalidArgument);
}

// grid_search's training scores take a sample's votes from the solver's gradients where
// they are settled beyond a rounding margin, and from exact decisions otherwise: they must
// equal the score of an SVC fitted on the same fold, cell for cell — with tiny C (every
// decision about C in size), middling and large C, and a gamma where most samples are
// support vectors.
TEST(GridSearch, TrainScoresEqualAFreshFitsScore) {
  const auto t = io::digits();
  ml::GridSearchOptions o;
  o.C = {1e-6, 1e-2, 10.0};
  o.gamma = {ml::Gamma::value(1e-3), ml::Gamma::value(0.1)};
  o.folds = 3;
  o.warm_start = false;  // each cell solved from zero, as a fresh fit is
  const ml::CvResults r = ml::grid_search(Comm::self(), t.X, t.y, o);
  o.fold_batch = 3;  // every fold's class pairs in one launch
  const ml::CvResults batched = ml::grid_search(Comm::self(), t.X, t.y, o);
  const auto folds = ml::stratified_kfold(t.y, o.folds);
  const std::size_t d = t.X.extent(1);
  for (std::size_t i = 0; i < r.points.size(); ++i)
    for (std::size_t f = 0; f < folds.size(); ++f) {
      const auto& rows = folds[f].train;
      HostMatrix X("X", rows.size(), d);
      HostVector y("y", rows.size());
      for (std::size_t s = 0; s < rows.size(); ++s) {
        const auto row = static_cast<std::size_t>(rows[s]);
        for (std::size_t j = 0; j < d; ++j) X(s, j) = t.X(row, j);
        y(s) = t.y(row);
      }
      ml::SVCParams p = o.base;
      p.C = r.points[i].C;
      p.gamma = r.points[i].gamma;
      ml::SVC fresh(p);
      fresh.fit(X, y);
      const double score = fresh.score(X, y);
      EXPECT_EQ(r.split_train_score[i][f], score)
          << "C " << p.C << ", gamma " << r.points[i].gamma_value << ", fold " << f;
      EXPECT_EQ(batched.split_train_score[i][f], score)
          << "batched: C " << p.C << ", gamma " << r.points[i].gamma_value << ", fold " << f;
    }
}

// Folds batched per task (fold_batch 2 of 3 folds: a task of two, one of one; 3: one task
// per kernel), warm starts along the C chain and gamma = scale (a kernel matrix per fold):
// the same scores as one fold per task, fold by fold, on one rank and (fold_batch 2) over
// the farm's tasks. A negative fold_batch, or one whose kernel matrices exceed the kernel
// memory budget, is refused.
TEST(GridSearch, FoldsBatchedPerTaskGiveTheSameScores) {
  const auto t = io::digits();
  ml::GridSearchOptions o;
  o.C = {0.01, 1.0, 100.0};
  o.gamma = {ml::Gamma::value(1e-3), ml::Gamma::scale()};
  o.folds = 3;
  const ml::CvResults one = ml::grid_search(Comm::self(), t.X, t.y, o);
  for (const int batch : {2, 3}) {
    o.fold_batch = batch;
    const ml::CvResults r = ml::grid_search(Comm::self(), t.X, t.y, o);
    ASSERT_EQ(r.points.size(), one.points.size());
    EXPECT_EQ(r.split_test_score, one.split_test_score) << "fold_batch " << batch;
    EXPECT_EQ(r.split_train_score, one.split_train_score) << "fold_batch " << batch;
    EXPECT_EQ(r.best_index, one.best_index) << "fold_batch " << batch;
  }
  double worst = 1;
  for (const auto& fold_scores : one.split_test_score)
    for (const double s : fold_scores) worst = std::min(worst, s);
  EXPECT_LT(worst, 0.5);  // C = 0.01 underfits: the grid's scores differ, the test can tell
  o.fold_batch = -1;
  EXPECT_THROW(ml::grid_search(Comm::self(), t.X, t.y, o), InvalidArgument);
  // A kernel memory budget with room for two folds' float kernel matrices beside the
  // double dot products and kernel matrix: a batch of three is refused, two run.
  const auto n = static_cast<std::uint64_t>(t.X.extent(0));
  std::uint64_t longest = 0;
  for (const auto& fold : ml::stratified_kfold(t.y, o.folds))
    longest = std::max<std::uint64_t>(longest, fold.train.size());
  o.base.kernel_memory = 2 * n * n * sizeof(double) + 5 * longest * longest * sizeof(float) / 2;
  o.fold_batch = 3;
  EXPECT_THROW(ml::grid_search(Comm::self(), t.X, t.y, o), InvalidArgument);
  o.fold_batch = 2;
  EXPECT_EQ(ml::grid_search(Comm::self(), t.X, t.y, o).split_test_score, one.split_test_score);
}

// RBF values from dot products (each gamma of a grid search, predictions): within an ulp of
// libm's exp, and libm's own values where they are subnormal (arguments below −708: the
// decisions of degenerate grid cells are sums of them), 0 beyond.
TEST(OvoKernel, KernelFromDotsKeepsSubnormalValues) {
  constexpr std::size_t n = 761;
  ml::impl::DMatrix dots("dots", 1, n);
  ml::impl::DVector a("a", 1), b("b", n);
  const auto b_host = Kokkos::create_mirror_view(b);
  for (std::size_t j = 0; j < n; ++j) b_host(j) = static_cast<double>(j);  // argument −j
  Kokkos::deep_copy(b, b_host);
  detail::KernelSpec spec;
  spec.gamma = 1.0;
  const auto K = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(),
                                                     ml::impl::kernel_from_dots(dots, a, b, spec));
  std::size_t subnormal = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const double ref = std::exp(-static_cast<double>(j));
    if (ref < 0x1p-1022) {
      ++subnormal;
#if defined(KOKKOS_ENABLE_CUDA)
      EXPECT_NEAR(K(0, j), ref, 2 * 0x1p-1074) << j;
#else
      EXPECT_EQ(K(0, j), ref) << j;
#endif
    } else {
      EXPECT_NEAR(K(0, j), ref, 0x1p-52 * ref) << j;
    }
  }
  EXPECT_GT(subnormal, 30u);  // −709 … −744 give subnormals, −745 on 0
}

// The training kernel matrix of a fit (float, libsvm's Q precision), built in tiles on the
// host: every value against the kernel computed directly from the two rows in long double
// (within float's rounding), exactly symmetric, the diagonal in double. 300 rows of 3
// classes in shuffled order span several tiles, the last one partial.
TEST(OvoKernel, EveryValueMatchesTheKernelOfItsRows) {
  constexpr std::size_t n = 300, d = 7;
  std::uint64_t state = 99;
  const auto uniform = [&] {  // in [0, 1)
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) * 0x1p-53;
  };
  HostMatrix X("X", n, d);
  std::vector<int> cls(n), all(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < d; ++j) X(i, j) = 4 * uniform() - 2;
    cls[i] = static_cast<int>(uniform() * 3), all[i] = static_cast<int>(i);
  }
  const auto Xd = ml::impl::to_device(X);
  for (const auto kind : {detail::KernelKind::rbf, detail::KernelKind::poly}) {
    detail::KernelSpec spec;
    spec.kind = kind, spec.gamma = 0.15, spec.coef0 = 0.5, spec.degree = 3;
    ml::impl::OvoSet set = ml::impl::make_ovo(all, cls, 3);
    ml::impl::prepare_kernel(set, Xd, spec);
    const auto Kf = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), set.Kf);
    const auto kdiag = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), set.kdiag);
    ASSERT_EQ(Kf.extent(0), n);
    const auto kernel = [&](std::size_t a, std::size_t b) {
      long double dot = 0, dist = 0;
      for (std::size_t j = 0; j < d; ++j) {
        dot += static_cast<long double>(X(a, j)) * X(b, j);
        dist += (static_cast<long double>(X(a, j)) - X(b, j)) * (X(a, j) - X(b, j));
      }
      return kind == detail::KernelKind::rbf ? std::exp(-0.15L * dist)
                                             : std::pow(0.15L * dot + 0.5L, 3);
    };
    std::size_t wrong = 0;
    for (std::size_t r = 0; r < n; ++r) {
      const auto a = static_cast<std::size_t>(set.order[r]);
      EXPECT_NEAR(kdiag(r), static_cast<double>(kernel(a, a)),
                  1e-12 * std::fabs(kdiag(r)) + 1e-300);
      for (std::size_t c = 0; c < n; ++c) {
        const long double ref = kernel(a, static_cast<std::size_t>(set.order[c]));
        // float(K) from K computed in double: within a float step of the exact value
        const long double tol = 0x1p-23L * std::fabs(ref) + 1e-30L;
        wrong += std::fabs(static_cast<long double>(Kf(r, c)) - ref) > tol || Kf(r, c) != Kf(c, r);
      }
    }
    EXPECT_EQ(wrong, 0u) << "kernel " << static_cast<int>(kind);
  }
}

// One-vs-one decisions where kernel values are subnormal doubles (far samples at a large
// gamma), next to ordinary, large and huge ones: each decision within half a step of the
// subnormal grid (plus 1e-15 relative) of Σ y·alpha·K − rho summed in long double, which
// has room below double's range. Summed in double as they are, the products would each
// round to that grid (several steps off in total); the host kernel sums such values scaled
// by 2^600 instead. The CUDA build sums them with a GEMM: a few steps there.
TEST(OvoDecisions, TinyKernelValuesAreSummedWithoutUnderflow) {
  // Universe: 3 classes of 40 training samples, then 5 queries. Kernel values of query q at
  // class c: a fixed pseudo-random spread within [lo, 2 lo) for lo = scale[q][c].
  constexpr std::size_t m = 40, n_train = 3 * m, n_queries = 5;
  const double scale[n_queries][3] = {{1e-310, 3e-311, 2e-310},  // all subnormal
                                      {1e-310, 0.25, 4e-311},    // subnormal and ordinary
                                      {1e-310, 0.5, 1e200},      // with huge values
                                      {0.3, 0.45, 0.15},         // ordinary
                                      {2e-310, 1e123, 0.5}};     // above 2^400
  const std::size_t n = n_train + n_queries;
  std::vector<int> cls(n, 0), train(n_train), queries(n_queries);
  for (std::size_t i = 0; i < n_train; ++i) cls[i] = static_cast<int>(i / m), train[i] = int(i);
  for (std::size_t q = 0; q < n_queries; ++q) queries[q] = static_cast<int>(n_train + q);
  HostMatrix K("K", n, n);
  for (std::size_t i = 0; i < n_train; ++i) K(i, i) = 1.0;
  std::uint64_t state = 12345;
  const auto uniform = [&] {  // in [0, 1)
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) * 0x1p-53;
  };
  for (std::size_t q = 0; q < n_queries; ++q)
    for (std::size_t j = 0; j < n_train; ++j)
      K(n_train + q, j) = scale[q][j / m] * (1.0 + uniform());
  ml::impl::OvoSet set = ml::impl::make_ovo(train, cls, 3);
  const auto Kd = Kokkos::create_mirror_view_and_copy(ml::impl::Mem(), K);
  ml::impl::prepare_kernel(set, Kd);
  for (double& a : set.alpha) a = 0.1 + uniform();
  set.rho = {0.0, 1.3e-311, -2.1e-310};
  const HostMatrix d = ml::impl::ovo_decisions(Kd, queries, set);
#if defined(KOKKOS_ENABLE_CUDA)
  const double steps = 40;
#else
  const double steps = 0.5;
#endif
  for (std::size_t q = 0; q < n_queries; ++q)
    for (std::size_t p = 0; p < 3; ++p) {
      long double ref = -static_cast<long double>(set.rho[p]);
      for (int pos = set.offset[p]; pos < set.offset[p + 1]; ++pos) {
        const auto k = static_cast<std::size_t>(pos);
        ref += static_cast<long double>(set.y[k]) * set.alpha[k] *
               K(static_cast<std::size_t>(queries[q]), static_cast<std::size_t>(set.index[k]));
      }
      const double want = static_cast<double>(ref);
      EXPECT_LE(std::abs(d(q, p) - want), steps * 0x1p-1074 + 1e-15 * std::abs(want))
          << "query " << q << ", pair " << p << ": " << d(q, p) << " vs " << want;
    }
}

// The first n digits as one-vs-one training samples (all of them, classes as labels) and
// their kernel matrix (RBF, gamma 1e-3, unless spec says otherwise).
struct DigitsKernel {
  std::vector<int> train, cls;
  ml::impl::DMatrix K;
  explicit DigitsKernel(std::size_t n, const detail::KernelSpec& spec = rbf_spec())
      : train(n), cls(n) {
    const auto t = io::digits();
    HostMatrix X("X", n, t.X.extent(1));
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < X.extent(1); ++j) X(i, j) = t.X(i, j);
      cls[i] = static_cast<int>(t.y(i)), train[i] = static_cast<int>(i);
    }
    const ml::impl::DMatrix Xd = ml::impl::to_device(X);
    const ml::impl::DVector norms = ml::impl::row_norms(Xd);
    K = ml::impl::kernel_from_dots(ml::impl::dots(Xd, Xd), norms, norms, spec);
  }
  static detail::KernelSpec rbf_spec() {
    detail::KernelSpec spec;
    spec.gamma = 1e-3;
    return spec;
  }
};

// Warm starts along a chain of C values (grid search's): every solution as good as a cold
// solve's (dual objective ½αᵀQα − eᵀα = ½αᵀ(G − e) within 1e-4 relative, per pair), and
// for the small C values, where the scaled previous solution already meets the stopping
// rule, a handful of SMO steps instead of a cold solve's hundreds. A decreasing step at the
// end scales down.
TEST(OvoWarmStart, ScaledOrKeptStartsReachTheColdOptimum) {
  const DigitsKernel d(500);
  const std::vector<int>& train = d.train;
  const std::vector<int>& cls = d.cls;
  const ml::impl::DMatrix& K = d.K;
  const std::vector<double> weight(10, 1.0);
  const auto fresh = [&] {
    ml::impl::OvoSet set = ml::impl::make_ovo(train, cls, 10);
    ml::impl::prepare_kernel(set, K);
    return set;
  };
  const auto objective = [](const ml::impl::OvoSet& set, std::size_t p) {
    double f = 0;
    for (int pos = set.offset[p]; pos < set.offset[p + 1]; ++pos) {
      const auto k = static_cast<std::size_t>(pos);
      f += 0.5 * set.alpha[k] * (set.grad[k] - 1.0);
    }
    return f;
  };
  const auto steps = [](const ml::impl::OvoSet& set) {
    std::int64_t sum = 0;
    for (std::int64_t it : set.iterations) sum += it;
    return sum;
  };
  const std::vector<double> chain = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 0.5};
  ml::impl::OvoSet warm = fresh();
  for (std::size_t k = 0; k < chain.size(); ++k) {
    const double C = chain[k];
    if (k > 0) ml::impl::warm_start(warm, chain[k - 1], C, weight);
    ml::impl::solve_ovo(warm, C, weight, 1e-3, -1, k > 0);
    ml::impl::OvoSet cold = fresh();
    ml::impl::solve_ovo(cold, C, weight, 1e-3, -1, false);
    for (std::size_t p = 0; p < warm.pairs.size(); ++p) {
      const double fw = objective(warm, p), fc = objective(cold, p);
      EXPECT_LE(std::abs(fw - fc), 1e-4 * std::abs(fc)) << "C " << C << ", pair " << p;
    }
    if (k > 0 && C <= 1e-3) {
      EXPECT_LT(steps(warm) * 100, steps(cold))
          << "C " << C << ": " << steps(warm) << " vs " << steps(cold) << " SMO steps";
    }
  }
}

// A team of threads per problem (SmoTeam: what GPUs run, here on the host's threads)
// against one thread per problem (SmoBatch): the same picks and steps, so the same
// solutions, iteration counts and rho; and the same bits for any team size (the picks'
// rules do not depend on how the positions are split). Cold starts (the team computes the
// start gradient), warm starts along a C chain (given gradients), the iteration limit.
TEST(OvoTeams, ATeamPerProblemSolvesAsOneThreadPerProblem) {
  const DigitsKernel d(400);
  const std::vector<int>& train = d.train;
  const std::vector<int>& cls = d.cls;
  const ml::impl::DMatrix& K = d.K;
  const std::vector<double> weight(10, 1.0);
  using Launch = ml::impl::SmoLaunch;
  const int widest = std::min(4, Kokkos::DefaultExecutionSpace().concurrency());
  struct Way {
    Launch launch;
    int team_size;
  };
  const std::vector<Way> ways = {{Launch::per_thread, 0},
                                 {Launch::per_team, 1},
                                 {Launch::per_team, widest},
                                 {Launch::per_team, 0}};
  const std::vector<double> chain = {0.01, 0.5, 10.0, 2.0};
  std::vector<ml::impl::OvoSet> warm(ways.size());
  for (std::size_t k = 0; k < chain.size(); ++k) {
    const double C = chain[k];
    for (const bool is_warm : {false, true}) {
      if (is_warm && k == 0) continue;
      std::vector<ml::impl::OvoSet> sets;
      for (std::size_t w = 0; w < ways.size(); ++w) {
        ml::impl::OvoSet set;
        if (is_warm) {
          ml::impl::warm_start(warm[w], chain[k - 1], C, weight);
          set = warm[w];
        } else {
          set = ml::impl::make_ovo(train, cls, 10);
          ml::impl::prepare_kernel(set, K);
        }
        ml::impl::solve_ovo(set, C, weight, 1e-3, -1, is_warm, ways[w].launch, ways[w].team_size);
        if (is_warm || k == 0) warm[w] = set;  // the chain starts from the first cold solve
        sets.push_back(set);
      }
      const std::string what = "C " + std::to_string(C) + (is_warm ? ", warm" : ", cold");
      std::int64_t steps = 0;
      for (const auto& it : sets[0].iterations) steps += it;
      EXPECT_GT(steps, 45) << what;  // every pair solved by steps
      for (std::size_t w = 1; w < sets.size(); ++w) {
        EXPECT_EQ(sets[w].iterations, sets[0].iterations) << what << ", way " << w;
        EXPECT_EQ(sets[w].alpha, sets[0].alpha) << what << ", way " << w;
        EXPECT_EQ(sets[w].grad, sets[0].grad) << what << ", way " << w;
        EXPECT_EQ(sets[w].rho, sets[0].rho) << what << ", way " << w;
      }
    }
  }
  // The iteration limit: max_iter + 1 reported, the same partial solution.
  std::vector<ml::impl::OvoSet> limited;
  for (const Way& way : ways) {
    ml::impl::OvoSet set = ml::impl::make_ovo(train, cls, 10);
    ml::impl::prepare_kernel(set, K);
    ml::impl::solve_ovo(set, 10.0, weight, 1e-3, 5, false, way.launch, way.team_size);
    for (const auto it : set.iterations) EXPECT_EQ(it, 6);
    limited.push_back(set);
  }
  for (std::size_t w = 1; w < limited.size(); ++w)
    EXPECT_EQ(limited[w].alpha, limited[0].alpha) << "way " << w;
}

// Several folds' problems in one launch (solve_ovo_batch over kernel matrices stacked by
// stack_kernels: what a grid search task hands a GPU) against each fold solved alone in its
// own allocation: the same bits per fold (alphas, gradients, rho, iteration counts) for
// cold and warm starts along a C chain, one thread or a team per problem. Folds of
// different sizes (400 digits in 3 stratified folds), so rows and columns of the stack
// differ, and a polynomial kernel, whose diagonal varies (an RBF kernel's is all ones); a
// set outside the stack is refused.
TEST(OvoBatch, FoldsInOneLaunchSolveAsEachAlone) {
  detail::KernelSpec poly;
  poly.kind = detail::KernelKind::poly, poly.gamma = 1e-3, poly.coef0 = 1.0, poly.degree = 2;
  const DigitsKernel d(400, poly);
  HostVector labels("y", d.cls.size());
  for (std::size_t i = 0; i < d.cls.size(); ++i) labels(i) = d.cls[i];
  const std::vector<ml::Fold> folds = ml::stratified_kfold(labels, 3);
  const std::vector<double> weight(10, 1.0);
  const auto fold_set = [&](const ml::Fold& fold) {
    return ml::impl::make_ovo(std::vector<int>(fold.train.begin(), fold.train.end()), d.cls, 10);
  };
  std::vector<ml::impl::OvoSet> stacked, alone;
  for (const ml::Fold& fold : folds)
    stacked.push_back(fold_set(fold)), alone.push_back(fold_set(fold));
  ASSERT_NE(stacked[0].order.size(), stacked[2].order.size());
  ml::impl::stack_kernels(stacked);
  EXPECT_EQ(stacked[1].Kf.data(),
            stacked[0].Kf.data() + stacked[0].order.size() * stacked[0].Kf_stack.extent(1));
  for (std::size_t f = 0; f < folds.size(); ++f) {
    ml::impl::prepare_kernel(stacked[f], d.K);
    ml::impl::prepare_kernel(alone[f], d.K);
  }
  std::vector<ml::impl::OvoSet*> batch;
  for (auto& set : stacked) batch.push_back(&set);
  using Launch = ml::impl::SmoLaunch;
  const std::vector<std::pair<Launch, int>> ways = {{Launch::per_thread, 0}, {Launch::per_team, 2}};
  for (const auto& [launch, team_size] : ways) {
    const std::vector<double> chain = {0.05, 3.0, 0.5};
    for (std::size_t k = 0; k < chain.size(); ++k) {
      const double C = chain[k];
      const bool warm = k > 0;
      for (std::size_t f = 0; f < folds.size(); ++f) {
        if (warm) {
          ml::impl::warm_start(stacked[f], chain[k - 1], C, weight);
          ml::impl::warm_start(alone[f], chain[k - 1], C, weight);
        }
        ml::impl::solve_ovo(alone[f], C, weight, 1e-3, -1, warm, launch, team_size);
      }
      ml::impl::solve_ovo_batch(batch, C, weight, 1e-3, -1, warm, launch, team_size);
      for (std::size_t f = 0; f < folds.size(); ++f) {
        const std::string what = "C " + std::to_string(C) + ", fold " + std::to_string(f) +
                                 (launch == Launch::per_team ? ", teams" : ", threads");
        std::int64_t steps = 0;
        for (const auto it : alone[f].iterations) steps += it;
        EXPECT_GT(steps, 45) << what;
        EXPECT_EQ(stacked[f].iterations, alone[f].iterations) << what;
        EXPECT_EQ(stacked[f].alpha, alone[f].alpha) << what;
        EXPECT_EQ(stacked[f].grad, alone[f].grad) << what;
        EXPECT_EQ(stacked[f].rho, alone[f].rho) << what;
      }
    }
  }
  EXPECT_THROW(ml::impl::solve_ovo_batch({&stacked[0], &alone[1]}, 1.0, weight, 1e-3, -1),
               InvalidArgument);
  EXPECT_THROW(ml::impl::stack_kernels(stacked), InvalidArgument);  // already prepared
}
