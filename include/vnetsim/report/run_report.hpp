#pragma once
/// The report of a scenario run: a deterministic JSON document and a human summary.
///
/// JSON (keys in a fixed order, two-space indent, integers and exact decimal times only,
/// so the same scenario and seed give byte-identical files): provenance (vnetsim version,
/// scenario name, FNV-1a 64 hash of the scenario text, seed, end time, events run), the
/// loader's warnings ("warnings", only when there are some), the
/// counters of every device (switches and their ports under IF-MIB / BRIDGE-MIB names,
/// links per direction, stations' NICs, hubs), per-probe statistics, frame accounting
/// (sent = delivered + lost by reason + in flight), the event timeline, and the
/// expectations with measured value, bound and verdict.
///
/// The summary: the timeline of the events that matter (faults, port changes, spanning
/// tree transitions, MAC flaps, probe gaps), a per-probe table, the accounting line and
/// the expectations with PASS/FAIL.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/kernel/sim_time.hpp"
#include "vnetsim/scenario/loader.hpp"
#include "vnetsim/scenario/world.hpp"

namespace vnetsim::report {

/// The library's version ("0.1.0").
std::string_view version() noexcept;

struct run_info {
  std::string scenario_name;
  std::string scenario_hash;  ///< scenario::scenario_hash of the text
  std::uint64_t seed = 0;
  sim_time until;
  /// The loader's warnings, as warning_lines() formats them; the JSON report lists them under
  /// "warnings" (the key is left out when there are none).
  std::vector<std::string> warnings;
};

/// The warnings among a loader's diagnostics, in file order, each "<line>:<column>: <pointer>:
/// <message>" (no file name, so the report does not depend on where the scenario was read from).
std::vector<std::string> warning_lines(const std::vector<scenario::diagnostic>& diagnostics);

/// The JSON report, ending in a newline.
std::string json_report(const scenario::world& w, const run_info& info,
                        const std::vector<scenario::expectation_result>& results);

/// The human summary; `max_timeline` caps the timeline lines (the rest are counted).
std::string human_summary(const scenario::world& w, const run_info& info,
                          const std::vector<scenario::expectation_result>& results,
                          std::size_t max_timeline = 60);

}  // namespace vnetsim::report
