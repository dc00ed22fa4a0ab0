#pragma once
/// Internal to the loader: reads the service console parts of a scenario (a host's
/// `console` object, `console` timeline actions, `management` and `console_ping_loss`
/// expectations) into the model, reporting every problem through `err` with its JSON
/// pointer (the loader adds line and column). Console files are checked here with the
/// host layer's parsers, so a malformed modules.conf or ifcfg file is a load error naming
/// the pointer and "<file>:<line>", never a failure half-way through a run.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vnetsim/scenario/model.hpp"

namespace vnetsim::scenario::detail {

using error_fn = std::function<void(const std::string& pointer, std::string message)>;

/// `key` as one JSON Pointer reference token: "~" -> "~0", "/" -> "~1" (RFC 6901 section 3).
std::string pointer_token(std::string_view key);

/// "an object", "a string", "an integer"... for "must be X, not Y" messages.
const char* type_name(const nlohmann::json& j);

/// Host `h`'s `console` object at pointer `p` (h.vmnics already read).
void read_console(const nlohmann::json& j, const std::string& p, const host_spec& h, console_spec& out,
                  const error_fn& err);

/// A `console` timeline action: {"at", "action": "console", "host", "command"}.
void read_console_action(const nlohmann::json& j, const std::string& p, const std::vector<host_spec>& hosts,
                         action_spec& a, const error_fn& err);

/// A `management` or `console_ping_loss` expectation (e.name is set by the loader).
void read_console_expectation(const nlohmann::json& j, const std::string& p, std::string_view type,
                              const std::vector<host_spec>& hosts, sim_time duration, expectation_spec& e,
                              const error_fn& err);

/// The link end "<host>:<suffix>" of a console NIC: its port_ref::port, nullopt if none.
std::optional<std::uint32_t> console_nic_port(const host_spec& h, std::string_view suffix);

}  // namespace vnetsim::scenario::detail
