// tessera pca: principal components of the data spread across the ranks -> pca.json,
// variance.svg, and with --transform the scores as an .npy file.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <tessera/array/dist_matrix.hpp>
#include <tessera/array/streaming.hpp>
#include <tessera/comm/agree.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/io/npy.hpp>
#include <tessera/io/results.hpp>
#include <tessera/io/svg.hpp>
#include <tessera/ml/pca.hpp>

#include "app.hpp"

namespace tessera::cli {

namespace {

struct PcaOptions {
  std::string data;
  int components = -1;
  bool whiten = false;
  std::string solver = "auto";
  std::string transform;
  std::size_t chunk_rows = 65536;
};

}  // namespace

Command setup_pca(CLI::App& parent, CommonOptions& common) {
  auto o = std::make_shared<PcaOptions>();
  Command cmd;
  cmd.app = parent.add_subcommand(
      "pca", "principal component analysis -> pca.json, variance.svg (and --transform scores)");
  CLI::App& app = *cmd.app;
  add_common_options(app, common);
  app.add_option("--data", o->data, "data spec: file (csv, libsvm, npy), digits, blobs:...")
      ->required();
  app.add_option("--components", o->components, "components to keep (default: all)")
      ->check(above_zero());
  app.add_flag("--whiten", o->whiten, "unit-variance scores (divided by sqrt(explained variance))");
  app.add_option("--solver", o->solver,
                 "covariance (eigh of the covariance), randomized (Halko et al.), or auto "
                 "(covariance up to 2000 features)")
      ->capture_default_str();
  app.add_option("--transform", o->transform, "write the data's scores (rows x components) here")
      ->type_name("FILE.npy");
  app.add_option("--chunk-rows", o->chunk_rows, "rows per chunk of the distributed data")
      ->check(above_zero())
      ->capture_default_str();
  cmd.run = [o](Context& ctx) {
    ml::PCAParams p;
    const io::LoadOptions load = ctx.load_options();
    const std::uint64_t limit = ctx.common.memory_limit_bytes;
    // CSV, NPY, raw files and generators: with --memory-limit they stream (two passes),
    // otherwise each rank reads its own rows and keeps them; other data every rank loads
    // whole, keeping its rows.
    const bool sourced = io::can_stream(o->data, ctx.common.format);
    const bool streams = limit > 0 && sourced;
    Table table;
    std::shared_ptr<io::ChunkSource> source;
    {
      auto t = ctx.times.scope("read");
      agree(ctx.comm, [&] {
        p.solver = ml::parse_pca_solver(o->solver);
        p.n_components = o->components;
        p.whiten = o->whiten;
        p.validate();
        if (!o->transform.empty() && std::filesystem::path(o->transform).extension() != ".npy")
          throw InvalidArgument("--transform " + o->transform + ": the scores are written as .npy");
        if (sourced)
          source = io::open_source(o->data, load);
        else
          table = io::load_table(o->data, load);
      });
    }
    std::optional<array::DistMatrix<double>> X;  // this rank's rows, unless streamed
    if (!streams) {
      auto t = ctx.times.scope("read");
      X.emplace(source ? array::read_share(ctx.comm, *source, o->chunk_rows, o->data)
                       : array::share_rows(ctx.comm, table.X, o->chunk_rows));
    }
    const std::size_t rows = source ? source->rows() : table.rows();
    const std::size_t cols = source ? source->cols() : table.cols();
    ml::PCA pca(p);
    {
      auto t = ctx.times.scope("fit");
      if (streams)
        pca.fit(ctx.comm, *source, o->chunk_rows, limit);
      else
        agree(ctx.comm, [&] { pca.fit(*X); });
    }
    HostMatrix scores;
    if (!o->transform.empty()) {
      auto t = ctx.times.scope("transform");
      if (streams) {  // each rank its batches, gathered in row order
        std::vector<double> mine;
        array::for_each_batch(ctx.comm, *source, o->chunk_rows, limit,
                              [&](const HostMatrix& block, std::size_t) {
                                const HostMatrix z = pca.transform(block);
                                mine.insert(mine.end(), z.data(), z.data() + z.span());
                              });
        const std::vector<double> all = ctx.comm.allgatherv(mine);
        scores = HostMatrix("scores", rows, pca.components().extent(0));
        std::copy(all.begin(), all.end(), scores.data());
      } else if (source) {  // each rank its rows, gathered in row order
        const HostMatrix mine =
            pca.transform(Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), X->local()));
        const std::vector<double> all =
            ctx.comm.allgatherv(std::vector<double>(mine.data(), mine.data() + mine.span()));
        scores = HostMatrix("scores", rows, pca.components().extent(0));
        std::copy(all.begin(), all.end(), scores.data());
      } else if (ctx.root()) {
        scores = pca.transform(table.X);
      }
    }
    ctx.make_out_dir();
    if (!ctx.root()) return;
    auto t = ctx.times.scope("write");
    const HostMatrix& C = pca.components();
    nlohmann::json components = nlohmann::json::array();
    for (std::size_t c = 0; c < C.extent(0); ++c) {
      std::vector<double> row(C.extent(1));
      for (std::size_t j = 0; j < row.size(); ++j) row[j] = C(c, j);
      components.push_back(row);
    }
    io::write_json(ctx.out_file("pca.json"),
                   {{"components", components},
                    {"explained_variance", pca.explained_variance()},
                    {"explained_variance_ratio", pca.explained_variance_ratio()},
                    {"singular_values", pca.singular_values()},
                    {"mean", pca.mean()},
                    {"noise_variance", pca.noise_variance()}});
    io::LinePlot plot;
    io::LineSeries ratio{"explained variance ratio", {}, {}}, cumulative{"cumulative", {}, {}};
    double sum = 0;
    for (std::size_t c = 0; c < C.extent(0); ++c) {
      sum += pca.explained_variance_ratio()[c];
      ratio.x.push_back(static_cast<double>(c + 1));
      ratio.y.push_back(pca.explained_variance_ratio()[c]);
      cumulative.x.push_back(static_cast<double>(c + 1));
      cumulative.y.push_back(sum);
    }
    plot.series = {ratio, cumulative};
    plot.title =
        fmt::format("{}: explained variance", std::filesystem::path(o->data).filename().string());
    plot.x_label = "component";
    plot.y_label = "fraction of the variance";
    io::write_file_atomic(ctx.out_file("variance.svg"), io::svg_line_plot(plot));
    std::string written = ctx.out_file("pca.json") + ", " + ctx.out_file("variance.svg");
    if (!o->transform.empty()) {
      io::write_npy(o->transform, scores);
      written += ", " + o->transform;
    }
    if (!ctx.common.quiet) {
      std::printf("pca: %zu rows x %zu columns, %zu components on %d rank(s)%s%s\n", rows, cols,
                  C.extent(0), ctx.comm.size(), o->whiten ? ", whitened" : "",
                  streams ? ", streamed" : "");
      for (std::size_t c = 0; c < C.extent(0) && c < 10; ++c)
        std::printf("component %-3zu explained variance %.10g  (ratio %.4f)\n", c + 1,
                    pca.explained_variance()[c], pca.explained_variance_ratio()[c]);
      std::printf("wrote %s\n", written.c_str());
    }
  };
  return cmd;
}

}  // namespace tessera::cli
