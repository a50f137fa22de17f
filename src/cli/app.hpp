#pragma once
// The `tessera` command: option parsing, runtime start-up, error handling and exit
// codes shared by every subcommand (see ../shared/CLI.md for the contract).
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <tessera/comm/comm.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/core/timer.hpp>
#include <tessera/io/dataset.hpp>

namespace tessera::cli {

/// Options every subcommand takes.
struct CommonOptions {
  std::string out = "tessera-out";
  bool out_given = false;
  std::uint64_t seed = 0;
  bool quiet = false;
  bool progress = false;
  bool resume = false;
  int threads = 0;
  std::string memory_limit;
  std::uint64_t memory_limit_bytes = 0;  // parsed --memory-limit (0: none)
  std::string format;
  std::size_t raw_cols = 0;  // --raw-cols: columns of a raw binary file
  std::string raw_type = "float64";
  std::string log_level;
};

/// What a running subcommand sees.
struct Context {
  const Comm& comm;
  const RuntimeInfo& runtime;
  const CommonOptions& common;
  PhaseTimes times;
  nlohmann::json report = nlohmann::json::object();  // extra run.json entries

  bool root() const { return comm.rank() == 0; }
  /// Path of a result file in --out (the folder is created by the caller first).
  std::string out_file(const std::string& name) const;
  /// Creates --out on rank 0; every rank throws the same IOError if that fails.
  void make_out_dir() const;
  bool progress_bar() const;
  /// How to read --data: --format, --raw-cols, --raw-type (the command adds its label options).
  io::LoadOptions load_options() const;
};

/// A subcommand: its options are added to `app` by `setup`; `run` does the work.
struct Command {
  CLI::App* app = nullptr;
  std::function<void(Context&)> run;
  bool writes_results = true;  // writes run.json into --out
  bool resumable = false;      // keeps a task journal that --resume continues from
};

void add_common_options(CLI::App& app, CommonOptions& common);

/// Options this run does not read, each with why ("cmaes only"): those given on the command
/// line are named in one warning each on rank 0 ("--sigma is not used: cmaes only"), not
/// passed over in silence.
void warn_unused(const Context& ctx, const CLI::App& app,
                 const std::vector<std::pair<std::string, std::string>>& unused);
Command setup_datasets(CLI::App& parent, CommonOptions& common);
Command setup_stats(CLI::App& parent, CommonOptions& common);
Command setup_svm_search(CLI::App& parent, CommonOptions& common);
Command setup_svm_train(CLI::App& parent, CommonOptions& common);
Command setup_svm_predict(CLI::App& parent, CommonOptions& common);
Command setup_kmeans(CLI::App& parent, CommonOptions& common);
Command setup_pca(CLI::App& parent, CommonOptions& common);
Command setup_evolve(CLI::App& parent, CommonOptions& common);

/// Writes run.json in --out (rank 0; collective for the per-rank device list).
void write_run_report(const Context& ctx, const std::vector<std::string>& argv,
                      double wall_seconds);

/// Parses bytes with optional K/M/G/T suffix (powers of 1024): "512M", "2G", "1000".
std::uint64_t parse_bytes(const std::string& text, const std::string& option);
/// Option checks for numbers >= 0 and > 0 whose errors read "must be >= 0, got -1" (CLI11's
/// NonNegativeNumber and PositiveNumber print their range up to 1.8e308 in full).
CLI::Validator at_least_zero();
CLI::Validator above_zero();
/// A finite number that is the whole of `text`, else InvalidArgument naming `option`.
double parse_real(const std::string& text, const std::string& option);
/// An integer (int range) that is the whole of `text`, else InvalidArgument naming `option`.
int parse_integer(const std::string& text, const std::string& option);
// "LO:HI" with lo < hi (InvalidArgument naming the option otherwise).
std::pair<double, double> parse_range(const std::string& text, const std::string& option);

/// The whole command: parse, start the runtime, run, map errors to exit codes.
int run(int argc, char** argv);

}  // namespace tessera::cli
