#pragma once
/// Internal to run_report.cpp: the service console parts of the report (a host's "console"
/// object in the JSON report, the "Service console" section of the human summary).

#include <string>

#include <nlohmann/json.hpp>

#include "vnetsim/scenario/world.hpp"

namespace vnetsim::report::detail {

/// Host `h`'s console: allocation, eth devices, Management Interface state and changes,
/// commands with exit status and output, /var/log/messages, console pings, stack
/// counters. Null when the host has no console.
nlohmann::ordered_json console_json(const scenario::world& w, host::host_id h);

/// The summary section ("" when no host has a console): per host, the Management
/// Interface's state and changes, the commands that failed, /var/log/messages (at most
/// `max_lines` lines, the rest counted).
std::string console_summary(const scenario::world& w, std::size_t max_lines = 40);

}  // namespace vnetsim::report::detail
