#include <cstdio>

#include <tessera/io/dataset.hpp>

#include "app.hpp"

namespace tessera::cli {

Command setup_datasets(CLI::App& parent, CommonOptions& common) {
  Command cmd;
  cmd.app = parent.add_subcommand("datasets", "list the embedded and synthetic datasets");
  add_common_options(*cmd.app, common);
  cmd.writes_results = false;
  cmd.run = [](Context& ctx) {
    if (!ctx.root() || ctx.common.quiet) return;
    std::printf("%-62s %-24s %s\n", "name / spec (defaults shown)", "shape", "description");
    for (const auto& d : io::dataset_catalog())
      std::printf("%-62s %-24s %s\n", d.name.c_str(), d.shape.c_str(), d.description.c_str());
    std::printf(
        "\nfiles: path.csv (label: last column with --label-col), path.libsvm|.svm, "
        "path.npy (labels: --labels y.npy)\n");
  };
  return cmd;
}

}  // namespace tessera::cli
