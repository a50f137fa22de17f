// main() of the one-process unit tests: Kokkos via tessera::Runtime, no MPI.
#include <gtest/gtest.h>

#include <tessera/core/runtime.hpp>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tessera::RuntimeOptions options;
  options.use_mpi = false;
  tessera::Runtime runtime(argc, argv, options);
  return RUN_ALL_TESTS();
}
