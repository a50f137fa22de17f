#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>
#include <tuple>

#include <fmt/format.h>
#include <tessera/core/error.hpp>
#include <tessera/core/timer.hpp>
#include <tessera/ml/grid_search.hpp>

#include "ovo.hpp"

namespace tessera::ml {

namespace {

template <class T>
std::vector<T> or_default(const std::vector<T>& values, const T& fallback) {
  return values.empty() ? std::vector<T>{fallback} : values;
}

// Rows of X for the given indices.
HostMatrix take_rows(const HostMatrix& X, const std::vector<std::int64_t>& rows) {
  HostMatrix out("rows", rows.size(), X.extent(1));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < X.extent(1); ++j)
      out(i, j) = X(static_cast<std::size_t>(rows[i]), j);
  return out;
}

std::vector<int> as_int(const std::vector<std::int64_t>& v) { return {v.begin(), v.end()}; }

// Folds per task by default: every fold where the solver runs on a GPU (one fold's class
// pairs are too few teams to keep it busy), one on the host (the farm spreads the folds
// over the ranks, and a fold's pairs already keep the threads busy).
int default_fold_batch(int folds) {
#if defined(KOKKOS_ENABLE_CUDA)
  return folds;
#else
  (void)folds;
  return 1;
#endif
}

void mean_std(const std::vector<double>& v, double& mean, double& std) {
  mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double s = 0;
  for (double x : v) s += (x - mean) * (x - mean);
  std = std::sqrt(s / static_cast<double>(v.size()));
}

}  // namespace

std::vector<GridPoint> make_grid(const GridSearchOptions& o, const HostMatrix& X) {
  std::vector<GridPoint> points;
  for (double C : or_default(o.C, o.base.C))
    for (double coef0 : or_default(o.coef0, o.base.coef0))
      for (int degree : or_default(o.degree, o.base.degree))
        for (const Gamma& gamma : or_default(o.gamma, o.base.gamma)) {
          GridPoint p;
          p.C = C, p.coef0 = coef0, p.degree = degree, p.gamma = gamma;
          p.gamma_value = gamma.resolve(X);
          points.push_back(p);
        }
  return points;
}

CvResults grid_search(const Comm& comm, const HostMatrix& X, const HostVector& y,
                      const GridSearchOptions& options) {
  const std::size_t n = X.extent(0);
  TESSERA_EXPECTS(y.extent(0) == n,
                  fmt::format("grid search: {} labels for {} rows", y.extent(0), n));
  impl::require_finite(X, "grid search");
  const std::vector<GridPoint> points = make_grid(options, X);
  TESSERA_EXPECTS(!points.empty(), "grid search: the grid is empty");
  for (const GridPoint& p : points) {
    SVCParams check = options.base;
    check.C = p.C, check.gamma = p.gamma, check.degree = p.degree, check.coef0 = p.coef0;
    check.validate();
  }
  const std::vector<Fold> folds = stratified_kfold(y, options.folds, options.shuffle, options.seed);
  const impl::Encoded labels = impl::encode_labels(y, options.base.class_weight, "grid search");
  const std::vector<double>& classes = labels.classes;
  const std::vector<int>& cls = labels.cls;
  const std::vector<double>& weight = labels.weight;
  const std::uint64_t bytes = 2 * static_cast<std::uint64_t>(n) * n * sizeof(double);
  TESSERA_EXPECTS(bytes <= options.base.kernel_memory,
                  fmt::format("grid search: the {0} x {0} dot-product and kernel matrices need {1} "
                              "bytes, above the kernel memory budget of {2}",
                              n, bytes, options.base.kernel_memory));

  // Kernel groups: points sharing (gamma, degree, coef0), in order of first appearance;
  // within a group the points differ only in C, in grid order.
  std::vector<std::vector<std::size_t>> groups;
  std::map<std::tuple<int, double, int, double>, std::size_t> group_of;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const GridPoint& p = points[i];
    const auto key =
        std::make_tuple(static_cast<int>(p.gamma.mode), p.gamma.number, p.degree, p.coef0);
    const auto [it, fresh] = group_of.emplace(key, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  const std::size_t per_group = groups.front().size();
  const int nfolds = options.folds;
  TESSERA_EXPECTS(options.fold_batch >= 0,
                  fmt::format("grid search: fold_batch must be >= 0, got {}", options.fold_batch));
  // Folds per task, solved in one launch (their float kernel matrices stacked): as many as
  // the kernel memory budget holds beside the dot products and kernel matrix.
  std::size_t longest = 0;
  for (const Fold& fold : folds) longest = std::max(longest, fold.train.size());
  const std::uint64_t fold_bytes =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(longest) * longest * sizeof(float));
  const std::uint64_t room = options.base.kernel_memory - bytes;
  const auto fitting = static_cast<int>(std::min<std::uint64_t>(
      static_cast<std::uint64_t>(nfolds), std::max<std::uint64_t>(1, room / fold_bytes)));
  const int batch = options.fold_batch > 0 ? std::min(nfolds, options.fold_batch)
                                           : std::min(fitting, default_fold_batch(nfolds));
  TESSERA_EXPECTS(
      batch <= fitting,
      fmt::format("grid search: a batch of {} folds needs {} bytes for their kernel "
                  "matrices, above the {} bytes the kernel memory budget leaves "
                  "(room for {})",
                  batch, static_cast<std::uint64_t>(batch) * fold_bytes, room, fitting));
  const int batches = (nfolds + batch - 1) / batch;  // tasks per kernel group
  const auto tasks = static_cast<std::int64_t>(groups.size()) * batches;
  const std::size_t width = 3 * per_group * static_cast<std::size_t>(batch);

  // Per rank: the data and its dot products once; one kernel matrix at a time.
  const impl::DMatrix Xd = impl::to_device(X);
  const impl::DMatrix D = impl::dots(Xd, Xd);
  const impl::DVector norms = impl::row_norms(Xd);
  std::optional<std::pair<std::size_t, int>> cached;  // (group, fold or -1)
  impl::DMatrix K;
  const auto kernel_for = [&](std::size_t g, int f) -> const impl::DMatrix& {
    const Fold& fold = folds[static_cast<std::size_t>(f)];
    const GridPoint& first = points[groups[g].front()];
    // scale/auto gamma comes from the training fold's data, as scikit-learn refits it.
    const bool per_fold = first.gamma.mode != Gamma::Mode::value;
    const std::pair<std::size_t, int> key{g, per_fold ? f : -1};
    if (!cached || *cached != key) {
      detail::KernelSpec spec;
      spec.kind = static_cast<detail::KernelKind>(static_cast<int>(options.base.kernel));
      spec.gamma = per_fold ? first.gamma.resolve(take_rows(X, fold.train)) : first.gamma_value;
      spec.degree = first.degree;
      spec.coef0 = first.coef0;
      K = impl::kernel_from_dots(D, norms, norms, spec);
      cached = key;
    }
    return K;
  };
  const bool within_one =
      options.base.kernel == Kernel::rbf || options.base.kernel == Kernel::sigmoid;
  // Task t: kernel group t / batches, folds f0 … f0 + count − 1 of it; its results fold by
  // fold, each C by C (test score, training score, fit time).
  const auto task = [&](std::int64_t t, double* out) {
    const std::size_t g = static_cast<std::size_t>(t / batches);
    const int f0 = static_cast<int>(t % batches) * batch;
    const auto count = static_cast<std::size_t>(std::min(batch, nfolds - f0));
    std::fill(out + count * per_group * 3, out + width, 0.0);  // a last, shorter batch
    std::vector<std::vector<int>> train(count), test(count);
    std::vector<impl::OvoSet> sets(count);
    for (std::size_t i = 0; i < count; ++i) {
      const Fold& fold = folds[static_cast<std::size_t>(f0) + i];
      train[i] = as_int(fold.train), test[i] = as_int(fold.test);
      sets[i] = impl::make_ovo(train[i], cls, static_cast<int>(classes.size()));
    }
    if (count > 1) impl::stack_kernels(sets);
    // Kernel rows of the test and training samples, for every C.
    std::vector<impl::QueryKernel> test_kernel, train_kernel;
    for (std::size_t i = 0; i < count; ++i) {
      const impl::DMatrix& Ki = kernel_for(g, f0 + static_cast<int>(i));
      impl::prepare_kernel(sets[i], Ki, within_one);
      test_kernel.push_back(impl::query_kernel(Ki, test[i], sets[i]));
      train_kernel.push_back(impl::query_kernel(Ki, train[i], sets[i]));
    }
    std::vector<impl::OvoSet*> batch_sets;
    for (impl::OvoSet& set : sets) batch_sets.push_back(&set);
    double previous_C = 0;
    // each fold's previous C's solution
    std::vector<std::vector<double>> previous_alpha(count), previous_rho(count);
    for (std::size_t k = 0; k < groups[g].size(); ++k) {
      const double C = points[groups[g][k]].C;
      const bool warm = options.warm_start && previous_C > 0;
      // From the previous C's solution: as it is or scaled into the new box (see
      // impl::warm_start), with its gradient.
      if (warm)
        for (impl::OvoSet& set : sets) impl::warm_start(set, previous_C, C, weight);
      Timer timer;
      impl::solve_ovo_batch(batch_sets, C, weight, options.base.tol, options.base.max_iter, warm);
      const double fit_time = timer.seconds() / static_cast<double>(count);  // a fold's share
      for (std::size_t i = 0; i < count; ++i) {
        const impl::OvoSet& set = sets[i];
        double* const v = out + (i * per_group + k) * 3;
        if (k > 0 && set.alpha == previous_alpha[i] && set.rho == previous_rho[i]) {
          // The same model as for the previous C (it was already optimal): same scores.
          v[0] = v[-3];
          v[1] = v[-2];
        } else {
          v[0] = impl::accuracy_of(impl::ovo_predict(test_kernel[i], set), test[i], cls);
          v[1] = impl::training_accuracy(train_kernel[i], train[i], cls, set);
        }
        v[2] = fit_time;
        previous_alpha[i] = set.alpha;
        previous_rho[i] = set.rho;
      }
      previous_C = C;
    }
  };
  FarmOptions farm = options.farm;
  farm.affinity.resize(static_cast<std::size_t>(tasks));
  for (std::int64_t t = 0; t < tasks; ++t) farm.affinity[static_cast<std::size_t>(t)] = t / batches;
  if (farm.label == "tasks") farm.label = "grid";
  if (!farm.job_key.empty()) farm.job_key += fmt::format(" fold_batch={}", batch);
  const auto run = run_map_doubles(comm, tasks, width, task, farm);

  CvResults r;
  r.points = points;
  r.folds = nfolds;
  r.farm = run.stats;
  const std::size_t np = points.size();
  r.split_test_score.assign(np, std::vector<double>(static_cast<std::size_t>(nfolds)));
  r.split_train_score = r.split_test_score;
  std::vector<std::vector<double>> fit_times = r.split_test_score;
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (int f = 0; f < nfolds; ++f)
      for (std::size_t k = 0; k < groups[g].size(); ++k) {
        const std::size_t t =
            g * static_cast<std::size_t>(batches) + static_cast<std::size_t>(f / batch);
        const double* v =
            &run.results[t * width + (static_cast<std::size_t>(f % batch) * per_group + k) * 3];
        const std::size_t i = groups[g][k];
        r.split_test_score[i][static_cast<std::size_t>(f)] = v[0];
        r.split_train_score[i][static_cast<std::size_t>(f)] = v[1];
        fit_times[i][static_cast<std::size_t>(f)] = v[2];
      }
  r.mean_test_score.resize(np), r.std_test_score.resize(np), r.mean_train_score.resize(np);
  r.std_train_score.resize(np), r.mean_fit_time.resize(np), r.std_fit_time.resize(np);
  for (std::size_t i = 0; i < np; ++i) {
    mean_std(r.split_test_score[i], r.mean_test_score[i], r.std_test_score[i]);
    mean_std(r.split_train_score[i], r.mean_train_score[i], r.std_train_score[i]);
    mean_std(fit_times[i], r.mean_fit_time[i], r.std_fit_time[i]);
  }
  r.rank_test_score.resize(np);
  for (std::size_t i = 0; i < np; ++i) {
    int better = 0;
    for (std::size_t j = 0; j < np; ++j) better += r.mean_test_score[j] > r.mean_test_score[i];
    r.rank_test_score[i] = better + 1;
  }
  r.best_index = static_cast<std::size_t>(
      std::min_element(r.rank_test_score.begin(), r.rank_test_score.end()) -
      r.rank_test_score.begin());
  r.searched.push_back("C");
  if (options.base.kernel != Kernel::linear) r.searched.push_back("gamma");
  if (options.base.kernel == Kernel::poly) r.searched.push_back("degree");
  if (options.base.kernel == Kernel::poly || options.base.kernel == Kernel::sigmoid)
    r.searched.push_back("coef0");
  return r;
}

}  // namespace tessera::ml
