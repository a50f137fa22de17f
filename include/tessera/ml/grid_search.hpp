#pragma once
/// @file
/// @brief Grid search of SVC parameters with cross-validation over every rank: what
/// scikit-learn's `GridSearchCV(SVC(), grid, cv=k)` computes, as `cv_results_`.
///
/// @code
/// tessera::ml::GridSearchOptions o;
/// o.C = tessera::logspace(-6, 6, 20);
/// o.gamma = {...};                                    // Gamma values
/// auto r = tessera::ml::grid_search(comm, X, y, o);   // collective
/// // r.mean_test_score[r.best_index], r.points[r.best_index].C, ...
/// @endcode
///
/// Work split: one task per (kernel parameters, fold) on the task farm, or per kernel
/// parameters and `fold_batch` folds, whose class pairs are solved in one launch; the C
/// values run inside the task in order, each warm-starting from the previous C's solution.
/// Tasks with the same kernel parameters share an affinity group, so each rank computes
/// the data's dot products once and each kernel matrix once, and slices it for every
/// fold and class pair. Results depend on neither the rank count nor the thread count.

#include <cstdint>
#include <string>
#include <vector>

#include <tessera/comm/comm.hpp>
#include <tessera/io/table.hpp>
#include <tessera/ml/model_selection.hpp>
#include <tessera/ml/svc.hpp>
#include <tessera/sched/farm.hpp>

namespace tessera::ml {

/// @brief What to search and how.
struct GridSearchOptions {
  SVCParams base;             ///< kernel, tol, max_iter, class weights, shared values
  std::vector<double> C;      ///< empty: base.C
  std::vector<Gamma> gamma;   ///< empty: base.gamma
  std::vector<int> degree;    ///< empty: base.degree
  std::vector<double> coef0;  ///< empty: base.coef0
  int folds = 5;              ///< stratified k-fold
  bool shuffle = false;       ///< shuffle the folds (seeded)
  std::uint64_t seed = 0;
  bool warm_start = true;  ///< start each C from the previous C's alphas
  /// Folds per task, their class pairs solved in one launch (0: every fold in CUDA builds,
  /// one on the host). The results do not depend on it.
  int fold_batch = 0;
  FarmOptions farm;  ///< journal / resume / progress; affinity is set here
};

/// @brief One grid point, in scikit-learn's ParameterGrid order.
struct GridPoint {
  double C = 1.0;
  Gamma gamma;
  double gamma_value = 0.0;  ///< resolved on the whole data (scale/auto)
  int degree = 3;
  double coef0 = 0.0;
};

/// @brief scikit-learn's `cv_results_` columns, one entry per grid point.
struct CvResults {
  std::vector<GridPoint> points;
  std::vector<std::string> searched;  ///< names of the parameters with several values
  int folds = 0;
  std::vector<std::vector<double>> split_test_score;   ///< [point][fold]
  std::vector<std::vector<double>> split_train_score;  ///< [point][fold]
  std::vector<double> mean_test_score, std_test_score, mean_train_score, std_train_score;
  std::vector<double> mean_fit_time, std_fit_time;
  std::vector<int> rank_test_score;  ///< 1 = best; ties share the lowest rank
  std::size_t best_index = 0;        ///< first point with the highest mean_test_score
  FarmStats farm;
};

/// @brief Grid points in scikit-learn's ParameterGrid order (names sorted: C, coef0,
/// degree, gamma; the first varies slowest).
std::vector<GridPoint> make_grid(const GridSearchOptions& options, const HostMatrix& X);

/// @brief Cross-validated grid search (collective over comm; every rank passes the same
/// data and options). @throws InvalidArgument for an empty grid, bad values, too few rows
/// of a class for the folds; Interrupted after SIGTERM with a journal.
CvResults grid_search(const Comm& comm, const HostMatrix& X, const HostVector& y,
                      const GridSearchOptions& options);

}  // namespace tessera::ml
