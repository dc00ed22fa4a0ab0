#pragma once
/// Spanning-tree port roles, shared by the STP and RSTP engines (IEEE 802.1D-2004 17.7:
/// Root, Designated, Alternate, Backup, Disabled), printed with the standard's names.

#include <cstdint>
#include <string_view>

namespace vnetsim::proto {

enum class port_role : std::uint8_t { disabled, root, designated, alternate, backup };

constexpr std::string_view to_string(port_role r) noexcept {
  switch (r) {
    case port_role::disabled: return "Disabled";
    case port_role::root: return "Root";
    case port_role::designated: return "Designated";
    case port_role::alternate: return "Alternate";
    case port_role::backup: return "Backup";
  }
  return "?";
}

}  // namespace vnetsim::proto
