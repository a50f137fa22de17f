#include <tessera/evo/cmaes.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <numeric>

#include <fmt/format.h>
#include <tessera/core/error.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/io/table.hpp>
#include <tessera/kernels/math.hpp>
#include <tessera/linalg/linalg.hpp>

#include "run_support.hpp"

namespace tessera::evo {

void CMAESParams::validate() const {
  if (dim < 1) throw InvalidArgument(fmt::format("dim must be >= 1, got {}", dim));
  if (centroid.size() != 1 && centroid.size() != static_cast<std::size_t>(dim))
    throw InvalidArgument(fmt::format("the centroid has {} values for dim = {} (give 1 or {})",
                                      centroid.size(), dim, dim));
  for (double c : centroid)
    if (!std::isfinite(c)) throw InvalidArgument("the centroid must be finite");
  if (!(sigma > 0) || !std::isfinite(sigma))
    throw InvalidArgument(fmt::format("sigma must be > 0, got {}", sigma));
  if (lambda != 0 && lambda < 4)
    throw InvalidArgument(fmt::format("CMA-ES needs a population of at least 4, got {}", lambda));
  const int l = lambda ? lambda : 4 + static_cast<int>(3 * std::log(static_cast<double>(dim)));
  if (mu < 0 || mu > l)
    throw InvalidArgument(fmt::format("mu must be between 1 and the population {}, got {}", l, mu));
  if (generations < 1)
    throw InvalidArgument(fmt::format("generations must be >= 1, got {}", generations));
  if (!(lo < hi))
    throw InvalidArgument(fmt::format("bounds need lo < hi, got lo = {}, hi = {}", lo, hi));
  validate_run();
  if (restarts < 0) throw InvalidArgument(fmt::format("restarts must be >= 0, got {}", restarts));
  if (!(tolfun >= 0)) throw InvalidArgument(fmt::format("tolfun must be >= 0, got {}", tolfun));
  if (!(tolx >= 0)) throw InvalidArgument(fmt::format("tolx must be >= 0, got {}", tolx));
  if (eigen_interval < 0)
    throw InvalidArgument(fmt::format("eigen_interval must be >= 0, got {}", eigen_interval));
  if (restarts > 20) throw InvalidArgument(fmt::format("restarts must be <= 20, got {}", restarts));
}

namespace {

double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

}  // namespace

namespace {

std::vector<double> flat(const HostMatrix& M) {
  return std::vector<double>(M.data(), M.data() + M.span());
}
void unflat(const impl::json& values, const HostMatrix& M) {
  const auto v = values.get<std::vector<double>>();
  TESSERA_EXPECTS(v.size() == M.span(), "cmaes: a checkpoint matrix of the wrong size");
  std::copy(v.begin(), v.end(), M.data());
}

// DEAP's cma.Strategy constants (Hansen's tutorial) for a run's dim, λ and μ.
struct Constants {
  int lambda, mu;
  std::vector<double> w;  // recombination weights, summing to 1
  double mueff, cc, cs, ccov1, ccovmu, damps, chiN;
  int eigen_interval;  // generations between eigendecompositions of C
};

Constants constants(const CMAESParams& p) {
  Constants k;
  const int N = p.dim;
  k.lambda = p.lambda ? p.lambda : 4 + static_cast<int>(3 * std::log(static_cast<double>(N)));
  k.mu = p.mu ? p.mu : k.lambda / 2;
  const auto M = static_cast<std::size_t>(k.mu);
  k.w.resize(M);
  for (std::size_t i = 0; i < M; ++i)
    k.w[i] = std::log(k.mu + 0.5) - std::log(static_cast<double>(i + 1));
  const double wsum = std::accumulate(k.w.begin(), k.w.end(), 0.0);
  double w2 = 0;
  for (double& x : k.w) x /= wsum, w2 += x * x;
  const double mueff = 1.0 / w2, dN = N;
  k.mueff = mueff;
  k.cc = 4.0 / (dN + 4.0);
  k.cs = (mueff + 2.0) / (dN + mueff + 3.0);
  k.ccov1 = 2.0 / ((dN + 1.3) * (dN + 1.3) + mueff);
  k.ccovmu = std::min(1.0 - k.ccov1,
                      2.0 * (mueff - 2.0 + 1.0 / mueff) / ((dN + 2.0) * (dN + 2.0) + mueff));
  k.damps = 1.0 + 2.0 * std::max(0.0, std::sqrt((mueff - 1.0) / (dN + 1.0)) - 1.0) + k.cs;
  k.chiN = std::sqrt(dN) * (1.0 - 1.0 / (4.0 * dN) + 1.0 / (21.0 * dN * dN));
  // The tutorial's lazy update: B and D every max(1, ⌊1 / (10·n·(c1 + cμ))⌋) generations,
  // O(n²) work per evaluation (1 for λ ≥ 4 + 3 ln n below n ≈ 200).
  k.eigen_interval =
      p.eigen_interval > 0
          ? p.eigen_interval
          : std::max(1, static_cast<int>(std::floor(1.0 / (10.0 * dN * (k.ccov1 + k.ccovmu)))));
  return k;
}

// One CMA-ES run (restart `restart` of an IPOP sequence), appending to r: its logbook rows,
// a better best, its evaluations; continuing from `resume` when it is a saved state.
// Returns why it stopped.
std::string run_once(const Comm& comm, const CMAESParams& p, const Evaluator& evaluate, int restart,
                     EvolutionResult& r, const impl::json& resume, impl::Checkpointer& checkpoint) {
  const int N = p.dim;
  const auto n = static_cast<std::size_t>(N);
  const Constants sc = constants(p);
  const int lambda = sc.lambda, mu = sc.mu;
  const auto L = static_cast<std::size_t>(lambda), M = static_cast<std::size_t>(mu);
  const std::vector<double>& w = sc.w;
  const double mueff = sc.mueff, dN = N, cc = sc.cc, cs = sc.cs, ccov1 = sc.ccov1,
               ccovmu = sc.ccovmu, damps = sc.damps, chiN = sc.chiN;

  std::vector<double> m(n), pc(n, 0.0), ps(n, 0.0), D(n, 1.0);
  for (std::size_t j = 0; j < n; ++j) m[j] = p.centroid.size() == 1 ? p.centroid[0] : p.centroid[j];
  HostMatrix C("cmaes_C", n, n), B("cmaes_B", n, n);
  for (std::size_t j = 0; j < n; ++j) C(j, j) = B(j, j) = 1.0;
  double sigma = p.sigma;
  int update_count = 0;
  const CounterRng rng(p.seed, static_cast<std::uint64_t>(restart));
  const double sign = p.minimize ? 1.0 : -1.0;  // the strategy minimises sign · f
  const bool bounded = std::isfinite(p.lo) || std::isfinite(p.hi);

  std::string stop = "generations";
  impl::Tracker track(r, p.minimize, p.hall_of_fame);
  int gen0 = r.generations, first_gen = 0;
  // tolfun: the spread of this generation's values and of the last 10 + 30N/λ bests.
  const std::size_t history = 10 + static_cast<std::size_t>(std::ceil(30.0 * N / lambda));
  std::vector<double> recent_best;
  std::vector<double> y(bounded ? L * n : 0), penalty(L, 0.0);
  HostMatrix X("cmaes_x", L, n), BDt("cmaes_bdt", n, n), A("cmaes_a", M, n),
      rank_mu("cmaes_rank_mu", n, n);
  HostVector d2("cmaes_d2", n);
  // The generation's normals, two per counter (inversion of the block's two uniforms):
  // z_(gen, i) for the flat index i = k·n + j is the (i mod 2)-th of pair gen·L·n + ⌊i/2⌋.
  // Blocks of 64 pairs (whole vector loops, whatever n is); the first L·n are read as L × n.
  const std::size_t pairs = (L * n + 1) / 2;
  static constexpr std::size_t kBlock = 64, kRows = 64;  // pairs per block, rows per GEMM
  const std::size_t blocks = (pairs + kBlock - 1) / kBlock;
  const Kokkos::View<double*, Kokkos::HostSpace> normals("cmaes_normals", 2 * pairs);
  const HostMatrix Z(normals.data(), L, n);
  const auto draw_normals = [&rng, &normals, L, n, pairs](int gen, std::size_t b) {
    const std::uint64_t first = static_cast<std::uint64_t>(gen) * L * n;
    const std::size_t p0 = b * kBlock;
    impl::normal_pairs(rng, first + p0, std::min(kBlock, pairs - p0), normals.data() + 2 * p0);
  };
  using HostExec = Kokkos::DefaultHostExecutionSpace;
  if (!resume.is_null()) {
    track.load(resume.at("tracker"));
    const impl::json& s = resume.at("strategy");
    gen0 = resume.at("gen0").get<int>();
    first_gen = resume.at("gen").get<int>();
    s.at("m").get_to(m);
    s.at("pc").get_to(pc);
    s.at("ps").get_to(ps);
    s.at("D").get_to(D);
    unflat(s.at("C"), C);
    unflat(s.at("B"), B);
    s.at("sigma").get_to(sigma);
    s.at("update_count").get_to(update_count);
    s.at("recent_best").get_to(recent_best);
  }
  linalg::prepare_serial();
  if (first_gen < p.generations)
    Kokkos::parallel_for("tessera::cmaes::normals", Kokkos::RangePolicy<HostExec>(0, blocks),
                         [&](std::size_t b) { draw_normals(first_gen, b); });
  std::vector<double> f;
  bool overflow = false;
  std::vector<double> root_w(M);
  for (std::size_t i = 0; i < M; ++i) root_w[i] = std::sqrt(w[i]);
  // Update (DEAP's Strategy.update) from the generation's values f: mean, evolution
  // paths, covariance, step size, and C = B·diag(D²)·Bᵀ. Serial code that dispatches
  // nothing: it runs beside the next generation's normals.
  const auto update = [&]() {
    const std::vector<std::size_t> order = impl::rank_order(f, sign);  // best first
    recent_best.push_back(sign * f[order[0]]);
    if (recent_best.size() > history) recent_best.erase(recent_best.begin());
    const std::vector<double> old = m;
    double* const mean = m.data();
    std::fill(m.begin(), m.end(), 0.0);
    for (std::size_t i = 0; i < M; ++i) {
      const double* const xi = &X(order[i], 0);
      TESSERA_SIMD
      for (std::size_t j = 0; j < n; ++j) mean[j] += w[i] * xi[j];
    }
    std::vector<double> diff(n), tmp(n, 0.0);
    for (std::size_t j = 0; j < n; ++j) diff[j] = m[j] - old[j];
    for (std::size_t j = 0; j < n; ++j) {  // (Bᵀ diff) / D
      double s = 0;
      for (std::size_t i = 0; i < n; ++i) s += B(i, j) * diff[i];
      tmp[j] = s / D[j];
    }
    const double ps_scale = std::sqrt(cs * (2.0 - cs) * mueff) / sigma;
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < n; ++j) s += B(i, j) * tmp[j];
      ps[i] = (1.0 - cs) * ps[i] + ps_scale * s;
    }
    const double ps_norm = norm(ps);
    const double hsig =
        ps_norm / std::sqrt(1.0 - std::pow(1.0 - cs, 2.0 * (update_count + 1))) / chiN <
                1.4 + 2.0 / (dN + 1.0)
            ? 1.0
            : 0.0;
    ++update_count;
    const double pc_scale = hsig * std::sqrt(cc * (2.0 - cc) * mueff) / sigma;
    for (std::size_t j = 0; j < n; ++j) pc[j] = (1.0 - cc) * pc[j] + pc_scale * diff[j];
    const double keep = 1.0 - ccov1 - ccovmu + (1.0 - hsig) * ccov1 * cc * (2.0 - cc);
    // Rank-μ update Σ w_i (x_i − old)(x_i − old)ᵀ = AᵀA with rows √w_i (x_i − old).
    for (std::size_t i = 0; i < M; ++i) {
      const double* const xi = &X(order[i], 0);
      double* const ai = &A(i, 0);
      TESSERA_SIMD
      for (std::size_t j = 0; j < n; ++j) ai[j] = root_w[i] * (xi[j] - old[j]);
    }
    linalg::gram_upper_serial(1.0, A, 0.0, rank_mu);
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = a; b < n; ++b)
        C(b, a) = C(a, b) =
            keep * C(a, b) + ccov1 * pc[a] * pc[b] + ccovmu * rank_mu(a, b) / (sigma * sigma);
    sigma *= std::exp((ps_norm / chiN - 1.0) * cs / damps);
    // Points beyond double range (a centroid or σ near 1e200, an unbounded problem) make
    // C or σ infinite or NaN: the run stops there ("overflow") instead of handing LAPACK
    // a matrix it rejects.
    overflow = !std::isfinite(sigma) || std::any_of(C.data(), C.data() + C.span(),
                                                    [](double c) { return !std::isfinite(c); });
    if (overflow || update_count % sc.eigen_interval != 0) return;
    linalg::eigh_serial(C, d2, B);  // ascending
    for (std::size_t j = 0; j < n; ++j) D[j] = std::sqrt(std::max(d2(j), 0.0));
  };
  // Hansen's ConditionCov, TolX, NoEffectAxis and NoEffectCoord on the distribution of the next
  // generation (the tutorial's appendix B.3; the axis checked turns with the generation).
  const double tolx = p.tolx * p.sigma;
  const auto hansen_stop = [&]() -> const char* {
    if (!(D[0] > 0) || D[n - 1] / D[0] > 1e7) return "condition";  // cond(C) above 1e14
    bool collapsed = tolx > 0;
    for (std::size_t i = 0; i < n && collapsed; ++i)
      collapsed = sigma * std::sqrt(C(i, i)) < tolx && sigma * std::fabs(pc[i]) < tolx;
    if (collapsed) return "tolx";
    const auto axis = static_cast<std::size_t>(update_count) % n;
    bool moves = false;
    for (std::size_t i = 0; i < n && !moves; ++i)
      moves = m[i] + 0.1 * sigma * D[axis] * B(i, axis) != m[i];
    if (!moves) return "noeffectaxis";
    for (std::size_t i = 0; i < n; ++i)
      if (m[i] + 0.2 * sigma * std::sqrt(C(i, i)) == m[i]) return "noeffectcoord";
    return nullptr;
  };
  for (int gen = first_gen; gen < p.generations; ++gen) {
    // x_k = m + σ·B·(D ∘ z_k): blocks of rows set to m, then a GEMM of their normals with
    // (B·diag(D))ᵀ into them (a fixed split: the same bits on any thread count). Stored
    // transposed, the GEMM is OpenBLAS's "NN" case, which it runs with its small-matrix
    // kernels; the "NT" case with K < 32 or M·N > 1200 packed its operands first (reference
    // runs, fastest of 5 seeds, interleaved: N = 50 116.8–120.2 → 111.7–117.6 ms, N = 10
    // 7.50–7.66 → 7.46–7.56 ms).
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) BDt(j, i) = B(i, j) * D[j];
    Kokkos::parallel_for("tessera::cmaes::sample",
                         Kokkos::RangePolicy<HostExec>(0, (L + kRows - 1) / kRows),
                         [&](std::size_t b) {
                           const std::size_t r0 = b * kRows, rows = std::min(kRows, L - r0);
                           for (std::size_t k = r0; k < r0 + rows; ++k)
                             std::copy(m.begin(), m.end(), &X(k, 0));
                           linalg::gemm_serial(linalg::Op::none, linalg::Op::none, sigma,
                                               HostMatrix(&Z(r0, 0), rows, n), BDt, 1.0,
                                               HostMatrix(&X(r0, 0), rows, n));
                         });
    const double* points = X.data();
    if (bounded) {  // evaluated at the projection into the box, plus a penalty
      for (std::size_t k = 0; k < L; ++k) {
        double pen = 0;
        for (std::size_t i = 0; i < n; ++i) {
          y[k * n + i] = std::min(std::max(X(k, i), p.lo), p.hi);
          pen += (X(k, i) - y[k * n + i]) * (X(k, i) - y[k * n + i]);
        }
        penalty[k] = pen;
      }
      points = y.data();
    }
    // Each rank evaluates its slice of the points; the penalty is added here.
    f = impl::evaluate_rows(comm, points, L, n, evaluate);
    for (std::size_t k = 0; k < L; ++k) f[k] += sign * penalty[k];
    // The update on one thread; the logbook's record and the next generation's normals on
    // the others (and on that one when it is done): item 0 is the update, item 1 + b the
    // normals' block b, the last item the record (in the second thread's part of Kokkos's
    // split of a dynamic range).
    const std::size_t next = gen + 1 < p.generations ? blocks : 0;
    std::exception_ptr failure[2];
    Kokkos::parallel_for(
        "tessera::cmaes::update",
        Kokkos::RangePolicy<HostExec, Kokkos::Schedule<Kokkos::Dynamic>>(0, 2 + next),
        [&](std::size_t item) {
          if (item > 0 && item <= next) return draw_normals(gen + 1, item - 1);
          const bool record = item > 0;
          try {
            if (record)
              track.record(gen0 + gen, lambda, f, points, n);  // logbook, best (first on ties)
            else
              update();
          } catch (...) {
            failure[record] = std::current_exception();
          }
        });
    for (const auto& e : failure)
      if (e) std::rethrow_exception(e);
    r.generations = gen0 + gen + 1;
    if (overflow) {
      stop = "overflow";
      break;
    }

    if (const std::string why = track.stop(p.target, p.max_evaluations, p.stagnation);
        !why.empty()) {
      stop = why;
      break;
    }
    if (const char* why = hansen_stop(); why != nullptr) {
      stop = why;
      break;
    }
    const auto [lo_f, hi_f] = std::minmax_element(f.begin(), f.end());
    const auto [lo_b, hi_b] = std::minmax_element(recent_best.begin(), recent_best.end());
    if (recent_best.size() == history && std::max(*hi_f - *lo_f, *hi_b - *lo_b) < p.tolfun) {
      stop = "tolfun";
      break;
    }
    if (checkpoint.due(r.generations)) {
      const impl::json strategy = {{"m", m},
                                   {"pc", pc},
                                   {"ps", ps},
                                   {"D", D},
                                   {"C", flat(C)},
                                   {"B", flat(B)},
                                   {"sigma", sigma},
                                   {"update_count", update_count},
                                   {"recent_best", recent_best}};
      checkpoint.save({{"restart", restart},
                       {"gen0", gen0},
                       {"gen", gen + 1},
                       {"tracker", track.save()},
                       {"strategy", strategy}},
                      r.generations);
    }
  }
  return stop;
}

}  // namespace

int eigen_interval(const CMAESParams& params) {
  params.validate();
  return constants(params).eigen_interval;
}

EvolutionResult cmaes(const Comm& comm, const CMAESParams& p, const Evaluator& evaluate) {
  p.validate();
  EvolutionResult r;
  CMAESParams run = p;
  const int lambda0 = constants(p).lambda;
  const bool box = std::isfinite(p.lo) && std::isfinite(p.hi);
  // What identifies the run for its checkpoints (the budget may change).
  const auto finite_or_null = [](double v) { return std::isnan(v) ? impl::json() : impl::json(v); };
  const impl::json config = {{"dim", p.dim},
                             {"centroid", p.centroid},
                             {"sigma", p.sigma},
                             {"lambda", p.lambda},
                             {"mu", p.mu},
                             {"target", finite_or_null(p.target)},
                             {"stagnation", p.stagnation},
                             {"tolfun", p.tolfun},
                             {"tolx", p.tolx},
                             {"eigen_interval", p.eigen_interval},
                             {"restarts", p.restarts},
                             {"minimize", p.minimize},
                             {"lo", p.lo},
                             {"hi", p.hi},
                             {"seed", p.seed},
                             {"hall_of_fame", p.hall_of_fame}};
  impl::Checkpointer checkpoint(comm, p.checkpoint, "cmaes", config);
  const impl::json saved = checkpoint.load();
  const int first = saved.is_null() ? 0 : saved.at("restart").get<int>();
  for (int restart = first;; ++restart) {
    // IPOP: each restart doubles the population; it starts anew, from a uniform point of
    // the box when there is one (else from the first centroid).
    run.lambda = lambda0 << restart;
    run.mu = p.mu ? std::min(p.mu, run.lambda) : 0;
    if (restart > 0 && box) {
      const CounterRng start(p.seed, 1000 + static_cast<std::uint64_t>(restart));
      run.centroid.assign(static_cast<std::size_t>(p.dim), 0.0);
      for (int j = 0; j < p.dim; ++j)
        run.centroid[static_cast<std::size_t>(j)] = p.lo + (p.hi - p.lo) * start.uniform(j);
    }
    r.stop = run_once(comm, run, evaluate, restart, r, restart == first ? saved : impl::json(),
                      checkpoint);
    r.restarts = restart;
    if (r.stop == "target" || r.stop == "evaluations" || restart >= p.restarts) break;
  }
  return r;
}

}  // namespace tessera::evo
