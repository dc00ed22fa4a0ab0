#pragma once
/// The service console part of a scenario host (the `console` section of a host; read by
/// lib/scenario/console_section.cpp, built by scenario/console_binding.hpp): the console's
/// own NICs, which vmnics it shares, its files, when it boots, and the pings it sends.
///
/// Device allocation [SEED][AG2]: a NIC in `nics` is console-owned (driven by a Linux
/// driver, no vmnic name; its link end is "<host>:<name>"); a vmnic listed in `shared` is a
/// VMkernel NIC meant to be reached through vmxnet_console; every other vmnic is the
/// VMkernel's.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vnetsim/dev/nic.hpp"
#include "vnetsim/kernel/sim_time.hpp"
#include "vnetsim/traffic/endpoint.hpp"
#include "vnetsim/wire/ipv4.hpp"

namespace vnetsim::scenario {

/// port_ref::port of a console NIC's link end: console_nic_port_base + its index in
/// console_spec::nics (vmnic ends use the vmnic number, far below).
inline constexpr std::uint32_t console_nic_port_base = 1U << 16;
/// Default period of the Management Interface watch (see console_binding.hpp). vnetsim's
/// choice: a state change driven by a vmnic's link is seen at most this late.
inline constexpr sim_time default_console_watch = sim_time::from_ms(10);

/// A console-owned physical NIC.
struct console_nic_spec {
  std::string name;    ///< link end "<host>:<name>"; the nic_set name is "<host>/<name>"
  std::string driver;  ///< Linux driver (modules.conf `alias ethN <driver>`), e.g. "e100"
  dev::nic_config nic;
};

/// An ICMP echo series from a console eth device (its address when the series starts).
struct console_ping_spec {
  std::string name;
  unsigned eth = 0;  ///< from ethN
  wire::ipv4_address to;
  sim_time start = sim_time::from_s(1);
  sim_time interval = traffic::default_ping_interval;
  sim_time timeout = traffic::default_ping_timeout;
  std::uint32_t count = 10;
};

struct console_spec {
  std::vector<console_nic_spec> nics;
  std::vector<unsigned> shared;                             ///< vmnic numbers
  std::vector<std::pair<std::string, std::string>> files;  ///< absolute path, content
  std::optional<sim_time> boot = sim_time::zero();          ///< nullopt: never booted
  sim_time watch = default_console_watch;
  std::vector<console_ping_spec> pings;
};

}  // namespace vnetsim::scenario
