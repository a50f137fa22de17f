#include <tessera/comm/comm.hpp>
#include <tessera/config.hpp>
#include <tessera/io/results.hpp>
#include <tessera/linalg/linalg.hpp>

#include "app.hpp"

namespace tessera::cli {

void write_run_report(const Context& ctx, const std::vector<std::string>& argv,
                      double wall_seconds) {
  // Every rank's node and device, gathered to all (collective).
  const std::string mine = ctx.runtime.node + '\t' +
                           (ctx.runtime.devices.empty() ? "" : ctx.runtime.devices.front()) + '\t' +
                           std::to_string(ctx.runtime.device_id) + '\n';
  const std::vector<char> all = ctx.comm.allgatherv(std::vector<char>(mine.begin(), mine.end()));
  if (!ctx.root()) return;

  nlohmann::json ranks = nlohmann::json::array();
  std::string line;
  int rank = 0;
  for (char c : all) {
    if (c != '\n') {
      line += c;
      continue;
    }
    // node \t device \t device id (the device's name may hold spaces, not tabs)
    const auto tab = line.find('\t'), last = line.rfind('\t');
    ranks.push_back({{"rank", rank++},
                     {"node", line.substr(0, tab)},
                     {"device", line.substr(tab + 1, last - tab - 1)},
                     {"device_id", std::stoi(line.substr(last + 1))}});
    line.clear();
  }
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& [name, seconds] : ctx.times.phases()) phases[name] = seconds;

  nlohmann::json report = {
      {"command", argv},
      {"tessera_version", TESSERA_VERSION_STRING},
      {"kokkos_version", KOKKOS_VERSION},
      {"ranks", ctx.comm.size()},
      {"threads_per_rank", ctx.runtime.threads_per_rank},
      {"execution_space", ctx.runtime.execution_space},
      {"memory_space", ctx.runtime.memory_space},
      {"comm_backend", ctx.runtime.comm_backend},
      {"blas", linalg::blas_kernels()},
      {"devices", ranks},
      {"slurm_job_id", ctx.runtime.slurm.present ? ctx.runtime.slurm.job_id : ""},
      {"phases", phases},
      {"wall_time", wall_seconds},
  };
  for (const auto& [key, value] : ctx.report.items()) report[key] = value;
  io::write_json(ctx.out_file("run.json"), report);
}

}  // namespace tessera::cli
