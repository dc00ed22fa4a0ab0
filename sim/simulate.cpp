// simulate: runs a vnetsim scenario file (sim/ is a thin command line over scenario and
// report, STYLE.md). Exit status: 0 all expectations met, 1 some failed, 2 bad input or usage.

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "vnetsim/host/esx_files.hpp"
#include "vnetsim/report/run_report.hpp"
#include "vnetsim/scenario/import.hpp"
#include "vnetsim/scenario/loader.hpp"
#include "vnetsim/scenario/world.hpp"

namespace {

constexpr int exit_pass = 0;
constexpr int exit_fail = 1;
constexpr int exit_usage = 2;

/// A progress bar on stderr: shown only once the run has lasted a second of wall time.
struct progress_state {
  std::chrono::steady_clock::time_point start;
  vnetsim::sim_time end;
  bool shown = false;
};

void show_progress(void* ctx, const vnetsim::scenario::world& w) {
  auto& p = *static_cast<progress_state*>(ctx);
  const auto elapsed = std::chrono::steady_clock::now() - p.start;
  const double secs = std::chrono::duration<double>(elapsed).count();
  if (secs < 1.0) return;
  p.shown = true;
  const double frac = p.end.ns() > 0 ? static_cast<double>(w.sim().now().ns()) / static_cast<double>(p.end.ns()) : 1.0;
  const int filled = static_cast<int>(frac * 30.0);
  std::fprintf(stderr, "\r[%-30s] %s / %s  %.2f M events/s ", std::string(static_cast<std::size_t>(filled), '#').c_str(),
               w.sim().now().to_string().c_str(), p.end.to_string().c_str(),
               static_cast<double>(w.sim().events_run()) / secs / 1e6);
  std::fflush(stderr);
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) {
    std::fprintf(stderr, "simulate: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

/// Options of `simulate import`.
struct import_options {
  std::string hwconfig, netmap, devnames, modules_conf, rc_local, out, host = "esx1";
  std::vector<std::string> ifcfg;
};

/// `simulate import`: the host's files -> a scenario skeleton (stdout or -o).
int run_import(const import_options& o) {
  vnetsim::host::esx_files f;
  const auto load = [&](const std::string& path, std::string& text, std::string& name) {
    const auto t = read_file(path);
    if (!t) {
      std::fprintf(stderr, "simulate import: cannot read %s\n", path.c_str());
      return false;
    }
    text = *t;
    name = path;
    return true;
  };
  if (!load(o.hwconfig, f.hwconfig, f.hwconfig_name) || !load(o.netmap, f.netmap, f.netmap_name) ||
      !load(o.devnames, f.devnames, f.devnames_name)) {
    return exit_usage;
  }
  std::string text;
  if (!o.modules_conf.empty()) {
    if (!load(o.modules_conf, text, f.modules_conf_name)) return exit_usage;
    f.modules_conf = text;
  }
  if (!o.rc_local.empty()) {
    if (!load(o.rc_local, text, f.rc_local_name)) return exit_usage;
    f.rc_local = text;
  }
  std::vector<vnetsim::scenario::ifcfg_file> cfgs;
  for (const auto& path : o.ifcfg) {
    const auto t = read_file(path);
    if (!t) {
      std::fprintf(stderr, "simulate import: cannot read %s\n", path.c_str());
      return exit_usage;
    }
    cfgs.push_back({path, *t});
  }
  std::string json;
  try {
    json = vnetsim::scenario::import_scenario(f, o.host, cfgs);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "simulate import: %s\n", e.what());
    return exit_usage;
  }
  if (o.out.empty()) {
    std::fputs(json.c_str(), stdout);
    return exit_pass;
  }
  return write_file(o.out, json) ? exit_pass : exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs a vnetsim scenario: builds the network, plays the timeline of faults, prints what "
               "happened and checks the expectations.\nExit status: 0 all expectations met, 1 some failed, "
               "2 bad input or usage.",
               "simulate"};
  std::string scenario_path;
  std::string report_path, pcap_dir, trace_path, until_text;
  std::optional<std::uint64_t> seed;
  bool quiet = false, validate_only = false;
  app.add_option("scenario", scenario_path, "Scenario file (JSON); - reads standard input");
  app.add_option("--report", report_path, "Write the JSON report to this file");
  app.add_option("--pcap-dir", pcap_dir, "Write the scenario's captures into this directory");
  app.add_option("--trace", trace_path, "Write every frame delivery, action and state change to this file");
  app.add_option("--seed", seed, "Override the scenario's seed");
  app.add_option("--until", until_text, "Stop at this simulated time (e.g. 30s) instead of the duration");
  app.add_flag("-q,--quiet", quiet, "Print nothing but errors");
  app.add_flag("--validate", validate_only, "Check the scenario and exit (0 valid, 2 invalid)");
  app.set_version_flag("--version", std::string(vnetsim::report::version()));
  import_options imp;
  CLI::App* import_cmd = app.add_subcommand(
      "import", "Writes a scenario skeleton from an ESX Server 2.x host's configuration files (exit 2 with "
                "file:line on a malformed file)");
  import_cmd->add_option("--hwconfig", imp.hwconfig, "/etc/vmware/hwconfig")->required();
  import_cmd->add_option("--netmap", imp.netmap, "/etc/vmware/netmap.conf")->required();
  import_cmd->add_option("--devnames", imp.devnames, "/etc/vmware/devnames.conf")->required();
  import_cmd->add_option("--modules-conf", imp.modules_conf, "The service console's /etc/modules.conf");
  import_cmd->add_option("--rc-local", imp.rc_local, "The service console's /etc/rc.d/rc.local");
  import_cmd->add_option("--ifcfg", imp.ifcfg, "The console's ifcfg-ethN files (repeatable)");
  import_cmd->add_option("--host", imp.host, "The host's name in the scenario (default esx1)");
  import_cmd->add_option("-o,--output", imp.out, "Write the scenario here (default: standard output)");
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? exit_pass : exit_usage;
  }
  if (import_cmd->parsed()) {
    if (!scenario_path.empty()) {
      std::fprintf(stderr, "simulate import: takes no scenario file (got %s)\n", scenario_path.c_str());
      return exit_usage;
    }
    return run_import(imp);
  }
  if (scenario_path.empty()) {
    std::fprintf(stderr, "simulate: a scenario file is required (or: simulate import ...)\nRun with --help for more "
                         "information.\n");
    return exit_usage;
  }

  std::string text;
  std::string source = scenario_path;
  if (scenario_path == "-") {
    source = "<stdin>";
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream f(scenario_path, std::ios::binary);
    if (!f) {
      std::fprintf(stderr, "simulate: cannot read %s\n", scenario_path.c_str());
      return exit_usage;
    }
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }

  const auto loaded = vnetsim::scenario::load_scenario(text);
  for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.to_string(source).c_str());
  if (!loaded.ok()) {
    std::fprintf(stderr, "simulate: %zu error(s) in %s; nothing was run\n", loaded.errors(), source.c_str());
    return exit_usage;
  }
  vnetsim::scenario::scenario_model model = *loaded.model;
  if (validate_only) {
    if (!quiet) std::printf("%s: valid scenario \"%s\"\n", source.c_str(), model.name.c_str());
    return exit_pass;
  }
  if (seed) model.seed = *seed;
  vnetsim::sim_time until = model.duration;
  if (!until_text.empty()) {
    const auto t = vnetsim::sim_time::parse(until_text);
    if (!t) {
      std::fprintf(stderr, "simulate: --until \"%s\" is not a duration (e.g. 30s, 500ms)\n", until_text.c_str());
      return exit_usage;
    }
    until = *t;
  }

  std::FILE* trace = nullptr;
  try {
    vnetsim::scenario::world w(model.seed, model.observe_interval);
    if (!trace_path.empty()) {
      trace = std::fopen(trace_path.c_str(), "wb");
      if (trace == nullptr) {
        std::fprintf(stderr, "simulate: cannot write %s\n", trace_path.c_str());
        return exit_usage;
      }
      w.set_trace(trace);
    }
    std::filesystem::path dir(pcap_dir);
    if (!pcap_dir.empty()) std::filesystem::create_directories(dir);
    vnetsim::scenario::build(w, model, pcap_dir.empty() ? nullptr : &dir);

    progress_state progress{std::chrono::steady_clock::now(), until};
    const bool bar = !quiet && isatty(STDERR_FILENO) == 1;
    w.run_until(until, bar ? &show_progress : nullptr, &progress);
    if (progress.shown) std::fprintf(stderr, "\n");
    w.close_captures();
    const auto results = w.evaluate();
    const vnetsim::report::run_info info{model.name, vnetsim::scenario::scenario_hash(text), model.seed, until,
                                         vnetsim::report::warning_lines(loaded.diagnostics)};
    if (!report_path.empty() && !write_file(report_path, vnetsim::report::json_report(w, info, results))) {
      if (trace != nullptr) std::fclose(trace);
      return exit_usage;
    }
    if (!quiet) std::fputs(vnetsim::report::human_summary(w, info, results).c_str(), stdout);
    if (trace != nullptr) std::fclose(trace);
    trace = nullptr;
    for (const auto& r : results) {
      if (!r.pass) return exit_fail;
    }
    return exit_pass;
  } catch (const std::exception& e) {
    if (trace != nullptr) std::fclose(trace);
    std::fprintf(stderr, "simulate: %s\n", e.what());
    return exit_usage;
  }
}
