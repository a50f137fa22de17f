// core: errors, the counter-based RNG (known-answer vectors and distributions),
// value lists (against NumPy), Slurm detection, timers, progress bar.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include <tessera/core/error.hpp>
#include <tessera/core/log.hpp>
#include <tessera/core/progress.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/core/sort.hpp>
#include <tessera/core/timer.hpp>
#include <tessera/core/value_list.hpp>

#include "test_support.hpp"

using namespace tessera;

TEST(Error, KindsAndExitCodes) {
  EXPECT_EQ(exit_code(ErrorKind::invalid_argument), 2);
  EXPECT_EQ(exit_code(ErrorKind::parse), 2);
  EXPECT_EQ(exit_code(ErrorKind::io), 2);
  EXPECT_EQ(exit_code(ErrorKind::comm), 1);
  EXPECT_EQ(exit_code(ErrorKind::internal), 1);
  EXPECT_EQ(exit_code(ErrorKind::interrupted), 1);
  EXPECT_STREQ(to_string(ErrorKind::parse), "parse");
  EXPECT_STREQ(to_string(ErrorKind::interrupted), "interrupted");
}

TEST(Error, OtherLibrariesMessagesOnOneLine) {
  // Kokkos 3.4's failed allocation, as it reads
  const std::runtime_error kokkos(
      "Kokkos failed to allocate memory for label \"cmaes_C\".  Allocation using MemorySpace "
      "named \"Host\" failed with the following error:  Allocation of size 7.451e+07 G "
      "failed, likely due to insufficient memory.  (The allocation mechanism was standard "
      "malloc().)\n\nTraceback functionality not available\n");
  EXPECT_EQ(one_line_message(kokkos),
            "Kokkos failed to allocate memory for label \"cmaes_C\". Allocation using "
            "MemorySpace named \"Host\" failed with the following error: Allocation of size "
            "7.451e+07 G failed, likely due to insufficient memory. (The allocation mechanism "
            "was standard malloc().)");
  EXPECT_EQ(one_line_message(std::bad_alloc()), "out of memory (an allocation failed)");
  EXPECT_EQ(one_line_message(std::runtime_error("\t two\n\nlines \r\n")), "two lines");
  EXPECT_EQ(one_line_message(std::runtime_error("")), "");
}

TEST(Error, ParseErrorNamesFileLineColumn) {
  ParseError e("data.csv", 12, 5, "bad field");
  EXPECT_STREQ(e.what(), "data.csv:12:5: bad field");
  EXPECT_EQ(e.kind(), ErrorKind::parse);
  EXPECT_STREQ(ParseError("x.csv", 3, 0, "ragged").what(), "x.csv:3: ragged");
}

TEST(Error, ThrowErrorKeepsKindAndAgreement) {
  try {
    throw_error(ErrorKind::io, "gone", true);
    FAIL() << "no throw";
  } catch (const IOError& e) {
    EXPECT_STREQ(e.what(), "gone");
    EXPECT_TRUE(e.agreed());
  }
  EXPECT_THROW(throw_error(ErrorKind::internal, "x"), InternalError);
  EXPECT_THROW(throw_error(ErrorKind::interrupted, "x"), Interrupted);
  EXPECT_THROW(TESSERA_EXPECTS(1 == 2, "nope"), InvalidArgument);
  EXPECT_THROW(TESSERA_ASSERT(1 == 2), InternalError);
}

// Random123's published known-answer vectors for Philox4x32-10.
TEST(Rng, PhiloxKnownAnswers) {
  struct Kat {
    detail::Philox4x32 ctr;
    std::uint32_t k0, k1;
    detail::Philox4x32 expected;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       0xffffffff,
       0xffffffff,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       0xa4093822,
       0x299f31d0,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const Kat& k : kats) {
    const auto out = detail::philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out.v[i], k.expected.v[i]) << "word " << i;
    // the 64-bit-lane form: the same words in the low halves, whatever the upper ones hold
    std::uint64_t keys0[10], keys1[10];
    detail::philox_round_keys(k.k0, k.k1, keys0, keys1);
    std::uint64_t c[4];
    for (int i = 0; i < 4; ++i) c[i] = std::uint64_t(0xdeadbeefu) << 32 | k.ctr.v[i];
    detail::philox4x32_10_wide(c[0], c[1], c[2], c[3], keys0, keys1);
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(static_cast<std::uint32_t>(c[i]), k.expected.v[i]) << "wide word " << i;
  }
}

TEST(Rng, CounterLayoutMatchesPhilox) {
  // CounterRng(seed, stream).bits(counter) = Philox(ctr = {counter, stream}, key = seed).
  const CounterRng rng(0x299f31d0a4093822ull, 0x0370734413198a2eull);
  const auto out = rng.bits(0x85a308d3243f6a88ull);
  EXPECT_EQ(out.v[0], 0xd16cfe09u);
  EXPECT_EQ(out.v[3], 0x24126ea1u);
}

TEST(Rng, DrawsArePureFunctionsOfKey) {
  const CounterRng a(42, 7), b(42, 7), c(43, 7), d(42, 8);
  EXPECT_EQ(a.uniform(5), b.uniform(5));
  EXPECT_NE(a.uniform(5), a.uniform(6));
  EXPECT_NE(a.uniform(5), c.uniform(5));
  EXPECT_NE(a.uniform(5), d.uniform(5));
}

// Kernels live in free functions: CUDA's extended lambdas may not sit in gtest's
// private TestBody.
void draw_in_kernel(const CounterRng& rng, const Kokkos::View<double*>& u,
                    const Kokkos::View<double*>& z, const Kokkos::View<std::uint64_t*>& k) {
  Kokkos::parallel_for(
      "draw", u.extent(0), KOKKOS_LAMBDA(const std::size_t i) {
        u(i) = rng.uniform(i);
        z(i) = rng.normal(i);
        k(i) = rng.integer(i, 10);
      });
}

// Moments of 200,000 draws generated in a Kokkos kernel: within 5 standard errors.
TEST(Rng, DistributionsInKernel) {
  const int n = 200000;
  const CounterRng rng(2024, 3);
  Kokkos::View<double*> u("u", n), z("z", n);
  Kokkos::View<std::uint64_t*> k("k", n);
  draw_in_kernel(rng, u, z, k);
  auto hu = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), u);
  auto hz = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), z);
  auto hk = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k);
  double su = 0, su2 = 0, sz = 0, sz2 = 0, sz4 = 0;
  std::vector<double> counts(10, 0.0);
  for (int i = 0; i < n; ++i) {
    ASSERT_GE(hu(i), 0.0);
    ASSERT_LT(hu(i), 1.0);
    ASSERT_LT(hk(i), 10u);
    su += hu(i), su2 += hu(i) * hu(i);
    sz += hz(i), sz2 += hz(i) * hz(i), sz4 += std::pow(hz(i), 4);
    counts[hk(i)] += 1;
    EXPECT_EQ(hu(i), rng.uniform(i));  // host and kernel agree bitwise
  }
  const double se = 1.0 / std::sqrt(double(n));
  EXPECT_NEAR(su / n, 0.5, 5 * se * std::sqrt(1.0 / 12));
  EXPECT_NEAR(su2 / n - std::pow(su / n, 2), 1.0 / 12, 5 * se * 0.075);
  EXPECT_NEAR(sz / n, 0.0, 5 * se);
  EXPECT_NEAR(sz2 / n, 1.0, 5 * se * std::sqrt(2.0));
  EXPECT_NEAR(sz4 / n, 3.0, 5 * se * std::sqrt(96.0));
  // Chi-square with 9 degrees of freedom: 99.99% quantile is 33.7.
  double chi2 = 0;
  for (double c : counts) chi2 += (c - n / 10.0) * (c - n / 10.0) / (n / 10.0);
  EXPECT_LT(chi2, 33.7);
}

// exp_fast against the C library's exp (correctly rounded in glibc to within an ulp) on a
// dense sweep of [−708, 709] and at the edges: 0 below −708, inf above 709, NaN kept.
TEST(Math, ExpFastWithinTwoUlps) {
  double worst = 0;
  for (int i = 0; i <= 1000000; ++i) {
    const double x = -708.0 + 1416.99 * i / 1000000.0 + 1e-7 * (i % 7);
    const double want = std::exp(x), got = detail::kmath::exp_fast(x);
    worst = std::max(worst, std::fabs(got - want) / want);
  }
  EXPECT_LT(worst, 4.5e-16);  // two ulps
  EXPECT_EQ(detail::kmath::exp_fast(0.0), 1.0);
  EXPECT_EQ(detail::kmath::exp_fast(-0.0), 1.0);
  EXPECT_DOUBLE_EQ(detail::kmath::exp_fast(1.0), std::exp(1.0));
  EXPECT_DOUBLE_EQ(detail::kmath::exp_fast(-1e-3), std::exp(-1e-3));
  EXPECT_EQ(detail::kmath::exp_fast(-708.5), 0.0);
  EXPECT_EQ(detail::kmath::exp_fast(-1e300), 0.0);
  EXPECT_EQ(detail::kmath::exp_fast(-HUGE_VAL), 0.0);
  EXPECT_EQ(detail::kmath::exp_fast(710.0), HUGE_VAL);
  EXPECT_TRUE(std::isnan(detail::kmath::exp_fast(std::nan(""))));
}

// cos_fast against the C library's cos (glibc's is correctly rounded in practice) on a
// dense sweep of [−40, 40] (Rastrigin's 2πx for |x| ≤ 6.4), wide arguments up to the
// reduction's limit, multiples of π/2 and beyond the limit; vectorised and scalar calls
// give the same bits.
TEST(Math, CosFastWithinAnUlp) {
  const auto ulps = [](double got, double want) {
    return std::fabs(got - want) / std::max(std::fabs(want) * 0x1p-52, 0x1p-1074);
  };
  double worst = 0;
  std::vector<double> ys;
  for (int i = 0; i <= 1000000; ++i) ys.push_back(-40.0 + 80.0 * i / 1000000.0 + 1e-9 * (i % 7));
  for (int i = 0; i <= 100000; ++i) ys.push_back(-1.6e6 + 3.2e6 * i / 100000.0 + 0.37 * (i % 11));
  for (int m = -1000; m <= 1000; ++m) ys.push_back(m * 1.5707963267948966);
  for (const double y : ys) {
    const double want = std::cos(y), got = detail::kmath::cos_fast(y);
    // near a zero of cos the absolute error counts (relative to 1): r is exact there
    worst = std::max(worst, std::min(ulps(got, want), std::fabs(got - want) / 0x1p-52));
  }
  EXPECT_LE(worst, 1.0);
  std::vector<double> vectorised(ys.size());
  for (std::size_t i = 0; i < ys.size(); ++i) vectorised[i] = detail::kmath::cos_reduced(ys[i]);
  for (std::size_t i = 0; i < ys.size(); ++i)
    ASSERT_EQ(vectorised[i], detail::kmath::cos_fast(ys[i])) << ys[i];
  EXPECT_EQ(detail::kmath::cos_fast(0.0), 1.0);
  EXPECT_EQ(detail::kmath::cos_fast(1e10), std::cos(1e10));
  EXPECT_EQ(detail::kmath::cos_fast(-3e7), std::cos(-3e7));
  EXPECT_TRUE(std::isnan(detail::kmath::cos_fast(HUGE_VAL)));
  EXPECT_TRUE(std::isnan(detail::kmath::cos_fast(std::nan(""))));
}

// log_fast against the C library's log (glibc's is correctly rounded in practice): a dense
// sweep of [0.5, 2] (around the normalisation's √2 edge and 1, where log is small), and of
// the exponents from 1e-300 to 1e300; exact at 1 and at powers of two.
TEST(Math, LogFastWithinAnUlp) {
  const auto ulps = [](double got, double want) {
    return std::fabs(got - want) / std::max(std::fabs(want) * 0x1p-52, 0x1p-1074);
  };
  std::vector<double> xs;
  for (int i = 0; i <= 1000000; ++i) xs.push_back(0.5 + 1.5 * i / 1000000.0 + 1e-12 * (i % 7));
  for (int i = 0; i <= 600000; ++i) xs.push_back(std::pow(10.0, -300.0 + 600.0 * i / 600000.0));
  for (int i = 1; i <= 1000; ++i) xs.push_back(1.0 + i * 0x1p-52), xs.push_back(1.0 - i * 0x1p-53);
  double worst = 0;
  std::vector<double> got(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) got[i] = detail::kmath::log_fast(xs[i]);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    worst = std::max(worst, ulps(got[i], std::log(xs[i])));
    ASSERT_EQ(got[i], detail::kmath::log_fast(xs[i])) << xs[i];  // vectorised = scalar
  }
  EXPECT_LE(worst, 1.0);
  EXPECT_EQ(detail::kmath::log_fast(1.0), 0.0);
  for (int e = -1000; e <= 1000; e += 37)
    EXPECT_EQ(detail::kmath::log_fast(std::ldexp(1.0, e)), std::log(std::ldexp(1.0, e))) << e;
}

// Φ⁻¹ against scipy.special.ndtri (values printed by SciPy 1.14), across AS 241's three
// regions; then normal_pair's draws: moments, the two halves uncorrelated, and the largest
// gap between their empirical CDF and Φ (Kolmogorov-Smirnov, 99.9% critical value).
TEST(Rng, NormalQuantileAndPairs) {
  const std::pair<double, double> scipy[] = {
      {1e-300, -37.0470962993612},         {1e-20, -9.262340089798409},
      {1e-08, -5.612001244174789},         {0.001, -3.090232306167813},
      {0.02425, -1.972961051311885},       {0.075, -1.4395314709384563},
      {0.3, -0.5244005127080409},          {0.5, 0.0},
      {0.7, 0.5244005127080407},           {0.925, 1.4395314709384563},
      {0.975, 1.959963984540054},          {0.999, 3.090232306167813},
      {0.999999999999, 7.0344869100478356}};
  for (const auto& [p, want] : scipy)
    EXPECT_NEAR(detail::kmath::normal_quantile(p), want, 4e-15 * std::max(1.0, std::fabs(want)))
        << p;
  const int n = 100000;
  const CounterRng rng(77, 5);
  std::vector<double> a(n), b(n);
  double s = 0, s2 = 0, s4 = 0, ab = 0;
  for (int i = 0; i < n; ++i) {
    const auto z = rng.normal_pair(static_cast<std::uint64_t>(i));
    a[static_cast<std::size_t>(i)] = z.first, b[static_cast<std::size_t>(i)] = z.second;
    s += z.first + z.second, s2 += z.first * z.first + z.second * z.second;
    s4 += std::pow(z.first, 4) + std::pow(z.second, 4), ab += z.first * z.second;
  }
  const double m = 2.0 * n, se = 1.0 / std::sqrt(m);
  EXPECT_NEAR(s / m, 0.0, 5 * se);
  EXPECT_NEAR(s2 / m, 1.0, 5 * se * std::sqrt(2.0));
  EXPECT_NEAR(s4 / m, 3.0, 5 * se * std::sqrt(96.0));
  EXPECT_NEAR(ab / n, 0.0, 5 / std::sqrt(double(n)));
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  double ks = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double cdf = 0.5 * std::erfc(-a[i] / std::sqrt(2.0));
    ks = std::max({ks, std::fabs(cdf - double(i) / m), std::fabs(cdf - double(i + 1) / m)});
  }
  EXPECT_LT(ks, 1.95 / std::sqrt(m));
}

TEST(ValueList, MatchesNumpy) {
  const auto ref = test::read_json(test::fixture("logspace.json"));
  auto check = [&](const std::string& key, const std::vector<double>& got) {
    const auto& want = ref.at(key);
    ASSERT_EQ(got.size(), want.size()) << key;
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_LE(test::rel_diff(got[i], want[i].get<double>()), 4e-16) << key << "[" << i << "]";
  };
  check("logspace_-6_6_20", parse_value_list("logspace:-6:6:20", "--C"));
  check("logspace_-6_1_20", parse_value_list("logspace:-6:1:20", "--gamma"));
  check("linspace_0_1_7", parse_value_list("linspace:0:1:7", "--x"));
  check("linspace_-3_5_4", linspace(-3, 5, 4));
}

TEST(ValueList, ListsAndRanges) {
  EXPECT_EQ(parse_value_list("1,10,100", "--C"), (std::vector<double>{1, 10, 100}));
  EXPECT_EQ(parse_value_list("2:5", "--k"), (std::vector<double>{2, 3, 4, 5}));
  EXPECT_EQ(parse_value_list("0.5", "--C"), (std::vector<double>{0.5}));
  EXPECT_EQ(parse_index_list("0,3:5", "--columns"), (std::vector<long>{0, 3, 4, 5}));
}

TEST(ValueList, ErrorsNameTheOption) {
  for (const char* bad : {"", "1,,2", "abc", "logspace:1:2", "logspace:a:2:3", "5:2",
                          "linspace:0:1:0", "1:2:3", "nan", "inf"}) {
    try {
      parse_value_list(bad, "--gamma");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--gamma", 0), 0u) << e.what();
    }
  }
  EXPECT_THROW(parse_index_list("-1", "--columns"), InvalidArgument);
}

TEST(Runtime, SlurmEnvironment) {
  setenv("SLURM_JOB_ID", "4242", 1);
  setenv("SLURM_NTASKS", "8", 1);
  setenv("SLURM_CPUS_PER_TASK", "16", 1);
  setenv("SLURM_LOCALID", "3", 1);
  setenv("SLURM_PROCID", "7", 1);
  const SlurmAllocation s = slurm_from_environment();
  EXPECT_TRUE(s.present);
  EXPECT_EQ(s.job_id, "4242");
  EXPECT_EQ(s.ntasks, 8);
  EXPECT_EQ(s.cpus_per_task, 16);
  EXPECT_EQ(s.local_id, 3);
  EXPECT_EQ(s.proc_id, 7);
  EXPECT_EQ(launcher_local_rank(), 3);
  for (const char* v :
       {"SLURM_JOB_ID", "SLURM_NTASKS", "SLURM_CPUS_PER_TASK", "SLURM_LOCALID", "SLURM_PROCID"})
    unsetenv(v);
  EXPECT_FALSE(slurm_from_environment().present);
  EXPECT_EQ(slurm_from_environment().cpus_per_task, 0);
}

TEST(Runtime, NestedRuntimeLeavesKokkosRunning) {
  // Kokkos is already up (unit_main's Runtime): a second Runtime must not own it.
  {
    RuntimeOptions options;
    options.use_mpi = false;
    Runtime inner(options);
    EXPECT_FALSE(inner.info().initialized_kokkos);
    EXPECT_FALSE(inner.info().initialized_mpi);
    EXPECT_EQ(inner.world().size(), 1);
    EXPECT_FALSE(inner.info().execution_space.empty());
  }
  EXPECT_TRUE(Kokkos::is_initialized());
  RuntimeOptions bad;
  bad.threads = -1;
  EXPECT_THROW(Runtime{bad}, InvalidArgument);
}

TEST(Timer, PhasesAccumulate) {
  PhaseTimes times;
  { auto s = times.scope("read"); }
  times.add("read", 1.0);
  times.add("fit", 2.0);
  ASSERT_EQ(times.phases().size(), 2u);
  EXPECT_EQ(times.phases()[0].first, "read");
  EXPECT_GE(times.phases()[0].second, 1.0);
  EXPECT_EQ(times.phases()[1].second, 2.0);
}

TEST(Progress, DrawsOnlyWhenEnabled) {
  EXPECT_FALSE(progress_wanted(1, true, false));  // not rank 0
  EXPECT_FALSE(progress_wanted(0, true, true));   // quiet wins
  EXPECT_TRUE(progress_wanted(0, true, false));   // forced
  std::FILE* f = std::tmpfile();
  {
    ProgressBar bar(4, "tasks", true, f);
    for (int i = 0; i < 4; ++i) bar.advance();
  }
  std::rewind(f);
  char buffer[4096] = {0};
  const std::size_t n = std::fread(buffer, 1, sizeof(buffer) - 1, f);
  std::fclose(f);
  const std::string text(buffer, n);
  EXPECT_NE(text.find("4/4"), std::string::npos) << text;
  EXPECT_NE(text.find("100%"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
  std::FILE* g = std::tmpfile();
  {
    ProgressBar silent(4, "tasks", false, g);
    silent.advance(4);
  }
  EXPECT_EQ(std::ftell(g), 0);
  std::fclose(g);
}

TEST(Log, LevelsParse) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
  EXPECT_THROW(parse_log_level("loud"), InvalidArgument);
  set_log_level(LogLevel::info);
  EXPECT_EQ(log_level(), LogLevel::info);
  set_log_level(LogLevel::warn);
}

// Sorting against std::stable_sort (ties keep their input order).
TEST(Sort, StableSortByKeyMatchesStdStableSort) {
  const std::size_t n = 20000;
  Kokkos::View<double*, Kokkos::HostSpace> keys("keys", n);
  Kokkos::View<std::int64_t*, Kokkos::HostSpace> values("values", n);
  const CounterRng rng(8, 0);
  for (std::size_t i = 0; i < n; ++i) {
    keys(i) = static_cast<double>(rng.integer(i, 500)) - 250;  // many ties
    values(i) = static_cast<std::int64_t>(i);
  }
  std::vector<std::int64_t> expected(n);
  for (std::size_t i = 0; i < n; ++i) expected[i] = static_cast<std::int64_t>(i);
  std::stable_sort(expected.begin(), expected.end(),
                   [&](std::int64_t a, std::int64_t b) { return keys(a) < keys(b); });
  const auto order = argsort(keys);
  sort_by_key(keys, values);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(values(i), expected[i]) << i;
    ASSERT_EQ(order(i), expected[i]) << i;
    if (i > 0) {
      ASSERT_LE(keys(i - 1), keys(i));
    }
  }
}

TEST(Sort, RejectsNanKeysAndMismatchedExtents) {
  Kokkos::View<double*, Kokkos::HostSpace> keys("keys", 3);
  Kokkos::View<std::int64_t*, Kokkos::HostSpace> values("values", 3), short_values("s", 2);
  keys(1) = std::nan("");
  try {
    sort_by_key(keys, values);
    FAIL() << "no throw";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "tessera::sort_by_key: 1 of the keys are NaN and cannot be ordered");
  }
  keys(1) = 0;
  EXPECT_THROW(sort_by_key(keys, short_values), InvalidArgument);
}
