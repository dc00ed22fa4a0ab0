// BPDU guard on the external switch: a BPDU received on a guarded port err-disables it, with
// no spanning tree, with STP and with RSTP (switch.hpp, "BPDU guard").
#include "vnetsim/net/switch.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "vnetsim/wire/bpdu.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/llc.hpp"
#include "switch_world.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;

namespace {

using test::host_mac;

/// One switch "sw1" with three edge ports, a host on each (host h = port h, link side a at
/// the host; switch_world.hpp, RNG seed 11). Port 0 has BPDU guard when `guard` is set.
struct bench : test::switch_world {
  net::switch_id sw = 0;

  bench(net::stp_mode mode, bool guard) : switch_world(11) {
    keep_frames = false;
    net::switch_config c;
    c.name = "sw1";
    c.ports = 3;
    c.stp = mode;
    c.stp_bridge.address = c.rstp_bridge.address = wire::mac_address::from_u64(0x0200'0000'0001ULL);
    c.default_port.edge = true;
    sw = sws.add(c);
    if (guard) {
      net::port_config pc;
      pc.edge = true;
      pc.bpdu_guard = true;
      sws.configure_port(sw, 0, pc);
    }
    for (std::uint32_t h = 0; h < 3; ++h) connect(sw, static_cast<net::port_no>(h));
  }

  /// A Configuration BPDU frame from host h (root priority 61440: inferior to the switch).
  static std::vector<std::byte> bpdu_frame(std::uint32_t h) {
    wire::bpdu_repr c;
    c.root = wire::bridge_id::make(61440, 0, host_mac(h));
    c.bridge = c.root;
    c.port = wire::port_id::make(128, 1);
    c.max_age = wire::bpdu_time_from_s(20);
    c.hello_time = wire::bpdu_time_from_s(2);
    c.forward_delay = wire::bpdu_time_from_s(15);
    std::vector<std::byte> b(60, std::byte{0});
    const auto s = std::span(b);
    wire::ethernet_repr{wire::stp_group_address, host_mac(h), c.length_field()}
        .emit(wire::ethernet_frame{s});
    wire::stp_llc.emit(wire::llc_header{s.subspan(wire::ethernet_header_len)});
    c.emit(wire::bpdu_packet{s.subspan(wire::ethernet_header_len + wire::llc_u_header_len)});
    return b;
  }
  /// Hands `frame` to the switch port directly at `at` (no link delay).
  void receive_at(sim_time at, net::port_no port, std::vector<std::byte> frame) {
    sim.schedule_at(at, [this, port, frame](kernel::simulator& s) {
      sws.receive(sw, port, pool.allocate_copy(frame, s.now()));
    });
  }
  /// Each host broadcasts once; returns how many broadcast data frames (not BPDUs) each
  /// host received (then forgets what was received).
  std::vector<int> exchange(std::uint32_t from) {
    got.clear();
    bcast(from);
    sim.run_until(sim.now() + 10_ms);
    std::vector<int> r(3, 0);
    for (const auto& x : got) {
      const auto eth = wire::ethernet_repr::parse(std::as_bytes(std::span(x.bytes)));
      if (eth && eth->dst.is_broadcast()) ++r[x.host];
    }
    got.clear();
    return r;
  }
  int count(net::switch_event::kind k) const { return static_cast<int>(switch_world::count(sw, k)); }
};

constexpr net::stp_mode all_modes[] = {net::stp_mode::none, net::stp_mode::stp,
                                       net::stp_mode::rstp};

const char* mode_name(net::stp_mode m) {
  switch (m) {
    case net::stp_mode::none: return "none";
    case net::stp_mode::stp: return "stp";
    case net::stp_mode::rstp: return "rstp";
  }
  return "?";
}

}  // namespace

TEST_CASE("bpdu guard: a BPDU on a guarded edge port err-disables it at that instant") {
  // Every mode with every way back: shutdown/no shutdown, clear_err_disable, power cycle.
  enum class recovery { shutdown, clear, power };
  for (const auto mode : all_modes)
  for (const auto how : {recovery::shutdown, recovery::clear, recovery::power}) {
    CAPTURE(mode_name(mode));
    CAPTURE(static_cast<int>(how));
    bench b(mode, true);
    b.sim.run_until(1_s);
    REQUIRE(b.sws.port_forwarding(b.sw, 0));  // edge: forwarding at once
    CHECK(b.exchange(0) == std::vector<int>{0, 1, 1});
    CHECK(b.exchange(1) == std::vector<int>{1, 0, 1});
    CHECK(b.sws.fdb(b.sw).peek(1, host_mac(0)));

    const sim_time t = 2_s + 123_us;
    b.receive_at(t, 0, bench::bpdu_frame(0));
    b.sim.run_until(t);
    CHECK(b.sws.port_err_disabled(b.sw, 0));
    CHECK_FALSE(b.sws.port_up(b.sw, 0));
    CHECK_FALSE(b.sws.fdb(b.sw).peek(1, host_mac(0)));  // flushed with the port
    CHECK(b.sws.counters(b.sw).bpdu_guard_err_disables == 1);
    CHECK(b.sws.counters(b.sw).bpdus_in == 0);  // never reached an engine
    if (mode == net::stp_mode::stp) {
      CHECK(b.sws.stp_engine(b.sw)->state(0) == stp::port_state::disabled);
    } else if (mode == net::stp_mode::rstp) {
      CHECK_FALSE(rstp::forwards(b.sws.rstp_engine(b.sw)->ports()[0].state));
    }
    // The log: the guard's line, then the port going down, both at t.
    const auto ev = b.sws.events();
    const auto it = std::find_if(ev.begin(), ev.end(), [](const auto& e) {
      return e.what == net::switch_event::kind::err_disabled;
    });
    REQUIRE(it != ev.end());
    CHECK(it->at == t);
    CHECK(it->port == 0);
    CHECK(it->mac == host_mac(0));
    CHECK(b.sws.to_string(*it) ==
          "2.000123s sw1: %SPANTREE-2-BLOCK_BPDUGUARD: Received BPDU on port 0 with BPDU Guard "
          "enabled. Disabling port.");
    REQUIRE(it + 1 != ev.end());
    CHECK((it + 1)->what == net::switch_event::kind::port_down);
    CHECK((it + 1)->at == t);

    // Frames stop both ways.
    const auto discards = b.sws.counters(b.sw, 0).in_discards;
    CHECK(b.exchange(1) == std::vector<int>{0, 0, 1});
    CHECK(b.exchange(0) == std::vector<int>{0, 0, 0});
    CHECK(b.sws.counters(b.sw, 0).in_discards == discards + 1);
    // Another BPDU on the disabled port changes nothing.
    b.send(0, bench::bpdu_frame(0));
    b.sim.run_until(b.sim.now() + 10_ms);
    CHECK(b.sws.counters(b.sw).bpdu_guard_err_disables == 1);
    CHECK(b.count(net::switch_event::kind::err_disabled) == 1);
    // It stays down: no recovery timer.
    b.sim.run_until(b.sim.now() + 600_s);
    CHECK(b.sws.port_err_disabled(b.sw, 0));
    CHECK_FALSE(b.sws.port_up(b.sw, 0));

    if (how == recovery::shutdown) {
      b.sws.set_admin(b.sw, 0, true);  // no shutdown alone does not
      CHECK(b.sws.port_err_disabled(b.sw, 0));
      CHECK_FALSE(b.sws.port_up(b.sw, 0));
      b.sws.set_admin(b.sw, 0, false);
      CHECK_FALSE(b.sws.port_err_disabled(b.sw, 0));
      CHECK_FALSE(b.sws.port_up(b.sw, 0));
      b.sws.set_admin(b.sw, 0, true);
      CHECK(b.count(net::switch_event::kind::err_disable_cleared) == 1);
    } else if (how == recovery::clear) {
      b.sws.clear_err_disable(b.sw, 0);
      CHECK(b.count(net::switch_event::kind::err_disable_cleared) == 1);
    } else {
      b.sws.set_power(b.sw, false);
      b.sim.run_until(b.sim.now() + 1_ms);
      b.sws.set_power(b.sw, true);
      b.sim.run_until(b.sim.now() + 1_ms);
    }
    CHECK_FALSE(b.sws.port_err_disabled(b.sw, 0));
    CHECK(b.sws.port_up(b.sw, 0));
    CHECK(b.sws.port_forwarding(b.sw, 0));  // edge: forwarding again at once
    CHECK(b.exchange(1) == std::vector<int>{1, 0, 1});
    CHECK(b.exchange(0) == std::vector<int>{0, 1, 1});
    // Guard still armed: the next BPDU err-disables the port again.
    b.send(0, bench::bpdu_frame(0));
    b.sim.run_until(b.sim.now() + 10_ms);
    CHECK(b.sws.port_err_disabled(b.sw, 0));
    CHECK(b.sws.counters(b.sw).bpdu_guard_err_disables == 2);
  }
}

TEST_CASE("bpdu guard: an unguarded edge port is not disabled by a BPDU") {
  for (const auto mode : all_modes) {
    CAPTURE(mode_name(mode));
    bench b(mode, false);
    b.sim.run_until(1_s);
    b.send(0, bench::bpdu_frame(0));
    b.sim.run_until(2_s);
    CHECK_FALSE(b.sws.port_err_disabled(b.sw, 0));
    CHECK(b.sws.port_up(b.sw, 0));
    CHECK(b.sws.counters(b.sw).bpdu_guard_err_disables == 0);
    CHECK(b.count(net::switch_event::kind::err_disabled) == 0);
    if (mode == net::stp_mode::none) {
      CHECK(b.sws.counters(b.sw).control_frames == 1);
    } else {
      CHECK(b.sws.counters(b.sw).bpdus_in == 1);  // handed to the engine
    }
    CHECK(b.sws.port_forwarding(b.sw, 0));  // an inferior BPDU: still designated
    CHECK(b.exchange(1) == std::vector<int>{1, 0, 1});
    CHECK(b.exchange(0) == std::vector<int>{0, 1, 1});
  }
}

TEST_CASE("bpdu guard: only a valid untagged BPDU trips it") {
  bench b(net::stp_mode::none, true);
  b.sim.run_until(1_s);
  auto bad = bench::bpdu_frame(0);
  bad[wire::ethernet_header_len] = std::byte{0xaa};  // LLC DSAP not 0x42: not a BPDU
  b.send(0, bad);
  b.sim.run_until(2_s);
  CHECK_FALSE(b.sws.port_err_disabled(b.sw, 0));
  CHECK(b.sws.counters(b.sw).control_frames == 1);
  // clear_err_disable on a port that is not err-disabled is a no-op.
  b.sws.clear_err_disable(b.sw, 0);
  CHECK(b.count(net::switch_event::kind::err_disable_cleared) == 0);
  CHECK(b.exchange(0) == std::vector<int>{0, 1, 1});
}
