// tessera kmeans: one k over the data spread across the ranks, or a sweep of k values
// farmed out over the ranks (each holding all rows) -> kmeans.json, inertia.csv,
// labels.csv (one k), elbow.svg (a sweep).
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
#include <tessera/ml/kmeans.hpp>
#include <tessera/sched/farm.hpp>

#include "app.hpp"

namespace tessera::cli {

namespace {

struct KMeansOptions {
  std::string data;
  std::string k = "8";
  bool k_given = false;
  std::string init = "k-means++";
  int n_init = 0;  // 0: 1 for k-means++ and k-means||, 10 for random (scikit-learn's "auto")
  int max_iter = 300;
  double tol = 1e-4;
  std::size_t chunk_rows = 65536;
  bool mini_batch = false;
  std::size_t batch_size = 4096;
};

// "N" or "A:B" (inclusive).
std::vector<int> parse_k(const std::string& text) {
  const auto number = [&](const std::string& part) {
    std::size_t pos = 0;
    int v = 0;
    try {
      v = std::stoi(part, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (part.empty() || pos != part.size() || v < 1)
      throw InvalidArgument("--k: '" + text + "' is not N or A:B with integers >= 1");
    return v;
  };
  const auto colon = text.find(':');
  if (colon == std::string::npos) return {number(text)};
  const int a = number(text.substr(0, colon)), b = number(text.substr(colon + 1));
  if (a > b) throw InvalidArgument(fmt::format("--k {}: the range is empty ({} > {})", text, a, b));
  std::vector<int> ks;
  for (int k = a; k <= b; ++k) ks.push_back(k);
  return ks;
}

struct Run {
  int k = 0;
  double inertia = 0;
  int n_iter = 0;
  HostMatrix centers;
};

nlohmann::json to_json(const Run& r) {
  nlohmann::json centers = nlohmann::json::array();
  for (std::size_t c = 0; c < r.centers.extent(0); ++c) {
    std::vector<double> row(r.centers.extent(1));
    for (std::size_t j = 0; j < row.size(); ++j) row[j] = r.centers(c, j);
    centers.push_back(row);
  }
  return {{"k", r.k}, {"inertia", r.inertia}, {"n_iter", r.n_iter}, {"centroids", centers}};
}

}  // namespace

Command setup_kmeans(CLI::App& parent, CommonOptions& common) {
  auto o = std::make_shared<KMeansOptions>();
  Command cmd;
  cmd.app = parent.add_subcommand(
      "kmeans", "k-means clustering (Lloyd) -> kmeans.json, inertia.csv, labels.csv | elbow.svg");
  CLI::App& app = *cmd.app;
  add_common_options(app, common);
  app.add_option("--data", o->data, "data spec: file (csv, libsvm, npy), digits, blobs:...")
      ->required();
  app.add_option_function<std::string>(
         "--k",
         [o](const std::string& v) {
           o->k = v;
           o->k_given = true;
         },
         "clusters: N, or A:B for a sweep (elbow curve); default 8, or the rows of an --init "
         "file")
      ->type_name("N|A:B");
  app.add_option("--init", o->init,
                 "initial centroids: k-means++, random, k-means|| or an .npy file (k x columns)")
      ->capture_default_str();
  app.add_option("--n-init", o->n_init,
                 "runs from different starts, the lowest inertia kept (default: 1, 10 for random)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--max-iter", o->max_iter, "Lloyd iterations per run")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  app.add_option("--tol", o->tol,
                 "stop when the squared centroid shifts sum to <= tol x mean variance")
      ->check(at_least_zero())
      ->capture_default_str();
  app.add_flag("--mini-batch", o->mini_batch,
               "mini-batch k-means streamed from the file or generator (data larger than memory)");
  app.add_option("--batch-size", o->batch_size, "rows per mini-batch step (with --mini-batch)")
      ->check(CLI::Range(4, 1 << 30))
      ->capture_default_str();
  app.add_option("--chunk-rows", o->chunk_rows, "rows per chunk of the distributed data")
      ->check(above_zero())
      ->capture_default_str();
  cmd.run = [o, parsed = &app](Context& ctx) {
    std::vector<int> ks;
    ml::KMeansParams base;
    Table table;
    std::shared_ptr<io::ChunkSource> source;
    {
      auto t = ctx.times.scope("read");
      agree(ctx.comm, [&] {
        const bool from_file = o->init.size() > 4 && o->init.substr(o->init.size() - 4) == ".npy";
        if (from_file) {
          base.init = ml::KMeansInit::given;
          base.initial_centers = io::read_npy_matrix(o->init);
          // without --k, as many clusters as the file has centroids
          ks = o->k_given ? parse_k(o->k)
                          : std::vector<int>{static_cast<int>(base.initial_centers.extent(0))};
          if (ks.size() != 1 || static_cast<std::size_t>(ks[0]) != base.initial_centers.extent(0))
            throw InvalidArgument(fmt::format("--init {}: {} centroids, but --k is {}", o->init,
                                              base.initial_centers.extent(0), o->k));
        } else {
          ks = parse_k(o->k);
          base.init = ml::parse_kmeans_init(o->init);
        }
        base.n_init = o->n_init > 0 ? o->n_init : (base.init == ml::KMeansInit::random ? 10 : 1);
        base.max_iter = o->max_iter;
        base.tol = o->tol;
        base.seed = ctx.common.seed;
        const io::LoadOptions load = ctx.load_options();
        const bool streams = io::can_stream(o->data, ctx.common.format);
        if (o->mini_batch) {
          if (ks.size() != 1) throw InvalidArgument("--mini-batch: one --k at a time");
          if (!streams)
            throw InvalidArgument("--mini-batch streams .npy, CSV or raw files and generators; " +
                                  o->data + " is none of them");
        }
        // One k from a file that streams: each rank reads only its own rows (below).
        std::size_t rows = 0, cols = 0;
        if (streams && ks.size() == 1) {
          source = io::open_source(o->data, load);
          rows = source->rows(), cols = source->cols();
        } else {
          table = io::load_table(o->data, load);
          rows = table.rows(), cols = table.cols();
        }
        if (base.init == ml::KMeansInit::given && base.initial_centers.extent(1) != cols)
          throw InvalidArgument(fmt::format("--init {}: centroids of {} columns, {} has {}",
                                            o->init, base.initial_centers.extent(1), o->data,
                                            cols));
        if (static_cast<std::size_t>(ks.back()) > rows)
          throw InvalidArgument(
              fmt::format("--k {}: more clusters than the {} rows of {}", o->k, rows, o->data));
      });
    }
    std::vector<std::pair<std::string, std::string>> unused;
    if (!o->mini_batch) unused.emplace_back("--batch-size", "with --mini-batch only");
    if (base.init == ml::KMeansInit::given)
      unused.emplace_back("--n-init", "centroids given by --init " + o->init + " start one run");
    warn_unused(ctx, *parsed, unused);
    std::optional<array::DistMatrix<double>> shared;  // one k: this rank's rows
    if (source && !o->mini_batch) {
      auto t = ctx.times.scope("read");
      shared.emplace(array::read_share(ctx.comm, *source, o->chunk_rows, o->data));
    }
    std::vector<Run> runs;
    std::vector<int> labels;
    const std::size_t d = source ? source->cols() : table.cols();
    const std::size_t rows = source ? source->rows() : table.rows();
    if (o->mini_batch) {
      auto t = ctx.times.scope("fit");
      ml::KMeansParams p = base;
      p.k = ks[0];
      ml::KMeans km(p);
      km.fit_minibatch(ctx.comm, *source, o->batch_size);
      runs.push_back({ks[0], km.inertia(), km.n_iter(), km.cluster_centers()});
      const auto& mine = km.labels();
      labels = ctx.comm.allgatherv(std::vector<int>(mine.data(), mine.data() + mine.extent(0)));
    } else if (ks.size() == 1) {
      // One k: the rows spread over the ranks, every iteration collective.
      auto t = ctx.times.scope("fit");
      const auto X =
          shared ? *std::move(shared) : array::share_rows(ctx.comm, table.X, o->chunk_rows);
      ml::KMeansParams p = base;
      p.k = ks[0];
      ml::KMeans km(p);
      agree(ctx.comm, [&] { km.fit(X); });
      runs.push_back({ks[0], km.inertia(), km.n_iter(), km.cluster_centers()});
      const auto& mine = km.labels();
      labels = ctx.comm.allgatherv(std::vector<int>(mine.data(), mine.data() + mine.extent(0)));
    } else {
      // A sweep: each k is a task on the farm; a rank fits it alone over all rows (the
      // same chunk grid, so the same result as a distributed fit of that k). Task i is
      // the i-th largest k: the costliest fits start first and the cheap ones fill the
      // ranks' last gaps.
      auto t = ctx.times.scope("fit");
      const auto X = array::share_rows(Comm::self(), table.X, o->chunk_rows);
      const std::size_t width = 2 + static_cast<std::size_t>(ks.back()) * d;
      FarmOptions farm;
      farm.progress = ctx.progress_bar();
      farm.label = "kmeans";
      const auto out = run_map_doubles(
          ctx.comm, static_cast<std::int64_t>(ks.size()), width,
          [&](std::int64_t i, double* result) {
            ml::KMeansParams p = base;
            p.k = ks[ks.size() - 1 - static_cast<std::size_t>(i)];
            ml::KMeans km(p);
            km.fit(X);
            result[0] = km.inertia();
            result[1] = km.n_iter();
            const HostMatrix& c = km.cluster_centers();
            std::copy(c.data(), c.data() + c.span(), result + 2);
          },
          farm);
      ctx.report["tasks_per_rank"] = out.stats.run_by;
      if (ctx.root())
        for (std::size_t i = 0; i < ks.size(); ++i) {
          const double* r = &out.results[(ks.size() - 1 - i) * width];
          Run run{ks[i], r[0], static_cast<int>(r[1]),
                  HostMatrix("centers", static_cast<std::size_t>(ks[i]), d)};
          std::copy(r + 2, r + 2 + run.centers.span(), run.centers.data());
          runs.push_back(run);
        }
    }
    ctx.make_out_dir();
    if (!ctx.root()) return;
    auto t = ctx.times.scope("write");
    nlohmann::json list = nlohmann::json::array();
    std::string csv = "k,inertia\n";
    for (const Run& r : runs) {
      list.push_back(to_json(r));
      csv += fmt::format("{},{}\n", r.k, io::format_double(r.inertia));
    }
    io::write_json(ctx.out_file("kmeans.json"), {{"runs", list}});
    io::write_file_atomic(ctx.out_file("inertia.csv"), csv);
    std::string written = ctx.out_file("kmeans.json") + ", " + ctx.out_file("inertia.csv");
    if (ks.size() == 1) {
      std::string lines;
      for (int l : labels) lines += std::to_string(l) + "\n";
      io::write_file_atomic(ctx.out_file("labels.csv"), lines);
      written += ", " + ctx.out_file("labels.csv");
    } else {
      io::LinePlot plot;
      io::LineSeries s{"inertia", {}, {}};
      for (const Run& r : runs) s.x.push_back(r.k), s.y.push_back(r.inertia);
      plot.series.push_back(s);
      plot.title = fmt::format("{}: k-means inertia (elbow)",
                               std::filesystem::path(o->data).filename().string());
      plot.x_label = "k (clusters)";
      plot.y_label = "inertia";
      io::write_file_atomic(ctx.out_file("elbow.svg"), io::svg_line_plot(plot));
      written += ", " + ctx.out_file("elbow.svg");
    }
    if (!ctx.common.quiet) {
      std::printf("kmeans: %zu rows x %zu columns, init %s, %s, %d rank(s)\n", rows, d,
                  o->init.c_str(),
                  o->mini_batch ? fmt::format("mini-batch {} rows, epochs", o->batch_size).c_str()
                                : fmt::format("n_init {}", base.n_init).c_str(),
                  ctx.comm.size());
      for (const Run& r : runs)
        std::printf("k=%-4d inertia %.10g  (%d %s)\n", r.k, r.inertia, r.n_iter,
                    o->mini_batch ? "epochs" : "iterations");
      std::printf("wrote %s\n", written.c_str());
    }
  };
  return cmd;
}

}  // namespace tessera::cli
