#pragma once
// SIGTERM (Slurm at the time limit, scancel, mpirun passing on a kill) and SIGUSR1
// (sbatch --signal) as requests to stop gracefully: while a StopSignals lives, the signals
// are recorded instead of killing the process, and long loops poll pending() at a point
// where they can save their state. Internal.
#include <csignal>

namespace tessera::detail {

class StopSignals {
 public:
  StopSignals();  // clears any earlier pending signal
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  /// The last signal received (0: none).
  static int pending();

 private:
  struct sigaction old_term_ {};
  struct sigaction old_usr1_ {};
};

/// "SIGTERM", "SIGUSR1" or "a signal".
const char* signal_name(int signal);

}  // namespace tessera::detail
