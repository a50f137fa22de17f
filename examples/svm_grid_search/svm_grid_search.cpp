// The reference SVM grid search through the C++ API: RBF SVC on the embedded digits,
// C = logspace(-6, 6, 20) x gamma = logspace(-6, 1, 20), 5-fold stratified CV, the
// (gamma, fold) tasks spread over every rank by the task farm; then a refit of the best
// parameters on the training rows and its accuracy on held-out rows.
//
//   ./example_svm_grid_search              # 2000 fits on one rank
//   mpirun -np 4 ./example_svm_grid_search # the same results on four
//   ./example_svm_grid_search 5            # a 5 x 5 grid (quick)
#include <cstdio>
#include <cstdlib>

#include <tessera/core/progress.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/core/value_list.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/ml/grid_search.hpp>
#include <tessera/ml/svc.hpp>

int main(int argc, char** argv) {
  tessera::Runtime runtime(argc, argv);
  const tessera::Comm& comm = runtime.world();
  const int points = argc > 1 ? std::atoi(argv[1]) : 20;
  if (points < 1) return 2;
  {
    // The first 1437 rows train, the last 360 are held out.
    const tessera::Table digits = tessera::io::digits();
    const std::size_t n_train = 1437, n = digits.rows(), d = digits.cols();
    tessera::HostMatrix X("X", n_train, d), X_test("X_test", n - n_train, d);
    tessera::HostVector y("y", n_train), y_test("y_test", n - n_train);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < d; ++j)
        (i < n_train ? X(i, j) : X_test(i - n_train, j)) = digits.X(i, j);
      (i < n_train ? y(i) : y_test(i - n_train)) = digits.y(i);
    }

    tessera::ml::GridSearchOptions search;
    search.base.kernel = tessera::ml::Kernel::rbf;
    search.C = tessera::logspace(-6, 6, points);
    for (double g : tessera::logspace(-6, 1, points))
      search.gamma.push_back(tessera::ml::Gamma::value(g));
    search.folds = 5;
    search.farm.progress = tessera::progress_wanted(comm.rank(), false, false);
    const tessera::ml::CvResults r = tessera::ml::grid_search(comm, X, y, search);

    const tessera::ml::GridPoint& best = r.points[r.best_index];
    tessera::ml::SVCParams p = search.base;
    p.C = best.C;
    p.gamma = best.gamma;
    tessera::ml::SVC clf(p);
    clf.fit(X, y);
    const double test_score = clf.score(X_test, y_test);
    if (comm.is_root())
      std::printf(
          "%zu fits on %d rank(s): best C = %.6g, gamma = %.6g, CV accuracy %.4f, test %.4f\n",
          r.points.size() * static_cast<std::size_t>(r.folds), comm.size(), best.C,
          best.gamma_value, r.mean_test_score[r.best_index], test_score);
  }
  return 0;
}
