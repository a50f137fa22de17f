// Uses tessera through find_package(tessera): runtime, communicator, RNG, generator, IO.
#include <cstdio>

#include <tessera/comm/agree.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/io/dataset.hpp>

int main(int argc, char** argv) {
  tessera::Runtime runtime(argc, argv);
  const tessera::Comm& comm = runtime.world();
  const tessera::Table digits = tessera::io::digits();
  const int ranks = comm.allreduce(1, tessera::ReduceOp::sum);
  const double u = tessera::CounterRng(1, 2).uniform(3);
  const bool ok = digits.rows() == 1797 && ranks == comm.size() && u >= 0 && u < 1;
  if (comm.rank() == 0) std::printf("%s\n", ok ? "consumer ok" : "consumer FAILED");
  return ok ? 0 : 1;
}
