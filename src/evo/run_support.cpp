#include "run_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>

#include <fmt/format.h>
#include <tessera/comm/agree.hpp>
#include <tessera/core/error.hpp>
#include <tessera/core/log.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/io/results.hpp>
#include <tessera/kernels/math.hpp>
#include <tessera/sched/farm.hpp>

#include "../core/hash.hpp"

#if defined(TESSERA_X86_KERNELS)
// GCC 12 warns inside its own AVX-512 headers about the undefined pass-through operand of
// the shifts and multiplies (a false positive, GCC bug 105593); not about this file.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

namespace tessera::evo::impl {

namespace {

// The two open uniforms of CounterRng::open_uniform_pair(counter), the same bits, from
// Philox in 64-bit lanes (philox4x32_10_wide: it vectorises).
inline void open_uniforms(std::uint64_t counter, std::uint64_t stream,
                          const std::uint64_t (&k0)[10], const std::uint64_t (&k1)[10], double& a,
                          double& b) {
  constexpr std::uint64_t low = 0xffffffffu;
  std::uint64_t c0 = counter & low, c1 = counter >> 32, c2 = stream & low, c3 = stream >> 32;
  detail::philox4x32_10_wide(c0, c1, c2, c3, k0, k1);
  // the top 53 bits of words 1:0 and 3:2, centred in (0, 1)
  const std::uint64_t x = ((c1 & low) << 32 | (c0 & low)) >> 11;
  const std::uint64_t y = ((c3 & low) << 32 | (c2 & low)) >> 11;
  constexpr double unit = 1.0 / 9007199254740992.0;  // 2^-53
  a = (static_cast<double>(static_cast<std::int64_t>(x)) + 0.5) * unit;
  b = (static_cast<double>(static_cast<std::int64_t>(y)) + 0.5) * unit;
}

#if defined(TESSERA_X86_KERNELS)
// open_uniforms for the counters first … first + 8·groups − 1 into u (2 per counter), eight
// counters per vector: Philox's 32 × 32 → 64-bit products by vpmuludq. GCC 12 makes the
// portable loop's products into vpmullq, AVX-512's 64-bit multiply of three µops (a
// standalone loop of 25000 counters: 126 µs that way, 64 µs this way; the same bits).
[[gnu::noinline]] __attribute__((target("avx512f,avx512dq"))) void open_uniforms_avx512(
    std::uint64_t first, std::uint64_t stream, const std::uint64_t (&k0)[10],
    const std::uint64_t (&k1)[10], std::size_t groups, double* u) {
  const __m512i low = _mm512_set1_epi64(0xffffffffu);
  const __m512i m0 = _mm512_set1_epi64(detail::kPhiloxM0),
                m1 = _mm512_set1_epi64(detail::kPhiloxM1);
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i s0 = _mm512_set1_epi64(static_cast<long long>(stream & 0xffffffffu));
  const __m512i s1 = _mm512_set1_epi64(static_cast<long long>(stream >> 32));
  const __m512d half = _mm512_set1_pd(0.5), unit = _mm512_set1_pd(1.0 / 9007199254740992.0);
  // a and b of each counter side by side: lanes 0-3 of a and b interleaved, then 4-7
  const __m512i first_half = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
  const __m512i second_half = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  for (std::size_t g = 0; g < groups; ++g) {
    const __m512i counter =
        _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(first + 8 * g)), lane);
    __m512i c0 = counter, c1 = _mm512_srli_epi64(counter, 32), c2 = s0, c3 = s1;
    for (int round = 0; round < 10; ++round) {  // upper halves: garbage, as in the wide form
      const __m512i p0 = _mm512_mul_epu32(c0, m0), p1 = _mm512_mul_epu32(c2, m1);
      c0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c1,
                                     _mm512_set1_epi64(static_cast<long long>(k0[round])), 0x96);
      c2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c3,
                                     _mm512_set1_epi64(static_cast<long long>(k1[round])), 0x96);
      c1 = p1;
      c3 = p0;
    }
    const __m512i x = _mm512_srli_epi64(
        _mm512_or_si512(_mm512_slli_epi64(c1, 32), _mm512_and_si512(c0, low)), 11);
    const __m512i y = _mm512_srli_epi64(
        _mm512_or_si512(_mm512_slli_epi64(c3, 32), _mm512_and_si512(c2, low)), 11);
    const __m512d a = _mm512_mul_pd(_mm512_add_pd(_mm512_cvtepi64_pd(x), half), unit);
    const __m512d b = _mm512_mul_pd(_mm512_add_pd(_mm512_cvtepi64_pd(y), half), unit);
    _mm512_storeu_pd(u + 16 * g, _mm512_permutex2var_pd(a, first_half, b));
    _mm512_storeu_pd(u + 16 * g + 8, _mm512_permutex2var_pd(a, second_half, b));
  }
}
#endif

}  // namespace

TESSERA_CLONES_V4 [[gnu::flatten]] void normal_pairs(const CounterRng& rng, std::uint64_t first,
                                                     std::size_t count, double* out) {
  constexpr std::size_t kPairs = 64;
  std::uint64_t k0[10], k1[10];
  detail::philox_round_keys(static_cast<std::uint32_t>(rng.seed()),
                            static_cast<std::uint32_t>(rng.seed() >> 32), k0, k1);
  const std::uint64_t stream = rng.stream();
  for (std::size_t p0 = 0; p0 < count; p0 += kPairs) {
    const std::size_t m = std::min(kPairs, count - p0);
    double u[2 * kPairs];
    std::size_t done = 0;
#if defined(TESSERA_X86_KERNELS)
    if (detail::cpu_has_avx512_dq()) {
      open_uniforms_avx512(first + p0, stream, k0, k1, m / 8, u);
      done = m / 8 * 8;
    }
#endif
    TESSERA_SIMD
    for (std::size_t p = done; p < m; ++p)
      open_uniforms(first + p0 + p, stream, k0, k1, u[2 * p], u[2 * p + 1]);
    // The central region for every draw (one vector loop); the tails (15% of the draws)
    // listed, then computed together in a vector loop and put in place: the same values as
    // normal_quantile's.
    double* const z = out + 2 * p0;
    TESSERA_SIMD
    for (std::size_t i = 0; i < 2 * m; ++i)
      z[i] = detail::kmath::normal_quantile_central(u[i] - 0.5);
    int tails[2 * kPairs];
    std::size_t listed = 0;
    for (std::size_t i = 0; i < 2 * m; ++i) {
      tails[listed] = static_cast<int>(i);
      listed += !(std::fabs(u[i] - 0.5) <= detail::kmath::normal_central_limit);
    }
    double tail_u[2 * kPairs], r[2 * kPairs], v[2 * kPairs];
    for (std::size_t t = 0; t < listed; ++t) tail_u[t] = u[tails[t]];  // (gathers: slower)
    TESSERA_SIMD
    for (std::size_t t = 0; t < listed; ++t) {
      r[t] = detail::kmath::normal_tail_r(tail_u[t]);
      const double near = detail::kmath::normal_tail_near(r[t]);
      v[t] = tail_u[t] < 0.5 ? -near : near;
    }
    for (std::size_t t = 0; t < listed; ++t) {
      const auto i = static_cast<std::size_t>(tails[t]);
      z[i] = r[t] <= 5.0 ? v[t] : detail::kmath::normal_quantile(u[i]);  // beyond: p < 1.4e-11
    }
  }
}

std::vector<std::size_t> rank_order(const std::vector<double>& f, double sign) {
  const std::size_t count = f.size();
  if (count == 0) return {};
  // Keys whose unsigned order is the values' order: the sign bit flipped for positive
  // values, all bits for negative ones; + 0.0 makes −0 into +0. The eight bytes' counts
  // are taken in the same pass (one read of the keys instead of eight).
  std::vector<std::uint64_t> key(count), key_out(count);
  std::vector<std::uint32_t> order(count), order_out(count);
  std::uint32_t counts[8][256] = {};
  for (std::size_t k = 0; k < count; ++k) {
    const double v = std::isnan(f[k]) ? INFINITY : sign * f[k] + 0.0;
    std::uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    b = b >> 63 ? ~b : b | std::uint64_t(1) << 63;
    key[k] = b;
    order[k] = static_cast<std::uint32_t>(k);
    for (int byte = 0; byte < 8; ++byte) ++counts[byte][b >> (8 * byte) & 0xff];
  }
  // Least significant byte first; each pass is stable, so equal keys keep index order.
  for (int byte = 0; byte < 8; ++byte) {
    const std::uint32_t* const c = counts[byte];
    const int shift = 8 * byte;
    if (c[key[0] >> shift & 0xff] == count) continue;  // one byte value: nothing moves
    std::uint32_t start[256];
    std::uint32_t sum = 0;
    for (int v = 0; v < 256; ++v) start[v] = sum, sum += c[v];
    for (std::size_t k = 0; k < count; ++k) {
      const std::uint32_t to = start[key[k] >> shift & 0xff]++;
      key_out[to] = key[k];
      order_out[to] = order[k];
    }
    key.swap(key_out);
    order.swap(order_out);
  }
  return std::vector<std::size_t>(order.begin(), order.end());
}

std::vector<double> evaluate_rows(const Comm& comm, const double* rows, std::size_t count,
                                  std::size_t n, const Evaluator& evaluate) {
  if (evaluate.host()) {  // one individual per task, balanced over the ranks
    return map(comm, static_cast<std::int64_t>(count), [&](std::int64_t i) {
      const auto at = static_cast<std::size_t>(i) * n;
      return evaluate.host()(std::vector<double>(rows + at, rows + at + n));
    });
  }
  const auto total = static_cast<std::int64_t>(count);
  const auto begin = static_cast<std::size_t>(total * comm.rank() / comm.size());
  const auto end = static_cast<std::size_t>(total * (comm.rank() + 1) / comm.size());
  Population pop;
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, Memory>::accessible) {
    pop = Population(rows + begin * n, end - begin, n);  // the rows where they are
  } else {
    Kokkos::View<double**, Kokkos::LayoutRight, Memory> copy(
        Kokkos::view_alloc(std::string("evo_population"), Kokkos::WithoutInitializing), end - begin,
        n);
    const auto copy_h = Kokkos::create_mirror_view(Kokkos::HostSpace(), copy);
    std::copy(rows + begin * n, rows + end * n, copy_h.data());
    Kokkos::deep_copy(copy, copy_h);
    pop = copy;
  }
  Fitness fit(Kokkos::view_alloc(std::string("evo_fitness"), Kokkos::WithoutInitializing),
              end - begin);
  agree(comm, [&] {
    if (end > begin) evaluate(pop, fit);
  });
  const auto fit_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), fit);
  return comm.allgatherv(std::vector<double>(fit_h.data(), fit_h.data() + fit_h.extent(0)));
}

void Elite::offer(double f, const double* row, std::size_t n, std::size_t size, double sign) {
  if (std::isnan(f)) return;  // never among the best
  if (rows.size() == size && !(sign * f < sign * fitness.back())) return;
  for (const auto& r : rows)
    if (std::equal(r.begin(), r.end(), row, row + n)) return;  // already there
  std::size_t at = rows.size();
  while (at > 0 && sign * f < sign * fitness[at - 1]) --at;  // after equal values
  fitness.insert(fitness.begin() + static_cast<std::ptrdiff_t>(at), f);
  rows.insert(rows.begin() + static_cast<std::ptrdiff_t>(at), std::vector<double>(row, row + n));
  if (rows.size() > size) fitness.pop_back(), rows.pop_back();
}

GenerationStats generation_stats(std::int64_t nevals, const std::vector<double>& f,
                                 const double* rows, std::size_t n, bool minimize,
                                 std::size_t top) {
  GenerationStats s;
  s.nevals = nevals;
  s.count = static_cast<double>(f.size());
  for (double v : f) s.mean += v;
  s.mean /= s.count;
  for (double v : f) s.m2 += (v - s.mean) * (v - s.mean);
  // NumPy's min and max: NaN where there is one
  const bool nan = std::any_of(f.begin(), f.end(), [](double v) { return std::isnan(v); });
  const auto [lo, hi] = std::minmax_element(f.begin(), f.end());
  s.min = nan ? NAN : *lo;
  s.max = nan ? NAN : *hi;
  const double sign = minimize ? 1.0 : -1.0;
  for (std::size_t i = 0; i < f.size(); ++i) s.top.offer(f[i], rows + i * n, n, top, sign);
  return s;
}

GenerationStats merge(const GenerationStats& a, const GenerationStats& b, bool minimize,
                      std::size_t top) {
  GenerationStats s;
  s.nevals = a.nevals + b.nevals;
  s.count = a.count + b.count;
  const double delta = b.mean - a.mean;
  s.mean = a.mean + delta * b.count / s.count;
  s.m2 = a.m2 + b.m2 + delta * delta * a.count * b.count / s.count;
  s.min = std::min(a.min, b.min);
  s.max = std::max(a.max, b.max);
  const double sign = minimize ? 1.0 : -1.0;
  s.top = a.top;
  for (std::size_t i = 0; i < b.top.rows.size(); ++i)
    s.top.offer(b.top.fitness[i], b.top.rows[i].data(), b.top.rows[i].size(), top, sign);
  return s;
}

void Tracker::record(int gen, const GenerationStats& s) {
  r_.evaluations += s.nevals;
  r_.logbook.gen.push_back(gen);
  r_.logbook.nevals.push_back(s.nevals);
  r_.logbook.avg.push_back(s.mean);
  r_.logbook.std.push_back(std::sqrt(s.m2 / s.count));
  r_.logbook.min.push_back(s.min);
  r_.logbook.max.push_back(s.max);
  // The hall of fame: the earlier individuals first on ties (DEAP's HallOfFame.update).
  Elite hof{r_.hall_of_fame_fitness, r_.hall_of_fame};
  for (std::size_t i = 0; i < s.top.rows.size(); ++i)
    hof.offer(s.top.fitness[i], s.top.rows[i].data(), s.top.rows[i].size(), size_, sign_);
  r_.hall_of_fame_fitness = std::move(hof.fitness);
  r_.hall_of_fame = std::move(hof.rows);
  // (the first individual of the hall of fame is a best even at ±inf: "< best_g_" alone
  // left the best empty while the hall of fame held it)
  if (!r_.hall_of_fame.empty() &&
      (r_.best.empty() || sign_ * r_.hall_of_fame_fitness[0] < best_g_)) {
    best_g_ = sign_ * r_.hall_of_fame_fitness[0];
    r_.best_fitness = r_.hall_of_fame_fitness[0];
    r_.best = r_.hall_of_fame[0];
    since_better_ = 0;
  } else {
    ++since_better_;
  }
  r_.generations = gen;
}

std::string Tracker::stop(double target, std::int64_t max_evaluations, int stagnation) const {
  if (std::isfinite(target) && best_g_ <= sign_ * target) return "target";
  if (max_evaluations && r_.evaluations >= max_evaluations) return "evaluations";
  if (stagnation && since_better_ >= stagnation) return "stagnation";
  return "";
}

json Tracker::save() const {
  const Logbook& l = r_.logbook;
  return {{"gen", l.gen},
          {"nevals", l.nevals},
          {"avg", l.avg},
          {"std", l.std},
          {"min", l.min},
          {"max", l.max},
          {"best", r_.best},
          {"best_fitness", r_.best_fitness},
          {"hall_of_fame", r_.hall_of_fame},
          {"hall_of_fame_fitness", r_.hall_of_fame_fitness},
          {"evaluations", r_.evaluations},
          {"generations", r_.generations},
          {"restarts", r_.restarts},
          {"since_better", since_better_}};
}

void Tracker::load(const json& s) {
  Logbook& l = r_.logbook;
  s.at("gen").get_to(l.gen);
  s.at("nevals").get_to(l.nevals);
  s.at("avg").get_to(l.avg);
  s.at("std").get_to(l.std);
  s.at("min").get_to(l.min);
  s.at("max").get_to(l.max);
  s.at("best").get_to(r_.best);
  s.at("best_fitness").get_to(r_.best_fitness);
  s.at("hall_of_fame").get_to(r_.hall_of_fame);
  s.at("hall_of_fame_fitness").get_to(r_.hall_of_fame_fitness);
  s.at("evaluations").get_to(r_.evaluations);
  s.at("generations").get_to(r_.generations);
  s.at("restarts").get_to(r_.restarts);
  s.at("since_better").get_to(since_better_);
  best_g_ = r_.best.empty() ? INFINITY : sign_ * r_.best_fitness;
}

namespace {

// 2: the content (algorithm, configuration, state) beside an FNV-1a check of its CBOR
constexpr const char* checkpoint_format = "tessera evo checkpoint 2";

std::uint64_t content_check(const json& content) {
  const std::vector<std::uint8_t> bytes = json::to_cbor(content);
  return detail::fnv1a(bytes.data(), bytes.size());
}

// The first setting in which two configurations differ, as "key: a (saved) vs b (now)".
std::string first_difference(const json& saved, const json& now) {
  for (const auto& [key, value] : now.items())
    if (!saved.contains(key) || saved.at(key) != value)
      return fmt::format("{} = {} in the checkpoint, {} now", key,
                         saved.contains(key) ? saved.at(key).dump() : "(absent)", value.dump());
  for (const auto& [key, value] : saved.items())
    if (!now.contains(key)) return fmt::format("{} = {} in the checkpoint only", key, value.dump());
  return "";
}

}  // namespace

Checkpointer::Checkpointer(const Comm& comm, const Checkpoint& options, std::string algorithm,
                           json config)
    : comm_(comm), options_(options), algorithm_(std::move(algorithm)), config_(std::move(config)) {
  if (enabled()) signals_.emplace();
}

json Checkpointer::load() const {
  if (!options_.resume) return nullptr;
  std::string bytes;
  const bool found = agree(comm_, [&] {
    if (comm_.rank() != 0) return true;
    if (!std::filesystem::exists(options_.path)) return false;
    std::ifstream in(options_.path, std::ios::binary);
    if (!in) throw IOError("cannot read the checkpoint " + options_.path);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
  });
  if (!comm_.allreduce(found ? 1 : 0, ReduceOp::min)) {
    log_warn("resume: no checkpoint at " + options_.path + " yet; starting a new run");
    return nullptr;
  }
  comm_.bcast(bytes);
  return agree(comm_, [&] {
    json file;
    try {
      file = json::from_cbor(bytes);
    } catch (const json::exception& e) {
      throw InvalidArgument("the checkpoint " + options_.path +
                            " is damaged or not a tessera checkpoint (" + e.what() + ")");
    }
    const json format = file.is_object() && file.contains("format") ? file.at("format") : json();
    if (!format.is_string() || format.get<std::string>().rfind("tessera evo checkpoint", 0) != 0)
      throw InvalidArgument("the checkpoint " + options_.path + " is not a tessera evo checkpoint");
    if (format != checkpoint_format)
      throw InvalidArgument("the checkpoint " + options_.path + " is in another format ('" +
                            format.get<std::string>() + "', this tessera writes '" +
                            checkpoint_format + "'); remove it or run without --resume");
    if (!file.contains("content") || !file.contains("check") ||
        !file.at("check").is_number_unsigned() ||
        file.at("check").get<std::uint64_t>() != content_check(file.at("content")))
      throw InvalidArgument("the checkpoint " + options_.path +
                            " is damaged (its checksum does not match its content); remove it "
                            "or run without --resume");
    const json& content = file.at("content");
    if (content.at("algorithm") != algorithm_)
      throw InvalidArgument("the checkpoint " + options_.path + " was written by " +
                            content.at("algorithm").get<std::string>() + ", not " + algorithm_ +
                            "; remove it or run without --resume");
    if (const std::string diff = first_difference(content.at("config"), config_); !diff.empty())
      throw InvalidArgument("the checkpoint " + options_.path +
                            " comes from another configuration (" + diff +
                            "); remove it or run without --resume");
    return content.at("state");
  });
}

bool Checkpointer::due(int done) {
  if (!enabled()) return false;
  signal_ = comm_.allreduce(detail::StopSignals::pending(), ReduceOp::max);
  return signal_ != 0 || (options_.every > 0 && done % options_.every == 0);
}

void Checkpointer::save(const json& state, int done) {
  agree(comm_, [&] {
    if (comm_.rank() != 0) return;
    const json content = {{"algorithm", algorithm_}, {"config", config_}, {"state", state}};
    const json file = {
        {"format", checkpoint_format}, {"check", content_check(content)}, {"content", content}};
    const std::vector<std::uint8_t> bytes = json::to_cbor(file);
    io::write_file_atomic(
        options_.path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  });
  log_debug(
      fmt::format("{}: checkpoint after generation {} in {}", algorithm_, done, options_.path));
  if (signal_)  // every rank stops here together (the signal was agreed in due())
    throw_error(
        ErrorKind::interrupted,
        fmt::format(
            "interrupted by {} after generation {}: the state is saved in {}; run again with "
            "--resume to continue",
            detail::signal_name(signal_), done, options_.path),
        true);
}

}  // namespace tessera::evo::impl

namespace tessera::evo {

void RunOptions::validate_run() const {
  if (max_evaluations < 0 || stagnation < 0)
    throw InvalidArgument("max_evaluations and stagnation must be >= 0");
  if (hall_of_fame < 1)
    throw InvalidArgument(fmt::format("hall_of_fame must be >= 1, got {}", hall_of_fame));
  if (checkpoint.every < 0)
    throw InvalidArgument(
        fmt::format("checkpoint every must be >= 0 generations, got {}", checkpoint.every));
  if (checkpoint.resume && checkpoint.path.empty())
    throw InvalidArgument("resume needs a checkpoint path");
}

}  // namespace tessera::evo

namespace tessera::evo::impl {

void validate_islands(const Islands& islands, int population) {
  if (islands.count < 1)
    throw InvalidArgument(fmt::format("islands must be >= 1, got {}", islands.count));
  if (islands.interval < 1)
    throw InvalidArgument(
        fmt::format("the migration interval must be >= 1 generation, got {}", islands.interval));
  if (islands.migrants < 0 || islands.migrants > population)
    throw InvalidArgument(fmt::format("migrants must be between 0 and the population {}, got {}",
                                      population, islands.migrants));
}

std::uint64_t island_seed(std::uint64_t seed, int island) {
  return seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(island);
}

namespace {

// The islands this rank hosts and the ranks it shares them with: with at least as many
// ranks as islands, island i on a contiguous group of ranks; else several islands on
// each rank.
struct Placement {
  std::vector<int> islands;
  Comm group;
  bool leader = false;  // contributes its islands to the gathers
};

Placement place(const Comm& comm, int count) {
  const int R = comm.size(), rank = comm.rank();
  Placement p;
  if (R >= count) {
    const int island = static_cast<int>(static_cast<std::int64_t>(rank) * count / R);
    p.islands = {island};
    p.group = comm.split(island, rank);
  } else {
    for (int i = 0; i < count; ++i)
      if (static_cast<std::int64_t>(i) * R / count == rank) p.islands.push_back(i);
    p.group = comm.split(rank, 0);
  }
  p.leader = p.group.rank() == 0;
  return p;
}

// Every island's value of one generation, in island order, on every rank.
std::vector<GenerationStats> gather_stats(const Comm& comm,
                                          const std::vector<GenerationStats>& mine, bool leader,
                                          std::size_t n) {
  std::vector<double> flat;  // per island: 7 values, then (fitness, row) per top row
  if (leader)
    for (const auto& s : mine) {
      flat.insert(flat.end(), {static_cast<double>(s.nevals), s.count, s.mean, s.m2, s.min, s.max,
                               static_cast<double>(s.top.rows.size())});
      for (std::size_t i = 0; i < s.top.rows.size(); ++i) {
        flat.push_back(s.top.fitness[i]);
        flat.insert(flat.end(), s.top.rows[i].begin(), s.top.rows[i].end());
      }
    }
  const std::vector<double> all = comm.allgatherv(flat);
  std::vector<GenerationStats> out;
  for (std::size_t k = 0; k < all.size();) {
    GenerationStats s;
    s.nevals = static_cast<std::int64_t>(all[k]);
    s.count = all[k + 1], s.mean = all[k + 2], s.m2 = all[k + 3];
    s.min = all[k + 4], s.max = all[k + 5];
    const auto top = static_cast<std::size_t>(all[k + 6]);
    k += 7;
    for (std::size_t i = 0; i < top; ++i, k += n + 1) {
      s.top.fitness.push_back(all[k]);
      s.top.rows.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(k + 1),
                              all.begin() + static_cast<std::ptrdiff_t>(k + 1 + n));
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Ring migration: the best `migrants` of island i replace the worst of island i + 1.
void migrate(const Comm& comm, const Placement& place,
             std::vector<std::unique_ptr<Engine>>& engines, int count, int migrants, bool minimize,
             std::size_t n) {
  const double sign = minimize ? 1.0 : -1.0;
  const auto k = static_cast<std::size_t>(migrants);
  std::vector<double> flat;  // per island: k fitness values, then k rows
  if (place.leader)
    for (const auto& e : engines) {
      const std::vector<double>& f = e->fitness();
      const std::vector<std::size_t> order = rank_order(f, sign);
      for (std::size_t i = 0; i < k; ++i) flat.push_back(f[order[i]]);
      for (std::size_t i = 0; i < k; ++i)
        flat.insert(flat.end(), e->rows().begin() + static_cast<std::ptrdiff_t>(order[i] * n),
                    e->rows().begin() + static_cast<std::ptrdiff_t>((order[i] + 1) * n));
    }
  const std::vector<double> all = comm.allgatherv(flat);
  const std::size_t per = k * (n + 1);
  for (std::size_t e = 0; e < engines.size(); ++e) {
    const auto from = static_cast<std::size_t>((place.islands[e] + count - 1) % count) * per;
    const auto at = all.begin() + static_cast<std::ptrdiff_t>(from);
    engines[e]->immigrate(std::vector<double>(at + static_cast<std::ptrdiff_t>(k),
                                              at + static_cast<std::ptrdiff_t>(per)),
                          std::vector<double>(at, at + static_cast<std::ptrdiff_t>(k)));
  }
}

// Every island's saved state in island order (collective; the full list on every rank).
json gather_states(const Comm& comm, const Placement& place,
                   const std::vector<std::unique_ptr<Engine>>& engines) {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint64_t> sizes;
  if (place.leader)
    for (const auto& e : engines) {
      const std::vector<std::uint8_t> b = json::to_cbor(e->save());
      sizes.push_back(b.size());
      bytes.insert(bytes.end(), b.begin(), b.end());
    }
  const auto all_sizes = comm.allgatherv(sizes);
  const auto all_bytes = comm.allgatherv(bytes);
  json states = json::array();
  std::size_t at = 0;
  for (const std::uint64_t s : all_sizes) {
    states.push_back(json::from_cbor(all_bytes.begin() + static_cast<std::ptrdiff_t>(at),
                                     all_bytes.begin() + static_cast<std::ptrdiff_t>(at + s)));
    at += s;
  }
  return states;
}

}  // namespace

EvolutionResult run_generations(const Comm& comm, const Control& c, const std::string& name,
                                const json& config,
                                const std::function<std::unique_ptr<Engine>(int)>& make) {
  const int count = c.islands.count;
  json key = config;
  key["hall_of_fame"] = c.hall_of_fame;
  if (count > 1) key["islands"] = {count, c.islands.interval, c.islands.migrants};
  const Placement place = count > 1 ? impl::place(comm, count) : Placement{{0}, comm, true};
  std::vector<std::unique_ptr<Engine>> engines;
  for (int i : place.islands) engines.push_back(make(i));

  Checkpointer checkpoint(comm, c.checkpoint, name, key);
  EvolutionResult r;
  r.stop = "generations";
  Tracker track(r, c.minimize, c.hall_of_fame);
  const auto top = static_cast<std::size_t>(c.hall_of_fame);
  // One generation of every island into the logbook (islands merged in island order).
  std::size_t n = 0;
  const auto record = [&](int gen, const std::vector<std::int64_t>& nevals) {
    if (count == 1) {
      track.record(gen, nevals[0], engines[0]->fitness(), engines[0]->rows().data(), n);
      return;
    }
    std::vector<GenerationStats> mine;
    for (std::size_t e = 0; e < engines.size(); ++e)
      mine.push_back(generation_stats(nevals[e], engines[e]->fitness(), engines[e]->rows().data(),
                                      n, c.minimize, top));
    const auto all = gather_stats(comm, mine, place.leader, n);
    GenerationStats total = all[0];
    for (std::size_t i = 1; i < all.size(); ++i) total = merge(total, all[i], c.minimize, top);
    track.record(gen, total);
  };
  std::vector<std::int64_t> nevals(engines.size());
  int first = 1;
  if (const json saved = checkpoint.load(); !saved.is_null()) {
    track.load(saved.at("tracker"));
    for (std::size_t e = 0; e < engines.size(); ++e)
      engines[e]->load(saved.at("islands").at(static_cast<std::size_t>(place.islands[e])));
    first = saved.at("generation").get<int>() + 1;
    n = engines[0]->rows().size() / std::max<std::size_t>(engines[0]->fitness().size(), 1);
  } else {
    for (std::size_t e = 0; e < engines.size(); ++e) nevals[e] = engines[e]->start(place.group);
    n = engines[0]->rows().size() / engines[0]->fitness().size();
    record(0, nevals);
  }
  for (int gen = first; gen <= c.generations; ++gen) {
    if (const std::string why = track.stop(c.target, c.max_evaluations, c.stagnation);
        !why.empty()) {
      r.stop = why;
      break;
    }
    for (std::size_t e = 0; e < engines.size(); ++e) nevals[e] = engines[e]->step(place.group, gen);
    record(gen, nevals);
    if (count > 1 && c.islands.migrants > 0 && gen % c.islands.interval == 0)
      migrate(comm, place, engines, count, c.islands.migrants, c.minimize, n);
    if (checkpoint.due(gen)) {
      json state = {{"generation", gen}, {"tracker", track.save()}};
      state["islands"] =
          count == 1 ? json::array({engines[0]->save()}) : gather_states(comm, place, engines);
      checkpoint.save(state, gen);
    }
  }
  if (r.stop == "generations" && track.stop(c.target, 0, 0) == "target") r.stop = "target";
  return r;
}

}  // namespace tessera::evo::impl
