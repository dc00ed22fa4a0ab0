#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "vnetsim/report/run_report.hpp"
#include "vnetsim/scenario/loader.hpp"
#include "vnetsim/scenario/world.hpp"

using namespace vnetsim;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct run_output {
  std::string report;
  std::vector<std::pair<std::string, std::string>> pcaps;  // file name, bytes
  bool all_pass = true;
};

run_output run(const scenario::scenario_model& m, const std::string& text, const fs::path& pcap_dir,
               const std::vector<std::string>& warnings) {
  fs::remove_all(pcap_dir);
  fs::create_directories(pcap_dir);
  run_output out;
  {
    scenario::world w(m.seed, m.observe_interval);
    scenario::build(w, m, &pcap_dir);
    w.run_until(m.duration);
    w.close_captures();
    const auto results = w.evaluate();
    for (const auto& r : results) {
      if (!r.pass) {
        out.all_pass = false;
        MESSAGE(m.name << ": " << r.name << " failed: measured " << r.measured << ", expected " << r.bound);
      }
    }
    out.report = report::json_report(w, {m.name, scenario::scenario_hash(text), m.seed, m.duration, warnings}, results);
  }
  for (const auto& c : m.captures) out.pcaps.emplace_back(c.file, slurp(pcap_dir / c.file));
  return out;
}

}  // namespace

TEST_CASE("bundled scenarios: valid, all expectations met, byte-identical twice, equal to the golden report") {
  const fs::path root(VNETSIM_SOURCE_DIR);
  const fs::path tmp = fs::path(VNETSIM_TEST_TMPDIR) / "bundled";
  const bool update = std::getenv("VNETSIM_UPDATE_GOLDEN") != nullptr;
  const auto list = files(root / "scenarios");
  CHECK(list.size() >= 8);
  for (const auto& path : list) {
    CAPTURE(path.filename().string());
    const std::string text = slurp(path);
    const auto loaded = scenario::load_scenario(text);
    REQUIRE(loaded.ok());
    const auto& m = *loaded.model;
    CHECK(path.stem().string() == m.name);
    CHECK_FALSE(m.expectations.empty());
    const auto warnings = report::warning_lines(loaded.diagnostics);
    const auto first = run(m, text, tmp / (m.name + ".1"), warnings);
    const auto second = run(m, text, tmp / (m.name + ".2"), warnings);
    CHECK(first.all_pass);
    CHECK(first.report == second.report);
    REQUIRE(first.pcaps.size() == second.pcaps.size());
    for (std::size_t i = 0; i < first.pcaps.size(); ++i) {
      CHECK(first.pcaps[i].second.size() > 24);  // more than the file header
      CHECK(first.pcaps[i].second == second.pcaps[i].second);
    }
    const fs::path golden = root / "scenarios" / "expected" / (m.name + ".json");
    if (update) {
      std::ofstream(golden, std::ios::binary) << first.report;
    }
    REQUIRE(fs::exists(golden));
    CHECK(slurp(golden) == first.report);
  }
}

TEST_CASE("invalid scenarios: rejected, every error with a pointer and a line") {
  const fs::path dir = fs::path(VNETSIM_SOURCE_DIR) / "tests" / "scenario";
  auto list = files(dir / "invalid");
  CHECK(list.size() >= 10);
  const auto semantic = files(dir / "invalid_semantic");
  CHECK(semantic.size() >= 5);
  list.insert(list.end(), semantic.begin(), semantic.end());
  for (const auto& path : list) {
    CAPTURE(path.filename().string());
    const auto r = scenario::load_scenario(slurp(path));
    CHECK_FALSE(r.ok());
    CHECK(r.errors() >= 1);
    for (const auto& d : r.diagnostics) {
      CAPTURE(d.message);
      CHECK(d.line >= 1);
      CHECK(d.column >= 1);
      CHECK((d.pointer.empty() || d.pointer[0] == '/'));
    }
  }
}
