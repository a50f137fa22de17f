#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <tuple>

#include <fmt/format.h>
#include <tessera/array/column_stats.hpp>
#include <tessera/array/dist_matrix.hpp>
#include <tessera/array/reductions.hpp>
#include <tessera/array/streaming.hpp>
#include <tessera/comm/agree.hpp>
#include <tessera/core/value_list.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/io/results.hpp>

#include "app.hpp"

namespace tessera::cli {

namespace {

struct StatsOptions {
  std::string data;
  std::string columns;
  std::string nan = "propagate";
  std::size_t chunk_rows = 65536;
  int label_col = -1;
  std::string labels;
  std::string group_by;
  double ddof = 0;
  std::size_t bins = 0;
  std::string range;
};

nlohmann::json to_json(const array::ColumnSummary& s, bool with_index) {
  nlohmann::json j = nlohmann::json::object();
  if (with_index) j["index"] = s.index;
  j["count"] = static_cast<std::int64_t>(s.count);
  j["nan_count"] = static_cast<std::int64_t>(s.nan_count);
  j["sum"] = s.sum;
  j["mean"] = s.mean;
  j["std"] = s.std;
  j["min"] = s.min;
  j["max"] = s.max;
  if (with_index) {
    j["argmin"] = s.argmin;
    j["argmax"] = s.argmax;
  }
  j["l1"] = s.l1;
  j["l2"] = s.l2;
  return j;
}

}  // namespace

Command setup_stats(CLI::App& parent, CommonOptions& common) {
  auto options = std::make_shared<StatsOptions>();
  Command cmd;
  cmd.app = parent.add_subcommand(
      "stats", "per-column count, NaN count, sum, mean, std (ddof 0), min, max -> stats.json");
  CLI::App& app = *cmd.app;
  add_common_options(app, common);
  app.add_option("--data", options->data,
                 "data spec: file (csv, libsvm, npy), digits, blobs:..., "
                 "classification:..., random:...")
      ->required();
  app.add_option("--columns", options->columns,
                 "columns to reduce, e.g. 0,3,5 or 0:9 (default all)");
  app.add_option("--nan", options->nan, "propagate (NumPy) or skip (NumPy nan* functions)")
      ->check(CLI::IsMember({"propagate", "skip"}));
  app.add_option("--ddof", options->ddof,
                 "delta degrees of freedom of std (NumPy's ddof; default 0, 1 = sample std)")
      ->check(at_least_zero());
  app.add_option("--chunk-rows", options->chunk_rows, "rows per chunk of the global chunk grid")
      ->check(above_zero());
  app.add_option("--label-col", options->label_col,
                 "CSV column holding labels, left out of the statistics (0-based)");
  app.add_option("--labels", options->labels, "labels .npy for .npy data (not reduced)");
  app.add_option("--group-by", options->group_by,
                 "per-key statistics: a column of integer keys (0-based) or 'label' (the "
                 "data's labels) -> a 'groups' list in stats.json");
  app.add_option("--bins", options->bins,
                 "fixed-bin histogram of every reduced column (numpy.histogram) -> 'histogram' "
                 "in stats.json")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));  // (-1 wrapped to 2^64 - 1)
  app.add_option("--range", options->range,
                 "histogram range (default: the reduced columns' overall min and max)")
      ->type_name("LO:HI");
  cmd.run = [options](Context& ctx) {
    io::LoadOptions load = ctx.load_options();
    load.label_column = options->label_col;
    load.labels_path = options->labels;
    array::ColumnStatsOptions stats;
    stats.nan = options->nan == "skip" ? array::NanPolicy::skip : array::NanPolicy::propagate;
    stats.ddof = options->ddof;
    const std::string& spec = options->data;
    const std::uint64_t limit = ctx.common.memory_limit_bytes;
    const auto check_memory = [&](std::uint64_t bytes, const char* what) {
      if (limit && bytes > limit)
        throw InvalidArgument(fmt::format(
            "--memory-limit: {} needs {} bytes of {} per rank, above the limit of {}; CSV, .npy, "
            "raw files and generators stream (without --group-by label or --labels)",
            spec, bytes, what, limit));
    };
    const auto check_columns = [&](std::size_t cols) {
      for (long c : stats.columns)
        if (c < 0 || static_cast<std::size_t>(c) >= cols)
          throw InvalidArgument(fmt::format(
              "--columns: column {} is out of range ({} has {} columns)", c, spec, cols));
    };
    // CSV, NPY and raw files and generators stream: each rank reads (or generates) only
    // its own chunks, in batches that fit --memory-limit, reading ahead while it reduces.
    // Generators make only this rank's rows; other files are read whole by every rank and each
    // keeps its rows. Failures are agreed on before anyone enters a collective.
    long key_column = -1;
    std::optional<array::DistMatrix<double>> X;
    array::ColumnStats result;
    const bool streams = io::can_stream(spec, ctx.common.format);
    // The key column of --group-by COL (not 'label'), checked against the data's columns.
    const auto parse_key = [&](std::size_t cols) {
      const auto key = parse_index_list(options->group_by, "--group-by");
      if (key.size() != 1 || static_cast<std::size_t>(key[0]) >= cols)
        throw InvalidArgument("--group-by: '" + options->group_by +
                              "' is not 'label' or one column of the " + std::to_string(cols) +
                              " columns of " + spec);
      key_column = key[0];
      if (stats.columns.empty())
        for (long j = 0; j < static_cast<long>(cols); ++j)
          if (j != key_column) stats.columns.push_back(j);
    };
    std::vector<array::GroupStats> groups;
    std::shared_ptr<io::ChunkSource> source;
    if (streams && options->group_by != "label" && options->labels.empty()) {
      {
        auto t = ctx.times.scope("read");
        source = agree(ctx.comm, [&] {
          if (!options->columns.empty())
            stats.columns = parse_index_list(options->columns, "--columns");
          std::shared_ptr<io::ChunkSource> opened = io::open_source(spec, load);
          check_columns(opened->cols());
          if (!options->group_by.empty()) parse_key(opened->cols());
          return opened;
        });
      }
      auto t = ctx.times.scope("reduce");  // reading overlapped with reducing
      if (key_column >= 0)                 // the columns and the groups in one read
        std::tie(result, groups) = array::column_and_group_stats(
            ctx.comm, *source, options->chunk_rows, key_column, stats, limit);
      else
        result = array::column_stats(ctx.comm, *source, options->chunk_rows, stats, limit);
    } else {
      {
        auto t = ctx.times.scope("read");
        X.emplace(agree(ctx.comm, [&] {
          if (!options->columns.empty())
            stats.columns = parse_index_list(options->columns, "--columns");
          Table table = io::load_table(spec, load);
          check_memory(table.rows() * table.cols() * sizeof(double), "file data");
          check_columns(table.cols());
          if (options->group_by == "label") {
            // The labels become one more column, the key.
            if (!table.has_labels())
              throw InvalidArgument("--group-by label: " + spec + " has no labels");
            HostMatrix with_key("with_key", table.rows(), table.cols() + 1);
            for (std::size_t i = 0; i < table.rows(); ++i) {
              for (std::size_t j = 0; j < table.cols(); ++j) with_key(i, j) = table.X(i, j);
              with_key(i, table.cols()) = table.y(i);
            }
            key_column = static_cast<long>(table.cols());
            table.X = with_key;
          } else if (!options->group_by.empty()) {
            parse_key(table.cols());
          }
          if (key_column >= 0 && stats.columns.empty())
            for (long j = 0; j < static_cast<long>(table.X.extent(1)); ++j)
              if (j != key_column) stats.columns.push_back(j);
          return array::distribute(ctx.comm, table.X, options->chunk_rows);
        }));
      }
      auto t = ctx.times.scope("reduce");
      result = array::column_stats(*X, stats);
    }
    if (key_column >= 0 && X) {
      auto t = ctx.times.scope("group-by");
      groups = array::group_stats(*X, key_column, stats);
    }
    std::optional<array::Histogram> histogram;
    if (options->bins > 0) {  // numpy.histogram's range: given, or the data's min and max
      auto t = ctx.times.scope("histogram");
      const auto [lo, hi] = agree(ctx.comm, [&]() -> std::pair<double, double> {
        if (!options->range.empty()) {
          const auto range = parse_range(options->range, "--range");
          if (!std::isfinite(range.first) || !std::isfinite(range.second))
            throw InvalidArgument("--range " + options->range +
                                  ": the histogram's range must be finite (as numpy.histogram's)");
          return range;
        }
        const double a = result.overall.min, b = result.overall.max;
        if (!std::isfinite(a) || !std::isfinite(b))
          throw InvalidArgument(
              fmt::format("--bins: the data's range [{}, {}] is not finite; give --range LO:HI{}",
                          a, b, stats.nan == array::NanPolicy::propagate ? " or --nan skip" : ""));
        return a < b ? std::pair{a, b} : std::pair{a - 0.5, b + 0.5};
      });
      histogram = source ? array::histogram(ctx.comm, *source, options->chunk_rows, lo, hi,
                                            options->bins, limit)
                         : array::histogram(*X, lo, hi, options->bins);
    }
    ctx.make_out_dir();
    if (!ctx.root()) return;
    nlohmann::json columns = nlohmann::json::array();
    for (const auto& c : result.columns) columns.push_back(to_json(c, true));
    nlohmann::json out = {
        {"rows", result.rows}, {"columns", columns}, {"overall", to_json(result.overall, false)}};
    if (key_column >= 0) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& g : groups) {
        nlohmann::json gc = nlohmann::json::array();
        for (const auto& c : g.columns) gc.push_back(to_json(c, true));
        list.push_back({{"key", static_cast<std::int64_t>(g.key)}, {"columns", gc}});
      }
      out["groups"] = list;
    }
    if (histogram) {
      const array::Histogram& h = *histogram;
      std::vector<double> edges;
      for (std::size_t b = 0; b < h.bins; ++b)
        edges.push_back(h.lo +
                        static_cast<double>(b) * ((h.hi - h.lo) / static_cast<double>(h.bins)));
      edges.push_back(h.hi);
      nlohmann::json hc = nlohmann::json::array();
      for (const auto& c : result.columns) {
        const auto j = static_cast<std::size_t>(c.index);
        std::vector<std::int64_t> counts;
        for (std::size_t b = 0; b < h.bins; ++b) counts.push_back(h.counts(j, b));
        hc.push_back({{"index", c.index},
                      {"counts", counts},
                      {"below", h.below(j)},
                      {"above", h.above(j)},
                      {"nan", h.nan(j)}});
      }
      out["histogram"] = {
          {"range", {h.lo, h.hi}}, {"bins", h.bins}, {"edges", edges}, {"columns", hc}};
    }
    {
      auto t = ctx.times.scope("write");
      io::write_json(ctx.out_file("stats.json"), out);
    }
    if (!ctx.common.quiet) {
      const auto& o = result.overall;
      std::printf("stats: %zu rows x %zu columns of %s\n", result.rows, result.columns.size(),
                  spec.c_str());
      std::printf("overall: count %.0f  nan %.0f  mean %.6g  std %.6g  min %.6g  max %.6g\n",
                  o.count, o.nan_count, o.mean, o.std, o.min, o.max);
      if (key_column >= 0)
        std::printf("groups: %zu keys (--group-by %s), per-key statistics in stats.json\n",
                    groups.size(), options->group_by.c_str());
      std::printf("wrote %s\n", ctx.out_file("stats.json").c_str());
    }
  };
  return cmd;
}

}  // namespace tessera::cli
