// tessera svm-search | svm-train | svm-predict.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <tessera/comm/agree.hpp>
#include <tessera/core/value_list.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/io/results.hpp>
#include <tessera/io/svg.hpp>
#include <tessera/ml/grid_search.hpp>
#include <tessera/ml/svc.hpp>

#include "app.hpp"

namespace tessera::cli {

namespace {

struct SvmOptions {
  std::string data, test, model;
  int label_col = -2;
  std::string kernel = "rbf";
  std::string C = "1";
  std::string gamma = "scale";
  std::string degree = "3";
  std::string coef0 = "0";
  double tol = 1e-3;
  long long max_iter = -1;
  int folds = 5;
  bool scale = false;
  bool shuffle = false;
  bool no_warm_start = false;
  int fold_batch = 0;
  std::string kernel_memory = "8G";
  bool shrinking = false;
  std::string labels;
};

void add_data_options(CLI::App& app, SvmOptions& o, bool test) {
  app.add_option("--data", o.data,
                 "data spec: file (csv: label in the last column unless --label-col; libsvm; "
                 "npy with --labels), digits, blobs:..., classification:...")
      ->required();
  if (test) app.add_option("--test", o.test, "held-out data scored with the best parameters");
  app.add_option("--label-col", o.label_col,
                 "CSV column holding the labels (0-based; default last)");
  app.add_option("--labels", o.labels, "labels of an .npy --data (an .npy vector, one per row)");
}

void add_model_options(CLI::App& app, SvmOptions& o, bool lists) {
  const char* many = lists ? " (a list: 1,10,100, logspace:A:B:N, linspace:A:B:N)" : "";
  app.add_option("--kernel", o.kernel, "rbf, linear, poly or sigmoid")
      ->check(CLI::IsMember({"rbf", "linear", "poly", "sigmoid"}))
      ->capture_default_str();
  app.add_option("--C", o.C, std::string("penalty C > 0") + many)->capture_default_str();
  app.add_option("--gamma", o.gamma,
                 std::string("kernel coefficient > 0, or scale (1/(features·Var X)) or auto "
                             "(1/features)") +
                     many);
  app.add_option("--degree", o.degree, std::string("poly degree >= 1") + many)
      ->capture_default_str();
  app.add_option("--coef0", o.coef0, std::string("poly/sigmoid offset") + many)
      ->capture_default_str();
  app.add_option("--tol", o.tol, "stopping tolerance on the KKT gap (libsvm's eps)")
      ->check(above_zero())
      ->capture_default_str();
  app.add_option("--max-iter", o.max_iter, "SMO iterations per class pair (-1: libsvm's limit)")
      ->capture_default_str();
}

io::LoadOptions load_options(const Context& ctx, const SvmOptions& o) {
  io::LoadOptions load = ctx.load_options();
  load.label_column = o.label_col;
  load.labels_path = o.labels;
  return load;
}

Table load_labeled(const std::string& spec, const io::LoadOptions& load, const char* option) {
  Table t = io::load_table(spec, load);
  if (!t.has_labels())
    throw InvalidArgument(
        fmt::format("{} {}: no labels (CSV: --label-col; .npy: --labels)", option, spec));
  return t;
}

std::vector<ml::Gamma> parse_gammas(const std::string& text) {
  std::vector<ml::Gamma> out;
  if (text.find("scale") != std::string::npos || text.find("auto") != std::string::npos) {
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) out.push_back(ml::Gamma::parse(item));
    return out;
  }
  for (double g : parse_value_list(text, "--gamma")) out.push_back(ml::Gamma::value(g));
  return out;
}

ml::SVCParams base_params(const SvmOptions& o) {
  ml::SVCParams p;
  p.kernel = ml::parse_kernel(o.kernel);
  p.tol = o.tol;
  p.max_iter = o.max_iter;
  return p;
}

// Standardises columns with the training data's mean and std (ddof 0; constant columns
// are left centred), as scikit-learn's StandardScaler.
void standardise(HostMatrix& train, std::vector<HostMatrix*> others) {
  const std::size_t n = train.extent(0), d = train.extent(1);
  for (std::size_t j = 0; j < d; ++j) {
    double mean = 0, var = 0;
    for (std::size_t i = 0; i < n; ++i) mean += train(i, j);
    mean /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) var += (train(i, j) - mean) * (train(i, j) - mean);
    const double sd = var > 0 ? std::sqrt(var / static_cast<double>(n)) : 1.0;
    for (std::size_t i = 0; i < n; ++i) train(i, j) = (train(i, j) - mean) / sd;
    for (HostMatrix* o : others)
      for (std::size_t i = 0; i < o->extent(0); ++i) (*o)(i, j) = ((*o)(i, j) - mean) / sd;
  }
}

std::string short_number(double v) { return fmt::format("{:.3g}", v); }

std::string gamma_text(const ml::GridPoint& p) {
  if (p.gamma.mode == ml::Gamma::Mode::scale) return "scale";
  if (p.gamma.mode == ml::Gamma::Mode::automatic) return "auto";
  return io::format_double(p.gamma_value);
}

void write_search_results(const Context& ctx, const ml::CvResults& r, const std::string& title) {
  std::vector<std::string> header;
  for (const auto& name : r.searched) header.push_back("param_" + name);
  for (const char* c : {"mean_test_score", "std_test_score", "rank_test_score", "mean_train_score",
                        "std_train_score", "mean_fit_time", "std_fit_time"})
    header.push_back(c);
  for (int f = 0; f < r.folds; ++f) header.push_back(fmt::format("split{}_test_score", f));
  for (int f = 0; f < r.folds; ++f) header.push_back(fmt::format("split{}_train_score", f));
  io::CsvWriter csv(header);
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    const auto& p = r.points[i];
    std::vector<std::string> row;
    for (const auto& name : r.searched) {
      if (name == "C") row.push_back(io::format_double(p.C));
      if (name == "gamma") row.push_back(gamma_text(p));
      if (name == "degree") row.push_back(std::to_string(p.degree));
      if (name == "coef0") row.push_back(io::format_double(p.coef0));
    }
    for (double v : {r.mean_test_score[i], r.std_test_score[i]})
      row.push_back(io::format_double(v));
    row.push_back(std::to_string(r.rank_test_score[i]));
    for (double v :
         {r.mean_train_score[i], r.std_train_score[i], r.mean_fit_time[i], r.std_fit_time[i]})
      row.push_back(io::format_double(v));
    for (double v : r.split_test_score[i]) row.push_back(io::format_double(v));
    for (double v : r.split_train_score[i]) row.push_back(io::format_double(v));
    csv.row_text(row);
  }
  csv.write(ctx.out_file("cv_results.csv"));

  // Heat map of mean validation accuracy: gamma down, C across (best over other params).
  std::vector<double> Cs, gammas;
  const auto index_of = [](std::vector<double>& list, double v) {
    const auto it = std::find(list.begin(), list.end(), v);
    if (it != list.end()) return static_cast<std::size_t>(it - list.begin());
    list.push_back(v);
    return list.size() - 1;
  };
  for (const auto& p : r.points) index_of(Cs, p.C), index_of(gammas, p.gamma_value);
  io::Heatmap map;
  map.values.assign(gammas.size(), std::vector<double>(Cs.size(), std::nan("")));
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    double& cell =
        map.values[index_of(gammas, r.points[i].gamma_value)][index_of(Cs, r.points[i].C)];
    if (std::isnan(cell) || r.mean_test_score[i] > cell) cell = r.mean_test_score[i];
  }
  for (double c : Cs) map.col_labels.push_back(short_number(c));
  for (double g : gammas) map.row_labels.push_back(short_number(g));
  map.title = title;
  map.x_label = "C";
  map.y_label = "gamma";
  map.value_label = "mean validation accuracy";
  io::write_file_atomic(ctx.out_file("heatmap.svg"), io::svg_heatmap(map));
}

}  // namespace

Command setup_svm_search(CLI::App& parent, CommonOptions& common) {
  auto o = std::make_shared<SvmOptions>();
  Command cmd;
  cmd.resumable = true;
  cmd.app = parent.add_subcommand(
      "svm-search",
      "cross-validated grid search of SVC parameters over every rank -> cv_results.csv, "
      "best.json, heatmap.svg");
  CLI::App& app = *cmd.app;
  add_common_options(app, common);
  add_data_options(app, *o, true);
  add_model_options(app, *o, true);
  app.add_option("--folds", o->folds, "stratified folds (scikit-learn's StratifiedKFold)")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  app.add_flag("--scale", o->scale, "standardise features (mean 0, std 1 from the training data)");
  app.add_flag("--shuffle", o->shuffle, "shuffle the folds (seeded by --seed)");
  app.add_flag("--no-warm-start", o->no_warm_start, "solve every C from zero");
  app.add_option("--fold-batch", o->fold_batch,
                 "folds per task, their class pairs solved in one launch (0: all folds in GPU "
                 "builds, 1 on CPUs); the results do not depend on it")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--kernel-memory", o->kernel_memory,
                 "bytes (K/M/G suffixes) for the n x n dot products and kernel matrix, and "
                 "for a batch of folds' kernel matrices")
      ->type_name("BYTES")
      ->capture_default_str();
  cmd.run = [o](Context& ctx) {
    const io::LoadOptions load = load_options(ctx, *o);
    ml::GridSearchOptions search;
    Table train, test;
    {
      auto t = ctx.times.scope("read");
      agree(ctx.comm, [&] {
        search.base = base_params(*o);
        search.base.kernel_memory = parse_bytes(o->kernel_memory, "--kernel-memory");
        search.C = parse_value_list(o->C, "--C");
        search.gamma = parse_gammas(o->gamma);
        for (double d : parse_value_list(o->degree, "--degree")) {
          if (d != std::round(d))
            throw InvalidArgument(fmt::format("--degree: {} is not an integer", d));
          search.degree.push_back(static_cast<int>(d));
        }
        search.coef0 = parse_value_list(o->coef0, "--coef0");
        train = load_labeled(o->data, load, "--data");
        if (!o->test.empty()) {
          test = load_labeled(o->test, load, "--test");
          if (test.cols() != train.cols())
            throw InvalidArgument(fmt::format("--test {} has {} columns, --data has {}", o->test,
                                              test.cols(), train.cols()));
        }
        if (o->scale) standardise(train.X, {o->test.empty() ? nullptr : &test.X});
      });
    }
    search.folds = o->folds;
    search.shuffle = o->shuffle;
    search.seed = ctx.common.seed;
    search.warm_start = !o->no_warm_start;
    search.fold_batch = o->fold_batch;
    search.farm.progress = ctx.progress_bar();
    search.farm.journal = ctx.out_file("journal");
    search.farm.resume = ctx.common.resume;
    search.farm.job_key = fmt::format(
        "svm-search v1 data={} kernel={} C={} gamma={} degree={} coef0={} "
        "folds={} tol={} scale={} shuffle={} seed={} warm={}",
        o->data, o->kernel, o->C, o->gamma, o->degree, o->coef0, o->folds, o->tol, o->scale,
        o->shuffle, ctx.common.seed, !o->no_warm_start);
    ctx.make_out_dir();
    ml::CvResults r;
    {
      auto t = ctx.times.scope("search");
      r = ml::grid_search(ctx.comm, train.X, train.y, search);
    }
    const ml::GridPoint& best = r.points[r.best_index];
    nlohmann::json params = {{"C", best.C}};
    if (search.base.kernel != ml::Kernel::linear)
      params["gamma"] = best.gamma.mode == ml::Gamma::Mode::value
                            ? nlohmann::json(best.gamma_value)
                            : nlohmann::json(gamma_text(best));
    if (search.base.kernel == ml::Kernel::poly) params["degree"] = best.degree;
    if (search.base.kernel == ml::Kernel::poly || search.base.kernel == ml::Kernel::sigmoid)
      params["coef0"] = best.coef0;
    nlohmann::json out = {{"best_params", params}, {"best_score", r.mean_test_score[r.best_index]}};
    if (!o->test.empty()) {
      auto t = ctx.times.scope("refit");
      ml::SVCParams p = search.base;
      p.C = best.C, p.gamma = best.gamma, p.degree = best.degree, p.coef0 = best.coef0;
      ml::SVC clf(p);
      clf.fit(train.X, train.y);
      out["test_score"] = clf.score(test.X, test.y);
      if (ctx.root()) clf.save(ctx.out_file("best.model"));
    }
    ctx.report["tasks"] = r.farm.tasks;
    ctx.report["tasks_resumed"] = r.farm.resumed;
    ctx.report["tasks_per_rank"] = r.farm.run_by;
    if (!ctx.root()) return;
    {
      auto t = ctx.times.scope("write");
      write_search_results(
          ctx, r,
          fmt::format("{}: mean {}-fold validation accuracy",
                      std::filesystem::path(o->data).filename().string(), r.folds));
      io::write_json(ctx.out_file("best.json"), out);
    }
    if (!ctx.common.quiet) {
      std::printf("svm-search: %zu grid points x %d folds on %d rank(s)%s\n", r.points.size(),
                  r.folds, ctx.comm.size(),
                  r.farm.resumed ? fmt::format(" ({} tasks resumed)", r.farm.resumed).c_str() : "");
      std::printf("best: %s  mean CV accuracy %.4f\n", params.dump().c_str(),
                  r.mean_test_score[r.best_index]);
      if (out.contains("test_score"))
        std::printf("test accuracy (refit on all of --data): %.4f\n",
                    out["test_score"].get<double>());
      std::printf("wrote %s, %s, %s\n", ctx.out_file("cv_results.csv").c_str(),
                  ctx.out_file("best.json").c_str(), ctx.out_file("heatmap.svg").c_str());
    }
  };
  return cmd;
}

Command setup_svm_train(CLI::App& parent, CommonOptions& common) {
  auto o = std::make_shared<SvmOptions>();
  Command cmd;
  cmd.app = parent.add_subcommand("svm-train", "train one SVC -> a libsvm-format model file");
  CLI::App& app = *cmd.app;
  add_common_options(app, common);
  add_data_options(app, *o, false);
  add_model_options(app, *o, false);
  app.add_option("--model", o->model, "model file to write (default: <out>/svm.model)");
  app.add_option("--kernel-memory", o->kernel_memory,
                 "bytes for kernel values (K/M/G suffixes): the n x n kernel matrix when it "
                 "fits, else an LRU cache of kernel rows per class pair")
      ->type_name("BYTES")
      ->capture_default_str();
  app.add_flag("--shrinking", o->shrinking,
               "libsvm's shrinking heuristic (scikit-learn's default) where kernel rows are "
               "cached; the in-memory solver does not need it");
  cmd.run = [o](Context& ctx) {
    Table train;
    ml::SVCParams p;
    {
      auto t = ctx.times.scope("read");
      agree(ctx.comm, [&] {
        p = base_params(*o);
        p.C = parse_real(o->C, "--C");
        p.gamma = ml::Gamma::parse(o->gamma);
        p.degree = parse_integer(o->degree, "--degree");
        p.coef0 = parse_real(o->coef0, "--coef0");
        p.kernel_memory = parse_bytes(o->kernel_memory, "--kernel-memory");
        p.shrinking = o->shrinking;
        p.validate();
        train = load_labeled(o->data, load_options(ctx, *o), "--data");
      });
    }
    ml::SVC clf(p);
    {
      auto t = ctx.times.scope("fit");
      agree(ctx.comm, [&] { clf.fit(train.X, train.y); });
    }
    ctx.make_out_dir();
    const std::string path = o->model.empty() ? ctx.out_file("svm.model") : o->model;
    if (!ctx.root()) return;
    clf.save(path);
    if (!ctx.common.quiet) {
      int total = 0;
      for (int s : clf.n_support()) total += s;
      std::printf("svm-train: %zu rows, %zu classes, %d support vectors, training accuracy %.4f\n",
                  train.rows(), clf.classes().size(), total, clf.score(train.X, train.y));
      std::printf("wrote %s\n", path.c_str());
    }
  };
  return cmd;
}

Command setup_svm_predict(CLI::App& parent, CommonOptions& common) {
  auto o = std::make_shared<SvmOptions>();
  Command cmd;
  cmd.app = parent.add_subcommand("svm-predict",
                                  "predict with a model file -> predictions.csv, metrics.json");
  CLI::App& app = *cmd.app;
  add_common_options(app, common);
  add_data_options(app, *o, false);
  app.add_option("--model", o->model, "model file (libsvm format)")->required();
  cmd.run = [o](Context& ctx) {
    Table data;
    ml::SVC clf;
    {
      auto t = ctx.times.scope("read");
      agree(ctx.comm, [&] {
        clf = ml::SVC::load(o->model);
        data = io::load_table(o->data, load_options(ctx, *o));
      });
    }
    HostVector predicted;
    {
      auto t = ctx.times.scope("predict");
      predicted = clf.predict(data.X);
    }
    ctx.make_out_dir();
    if (!ctx.root()) return;
    std::string lines;
    for (std::size_t i = 0; i < predicted.extent(0); ++i)
      lines += io::format_double(predicted(i)) + "\n";
    io::write_file_atomic(ctx.out_file("predictions.csv"), lines);
    nlohmann::json metrics = {{"rows", data.rows()}};
    if (data.has_labels()) {
      std::size_t right = 0;
      for (std::size_t i = 0; i < predicted.extent(0); ++i) right += predicted(i) == data.y(i);
      metrics["accuracy"] =
          data.rows() ? static_cast<double>(right) / static_cast<double>(data.rows()) : 0.0;
    }
    io::write_json(ctx.out_file("metrics.json"), metrics);
    if (!ctx.common.quiet) {
      std::printf("svm-predict: %zu rows", data.rows());
      if (metrics.contains("accuracy"))
        std::printf(", accuracy %.4f", metrics["accuracy"].get<double>());
      std::printf("\nwrote %s, %s\n", ctx.out_file("predictions.csv").c_str(),
                  ctx.out_file("metrics.json").c_str());
    }
  };
  return cmd;
}

}  // namespace tessera::cli
