// Kernel throughput: Philox draws, per-column statistics, one SVC fit on digits, the SMO
// launches, an eigendecomposition.
//   build with -DTESSERA_BUILD_BENCH=ON, run build/bench/bench_kernels
#include <benchmark/benchmark.h>

#include <Kokkos_Core.hpp>
#include <tessera/array/column_stats.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/evo/problems.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/io/generators.hpp>
#include <tessera/linalg/linalg.hpp>
#include <tessera/ml/svc.hpp>

#include "../src/evo/run_support.hpp"
#include "../src/ml/ovo.hpp"

namespace {

double sum_uniform(std::uint64_t seed, std::int64_t n) {
  const tessera::CounterRng rng(seed);
  double s = 0;
  Kokkos::parallel_reduce(
      "uniform", n, KOKKOS_LAMBDA(const std::int64_t i, double& acc) { acc += rng.uniform(i); }, s);
  return s;
}

void BM_philox_uniform(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(sum_uniform(1, n));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_philox_uniform)->Arg(1 << 20)->Arg(1 << 24)->Unit(benchmark::kMillisecond);

void BM_column_stats(benchmark::State& state) {
  const std::size_t rows = static_cast<std::size_t>(state.range(0)), cols = 16;
  tessera::io::DeviceMatrix X("X", rows, cols);
  tessera::io::generate_random({rows, cols, 3}, 0, X);
  tessera::HostMatrix H("H", rows, cols);
  Kokkos::deep_copy(H, X);
  const tessera::Comm self;
  for (auto _ : state) benchmark::DoNotOptimize(tessera::array::column_stats(self, H));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(rows * cols * 8));
}
BENCHMARK(BM_column_stats)->Arg(1 << 16)->Arg(1 << 21)->Unit(benchmark::kMillisecond);

// The single fit of bench/svm_vs_sklearn.py (RBF, C = 10, gamma = 0.001, digits) in the
// process, for profiling it (perf record build/bench/bench_kernels --benchmark_filter=svc).
void BM_svc_fit_digits(benchmark::State& state) {
  const tessera::Table digits = tessera::io::digits();
  tessera::ml::SVCParams p;
  p.C = 10;
  p.gamma = tessera::ml::Gamma::value(0.001);
  for (auto _ : state) {
    tessera::ml::SVC clf(p);
    clf.fit(digits.X, digits.y);
    benchmark::DoNotOptimize(clf.n_support());
  }
}
BENCHMARK(BM_svc_fit_digits)->Unit(benchmark::kMillisecond);

// One C of the digits grid (all 1797 samples: 45 class pairs, RBF gamma = 0.001, C = 10,
// cold) solved by each way of launching the pairs (impl::SmoLaunch): 1 one per thread (the
// CPUs' way), 2 one per team of threads (the GPUs'); the same results. On a GPU, the
// comparison that tells the team solver's worth (scripts/gpu-check.sh runs this program).
void BM_smo_launch(benchmark::State& state) {
  namespace impl = tessera::ml::impl;
  const auto launch = static_cast<impl::SmoLaunch>(state.range(0));
  const impl::OvoSet prepared = [] {
    const tessera::Table digits = tessera::io::digits();
    const std::size_t n = digits.X.extent(0);
    std::vector<int> train(n), cls(n);
    for (std::size_t i = 0; i < n; ++i)
      train[i] = static_cast<int>(i), cls[i] = static_cast<int>(digits.y(i));
    const impl::DMatrix X = impl::to_device(digits.X);
    const impl::DVector norms = impl::row_norms(X);
    tessera::detail::KernelSpec spec;
    spec.gamma = 0.001;
    impl::OvoSet set = impl::make_ovo(train, cls, 10);
    impl::prepare_kernel(set, impl::kernel_from_dots(impl::dots(X, X), norms, norms, spec), true);
    return set;
  }();
  const std::vector<double> weight(10, 1.0);
  std::int64_t steps = 0;
  for (auto _ : state) {
    impl::OvoSet set = prepared;
    impl::solve_ovo(set, 10.0, weight, 1e-3, -1, false, launch);
    for (const auto it : set.iterations) steps += it;
  }
  state.counters["SMO steps"] =
      static_cast<double>(steps) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_smo_launch)
    ->Arg(static_cast<int>(tessera::ml::impl::SmoLaunch::per_thread))
    ->Arg(static_cast<int>(tessera::ml::impl::SmoLaunch::per_team))
    ->Unit(benchmark::kMillisecond);

// The eigendecomposition a CMA-ES generation makes of its N × N covariance (N = 10 and 50,
// the reference runs': every generation, as Hansen's rule gives for λ = 20·N), on a
// well-conditioned symmetric matrix: what part of a generation's time budget it takes.
void BM_eigh(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  tessera::HostMatrix C("C", n, n), V("V", n, n);
  tessera::HostVector w("w", n);
  const tessera::CounterRng rng(1);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j)
      C(i, j) = C(j, i) = (i == j ? 2.0 : 0.0) + 0.1 * rng.uniform(i * n + j);
  for (auto _ : state) {
    tessera::linalg::eigh(C, w, V);
    benchmark::DoNotOptimize(w.data());
  }
}
BENCHMARK(BM_eigh)->Arg(10)->Arg(50)->Unit(benchmark::kMicrosecond);

// The rank-μ update of a CMA-ES generation at N = 50 (μ = 500 weighted steps): the upper
// triangle of AᵀA by one thread, as the update computes it.
void BM_gram_upper_serial(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0)),
             cols = static_cast<std::size_t>(state.range(1));
  tessera::HostMatrix A("A", rows, cols), C("C", cols, cols);
  const tessera::CounterRng rng(2);
  for (std::size_t i = 0; i < rows * cols; ++i) A.data()[i] = rng.uniform(i) - 0.5;
  tessera::linalg::prepare_serial();
  for (auto _ : state) {
    tessera::linalg::gram_upper_serial(1.0, A, 0.0, C);
    benchmark::DoNotOptimize(C.data());
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<std::int64_t>(rows * cols * (cols + 1) / 2));
}
BENCHMARK(BM_gram_upper_serial)->Args({500, 50})->Args({100, 10})->Unit(benchmark::kMicrosecond);

// The standard normals of one CMA-ES generation at N = 50 (λ·N = 50000 draws, 25000
// counters) by one thread: Philox, Φ⁻¹'s central region and its tails.
void BM_normal_pairs(benchmark::State& state) {
  const auto pairs = static_cast<std::size_t>(state.range(0));
  std::vector<double> z(2 * pairs);
  const tessera::CounterRng rng(1);
  std::uint64_t first = 0;
  for (auto _ : state) {
    tessera::evo::impl::normal_pairs(rng, first, pairs, z.data());
    first += pairs;
    benchmark::DoNotOptimize(z.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(2 * pairs));
}
BENCHMARK(BM_normal_pairs)->Arg(25000)->Unit(benchmark::kMicrosecond);

// CMA-ES's ranking of a generation's values (λ = 200 and 1000 at N = 10 and 50).
void BM_rank_order(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const tessera::CounterRng rng(2);
  std::vector<double> f(count);
  for (std::size_t k = 0; k < count; ++k) f[k] = 100 + 400 * rng.uniform(k);
  for (auto _ : state) benchmark::DoNotOptimize(tessera::evo::impl::rank_order(f, 1.0));
}
BENCHMARK(BM_rank_order)->Arg(200)->Arg(1000)->Unit(benchmark::kMicrosecond);

// One CMA-ES generation's evaluation: Rastrigin over λ = 20·N rows (N = 10 and 50), through
// the Evaluator that `tessera evolve` uses.
void BM_evaluate_rastrigin(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0)), rows = 20 * n;
  const Kokkos::View<double**, Kokkos::LayoutRight, tessera::evo::Memory> pop("pop", rows, n);
  const tessera::evo::Fitness fit("fit", rows);
  const tessera::CounterRng rng(3);
  const auto host = Kokkos::create_mirror_view(pop);
  for (std::size_t i = 0; i < rows * n; ++i) host.data()[i] = 10 * rng.uniform(i) - 5;
  Kokkos::deep_copy(pop, host);
  const auto evaluate = tessera::evo::benchmark_evaluator(tessera::evo::Benchmark::rastrigin);
  for (auto _ : state) {
    evaluate(pop, fit);
    Kokkos::fence();  // (device populations: the kernel is asynchronous)
    benchmark::DoNotOptimize(fit.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rows * n));
}
BENCHMARK(BM_evaluate_rastrigin)->Arg(10)->Arg(50)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  tessera::RuntimeOptions options;
  options.use_mpi = false;
  tessera::Runtime runtime(argc, argv, options);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
