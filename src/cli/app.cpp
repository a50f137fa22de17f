#include "app.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <tessera/comm/agree.hpp>
#include <tessera/config.hpp>
#include <tessera/core/error.hpp>
#include <tessera/core/log.hpp>
#include <tessera/core/progress.hpp>
#include <tessera/io/results.hpp>

namespace tessera::cli {

std::string Context::out_file(const std::string& name) const {
  return (std::filesystem::path(common.out) / name).string();
}

void Context::make_out_dir() const {
  agree(comm, [&] {
    if (root()) io::make_directories(common.out);
  });
}

io::LoadOptions Context::load_options() const {
  io::LoadOptions load;
  load.format = common.format;
  load.raw_cols = common.raw_cols;
  load.raw_type = common.raw_type;
  return load;
}

bool Context::progress_bar() const {
  return progress_wanted(comm.rank(), common.progress, common.quiet);
}

std::pair<double, double> parse_range(const std::string& text, const std::string& option) {
  const auto colon = text.find(':');
  double lo = 0, hi = 0;
  std::size_t a = 0, b = 0;
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    lo = std::stod(text.substr(0, colon), &a);
    hi = std::stod(text.substr(colon + 1), &b);
  } catch (const std::exception&) {
    a = 0;
  }
  if (colon == std::string::npos || a != colon || b != text.size() - colon - 1)
    throw InvalidArgument(option + ": '" + text + "' is not LO:HI");
  if (!(lo < hi))
    throw InvalidArgument(
        fmt::format("{} {}: needs lo < hi, got lo = {}, hi = {}", option, text, lo, hi));
  return {lo, hi};
}

namespace {

// Whether the whole of `text` is a number, read into `value`.
template <class Number>
bool read_whole(const std::string& text, Number& value) {
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, value);
  return !text.empty() && r.ec == std::errc() && r.ptr == end;
}

CLI::Validator number_check(bool zero_allowed) {
  return CLI::Validator(
      [zero_allowed](std::string& text) -> std::string {
        double value = 0;
        if (!read_whole(text, value) || std::isnan(value)) return "'" + text + "' is not a number";
        if (zero_allowed ? value < 0 : !(value > 0))
          return std::string(zero_allowed ? "must be >= 0" : "must be > 0") + ", got " + text;
        return "";
      },
      zero_allowed ? "NUMBER >= 0" : "NUMBER > 0");
}

}  // namespace

void warn_unused(const Context& ctx, const CLI::App& app,
                 const std::vector<std::pair<std::string, std::string>>& unused) {
  if (!ctx.root()) return;
  for (const auto& [name, why] : unused)
    if (app.count(name) > 0) log_warn(name + " is not used: " + why);
}

CLI::Validator at_least_zero() { return number_check(true); }
CLI::Validator above_zero() { return number_check(false); }

double parse_real(const std::string& text, const std::string& option) {
  double value = 0;
  if (!read_whole(text, value) || !std::isfinite(value))
    throw InvalidArgument(option + ": '" + text + "' is not a finite number");
  return value;
}

int parse_integer(const std::string& text, const std::string& option) {
  int value = 0;
  if (!read_whole(text, value))
    throw InvalidArgument(option + ": '" + text + "' is not an integer");
  return value;
}

std::uint64_t parse_bytes(const std::string& text, const std::string& option) {
  std::size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw InvalidArgument(option + ": '" + text + "' is not a size in bytes (e.g. 512M, 2G)");
  }
  std::string suffix = text.substr(pos);
  if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b')) suffix.pop_back();
  double scale = 1;
  if (suffix == "K" || suffix == "k")
    scale = 1024.0;
  else if (suffix == "M" || suffix == "m")
    scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g")
    scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "t")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!suffix.empty())
    throw InvalidArgument(option + ": unknown size suffix '" + suffix + "' in '" + text +
                          "' (K, M, G, T)");
  if (!(value > 0)) throw InvalidArgument(option + ": '" + text + "' must be positive");
  const double bytes = std::floor(value * scale);
  // (a double of 2^64 or more, or inf, has no uint64 value: the cast would be undefined)
  if (!(bytes < 18446744073709551616.0))
    throw InvalidArgument(option + ": '" + text + "' is more than 2^64 bytes");
  if (bytes < 1) throw InvalidArgument(option + ": '" + text + "' is less than one byte");
  return static_cast<std::uint64_t>(bytes);
}

void add_common_options(CLI::App& app, CommonOptions& common) {
  app.add_option_function<std::string>(
         "--out",
         [&common](const std::string& v) {
           common.out = v;
           common.out_given = true;
         },
         "results folder (created; default tessera-out)")
      ->type_name("DIR");
  // read as text: CLI11 wraps -1 and saturates 10^23 into the same uint64 silently
  app.add_option_function<std::string>(
         "--seed",
         [&common](const std::string& v) {
           if (!read_whole(v, common.seed))
             throw CLI::ValidationError("--seed", "'" + v +
                                                      "' is not an integer from 0 to "
                                                      "18446744073709551615");
         },
         "random seed, 0 to 2^64 - 1 (same seed, same results on any rank count)")
      ->type_name("UINT");
  app.add_flag("--quiet", common.quiet, "print nothing but errors");
  app.add_flag("--progress", common.progress,
               "force the progress bar (default: only on a terminal)");
  app.add_flag("--resume", common.resume, "continue an interrupted run from the journal in --out");
  app.add_option("--threads", common.threads,
                 "threads per rank (default: OMP_NUM_THREADS, "
                 "SLURM_CPUS_PER_TASK or all cores)")
      ->check(at_least_zero());
  app.add_option("--memory-limit", common.memory_limit,
                 "memory per rank in bytes (K/M/G suffixes); larger inputs are streamed")
      ->type_name("BYTES");
  app.add_option("--format", common.format, "input format, overriding the file name ending")
      ->check(CLI::IsMember({"csv", "libsvm", "npy", "raw"}));
  app.add_option("--raw-cols", common.raw_cols,
                 "columns of a raw binary file (--format raw, or a .bin/.raw name)")
      ->check(above_zero());
  app.add_option("--raw-type", common.raw_type,
                 "element type of a raw binary file: float64 (default), float32, int64, int32, "
                 "uint8");
  app.add_option("--log-level", common.log_level, "error, warn, info or debug")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}));
}

namespace {

// Before MPI is up, only the launcher's rank 0 prints help and usage errors.
bool launcher_root() { return launcher_rank() == 0; }

int usage_error(const std::string& message) {
  if (launcher_root()) std::fprintf(stderr, "error: %s\n", message.c_str());
  return 2;
}

}  // namespace

int run(int argc, char** argv) {
  Timer wall;
  CLI::App app{
      "tessera: Kokkos-portable analytics for HPC clusters (SVM search, k-means, "
      "PCA, evolution, chunked statistics) on one rank or many.",
      "tessera"};
  app.set_version_flag("--version", std::string("tessera ") + TESSERA_VERSION_STRING);
  app.require_subcommand(1, 1);
  app.fallthrough(false);
  CommonOptions common;
  std::vector<Command> commands;
  commands.push_back(setup_datasets(app, common));
  commands.push_back(setup_stats(app, common));
  commands.push_back(setup_svm_search(app, common));
  commands.push_back(setup_svm_train(app, common));
  commands.push_back(setup_svm_predict(app, common));
  commands.push_back(setup_kmeans(app, common));
  commands.push_back(setup_pca(app, common));
  commands.push_back(setup_evolve(app, common));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return launcher_root() ? app.exit(e) : 0;
  } catch (const CLI::CallForAllHelp& e) {
    return launcher_root() ? app.exit(e) : 0;
  } catch (const CLI::CallForVersion& e) {
    return launcher_root() ? app.exit(e) : 0;
  } catch (const CLI::ParseError& e) {
    std::string hint;
    if (!app.get_subcommands().empty())
      hint = " (see 'tessera " + app.get_subcommands().front()->get_name() + " --help')";
    else
      hint = " (see 'tessera --help')";
    return usage_error(e.what() + hint);
  }

  const Command* chosen = nullptr;
  for (const auto& c : commands)
    if (c.app->parsed()) chosen = &c;
  if (!chosen) return usage_error("no subcommand given (see 'tessera --help')");

  try {
    if (!common.log_level.empty()) set_log_level(parse_log_level(common.log_level));
    if (common.quiet) set_log_level(LogLevel::error);
    if (!common.memory_limit.empty())
      common.memory_limit_bytes = parse_bytes(common.memory_limit, "--memory-limit");
    // OpenMP runtimes crash rather than refuse when asked for 100000 threads
    const int most_threads =
        std::max(1024, 4 * static_cast<int>(std::thread::hardware_concurrency()));
    if (common.threads > most_threads)
      throw InvalidArgument(fmt::format(
          "--threads: {} threads per rank is more than {} (this node has {} hardware threads)",
          common.threads, most_threads, std::thread::hardware_concurrency()));
  } catch (const Error& e) {
    return usage_error(e.what());
  }

  RuntimeOptions options;
  options.threads = common.threads;
  options.kokkos_warnings = !common.quiet;
  std::unique_ptr<Runtime> runtime;
  try {
    runtime = std::make_unique<Runtime>(argc, argv, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: cannot start the runtime: %s\n", e.what());
    return 1;
  }
  const Comm& comm = runtime->world();
  if (common.resume && !chosen->resumable)
    log_warn("--resume: '" + chosen->app->get_name() +
             "' keeps no journal (it is not interruptible work); it runs in full");
  const std::vector<std::string> args(argv, argv + argc);
  int code = 0;
  {
    Context ctx{comm, runtime->info(), common, {}, nlohmann::json::object()};
    try {
      chosen->run(ctx);
      if (chosen->writes_results || common.out_given) {
        ctx.make_out_dir();
        write_run_report(ctx, args, wall.seconds());
      }
    } catch (const Error& e) {
      code = exit_code(e.kind());
      if (e.agreed() || comm.size() == 1) {
        if (comm.rank() == 0) std::fprintf(stderr, "error: %s\n", e.what());
      } else {
        // Only this rank knows: report and take the job down rather than leave the
        // other ranks waiting.
        std::fprintf(stderr, "error: %s (rank %d)\n", e.what(), comm.rank());
        std::fflush(stderr);
        comm.abort(code);
      }
    } catch (const std::exception& e) {
      if (comm.size() == 1)
        std::fprintf(stderr, "error: %s\n", one_line_message(e).c_str());
      else
        std::fprintf(stderr, "error: %s (rank %d)\n", one_line_message(e).c_str(), comm.rank());
      std::fflush(stderr);
      if (comm.size() > 1) comm.abort(1);
      code = 1;
    }
  }
  runtime.reset();
  return code;
}

}  // namespace tessera::cli
