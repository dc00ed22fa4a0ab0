#pragma once
/// The scenario loader: JSON text -> scenario::scenario_model, with strict and complete
/// validation. Every problem is collected (never only the first): unknown keys, wrong
/// types, duplicate keys, dangling name references, out-of-range values (VLAN 1-4094,
/// ports, priorities, probabilities), 802.1D timer relations (2*(forward_delay - 1s) >=
/// max_age >= 2*(hello_time + 1s), 802.1D-2004 17.14 / 802.1D-1998 8.10.2), duplicate
/// names and MACs, malformed units ("2.5s", "100ms", "1Gbps", "10Mbps"). Each diagnostic
/// carries the JSON pointer (RFC 6901) of the offending value and its line and column in
/// the text, found by recording the input position of every value while parsing (a
/// counting input iterator under nlohmann::json's parser callback).
///
/// Warnings come from the topology checks of net/topology.hpp: a physical loop through a
/// switch that runs no spanning tree (or through hubs only).
///
/// Not for the frame path: allocates freely. O(size of the text).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/scenario/model.hpp"

namespace vnetsim::scenario {

enum class severity : std::uint8_t { error, warning };
std::string_view to_string(severity s) noexcept;

/// One validation finding. line and column are 1-based; 0 when unknown.
struct diagnostic {
  severity level = severity::error;
  std::string pointer;  ///< RFC 6901 JSON pointer ("" = the document)
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;
  /// "<source>:<line>:<column>: error: <pointer>: <message>".
  std::string to_string(std::string_view source) const;
};

struct load_result {
  /// Present when there is no error (warnings allowed).
  std::optional<scenario_model> model;
  std::vector<diagnostic> diagnostics;
  bool ok() const noexcept { return model.has_value(); }
  std::size_t errors() const noexcept;
};

/// Parses and validates a scenario. Never throws on bad input: every problem is a diagnostic.
load_result load_scenario(std::string_view json_text);

/// Parses a rate with a unit: "1Gbps", "10Mbps", "100kbps", "2.5Gbps", "9600bps" (SI
/// prefixes, powers of 1000). Exact decimal arithmetic; nullopt on anything else.
std::optional<std::uint64_t> parse_rate(std::string_view text) noexcept;

/// FNV-1a 64 of the scenario text, as 16 hex digits (the report's provenance hash).
std::string scenario_hash(std::string_view text);

}  // namespace vnetsim::scenario
