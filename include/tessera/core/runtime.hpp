#pragma once
/// @file
/// @brief `tessera::Runtime`: starts MPI and Kokkos unless the host program already
/// did, and stops only what it started.
///
/// @code
/// int main(int argc, char** argv) {
///   tessera::Runtime runtime(argc, argv);   // MPI singleton without mpirun
///   const tessera::Comm& comm = runtime.world();
///   ...                                      // Views must be gone before runtime is
/// }
/// @endcode
///
/// A simulation code that owns MPI and Kokkos constructs a Runtime after its own
/// initialisation; the Runtime then finalises neither.

#include <string>
#include <vector>

#include <tessera/comm/comm.hpp>

namespace tessera {

/// @brief What a Slurm allocation says about this process (from `SLURM_*` variables).
struct SlurmAllocation {
  bool present = false;   ///< SLURM_JOB_ID is set
  int ntasks = 0;         ///< SLURM_NTASKS (0 when unset)
  int cpus_per_task = 0;  ///< SLURM_CPUS_PER_TASK (0 when unset)
  int local_id = -1;      ///< SLURM_LOCALID (-1 when unset)
  int proc_id = -1;       ///< SLURM_PROCID (-1 when unset)
  std::string job_id;     ///< SLURM_JOB_ID
};

/// @brief Reads the Slurm variables of this process's environment.
SlurmAllocation slurm_from_environment();

/// @brief Node-local rank from launcher variables (SLURM_LOCALID,
/// OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, PMI_LOCAL_RANK), or -1 if none is set.
int launcher_local_rank();

/// @brief Global rank from launcher variables (before MPI is up), or 0.
int launcher_rank();

/// @brief Options of `Runtime`; the defaults suit most programs.
struct RuntimeOptions {
  /// Threads per rank for Kokkos' host backend; 0: from the environment
  /// (OMP_NUM_THREADS, else SLURM_CPUS_PER_TASK, else all cores).
  int threads = 0;
  /// Start MPI if the program has not (in MPI builds) and an MPI launcher (mpirun, srun,
  /// mpiexec) started this process; a process started on its own runs as one rank
  /// without MPI (its start-up costs a tenth of a second and a helper process), unless
  /// TESSERA_MPI=1. TESSERA_MPI=0: never start MPI. An MPI the program started is used.
  bool use_mpi = true;
  /// Let Kokkos print its start-up warnings (binding, oversubscription).
  bool kokkos_warnings = true;
};

/// @brief What the runtime found and chose, for run reports.
struct RuntimeInfo {
  int rank = 0;
  int ranks = 1;
  int local_rank = 0;
  int threads_per_rank = 1;
  int device_id = -1;  ///< GPU used by this rank (-1 on CPU builds)
  std::string execution_space;
  std::string memory_space;
  std::string comm_backend;
  std::string node;
  std::vector<std::string> devices;  ///< device names (CPU model on CPU builds)
  bool initialized_mpi = false;
  bool initialized_kokkos = false;
  SlurmAllocation slurm;
};

/// @brief Owns MPI/Kokkos start-up for a tessera program.
class Runtime {
 public:
  Runtime(int& argc, char**& argv, const RuntimeOptions& options = {});
  /// For programs without argv (e.g. embedded in a library).
  explicit Runtime(const RuntimeOptions& options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// The communicator over every rank of the job (a duplicate of the world).
  const Comm& world() const { return world_; }
  const RuntimeInfo& info() const { return info_; }

 private:
  void start(int* argc, char*** argv, const RuntimeOptions& options);
  Comm world_;
  RuntimeInfo info_;
};

}  // namespace tessera
