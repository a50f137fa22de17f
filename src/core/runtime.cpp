#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <Kokkos_Core.hpp>
#include <tessera/config.hpp>
#include <tessera/core/log.hpp>
#include <tessera/core/runtime.hpp>

#include "../comm/mpi_env.hpp"
#include "device.hpp"

namespace tessera {

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  return (end && *end == '\0') ? static_cast<int>(x) : fallback;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "cpu";
}

}  // namespace

SlurmAllocation slurm_from_environment() {
  SlurmAllocation s;
  const char* job = std::getenv("SLURM_JOB_ID");
  s.present = job && *job;
  if (s.present) s.job_id = job;
  s.ntasks = env_int("SLURM_NTASKS", 0);
  s.cpus_per_task = env_int("SLURM_CPUS_PER_TASK", 0);
  s.local_id = env_int("SLURM_LOCALID", -1);
  s.proc_id = env_int("SLURM_PROCID", -1);
  return s;
}

int launcher_local_rank() {
  for (const char* name : {"SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                           "PMI_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_RANK"}) {
    const int v = env_int(name, -1);
    if (v >= 0) return v;
  }
  return -1;
}

int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"}) {
    const int v = env_int(name, -1);
    if (v >= 0) return v;
  }
  return 0;
}

namespace {
// Whether an MPI launcher started this process (its variables in the environment), or
// TESSERA_MPI says to start MPI anyway (1) or never (0).
bool launched_by_mpi() {
  const char* forced = std::getenv("TESSERA_MPI");
  if (forced && *forced) return std::string(forced) != "0";
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE",
                           "MPI_LOCALNRANKS", "MV2_COMM_WORLD_SIZE", "SLURM_PROCID"})
    if (std::getenv(name)) return true;
  return false;
}
}  // namespace

Runtime::Runtime(int& argc, char**& argv, const RuntimeOptions& options) {
  start(&argc, &argv, options);
}

Runtime::Runtime(const RuntimeOptions& options) { start(nullptr, nullptr, options); }

void Runtime::start(int* argc, char*** argv, const RuntimeOptions& options) {
  if (options.threads < 0)
    throw InvalidArgument("tessera::Runtime: threads must be >= 0, got " +
                          std::to_string(options.threads));
  info_.slurm = slurm_from_environment();
  if (TESSERA_HAS_MPI && options.use_mpi && (detail::mpi_initialized() || launched_by_mpi())) {
    info_.initialized_mpi = detail::mpi_initialize_if_needed(argc, argv);
    if (detail::mpi_active()) world_ = detail::mpi_world();
  }
  info_.rank = world_.rank();
  info_.ranks = world_.size();
  info_.comm_backend = world_.backend_name();
  info_.local_rank =
      detail::mpi_active() ? detail::mpi_local_rank(world_) : std::max(0, launcher_local_rank());
  info_.node = detail::node_name();
  set_log_rank(info_.rank);

  if (!Kokkos::is_initialized()) {
    // OpenMP read its binding at program start; an unset OMP_PROC_BIND means no
    // binding, which we state so that Kokkos does not warn about it.
    if (!std::getenv("OMP_PROC_BIND")) setenv("OMP_PROC_BIND", "false", 0);
    // Kokkos reads its settings from argv; build a private argv with ours appended.
    std::vector<std::string> args;
    args.emplace_back(argv && *argc > 0 ? (*argv)[0] : "tessera");
    // Only --kokkos-* arguments go to Kokkos: 3.x also reads bare legacy flags such as
    // --threads, which would clash with the program's own options.
    if (argv)
      for (int i = 1; i < *argc; ++i)
        if (std::string((*argv)[i]).rfind("--kokkos-", 0) == 0) args.emplace_back((*argv)[i]);
    int threads = options.threads;
    if (threads == 0 && !std::getenv("OMP_NUM_THREADS") && info_.slurm.cpus_per_task > 0)
      threads = info_.slurm.cpus_per_task;
    if (threads > 0) {
#if KOKKOS_VERSION >= 40000
      args.push_back("--kokkos-num-threads=" + std::to_string(threads));
#else
      args.push_back("--kokkos-threads=" + std::to_string(threads));
#endif
    }
    if (!options.kokkos_warnings) args.emplace_back("--kokkos-disable-warnings");
    const int ndevices = detail::visible_device_count();
    if (ndevices > 0) {
      info_.device_id = info_.local_rank % ndevices;
      args.push_back("--kokkos-device-id=" + std::to_string(info_.device_id));
    }
    std::vector<char*> kargv;
    for (auto& a : args) kargv.push_back(a.data());
    kargv.push_back(nullptr);
    int kargc = static_cast<int>(args.size());
    Kokkos::initialize(kargc, kargv.data());
    info_.initialized_kokkos = true;
  }
  info_.execution_space = Kokkos::DefaultExecutionSpace::name();
  info_.memory_space = Kokkos::DefaultExecutionSpace::memory_space::name();
  info_.threads_per_rank = Kokkos::DefaultHostExecutionSpace().concurrency();
  const std::string device = detail::device_name(info_.device_id);
  info_.devices.push_back(device.empty() ? cpu_model() : device);
}

Runtime::~Runtime() {
  world_ = Comm::self();  // free tessera's MPI duplicate before MPI goes
  if (info_.initialized_kokkos && Kokkos::is_initialized()) Kokkos::finalize();
  if (info_.initialized_mpi) detail::mpi_finalize();
}

}  // namespace tessera
