#include "stop_signals.hpp"

namespace tessera::detail {

namespace {
volatile std::sig_atomic_t pending_signal = 0;
extern "C" void record_signal(int signal) { pending_signal = signal; }
}  // namespace

StopSignals::StopSignals() {
  pending_signal = 0;
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, &old_term_);
  sigaction(SIGUSR1, &action, &old_usr1_);
}

StopSignals::~StopSignals() {
  sigaction(SIGTERM, &old_term_, nullptr);
  sigaction(SIGUSR1, &old_usr1_, nullptr);
}

int StopSignals::pending() { return pending_signal; }

const char* signal_name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    default: return "a signal";
  }
}

}  // namespace tessera::detail
