// GPU tests (CUDA builds; label gpu): device results against the host results of the
// same computation. Compiled in every CUDA build, run where a GPU is present.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <tessera/comm/comm.hpp>
#include <tessera/comm/nccl.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/core/sort.hpp>
#include <tessera/io/generators.hpp>
#include <tessera/linalg/linalg.hpp>

#include "../test_support.hpp"

using namespace tessera;
using Host = Kokkos::HostSpace;
using Device = Kokkos::CudaSpace;

static_assert(std::is_same_v<Kokkos::DefaultExecutionSpace, Kokkos::Cuda>,
              "test_gpu is built for CUDA builds only");

namespace {

linalg::Matrix<Host> random_matrix(std::size_t r, std::size_t c, unsigned seed) {
  linalg::Matrix<Host> M("M", r, c);
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  for (std::size_t i = 0; i < r; ++i)
    for (std::size_t j = 0; j < c; ++j) M(i, j) = normal(gen);
  return M;
}

template <class V>
auto to_device(const V& h) {
  auto d = Kokkos::create_mirror_view_and_copy(Device(), h);
  return d;
}

template <class V>
auto to_host(const V& d) {
  return Kokkos::create_mirror_view_and_copy(Host(), d);
}

double max_rel(const linalg::Matrix<Host>& a, const linalg::Matrix<Host>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.extent(0); ++i)
    for (std::size_t j = 0; j < a.extent(1); ++j)
      worst = std::max(worst, std::abs(a(i, j) - b(i, j)) / std::max(1.0, std::abs(b(i, j))));
  return worst;
}

}  // namespace

TEST(GpuLinalg, GemmMatchesHostBlas) {
  for (auto oa : {linalg::Op::none, linalg::Op::transpose})
    for (auto ob : {linalg::Op::none, linalg::Op::transpose}) {
      const std::size_t m = 37, k = 23, n = 19;
      const auto A = oa == linalg::Op::none ? random_matrix(m, k, 1) : random_matrix(k, m, 1);
      const auto B = ob == linalg::Op::none ? random_matrix(k, n, 2) : random_matrix(n, k, 2);
      linalg::Matrix<Host> C = random_matrix(m, n, 3);
      auto dA = to_device(A);
      auto dB = to_device(B);
      auto dC = to_device(C);
      linalg::gemm(oa, ob, 1.5, A, B, -0.5, C);
      linalg::gemm(oa, ob, 1.5, dA, dB, -0.5, dC);
      EXPECT_LT(max_rel(to_host(dC), C), 1e-12);
    }
}

TEST(GpuLinalg, GramAndEighMatchHost) {
  const auto X = random_matrix(500, 16, 4);
  linalg::Matrix<Host> G("G", 16, 16), V("V", 16, 16);
  linalg::Vector<Host> w("w", 16);
  linalg::gram(1.0 / 499, X, 0.0, G);
  linalg::eigh(G, w, V);
  auto dX = to_device(X);
  linalg::Matrix<Device> dG("dG", 16, 16), dV("dV", 16, 16);
  linalg::Vector<Device> dw("dw", 16);
  linalg::gram(1.0 / 499, dX, 0.0, dG);
  linalg::eigh(dG, dw, dV);
  EXPECT_LT(max_rel(to_host(dG), G), 1e-12);
  const auto hw = to_host(dw);
  const auto hV = to_host(dV);
  for (std::size_t k = 0; k < 16; ++k) {
    EXPECT_NEAR(hw(k), w(k), 1e-12 * std::abs(w(k)) + 1e-14);
    // Eigenvectors agree up to sign.
    double dot = 0;
    for (std::size_t i = 0; i < 16; ++i) dot += hV(i, k) * V(i, k);
    EXPECT_NEAR(std::abs(dot), 1.0, 1e-9);
  }
}

// The same counter-based numbers on the GPU as on the host.
TEST(GpuGenerators, MatchHostDraws) {
  io::RandomSpec spec{1000, 7, 99};
  io::DeviceMatrix X("X", 1000, 7);
  io::generate_random(spec, 0, X);
  const auto h = to_host(X);
  const CounterRng rng(99, 1);
  for (std::size_t i = 0; i < 1000; ++i)
    for (std::size_t j = 0; j < 7; ++j) ASSERT_EQ(h(i, j), rng.uniform(i * 7 + j));
  io::BlobsSpec blobs;
  blobs.n = 500;
  blobs.features = 3;
  blobs.seed = 5;
  io::DeviceMatrix B("B", 500, 3);
  io::DeviceVector y("y", 500);
  io::generate_blobs(blobs, 0, B, y);
  const auto hb = to_host(B);
  const CounterRng model(5, 0), noise(5, 1);
  for (std::size_t i = 0; i < 500; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      const double centre = -10 + 20 * model.uniform((i % 3) * 3 + j);
      // log/cos of the device and of glibc may differ in the last bit.
      EXPECT_NEAR(hb(i, j), centre + noise.normal(i * 3 + j), 1e-13);
    }
}

// Device Views through the communicator (host staging without NCCL).
TEST(GpuComm, AllreduceDeviceViewEqualsHostResult) {
  const Comm& c = *test::g_world;
  Kokkos::View<double*, Device> d("d", 100);
  Kokkos::View<double*, Host> h("h", 100);
  for (int i = 0; i < 100; ++i) h(i) = c.rank() + 0.25 * i;
  Kokkos::deep_copy(d, h);
  c.allreduce(d, ReduceOp::sum);
  c.allreduce(h, ReduceOp::sum);
  const auto back = to_host(d);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(back(i), h(i));
  const auto rows = c.allgatherv(Kokkos::View<double**, Kokkos::LayoutRight, Device>("r", 2, 3));
  EXPECT_EQ(rows.extent(0), 2u * c.size());
}

// NCCL on device Views gives the MPI result; host scalars still work through it.
TEST(GpuComm, NcclMatchesMpi) {
  if (!nccl_available()) GTEST_SKIP() << "built without NCCL";
  const Comm& world = *test::g_world;
  const Comm gpus = make_nccl_comm(world);
  EXPECT_STREQ(gpus.backend_name(), "nccl");
  Kokkos::View<double*, Device> d("d", 1000);
  Kokkos::View<double*, Host> h("h", 1000);
  for (int i = 0; i < 1000; ++i) h(i) = (world.rank() + 1) * 0.5 + i;
  Kokkos::deep_copy(d, h);
  gpus.allreduce(d, ReduceOp::sum);
  world.allreduce(h, ReduceOp::sum);
  const auto back = to_host(d);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(back(i), h(i));
  EXPECT_EQ(gpus.allreduce(1, ReduceOp::sum), world.size());
  Kokkos::View<double*, Device> b("b", 10);
  if (world.rank() == 0) Kokkos::deep_copy(b, 7.0);
  gpus.bcast(b, 0);
  EXPECT_EQ(to_host(b)(9), 7.0);
  Kokkos::View<double**, Kokkos::LayoutRight, Device> mine("mine", world.rank() + 1, 2);
  Kokkos::deep_copy(mine, double(world.rank()));
  const auto all = to_host(gpus.allgatherv(mine));
  ASSERT_EQ(all.extent(0), std::size_t(world.size() * (world.size() + 1) / 2));
  EXPECT_EQ(all(all.extent(0) - 1, 1), double(world.size() - 1));
}

// Thrust on the device orders exactly as Thrust on the host.
TEST(GpuSort, DeviceSortEqualsHostSort) {
  const std::size_t n = 100000;
  Kokkos::View<double*, Host> keys("keys", n);
  const CounterRng rng(3, 0);
  for (std::size_t i = 0; i < n; ++i) keys(i) = static_cast<double>(rng.integer(i, 1000));
  auto dkeys = to_device(keys);
  const auto host_order = argsort(keys);
  const auto device_order = to_host(argsort(dkeys));
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(device_order(i), host_order(i)) << i;
}
