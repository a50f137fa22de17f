// main() of the MPI tests: every rank runs every test; the exit code is the worst
// over ranks so a failure on any rank fails the test on all.
#include <gtest/gtest.h>

#include <tessera/core/runtime.hpp>

#include "test_support.hpp"

namespace tessera::test {
const Comm* g_world = nullptr;
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tessera::Runtime runtime(argc, argv);
  tessera::test::g_world = &runtime.world();
  if (runtime.world().rank() != 0) {
    // Other ranks report failures only.
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    listeners.Release(listeners.default_result_printer());
  }
  const int local = RUN_ALL_TESTS();
  return runtime.world().allreduce(local, tessera::ReduceOp::max);
}
