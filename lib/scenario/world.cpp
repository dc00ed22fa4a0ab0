#include "vnetsim/scenario/world.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "vnetsim/net/topology.hpp"
#include "vnetsim/report/pcap_writer.hpp"
#include "vnetsim/scenario/console_binding.hpp"
#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/vlan.hpp"

namespace vnetsim::scenario {

std::string_view to_string(action_kind k) noexcept {
  switch (k) {
    case action_kind::link_down: return "link_down";
    case action_kind::link_up: return "link_up";
    case action_kind::black_hole: return "black_hole";
    case action_kind::loss: return "loss";
    case action_kind::delay: return "delay";
    case action_kind::switch_power: return "switch_power";
    case action_kind::port_admin: return "port_admin";
    case action_kind::trap_ether_type: return "trap_ether_type";
    case action_kind::port_config: return "configure_port";
    case action_kind::set_advanced: return "set_advanced";
    case action_kind::set_nicteam: return "set_nicteam";
    case action_kind::console: return "console";
    case action_kind::vm_power: return "vm_power";
    case action_kind::bond_member: return "bond_member";
    case action_kind::rename_label: return "rename_label";
  }
  return "unknown";
}

std::string_view to_string(comparison c) noexcept {
  switch (c) {
    case comparison::eq: return "==";
    case comparison::le: return "<=";
    case comparison::ge: return ">=";
    case comparison::lt: return "<";
    case comparison::gt: return ">";
  }
  return "?";
}

bool compare(comparison c, std::int64_t measured, std::int64_t bound) noexcept {
  switch (c) {
    case comparison::eq: return measured == bound;
    case comparison::le: return measured <= bound;
    case comparison::ge: return measured >= bound;
    case comparison::lt: return measured < bound;
    case comparison::gt: return measured > bound;
  }
  return false;
}

std::string_view to_string(expectation_kind k) noexcept {
  switch (k) {
    case expectation_kind::port_state: return "port_state";
    case expectation_kind::mac_flaps: return "mac_flaps";
    case expectation_kind::frames_lost: return "frames_lost";
    case expectation_kind::link_counter: return "link_counter";
    case expectation_kind::probe_lost: return "probe_lost";
    case expectation_kind::probe_duplicates: return "probe_duplicates";
    case expectation_kind::probe_max_gap: return "probe_max_gap";
    case expectation_kind::spanning_tree: return "spanning_tree";
    case expectation_kind::flow_lost: return "flow_lost";
    case expectation_kind::flow_duplicates: return "flow_duplicates";
    case expectation_kind::flow_max_gap: return "flow_max_gap";
    case expectation_kind::ping_loss: return "ping_loss";
    case expectation_kind::bond_failover: return "bond_failover";
    case expectation_kind::beacon_state: return "beacon_state";
    case expectation_kind::host_counter: return "host_counter";
    case expectation_kind::management: return "management";
    case expectation_kind::console_ping_loss: return "console_ping_loss";
    case expectation_kind::vnic_uplink: return "vnic_uplink";
    case expectation_kind::tcp_bytes: return "tcp_bytes";
    case expectation_kind::tcp_retransmits: return "tcp_retransmits";
    case expectation_kind::tcp_max_stall: return "tcp_max_stall";
  }
  return "unknown";
}

namespace {

/// Probe payload layout after the Ethernet header (and any tag): magic, probe, seq, time.
constexpr std::size_t probe_magic_off = 0, probe_id_off = 4, probe_seq_off = 8, probe_time_off = 16;
constexpr std::size_t probe_fields_len = 24;
constexpr std::size_t eth_header_len = 14;
constexpr std::uint16_t tpid_8021q = 0x8100;  // IEEE 802.1Q-2018 9.5, Table 9-1
/// The Bridge Group Address BPDUs go to (802.1D-2004 7.12.3, Table 7-9).
constexpr wire::mac_address stp_group = wire::mac_address::from_u64(0x0180'c200'0000ULL);

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view side_name(dev::link_side s) { return s == dev::link_side::a ? "a" : "b"; }

std::string_view event_name(net::switch_event::kind k) {
  using K = net::switch_event::kind;
  switch (k) {
    case K::mac_flap: return "mac_flap";
    case K::mac_pinned: return "mac_pinned";
    case K::port_up: return "port_up";
    case K::port_down: return "port_down";
    case K::power_off: return "power_off";
    case K::power_on: return "power_on";
    case K::channel_member_active: return "channel_member_active";
    case K::channel_member_inactive: return "channel_member_inactive";
    case K::err_disabled: return "err_disabled";
    case K::err_disable_cleared: return "err_disable_cleared";
  }
  return "unknown";
}

std::string_view host_event_name(host::host_event::kind k) {
  using K = host::host_event::kind;
  switch (k) {
    case K::member_state: return "member_state";
    case K::beacon_state: return "beacon_state";
    case K::active_changed: return "active_changed";
    case K::failover: return "failover";
    case K::failback: return "failback";
    case K::reflection: return "reflection";
    case K::config: return "config";
    case K::notify: return "notify";
  }
  return "unknown";
}

std::uint64_t counter_of(const dev::link_direction_stats& s, std::string_view name) {
  if (name == "out_frames") return s.out_frames;
  if (name == "out_octets") return s.out_octets;
  if (name == "out_discards") return s.out_discards;
  if (name == "no_carrier") return s.no_carrier;
  if (name == "delivered") return s.delivered;
  if (name == "lost_carrier") return s.lost_carrier;
  if (name == "lost_black_hole") return s.lost_black_hole;
  if (name == "lost_random") return s.lost_random;
  if (name == "fcs_errors") return s.fcs_errors;
  if (name == "queue_high_water") return s.queue_high_water;
  throw scenario_error(fmt::format("link counter \"{}\" does not exist", name));
}

}  // namespace

world::world(std::uint64_t seed, sim_time observe_interval)
    : streams_(seed),
      links_(sim_, streams_),
      nics_(sim_, pool_, links_),
      hubs_(sim_, links_),
      switches_(sim_, links_, pool_),
      endpoints_(sim_, pool_, streams_),
      hosts_(sim_, pool_, links_, nics_, streams_),
      observe_interval_(observe_interval) {
  if (observe_interval <= sim_time::zero()) {
    throw scenario_error(fmt::format("observe_interval {} must be positive", observe_interval));
  }
  station_kind_ = sim_.register_kind("scenario/station", &world::on_station_arrival, this);
  hub_kind_ = sim_.register_kind("scenario/hub", &world::on_hub_arrival, this);
  probe_kind_ = sim_.register_kind("scenario/probe", &world::on_probe_send, this);
  vnic_kind_ = sim_.register_kind("scenario/vnic", &world::on_vnic_delivery, this);
}

console_binding& world::console_hooks() {
  if (!consoles_) consoles_ = std::make_unique<console_binding>(*this);
  return *consoles_;
}

world::~world() {
  try {
    close_captures();
  } catch (...) {  // NOLINT: a destructor must not throw; close_captures() reports errors
  }
}

// --- building ----------------------------------------------------------------------------

const world::device& world::find_device(std::string_view name, std::string_view what) const {
  for (const auto& [n, d] : devices_) {
    if (n == name) return d;
  }
  throw scenario_error(fmt::format("{}: no switch, hub, station or endpoint named \"{}\"", what, name));
}

std::optional<net::switch_id> world::find_switch(std::string_view name) const noexcept {
  for (const auto& [n, d] : devices_) {
    if (n == name && d.kind == device_kind::switch_) return d.id;
  }
  return std::nullopt;
}

dev::link_id world::link_named(std::string_view name) const {
  const auto id = links_.find(name);
  if (!id) throw scenario_error(fmt::format("no link named \"{}\"", name));
  return *id;
}

net::switch_id world::add_switch(const switch_spec& s) {
  for (const auto& [n, d] : devices_) {
    if (n == s.cfg.name) throw scenario_error(fmt::format("switch \"{}\": duplicate device name", s.cfg.name));
  }
  net::switch_id id = 0;
  try {
    id = switches_.add(s.cfg);
    for (const auto& [port, cfg] : s.ports) switches_.configure_port(id, port, cfg);
    for (const auto& ch : s.channels) switches_.add_port_channel(id, ch);
  } catch (const std::invalid_argument& e) {
    throw scenario_error(fmt::format("switch \"{}\": {}", s.cfg.name, e.what()));
  }
  devices_.push_back({s.cfg.name, {device_kind::switch_, id}});
  if (s.cfg.stp != net::stp_mode::none) {
    if (s.cfg.link_detect_delay > sim_time::zero()) detect_delays_.emplace_back(id, s.cfg.link_detect_delay);
    for (net::port_no p = 0; p < s.cfg.ports; ++p) watched_.push_back({id, p, port_state_code(id, p)});
    if (!observing_) {
      observing_ = true;
      sim_.schedule_at(sim_.now(), [this](kernel::simulator&) { observe(); });
    }
  }
  return id;
}

dev::hub_id world::add_hub(const hub_spec& h) {
  for (const auto& [n, d] : devices_) {
    if (n == h.name) throw scenario_error(fmt::format("hub \"{}\": duplicate device name", h.name));
  }
  dev::hub_id id = 0;
  try {
    id = hubs_.add(h.name, h.ports, h.latency);
  } catch (const std::invalid_argument& e) {
    throw scenario_error(fmt::format("hub \"{}\": {}", h.name, e.what()));
  }
  devices_.push_back({h.name, {device_kind::hub, id}});
  return id;
}

station_id world::add_station(const station_spec& s) {
  for (const auto& [n, d] : devices_) {
    if (n == s.name) throw scenario_error(fmt::format("station \"{}\": duplicate device name", s.name));
  }
  dev::nic_id nic = 0;
  try {
    nic = nics_.add(s.name, s.nic);
  } catch (const std::invalid_argument& e) {
    throw scenario_error(fmt::format("station \"{}\": {}", s.name, e.what()));
  }
  const auto id = static_cast<station_id>(stations_.size());
  stations_.push_back({s.name, nic, {}});
  if (station_of_nic_.size() <= nic) station_of_nic_.resize(nic + 1, 0);
  station_of_nic_[nic] = id;
  devices_.push_back({s.name, {device_kind::station, id}});
  return id;
}

traffic::endpoint_id world::add_endpoint(const endpoint_spec& e) {
  const std::string& name = e.cfg.name;
  for (const auto& [n, d] : devices_) {
    if (n == name) throw scenario_error(fmt::format("endpoint \"{}\": duplicate device name", name));
  }
  traffic::endpoint_id id = 0;
  try {
    const dev::nic_id nic = nics_.add(name, e.nic);
    id = endpoints_.add(e.cfg);
    endpoints_.attach_nic(id, nics_, nic);
    if (endpoint_nic_.size() <= id) endpoint_nic_.resize(id + 1, 0);
    endpoint_nic_[id] = nic;
  } catch (const std::invalid_argument& x) {
    throw scenario_error(fmt::format("endpoint \"{}\": {}", name, x.what()));
  }
  devices_.push_back({name, {device_kind::endpoint, id}});
  return id;
}

host::host_id world::add_host(const host_spec& h) {
  for (const auto& [n, d] : devices_) {
    if (n == h.name) throw scenario_error(fmt::format("host \"{}\": duplicate device name", h.name));
  }
  // Every host_error names the JSON pointer of the object being built.
  std::string at = h.pointer;
  const auto fail = [&](const std::exception& x) {
    throw scenario_error(fmt::format("{}host \"{}\": {}", at.empty() ? "" : at + ": ", h.name, x.what()));
  };
  host::host_id id = 0;
  try {
    id = hosts_.add_host(h.name);
  } catch (const std::invalid_argument& x) {
    fail(x);
  }
  const std::string base = h.pointer;
  for (const auto& a : settings_) {
    at = "/settings/" + a.key;
    try {
      hosts_.set_advanced(id, a.key, a.value);
    } catch (const std::invalid_argument& x) {
      fail(x);
    }
  }
  for (const auto& a : h.advanced) {
    at = base + "/advanced/" + a.key;
    try {
      hosts_.set_advanced(id, a.key, a.value);
    } catch (const std::invalid_argument& x) {
      fail(x);
    }
  }
  for (std::size_t i = 0; i < h.vmnics.size(); ++i) {
    at = fmt::format("{}/vmnics/{}", base, i);
    try {
      (void)hosts_.add_vmnic(id, h.vmnics[i]);
    } catch (const std::invalid_argument& x) {
      fail(x);
    }
  }
  for (std::size_t i = 0; i < h.bonds.size(); ++i) {
    const bond_spec& b = h.bonds[i];
    at = fmt::format("{}/bonds/{}", base, i);
    try {
      hosts_.add_bond(id, b.number, b.members);
    } catch (const std::invalid_argument& x) {
      fail(x);
    }
    for (const auto& kv : b.nicteam) {
      at = fmt::format("{}/bonds/{}/nicteam/{}", base, i, kv.key);
      try {
        hosts_.set_nicteam(id, fmt::format("nicteam.bond{}.{}", b.number, kv.key), kv.value);
      } catch (const std::invalid_argument& x) {
        fail(x);
      }
    }
  }
  if (host_vswitches_.size() <= id) host_vswitches_.resize(id + 1);
  for (std::size_t i = 0; i < h.vswitches.size(); ++i) {
    const vswitch_spec& v = h.vswitches[i];
    at = fmt::format("{}/vswitches/{}", base, i);
    host::vswitch_id vs = 0;
    try {
      vs = hosts_.add_vswitch(id, v.label, v.binding, v.ports);
    } catch (const std::invalid_argument& x) {
      fail(x);
    }
    host_vswitches_[id].push_back(vs);
    for (std::size_t k = 0; k < v.port_groups.size(); ++k) {
      at = fmt::format("{}/vswitches/{}/port_groups/{}", base, i, k);
      try {
        hosts_.add_port_group(id, vs, v.port_groups[k].label, v.port_groups[k].vlan);
      } catch (const std::invalid_argument& x) {
        fail(x);
      }
    }
  }
  devices_.push_back({h.name, {device_kind::host, id}});
  for (std::size_t i = 0; i < h.vms.size(); ++i) {
    const vm_spec& vm = h.vms[i];
    at = fmt::format("{}/vms/{}", base, i);
    host::vm_id vid = 0;
    try {
      vid = hosts_.add_vm(id, vm.name);
    } catch (const std::invalid_argument& x) {
      fail(x);
    }
    for (std::size_t k = 0; k < vm.vnics.size(); ++k) {
      const vnic_spec& vn = vm.vnics[k];
      at = fmt::format("{}/vms/{}/vnics/{}", base, i, k);
      for (const auto& [n, d] : devices_) {
        if (n == vn.ep.name) fail(scenario_error(fmt::format("endpoint \"{}\": duplicate device name", n)));
      }
      try {
        host::vnic_config c = vn.cfg;
        c.delivery = {vnic_kind_, 0, sim_time::zero()};
        const host::vnic_id v = hosts_.add_vnic(vid, c);
        traffic::endpoint_config ec = vn.ep;
        ec.mac = hosts_.vnic_mac(v);
        const traffic::endpoint_id ep = endpoints_.add(ec);
        endpoints_.attach_custom(ep, &world::on_vnic_tx, this, v, hosts_.vnic_capabilities(v));
        if (vnic_endpoint_.size() <= v) vnic_endpoint_.resize(v + 1, 0);
        vnic_endpoint_[v] = ep;
        devices_.push_back({ec.name, {device_kind::vm_endpoint, ep}});
      } catch (const std::invalid_argument& x) {
        fail(x);
      }
    }
    if (!vm.running) {
      try {
        hosts_.set_vm_running(vid, false);
      } catch (const std::invalid_argument& x) {
        fail(x);
      }
    }
  }
  if (host_specs_.size() <= id) host_specs_.resize(id + 1);
  host_specs_[id] = h;
  if (h.console) console_hooks().add(id, h);
  return id;
}

traffic::flow_id world::add_flow(const flow_spec& f) {
  const std::string what = fmt::format("flow \"{}\"", f.name);
  const device& from = find_device(f.from, what);
  const device& to = find_device(f.to, what);
  if (!is_endpoint(from) || !is_endpoint(to)) {
    throw scenario_error(fmt::format("{}: \"from\" and \"to\" must be endpoints", what));
  }
  traffic::udp_flow_config c;
  c.name = f.name;
  c.src = from.id;
  c.dst = endpoints_.config(to.id).ip;
  c.dst_endpoint = to.id;
  c.src_port = f.src_port;
  c.dst_port = f.dst_port;
  c.payload_len = f.payload;
  c.process = f.process;
  c.rate_pps = f.rate_pps;
  c.start = f.start;
  c.stop = f.stop;
  try {
    return endpoints_.add_udp_flow(c);
  } catch (const std::invalid_argument& x) {
    throw scenario_error(fmt::format("{}: {}", what, x.what()));
  }
}

traffic::ping_id world::add_ping(const ping_spec& p) {
  const std::string what = fmt::format("ping \"{}\"", p.name);
  const device& from = find_device(p.from, what);
  const device& to = find_device(p.to, what);
  if (!is_endpoint(from) || !is_endpoint(to)) {
    throw scenario_error(fmt::format("{}: \"from\" and \"to\" must be endpoints", what));
  }
  traffic::ping_config c;
  c.name = p.name;
  c.src = from.id;
  c.dst = endpoints_.config(to.id).ip;
  c.start = p.start;
  c.interval = p.interval;
  c.timeout = p.timeout;
  c.count = p.count;
  try {
    return endpoints_.add_ping(c);
  } catch (const std::invalid_argument& x) {
    throw scenario_error(fmt::format("{}: {}", what, x.what()));
  }
}

void world::set_settings(const std::vector<setting>& settings) {
  for (host::host_id h = 0; h < hosts_.host_count(); ++h) {
    for (const auto& a : settings) {
      try {
        hosts_.set_advanced(h, a.key, a.value);
      } catch (const std::invalid_argument& x) {
        throw scenario_error(fmt::format("/settings/{}: {}", a.key, x.what()));
      }
    }
  }
  settings_ = settings;
}

tcp::session_id world::add_tcp(const tcp_spec& t) {
  const std::string what = fmt::format("tcp \"{}\"", t.name);
  const device& from = find_device(t.from, what);
  const device& to = find_device(t.to, what);
  if (!is_endpoint(from) || !is_endpoint(to)) {
    throw scenario_error(fmt::format("{}: \"from\" and \"to\" must be endpoints", what));
  }
  if (t.stop && *t.stop <= t.start) throw scenario_error(fmt::format("{}: stop {} is not after start {}", what, *t.stop, t.start));
  tcp::bulk_session_config c;
  c.name = t.name;
  c.client = from.id;
  c.server = to.id;
  c.client_port = t.client_port;
  c.server_port = t.server_port;
  c.client_tcp.mss = c.server_tcp.mss = t.mss;
  c.start = t.start;
  c.app.bytes = t.bytes;
  c.app.bin = t.bin;
  if (t.stop) c.app.expected_duration = *t.stop - t.start;
  if (!tcp_) tcp_ = std::make_unique<tcp::tcp_set>(sim_, endpoints_, streams_);
  tcp::session_id id = 0;
  try {
    id = tcp_->add_tcp_bulk(c);
  } catch (const std::invalid_argument& x) {
    throw scenario_error(fmt::format("{}: {}", what, x.what()));
  }
  if (tcp_specs_.size() <= id) tcp_specs_.resize(id + 1);
  tcp_specs_[id] = t;
  if (t.stop) {
    sim_.schedule_at(*t.stop, [this, id, name = t.name](kernel::simulator&) {
      tcp_->stop(id);
      log_.push_back({sim_.now(), "tcp", "stop", fmt::format("tcp {}: the client stops writing", name)});
      if (trace_ != nullptr) trace_line(fmt::format("{} tcp {} stop", sim_.now(), name));
    });
  }
  return id;
}

std::uint64_t world::tcp_goodput_bps(tcp::session_id s) const {
  const auto r = tcp_->report(s);
  const sim_time end = r.app.completed_at.value_or(sim_.now());
  const sim_time start = tcp_specs_.at(s).start;
  if (end <= start) return 0;
  const auto bits = static_cast<unsigned __int128>(r.app.bytes_delivered) * 8U * 1'000'000'000U;
  return static_cast<std::uint64_t>(bits / static_cast<unsigned __int128>((end - start).ns()));
}

std::uint64_t world::ping_lost(traffic::ping_id p) const {
  std::uint64_t n = 0;
  for (const auto& pr : endpoints_.ping_results(p)) {
    if (pr.status == traffic::probe_status::timed_out || pr.status == traffic::probe_status::not_sent) ++n;
  }
  return n;
}

dev::link_id world::add_link(const link_spec& l) {
  const std::string what = fmt::format("link \"{}\"", l.name);
  const device& a = find_device(l.a.device, what);
  const device& b = find_device(l.b.device, what);
  auto vmnic_of = [&](const device& d, const port_ref& r) -> dev::nic_id {
    const auto nic = hosts_.vmnic_nic(d.id, r.port);
    if (!nic) throw scenario_error(fmt::format("{}: host \"{}\" has no vmnic{}", what, r.device, r.port));
    return *nic;
  };
  auto console_nic_of = [&](const device& d, const port_ref& r) -> dev::nic_id {
    const auto nic = consoles_ ? consoles_->console_nic(d.id, r.port) : std::nullopt;
    if (!nic) throw scenario_error(fmt::format("{}: host \"{}\" has no console NIC for port {}", what, r.device, r.port));
    return *nic;
  };
  auto endpoint_of = [&](const device& d, const port_ref& r) -> dev::endpoint {
    switch (d.kind) {
      case device_kind::switch_:
        if (r.port >= switches_.port_count(d.id)) {
          throw scenario_error(fmt::format("{}: switch \"{}\" has no port {}", what, r.device, r.port));
        }
        return switches_.endpoint(d.id, static_cast<net::port_no>(r.port));
      case device_kind::hub: return hubs_.endpoint_for(d.id, r.port, hub_kind_);
      case device_kind::station: return nics_.endpoint_for(stations_[d.id].nic, station_kind_);
      case device_kind::endpoint: return endpoints_.nic_endpoint(endpoint_nic_[d.id]);
      case device_kind::host:
        if (r.port >= console_nic_port_base) return console_hooks().nic_endpoint(d.id, console_nic_of(d, r));
        return hosts_.uplink_endpoint(vmnic_of(d, r));
      case device_kind::vm_endpoint:
        throw scenario_error(fmt::format("{}: \"{}\" is a VM's endpoint (on a vNIC): it takes no link", what, r.device));
    }
    return {};
  };
  dev::link_id id = 0;
  try {
    const dev::endpoint ea = endpoint_of(a, l.a), eb = endpoint_of(b, l.b);
    id = links_.add(l.name, l.cfg, ea, eb);
    auto attach = [&](const device& d, const port_ref& r, dev::link_side side) {
      switch (d.kind) {
        case device_kind::switch_: switches_.attach(d.id, static_cast<net::port_no>(r.port), id, side); break;
        case device_kind::hub: hubs_.attach(d.id, r.port, id, side); break;
        case device_kind::station: nics_.attach(stations_[d.id].nic, id, side); break;
        case device_kind::endpoint: nics_.attach(endpoint_nic_[d.id], id, side); break;
        case device_kind::host:
          nics_.attach(r.port >= console_nic_port_base ? console_nic_of(d, r) : vmnic_of(d, r), id, side);
          break;
        case device_kind::vm_endpoint: break;
      }
    };
    attach(a, l.a, dev::link_side::a);
    attach(b, l.b, dev::link_side::b);
  } catch (const scenario_error&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw scenario_error(fmt::format("{}: {}", what, e.what()));
  }
  link_specs_.push_back(l);
  const auto runs_stp = [&](const device& d) {
    return d.kind == device_kind::switch_ &&
           (switches_.stp_engine(d.id) != nullptr || switches_.rstp_engine(d.id) != nullptr);
  };
  const bool bpdu_watch = runs_stp(a) || runs_stp(b);
  auto t = std::make_unique<tap>();
  t->w = this;
  t->link = id;
  t->bpdu_watch = bpdu_watch;
  taps_.push_back(std::move(t));
  if (a.kind == device_kind::host || b.kind == device_kind::host) {
    const bool host_a = a.kind == device_kind::host;
    tap& ht = *taps_.back();
    ht.host = host_a ? a.id : b.id;
    ht.vmnic = host_a ? l.a.port : l.b.port;
    ht.host_side = host_a ? dev::link_side::a : dev::link_side::b;
  }
  if (trace_ != nullptr || bpdu_watch) install_tap(id);
  return id;
}

probe_id world::add_probe(const probe_spec& p) {
  const std::string what = fmt::format("probe \"{}\"", p.name);
  if (find_probe(p.name)) throw scenario_error(fmt::format("{}: duplicate probe name", what));
  if (p.interval <= sim_time::zero() || p.stop < p.start || p.start < sim_.now()) {
    throw scenario_error(fmt::format("{}: needs interval > 0 and now <= start <= stop", what));
  }
  if (p.size < 60 || p.size > 1514) throw scenario_error(fmt::format("{}: size {} is not in 60-1514", what, p.size));
  probe pr;
  pr.cfg = p;
  const device& from = find_device(p.from, what);
  const device& to = find_device(p.to, what);
  if (from.kind != device_kind::station || to.kind != device_kind::station) {
    throw scenario_error(fmt::format("{}: \"from\" and \"to\" must be stations", what));
  }
  pr.from = from.id;
  pr.to = to.id;
  pr.dst = p.dst_mac.value_or(nics_.config(stations_[to.id].nic).mac);
  pr.expected = static_cast<std::uint64_t>((p.stop - p.start) / p.interval) + 1;
  pr.seen.assign((pr.expected + 63) / 64, 0);
  const auto id = static_cast<probe_id>(probes_.size());
  probes_.push_back(std::move(pr));
  sim_.schedule_at(p.start, probe_kind_, id);
  return id;
}

std::optional<probe_id> world::find_probe(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < probes_.size(); ++i) {
    if (probes_[i].cfg.name == name) return static_cast<probe_id>(i);
  }
  return std::nullopt;
}

void world::schedule(const action_spec& a) {
  // Check the target now, so that a bad name fails at build time, not mid-run.
  switch (a.kind) {
    case action_kind::link_down:
    case action_kind::link_up:
    case action_kind::black_hole:
    case action_kind::loss:
    case action_kind::delay: (void)link_named(a.target); break;
    case action_kind::set_advanced:
    case action_kind::set_nicteam:
    case action_kind::vm_power:
    case action_kind::bond_member:
    case action_kind::rename_label:
      if (!hosts_.find_host(a.target)) {
        throw scenario_error(fmt::format("timeline {}: no host named \"{}\"", to_string(a.kind), a.target));
      }
      if (a.kind == action_kind::vm_power && !hosts_.find_vm(*hosts_.find_host(a.target), a.key)) {
        throw scenario_error(fmt::format("timeline vm_power: host \"{}\" has no VM named \"{}\"", a.target, a.key));
      }
      break;
    case action_kind::console:
      if (!consoles_) throw scenario_error(fmt::format("timeline console: host \"{}\" has no service console", a.target));
      consoles_->check_action(a);
      break;
    default:
      if (!find_switch(a.target)) throw scenario_error(fmt::format("timeline {}: no switch named \"{}\"", to_string(a.kind), a.target));
      if (a.kind != action_kind::switch_power && a.kind != action_kind::trap_ether_type &&
          a.port >= switches_.port_count(*find_switch(a.target))) {
        throw scenario_error(fmt::format("timeline {}: switch \"{}\" has no port {}", to_string(a.kind), a.target, a.port));
      }
  }
  if (a.kind == action_kind::loss && !(a.probability >= 0.0 && a.probability <= 1.0)) {
    throw scenario_error(fmt::format("timeline loss on \"{}\": probability {} is not in [0, 1]", a.target, a.probability));
  }
  const std::size_t index = actions_.size();
  actions_.push_back(a);
  sim_.schedule_at(a.at, [this, index](kernel::simulator&) { run_action(index); });
}

void world::run_action(std::size_t index) {
  const action_spec& a = actions_[index];
  // Host events before the action go to the trace first; those the action causes after it.
  if (trace_ != nullptr) trace_host_events();
  std::string detail;
  const auto sides = [&]() -> std::vector<dev::link_side> {
    if (a.from) return {*a.from};
    return {dev::link_side::a, dev::link_side::b};
  };
  switch (a.kind) {
    case action_kind::link_down:
    case action_kind::link_up:
      links_.set_carrier(link_named(a.target), a.kind == action_kind::link_up);
      detail = fmt::format("link {} carrier {}", a.target, a.kind == action_kind::link_up ? "up" : "down");
      break;
    case action_kind::black_hole:
      for (auto s : sides()) links_.set_black_hole(link_named(a.target), s, a.on);
      detail = fmt::format("link {} black hole {} from {}", a.target, a.on ? "on" : "off",
                           a.from ? side_name(*a.from) : "both sides");
      break;
    case action_kind::loss:
      for (auto s : sides()) links_.set_loss(link_named(a.target), s, a.probability);
      detail = fmt::format("link {} loss {} from {}", a.target, a.probability, a.from ? side_name(*a.from) : "both sides");
      break;
    case action_kind::delay:
      links_.set_delay(link_named(a.target), a.delay);
      detail = fmt::format("link {} delay {}", a.target, a.delay);
      break;
    case action_kind::switch_power:
      switches_.set_power(*find_switch(a.target), a.on);
      detail = fmt::format("switch {} power {}", a.target, a.on ? "on" : "off");
      break;
    case action_kind::port_admin:
      switches_.set_admin(*find_switch(a.target), a.port, a.on);
      detail = fmt::format("switch {} port {} {}", a.target, a.port, a.on ? "no shutdown" : "shutdown");
      break;
    case action_kind::trap_ether_type:
      switches_.set_trap_ether_type(*find_switch(a.target), a.on ? std::optional<std::uint16_t>(a.ether_type) : std::nullopt);
      detail = fmt::format("switch {} trap EtherType {:#06x} {}", a.target, a.ether_type, a.on ? "on" : "off");
      break;
    case action_kind::port_config:
      switches_.configure_port(*find_switch(a.target), a.port, a.port_cfg);
      detail = fmt::format("switch {} port {} reconfigured", a.target, a.port);
      break;
    case action_kind::set_advanced:
    case action_kind::set_nicteam:
    case action_kind::vm_power:
    case action_kind::bond_member:
    case action_kind::rename_label:
      // A rejected change is part of the run's story, not a crash: it goes into the timeline.
      try {
        run_host_action(a, detail);
      } catch (const std::invalid_argument& x) {
        log_.push_back({sim_.now(), "timeline", "rejected", fmt::format("{} rejected: {}", detail, x.what())});
        if (trace_ != nullptr) trace_write(fmt::format("{} timeline rejected {}", sim_.now(), x.what()));
        return;
      }
      break;
    case action_kind::console:
      consoles_->run_action(a);  // its own timeline entries, with the command's exit status
      return;
  }
  log_.push_back({sim_.now(), "timeline", std::string(to_string(a.kind)), detail});
  if (trace_ != nullptr) trace_write(fmt::format("{} timeline {}", sim_.now(), detail));
  observe_soon();  // carrier and power changes reach the engines in events at this time
  observe_after_detection();
}

void world::run_host_action(const action_spec& a, std::string& detail) {
  const host::host_id h = *hosts_.find_host(a.target);
  switch (a.kind) {
    case action_kind::set_advanced:
    case action_kind::set_nicteam:
      detail = fmt::format("host {} {} = {}", a.target, a.key, a.value);
      if (a.kind == action_kind::set_advanced) hosts_.set_advanced(h, a.key, a.value);
      else hosts_.set_nicteam(h, a.key, a.value);
      break;
    case action_kind::vm_power:
      // Powering a VM off disconnects its vNICs (the host drops their frames, dropped_vm_off).
      detail = fmt::format("host {} VM {} power {}", a.target, a.key, a.on ? "on" : "off");
      hosts_.set_vm_running(*hosts_.find_vm(h, a.key), a.on);
      break;
    case action_kind::bond_member:
      detail = fmt::format("host {} bond{} {} vmnic{}", a.target, a.bond, a.on ? "add member" : "remove member", a.vmnic);
      if (a.on) hosts_.bond_add_member(h, a.bond, a.vmnic);
      else hosts_.bond_remove_member(h, a.bond, a.vmnic);
      break;
    case action_kind::rename_label:
      detail = fmt::format("host {} label {} renamed {}", a.target, a.key, a.value);
      hosts_.rename_label(h, a.key, a.value);
      break;
    default: break;
  }
}

void world::install_tap(dev::link_id id) {
  links_.set_tap(id, dev::link_side::a, &world::on_tap, taps_[id].get());
  links_.set_tap(id, dev::link_side::b, &world::on_tap, taps_[id].get());
}

void world::capture(const capture_spec& c, const std::filesystem::path& dir) {
  const dev::link_id id = link_named(c.link);
  if (taps_[id]->pcap != nullptr) throw scenario_error(fmt::format("capture of link \"{}\": already captured", c.link));
  auto w = std::make_unique<report::pcap_writer>(dir / (c.file.empty() ? c.link + ".pcap" : c.file));
  taps_[id]->pcap = w.get();
  pcaps_.push_back(std::move(w));
  install_tap(id);
}

void world::set_trace(std::FILE* out) {
  trace_ = out;
  if (out != nullptr) {
    for (dev::link_id id = 0; id < links_.size(); ++id) install_tap(id);
  }
}

void world::trace_line(std::string_view line) {
  trace_host_events();
  trace_write(line);
}

void world::trace_write(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), trace_);
  std::fputc('\n', trace_);
}

void world::trace_host_events() {
  const auto events = hosts_.events();
  for (; traced_host_events_ < events.size(); ++traced_host_events_) {
    const auto& e = events[traced_host_events_];
    std::string line = hosts_.to_string(e);
    const std::string stamp = e.at.to_string() + " ";
    if (line.starts_with(stamp)) line.erase(0, stamp.size());
    trace_write(fmt::format("{} host {} {}", e.at, host_event_name(e.what), line));
  }
}

void world::close_captures() {
  for (auto& p : pcaps_) p->close();
}

void world::expect(const expectation_spec& e) {
  switch (e.kind) {
    case expectation_kind::port_state:
      if (!find_switch(e.target)) throw scenario_error(fmt::format("expectation {}: no switch named \"{}\"", e.name, e.target));
      if (e.port >= switches_.port_count(*find_switch(e.target))) {
        throw scenario_error(fmt::format("expectation {}: switch \"{}\" has no port {}", e.name, e.target, e.port));
      }
      if (e.at.has_value() == e.by.has_value()) {
        throw scenario_error(fmt::format("expectation {}: give exactly one of at and by", e.name));
      }
      if (e.by && !switches_.stp_engine(*find_switch(e.target)) && !switches_.rstp_engine(*find_switch(e.target))) {
        throw scenario_error(fmt::format("expectation {}: \"by\" needs a switch running STP or RSTP", e.name));
      }
      break;
    case expectation_kind::mac_flaps:
      if (!find_switch(e.target)) throw scenario_error(fmt::format("expectation {}: no switch named \"{}\"", e.name, e.target));
      break;
    case expectation_kind::link_counter:
      (void)link_named(e.target);
      (void)counter_of({}, e.counter);
      break;
    case expectation_kind::probe_lost:
    case expectation_kind::probe_duplicates:
    case expectation_kind::probe_max_gap:
      if (!find_probe(e.target)) throw scenario_error(fmt::format("expectation {}: no probe named \"{}\"", e.name, e.target));
      break;
    case expectation_kind::flow_lost:
    case expectation_kind::flow_duplicates:
    case expectation_kind::flow_max_gap:
      if (!endpoints_.find_flow(e.target)) throw scenario_error(fmt::format("expectation {}: no flow named \"{}\"", e.name, e.target));
      break;
    case expectation_kind::ping_loss:
      if (!endpoints_.find_ping(e.target)) throw scenario_error(fmt::format("expectation {}: no ping named \"{}\"", e.name, e.target));
      break;
    case expectation_kind::spanning_tree:
      if (!e.at) throw scenario_error(fmt::format("expectation {}: spanning_tree needs \"at\"", e.name));
      break;
    case expectation_kind::frames_lost: break;
    case expectation_kind::bond_failover:
    case expectation_kind::beacon_state: {
      const auto h = hosts_.find_host(e.target);
      if (!h) throw scenario_error(fmt::format("expectation {}: no host named \"{}\"", e.name, e.target));
      try {
        (void)hosts_.bond_policy(*h, e.port);
      } catch (const std::invalid_argument& x) {
        throw scenario_error(fmt::format("expectation {}: {}", e.name, x.what()));
      }
      if (e.kind == expectation_kind::bond_failover && e.form != failover_form::vm_traffic &&
          !member_index(*h, e.port, e.from_vmnic)) {
        throw scenario_error(fmt::format("expectation {}: vmnic{} is not a member of bond{}", e.name, e.from_vmnic, e.port));
      }
      if (e.kind == expectation_kind::bond_failover && !e.by) {
        throw scenario_error(fmt::format("expectation {}: bond_failover needs \"by\"", e.name));
      }
      if (e.kind == expectation_kind::beacon_state && !e.at) {
        throw scenario_error(fmt::format("expectation {}: beacon_state needs \"at\"", e.name));
      }
      if (e.kind == expectation_kind::beacon_state && !member_index(*h, e.port, e.from_vmnic)) {
        throw scenario_error(fmt::format("expectation {}: vmnic{} is not a member of bond{}", e.name, e.from_vmnic, e.port));
      }
      break;
    }
    case expectation_kind::host_counter:
      if (!hosts_.find_host(e.target)) throw scenario_error(fmt::format("expectation {}: no host named \"{}\"", e.name, e.target));
      (void)host_counter(*hosts_.find_host(e.target), e.counter);
      break;
    case expectation_kind::management:
    case expectation_kind::console_ping_loss:
      if (!consoles_) throw scenario_error(fmt::format("expectation {}: no host has a service console", e.name));
      consoles_->check_expectation(e);
      break;
    case expectation_kind::vnic_uplink: check_vnic_uplink(e); break;
    case expectation_kind::tcp_bytes:
    case expectation_kind::tcp_retransmits:
    case expectation_kind::tcp_max_stall:
      if (!tcp_ || !tcp_->find(e.target)) {
        throw scenario_error(fmt::format("expectation {}: no tcp session named \"{}\"", e.name, e.target));
      }
      break;
  }
  const std::size_t index = expectations_.size();
  expectations_.push_back(e);
  checks_.push_back({index, {}, false, false});
  if (e.kind == expectation_kind::bond_failover && e.form == failover_form::vm_traffic) {
    checks_.back().watch = watch_vm(e);
  }
  if (e.at) {
    sim_.schedule_at(*e.at, [this, index](kernel::simulator&) { check_at(index); });
  }
}

void world::check_at(std::size_t index) {
  const expectation_spec& e = expectations_[index];
  pending_check& c = checks_[index];
  c.done = true;
  if (e.kind == expectation_kind::port_state) {
    c.measured = port_state(*find_switch(e.target), e.port);
    c.pass = c.measured == e.state;
  } else if (e.kind == expectation_kind::spanning_tree) {
    std::string reason;
    c.pass = spanning_tree_ok(reason);
    c.measured = c.pass ? "loop-free and connected" : reason;
  } else if (e.kind == expectation_kind::beacon_state) {
    const auto h = *hosts_.find_host(e.target);
    const beacon::monitor* m = hosts_.beacon_monitor(h, e.port);
    c.measured = m == nullptr ? "no beacon monitor"
                              : std::string(beacon::to_string(m->state(*member_index(h, e.port, e.from_vmnic))));
    c.pass = c.measured == e.state;
  } else if (e.kind == expectation_kind::management) {
    c.measured = consoles_->management_now(e.target);
  } else if (e.kind == expectation_kind::vnic_uplink) {
    c.measured = vnic_uplink_now(e);
    c.pass = c.measured == fmt::format("vmnic{}", e.to_vmnic);
  }
}

std::optional<host::vnic_id> world::vnic_named(std::string_view name) const {
  for (const auto& [n, d] : devices_) {
    if (n != name || d.kind != device_kind::vm_endpoint) continue;
    for (std::size_t v = 0; v < vnic_endpoint_.size(); ++v) {
      if (vnic_endpoint_[v] == d.id) return static_cast<host::vnic_id>(v);
    }
  }
  return std::nullopt;
}

void world::check_vnic_uplink(const expectation_spec& e) const {
  const auto h = hosts_.find_host(e.target);
  if (!h) throw scenario_error(fmt::format("expectation {}: no host named \"{}\"", e.name, e.target));
  if (!e.at) throw scenario_error(fmt::format("expectation {}: vnic_uplink needs \"at\"", e.name));
  if (!member_index(*h, e.port, e.to_vmnic)) {
    throw scenario_error(fmt::format("expectation {}: vmnic{} is not a member of bond{}", e.name, e.to_vmnic, e.port));
  }
  const auto v = vnic_named(e.vnic);
  if (!v) throw scenario_error(fmt::format("expectation {}: no VM vNIC named \"{}\"", e.name, e.vnic));
  // The vNIC's network (a vswitch or port group label) must belong to a vswitch bound to the bond.
  for (const auto& vm : host_specs_[*h].vms) {
    for (const auto& vn : vm.vnics) {
      if (vn.ep.name != e.vnic) continue;
      for (const auto& vs : host_specs_[*h].vswitches) {
        bool on = vs.label == vn.cfg.network;
        for (const auto& pg : vs.port_groups) on = on || pg.label == vn.cfg.network;
        const auto* b = std::get_if<host::bond_binding>(&vs.binding);
        if (on && b != nullptr && b->number == e.port) return;
      }
    }
  }
  throw scenario_error(fmt::format("expectation {}: vNIC \"{}\" is not on a vswitch of host {} bound to bond{}", e.name,
                                   e.vnic, e.target, e.port));
}

std::string world::vnic_uplink_now(const expectation_spec& e) const {
  const bond::policy& p = hosts_.bond_policy(*hosts_.find_host(e.target), e.port);
  // out-ip picks a member per IPv4 address pair (bond_policy.hpp), not per vNIC.
  if (p.current_mode() == bond::mode::out_ip) return "out-ip: by address pair, not by vNIC";
  // out-mac and standby: select() reads the bucket of the source MAC (standby: every
  // bucket holds the active member), so the bucket's owner is the member every frame takes.
  const auto m = p.bucket_owner(bond::mac_bucket(hosts_.vnic_mac(*vnic_named(e.vnic))));
  if (!m) return "none (no healthy member)";
  return fmt::format("vmnic{}", p.status(*m).vmnic);
}

std::optional<bond::member> world::member_index(host::host_id h, unsigned bond_number, unsigned vmnic) const {
  if (h >= hosts_.host_count()) return std::nullopt;
  // The members now (bond_add_member / bond_remove_member change them).
  const auto members = hosts_.bond_vmnics(h, bond_number);
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i] == vmnic) return static_cast<bond::member>(i);
  }
  return std::nullopt;
}

std::size_t world::watch_vm(const expectation_spec& e) {
  const device& d = find_device(e.vm, fmt::format("expectation {}", e.name));
  const auto h = hosts_.find_host(e.target);
  if (d.kind != device_kind::vm_endpoint || !h) {
    throw scenario_error(fmt::format("expectation {}: \"{}\" is not a VM endpoint of host \"{}\"", e.name, e.vm, e.target));
  }
  const wire::mac_address mac = endpoints_.config(d.id).mac;
  for (std::size_t i = 0; i < vm_watches_.size(); ++i) {
    if (vm_watches_[i].mac == mac && vm_watches_[i].host == *h) return i;
  }
  vm_watch w;
  w.mac = mac;
  w.host = *h;
  w.moves.reserve(max_vm_moves);
  vm_watches_.push_back(std::move(w));
  for (dev::link_id id = 0; id < taps_.size(); ++id) {
    if (taps_[id]->host == *h) {
      taps_[id]->vm_watch = true;
      install_tap(id);
    }
  }
  return vm_watches_.size() - 1;
}

std::string world::evaluate_failover(const expectation_spec& e, const pending_check& c, bool& pass) const {
  const auto h = *hosts_.find_host(e.target);
  std::optional<sim_time> moved;
  std::string what = "no such move";
  switch (e.form) {
    case failover_form::active_changed:
      for (const auto& ev : hosts_.events()) {
        if (ev.host != h || ev.bond != std::optional<unsigned>(e.port) || ev.at <= e.after) continue;
        if (ev.what == host::host_event::kind::active_changed && ev.from_vmnic == std::optional<unsigned>(e.from_vmnic) &&
            ev.to_vmnic == std::optional<unsigned>(e.to_vmnic)) {
          moved = ev.at;
          break;
        }
      }
      break;
    case failover_form::member_leaves:
      what = "stayed in the active set";
      for (const auto& ev : hosts_.events()) {
        if (ev.host != h || ev.bond != std::optional<unsigned>(e.port) || ev.at <= e.after) continue;
        if (ev.what == host::host_event::kind::failover && ev.vmnic == std::optional<unsigned>(e.from_vmnic)) {
          moved = ev.at;
          break;
        }
      }
      if (moved) {
        pass = *moved <= *e.by;
        return fmt::format("left at {}", *moved);
      }
      break;
    case failover_form::vm_traffic: {
      const vm_watch& w = vm_watches_[c.watch];
      for (const auto& m : w.moves) {
        if (m.at > e.after && m.from == e.from_vmnic && m.to == e.to_vmnic) {
          moved = m.at;
          break;
        }
      }
      if (!moved) {
        what = w.last ? fmt::format("no such move (last frame left over vmnic{})", *w.last) : "no frame of that VM left the host";
        if (w.moves_not_kept > 0) what += fmt::format("; {} later moves not kept", w.moves_not_kept);
      }
      break;
    }
  }
  pass = moved && *moved <= *e.by;
  return moved ? fmt::format("moved at {}", *moved) : what;
}

std::uint64_t world::host_counter(host::host_id h, std::string_view name) const {
  const host_spec& spec = host_specs_.at(h);
  std::uint64_t n = 0;
  const auto vs_sum = [&](std::uint64_t host::vswitch_counters::*field) {
    for (const host::vswitch_id vs : host_vswitches_.at(h)) n += hosts_.vswitch_stats(vs).*field;
  };
  const auto bond_sum = [&](std::uint64_t host::bond_counters::*field) {
    for (const auto& b : spec.bonds) {
      n += hosts_.bond_stats(h, b.number).*field;
    }
  };
  if (name == "reflections") vs_sum(&host::vswitch_counters::reflections);
  else if (name == "local_deliveries") vs_sum(&host::vswitch_counters::local_deliveries);
  else if (name == "uplink_tx") vs_sum(&host::vswitch_counters::uplink_tx);
  else if (name == "uplink_rx") vs_sum(&host::vswitch_counters::uplink_rx);
  else if (name == "dropped_vlan") vs_sum(&host::vswitch_counters::dropped_vlan);
  else if (name == "dropped_no_uplink") vs_sum(&host::vswitch_counters::dropped_no_uplink);
  else if (name == "dropped_unknown_dst") vs_sum(&host::vswitch_counters::dropped_unknown_dst);
  else if (name == "beacons_rx") vs_sum(&host::vswitch_counters::beacons_rx);
  else if (name == "failovers") bond_sum(&host::bond_counters::failovers);
  else if (name == "failbacks") bond_sum(&host::bond_counters::failbacks);
  else if (name == "beacons_tx") bond_sum(&host::bond_counters::beacons_tx);
  else if (name == "duplicates_sent") bond_sum(&host::bond_counters::duplicates_sent);
  else throw scenario_error(fmt::format("host counter \"{}\" does not exist", name));
  return n;
}

// --- the per-frame handlers ----------------------------------------------------------------

void world::on_hub_arrival(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& w = *static_cast<world*>(ctx);
  auto a = w.links_.take_arrival(ev.target);
  if (a.frame) w.hubs_.receive(a.device, a.port, std::move(a.frame));
}

void world::on_station_arrival(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& w = *static_cast<world*>(ctx);
  auto a = w.links_.take_arrival(ev.target);
  if (!a.frame) return;
  const dev::frame_ref f = w.nics_.receive(a.device, std::move(a.frame));
  if (!f) return;
  w.station_receive(w.station_of_nic_[a.device], f);
}

void world::on_vnic_delivery(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& w = *static_cast<world*>(ctx);
  const auto v = static_cast<host::vnic_id>(ev.arg);
  dev::frame_ref f = w.hosts_.take_delivery(v);
  if (!f) return;
  w.endpoints_.receive(w.vnic_endpoint_[v], std::move(f));
}

void world::on_vnic_tx(void* ctx, std::uint32_t port, dev::frame_ref frame) {
  // A guest endpoint with a VLAN (vnic_spec vlan) hands its 802.1Q tag over as
  // frame_meta::vlan_tci, "for the NIC or owner to insert" (traffic/endpoint.hpp). Here the
  // owner is the virtual NIC: the guest's tag belongs in the bytes the virtual switch reads,
  // which passes it on a VGT port group and drops it on an EST or VST one [VLANWP][VS67].
  // Left in the metadata, it would slip past the vswitch and be inserted by the physical
  // NIC (a second tag behind a VST tag). No allocation: the pool keeps headroom for a tag.
  if (frame.meta().vlan_tci) [[unlikely]] {
    const std::uint16_t tci = *frame.meta().vlan_tci;
    const wire::vlan_repr tag{tpid_8021q, static_cast<std::uint8_t>(tci >> 13), ((tci >> 12) & 1) != 0,
                              static_cast<std::uint16_t>(tci & 0x0fff)};
    if (frame.unique() && frame.size() >= eth_header_len && frame.push_front(wire::vlan_tag_len) &&
        wire::emit_tag_in_place(frame.data(), tag)) {
      frame.meta().vlan_tci.reset();
    }
    // Otherwise (no headroom, a shared buffer: neither happens to an endpoint's fresh frame)
    // the tag stays in the metadata and the frame goes on as before: nothing is lost.
  }
  // The host counts every outcome (vnic_counters, vswitch_counters).
  (void)static_cast<world*>(ctx)->hosts_.vnic_transmit(port, std::move(frame));
}

void world::station_receive(station_id s, const dev::frame_ref& f) {
  station& st = stations_[s];
  const auto b = f.cdata();
  std::size_t off = eth_header_len;
  if (b.size() < eth_header_len + probe_fields_len) {
    ++st.stats.other_frames;
    return;
  }
  std::uint16_t type = wire::get_u16(b, 12);
  if (type == tpid_8021q && b.size() >= eth_header_len + 4 + probe_fields_len) {
    type = wire::get_u16(b, 16);
    off += 4;
  }
  if (type != probe_ether_type || wire::get_u32(b, off + probe_magic_off) != probe_magic) {
    ++st.stats.other_frames;
    return;
  }
  const std::uint32_t id = wire::get_u32(b, off + probe_id_off);
  if (id >= probes_.size() || probes_[id].to != s) {
    ++st.stats.other_frames;
    return;
  }
  ++st.stats.probe_frames;
  probe& p = probes_[id];
  probe_stats& ps = p.stats;
  const std::uint64_t seq = wire::get_u64(b, off + probe_seq_off);
  const sim_time sent = sim_time::from_ns(static_cast<sim_time::rep>(wire::get_u64(b, off + probe_time_off)));
  const sim_time now = sim_.now();
  ++ps.delivered;
  if (seq >= p.expected) return;  // cannot happen: we wrote it
  std::uint64_t& word = p.seen[seq / 64];
  const std::uint64_t bit = std::uint64_t{1} << (seq % 64);
  if ((word & bit) != 0) {
    ++ps.duplicates;
    return;
  }
  word |= bit;
  const sim_time latency = now - sent;
  if (ps.unique == 0) {
    ps.latency_min = ps.latency_max = latency;
    ps.first_delivery = now;
  } else {
    ps.latency_min = std::min(ps.latency_min, latency);
    ps.latency_max = std::max(ps.latency_max, latency);
    if (seq < ps.max_seq_seen) ++ps.reordered;
    const sim_time gap = now - *ps.last_delivery;
    if (gap > ps.max_gap) {
      ps.max_gap = gap;
      ps.gap_from = *ps.last_delivery;
      ps.gap_to = now;
    }
  }
  ps.max_seq_seen = std::max(ps.max_seq_seen, seq);
  ++ps.unique;
  ps.latency_sum_ns += static_cast<std::uint64_t>(latency.ns());
  ps.last_delivery = now;
}

void world::on_probe_send(void* ctx, kernel::simulator& sim, const kernel::event& ev) {
  auto& w = *static_cast<world*>(ctx);
  probe& p = w.probes_[ev.target];
  const sim_time now = sim.now();
  dev::frame_ref f = w.pool_.allocate(p.cfg.size, now);
  if (!f) {
    ++p.stats.send_failed;  // pool exhausted (counted by the pool too)
  } else {
    const auto b = f.data();
    p.dst.write(b, 0);
    w.nics_.config(w.stations_[p.from].nic).mac.write(b, 6);
    wire::put_u16(b, 12, probe_ether_type);
    std::memset(b.data() + eth_header_len, 0, b.size() - eth_header_len);
    wire::put_u32(b, eth_header_len + probe_magic_off, probe_magic);
    wire::put_u32(b, eth_header_len + probe_id_off, ev.target);
    wire::put_u64(b, eth_header_len + probe_seq_off, p.next_seq);
    wire::put_u64(b, eth_header_len + probe_time_off, static_cast<std::uint64_t>(now.ns()));
    f.meta().flow_id = ev.target + 1;
    f.meta().flow_seq = p.next_seq;
    if (p.cfg.vlan) f.meta().vlan_tci = *p.cfg.vlan;
    if (w.nics_.transmit(w.stations_[p.from].nic, std::move(f)) == dev::nic_tx_result::sent) {
      ++p.stats.sent;
    } else {
      ++p.stats.send_failed;
    }
  }
  ++p.next_seq;
  if (p.next_seq < p.expected) sim.schedule_at(p.cfg.start + p.cfg.interval * static_cast<sim_time::rep>(p.next_seq), w.probe_kind_, ev.target);
}

void world::on_tap(void* ctx, std::uint32_t link, dev::link_side from, sim_time at, const dev::frame_ref& frame) {
  auto& t = *static_cast<tap*>(ctx);
  if (t.pcap != nullptr) t.pcap->write(at, frame);
  world& w = *t.w;
  // A BPDU (to the Bridge Group Address 01-80-C2-00-00-00, 802.1D-2004 7.12.3) may change
  // port states when the receiving switch runs it: look right after that event.
  if (t.bpdu_watch && frame.size() >= 6 && wire::mac_address::read(frame.cdata(), 0) == stp_group) w.observe_soon();
  if (t.vm_watch && from == t.host_side && frame.size() >= 12) {
    const auto src = wire::mac_address::read(frame.cdata(), 6);
    for (auto& v : w.vm_watches_) {
      if (v.host != *t.host || v.mac != src) continue;
      if (v.last && *v.last != t.vmnic) {
        if (v.moves.size() < max_vm_moves) v.moves.push_back({at, *v.last, t.vmnic});
        else ++v.moves_not_kept;
      }
      v.last = t.vmnic;
    }
  }
  if (w.trace_ != nullptr) {
    const auto b = frame.cdata();
    std::string line = fmt::format("{} deliver {} from {} len {}", at, w.links_.name(link), side_name(from), b.size());
    if (b.size() >= eth_header_len) {
      line += fmt::format(" {} > {} type {:#06x}", wire::mac_address::read(b, 6), wire::mac_address::read(b, 0),
                          wire::get_u16(b, 12));
    }
    w.trace_line(line);
  }
}

// --- observation -------------------------------------------------------------------------

namespace {
/// Port states as small codes, so that sampling compares integers: 802.1D states, then
/// RSTP states (offset 8), then a port without a spanning tree (offset 16: up / down).
constexpr std::uint8_t rstp_code = 8, plain_code = 16;
}  // namespace

std::uint8_t world::port_state_code(net::switch_id sw, net::port_no port) const {
  if (const auto* e = switches_.stp_engine(sw)) return static_cast<std::uint8_t>(e->state(port));
  if (const auto* e = switches_.rstp_engine(sw)) return static_cast<std::uint8_t>(rstp_code + static_cast<std::uint8_t>(e->state(port)));
  return switches_.port_up(sw, port) ? plain_code : plain_code + 1;
}

std::string world::state_name(std::uint8_t code) {
  if (code < rstp_code) return lower(stp::to_string(static_cast<stp::port_state>(code)));
  if (code < plain_code) return lower(rstp::to_string(static_cast<rstp::port_state>(code - rstp_code)));
  return code == plain_code ? "forwarding" : "disabled";
}

std::string world::port_state(net::switch_id sw, net::port_no port) const {
  return state_name(port_state_code(sw, port));
}

void world::sample() {
  for (auto& w : watched_) {
    const std::uint8_t now_state = port_state_code(w.sw, w.port);
    if (now_state != w.state) [[unlikely]] {
      // A powered-off switch has no engine: its ports read "disabled" under another code.
      const std::string from = state_name(w.state), to = state_name(now_state);
      w.state = now_state;
      if (from == to) continue;
      const std::string detail = fmt::format("{} port {}: {}=>{}", switches_.name(w.sw), w.port, from, to);
      log_.push_back({sim_.now(), "stp", "port_state", detail});
      if (trace_ != nullptr) trace_line(fmt::format("{} stp {}", sim_.now(), detail));
    }
  }
}

std::optional<sim_time> world::next_engine_deadline() const {
  std::optional<sim_time> next;
  for (net::switch_id sw = 0; sw < switches_.size(); ++sw) {
    std::optional<sim_time> d;
    if (const auto* e = switches_.stp_engine(sw)) d = e->next_deadline();
    else if (const auto* r = switches_.rstp_engine(sw)) d = r->next_deadline();
    if (d && (!next || *d < *next)) next = d;
  }
  return next;
}

void world::arm_deadline_watch() {
  const auto next = next_engine_deadline();
  if (!next || *next < sim_.now()) return;
  if (sim_.pending(deadline_watch_) && deadline_watch_at_ == *next) return;
  sim_.cancel(deadline_watch_);
  deadline_watch_at_ = *next;
  deadline_watch_ = sim_.schedule_at(*next, [this](kernel::simulator&) { on_deadline_watch(); });
}

void world::on_deadline_watch() {
  // The switch's timer event for this deadline normally runs first (it was scheduled
  // earlier); if it was rescheduled after ours, it is still pending at this time: look
  // again once, after it.
  if (!deadline_retry_ && next_engine_deadline() == sim_.now()) {
    deadline_retry_ = true;
    deadline_watch_ = sim_.schedule_at(sim_.now(), [this](kernel::simulator&) { on_deadline_watch(); });
    return;
  }
  deadline_retry_ = false;
  sample();
  arm_deadline_watch();
}

void world::observe_soon() {
  if (watched_.empty() || (sim_.pending(soon_watch_) && soon_at_ == sim_.now())) return;
  soon_at_ = sim_.now();
  soon_watch_ = sim_.schedule_at(sim_.now(), [this](kernel::simulator&) {
    sample();
    arm_deadline_watch();
  });
}

void world::observe_after_detection() {
  // A switch applies a carrier change link_detect_delay after it (net/switch.hpp): its
  // detection event is scheduled by its carrier event at this time. Look right after it:
  // from an event at this time (after the carrier events), one sample at now + delay.
  std::vector<sim_time> delays;
  for (const auto& [sw, d] : detect_delays_) {
    if (std::find(delays.begin(), delays.end(), d) == delays.end()) delays.push_back(d);
  }
  if (delays.empty()) return;
  sim_.schedule_at(sim_.now(), [this, delays](kernel::simulator&) {
    for (const sim_time d : delays) {
      sim_.schedule_in(d, [this](kernel::simulator&) {
        sample();
        arm_deadline_watch();
      });
    }
  });
}

void world::observe() {
  sample();
  arm_deadline_watch();
  sim_.schedule_in(observe_interval_, [this](kernel::simulator&) { observe(); });
}

bool world::spanning_tree_ok(std::string& reason) const {
  net::topology t;
  std::vector<net::node_id> node_of(devices_.size());
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    const auto& [name, d] = devices_[i];
    if (d.kind == device_kind::vm_endpoint) continue;  // behind its host's vswitch, no link
    const auto kind = d.kind == device_kind::switch_ ? net::node_kind::bridge
                      : d.kind == device_kind::hub   ? net::node_kind::hub
                                                     : net::node_kind::host;  // stations, endpoints
    node_of[i] = t.add_node(name, kind);
  }
  auto index_of = [&](const std::string& name) {
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      if (devices_[i].first == name) return node_of[i];
    }
    return net::node_id{0};
  };
  for (dev::link_id id = 0; id < link_specs_.size(); ++id) {
    const auto& l = link_specs_[id];
    t.add_link(index_of(l.a.device), l.a.port, index_of(l.b.device), l.b.port, links_.carrier(id), l.name);
  }
  const auto verdict = net::check_spanning_tree(t, [&](net::node_id n, net::topo_port port) {
    const auto sw = find_switch(t.node(n).name);
    if (!sw) return true;
    return switches_.port_up(*sw, static_cast<net::port_no>(port)) &&
           switches_.port_forwarding(*sw, static_cast<net::port_no>(port));
  });
  reason = verdict.reason;
  return verdict.ok;
}

// --- running -----------------------------------------------------------------------------

void world::run_until(sim_time end, progress_fn progress, void* ctx) {
  if (progress == nullptr) {
    sim_.run_until(end);
    if (trace_ != nullptr) trace_host_events();
    return;
  }
  const sim_time start = sim_.now();
  const sim_time step = std::max((end - start) / 100, sim_time::from_ns(1));
  while (sim_.now() < end && !sim_.stopped()) {
    sim_.run_until(std::min(end, sim_.now() + step));
    progress(ctx, *this);
  }
  if (trace_ != nullptr) trace_host_events();
}

// --- read side ---------------------------------------------------------------------------

std::string_view world::station_name(station_id s) const { return stations_.at(s).name; }
dev::nic_id world::station_nic(station_id s) const { return stations_.at(s).nic; }
const station_stats& world::station_counters(station_id s) const { return stations_.at(s).stats; }
const probe_spec& world::probe_config(probe_id p) const { return probes_.at(p).cfg; }
const probe_stats& world::probe_results(probe_id p) const { return probes_.at(p).stats; }

frame_accounting world::accounting() const {
  frame_accounting a;
  for (dev::link_id id = 0; id < links_.size(); ++id) {
    for (auto side : {dev::link_side::a, dev::link_side::b}) {
      const auto& s = links_.stats(id, side);
      a.sent += s.out_frames;
      a.delivered += s.delivered;
      a.lost_carrier += s.lost_carrier;
      a.lost_black_hole += s.lost_black_hole;
      a.lost_random += s.lost_random;
      a.fcs_errors += s.fcs_errors;
      a.refused_queue_full += s.out_discards;
      a.refused_no_carrier += s.no_carrier;
    }
  }
  a.in_flight = a.sent - a.delivered - a.lost_carrier - a.lost_black_hole - a.lost_random - a.fcs_errors;
  return a;
}

std::vector<timeline_entry> world::timeline() const {
  std::vector<timeline_entry> out;
  std::vector<int> rank;
  for (const auto& e : log_) {
    out.push_back(e);
    rank.push_back(e.source == "timeline" ? 0 : 2);
  }
  // A loop makes flaps by the thousand: list the first few of each switch, then one line.
  std::vector<std::uint64_t> flaps(switches_.size(), 0);
  std::vector<sim_time> last_flap(switches_.size());
  for (const auto& e : switches_.events()) {
    if (e.what == net::switch_event::kind::mac_flap && ++flaps[e.sw] > timeline_flaps_per_switch) {
      last_flap[e.sw] = e.at;
      continue;
    }
    std::string line = switches_.to_string(e);
    const std::string stamp = e.at.to_string() + " ";
    if (line.starts_with(stamp)) line.erase(0, stamp.size());  // the entry has the time already
    out.push_back({e.at, "switch", std::string(event_name(e.what)), std::move(line)});
    rank.push_back(1);
  }
  for (net::switch_id sw = 0; sw < flaps.size(); ++sw) {
    if (flaps[sw] <= timeline_flaps_per_switch) continue;
    out.push_back({last_flap[sw], "switch", "mac_flaps_not_listed",
                   fmt::format("{}: {} more MAC flaps up to {} (counted in its mac_flaps counter)", switches_.name(sw),
                               flaps[sw] - timeline_flaps_per_switch, last_flap[sw])});
    rank.push_back(1);
  }
  for (const auto& e : hosts_.events()) {
    std::string line = hosts_.to_string(e);
    const std::string stamp = e.at.to_string() + " ";
    if (line.starts_with(stamp)) line.erase(0, stamp.size());
    out.push_back({e.at, "host", std::string(host_event_name(e.what)), std::move(line)});
    rank.push_back(2);
  }
  if (consoles_) {
    for (auto& e : consoles_->timeline()) {
      out.push_back(std::move(e));
      rank.push_back(2);
    }
  }
  for (const auto& p : probes_) {
    if (p.stats.max_gap > sim_time::zero()) {
      out.push_back({p.stats.gap_from, "probe", "longest_gap",
                     fmt::format("probe {}: longest gap {} (from {} to {})", p.cfg.name, p.stats.max_gap,
                                 p.stats.gap_from, p.stats.gap_to)});
      rank.push_back(3);
    }
  }
  std::vector<std::size_t> order(out.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return std::tie(out[x].at, rank[x]) < std::tie(out[y].at, rank[y]);
  });
  std::vector<timeline_entry> sorted;
  sorted.reserve(out.size());
  for (std::size_t i : order) sorted.push_back(std::move(out[i]));
  return sorted;
}

std::vector<expectation_result> world::evaluate() const {
  std::vector<expectation_result> out;
  for (std::size_t i = 0; i < expectations_.size(); ++i) {
    const expectation_spec& e = expectations_[i];
    const pending_check& c = checks_[i];
    expectation_result r;
    r.name = e.name;
    const auto count = [&](std::string text, std::int64_t measured) {
      r.text = std::move(text);
      r.measured = std::to_string(measured);
      r.bound = fmt::format("{} {}", to_string(e.op), e.value);
      r.pass = compare(e.op, measured, e.value);
    };
    switch (e.kind) {
      case expectation_kind::port_state:
        if (e.at) {
          r.text = fmt::format("switch {} port {} {} at t = {}", e.target, e.port, e.state, *e.at);
          r.bound = fmt::format("{} at {}", e.state, *e.at);
          r.measured = c.done ? c.measured : "not reached (the run ended earlier)";
          r.pass = c.done && c.pass;
        } else {
          r.text = fmt::format("switch {} port {} {} by t = {} (entered after {})", e.target, e.port, e.state, *e.by,
                               e.after);
          r.bound = fmt::format("<= {}", *e.by);
          // The last entry into the state at or after `after`, from the sampled transitions.
          const std::string prefix = fmt::format("{} port {}: ", e.target, e.port);
          std::optional<sim_time> entered;
          std::string state_at_after;
          for (const auto& l : log_) {
            if (l.source != "stp" || !l.detail.starts_with(prefix)) continue;
            const std::string to = l.detail.substr(l.detail.find("=>") + 2);
            if (l.at <= e.after) {
              state_at_after = to;
              continue;
            }
            if (to == e.state && !entered) entered = l.at;
            if (to != e.state) entered.reset();
          }
          if (!entered && state_at_after == e.state) entered = e.after;
          if (entered) {
            r.measured = fmt::format("{} at {}", e.state, *entered);
            r.pass = *entered <= *e.by;
          } else {
            r.measured = fmt::format("not {} at the end", e.state);
            r.pass = false;
          }
        }
        break;
      case expectation_kind::mac_flaps:
        count(fmt::format("MAC flaps on switch {}", e.target),
              static_cast<std::int64_t>(switches_.counters(*find_switch(e.target)).mac_flaps));
        break;
      case expectation_kind::frames_lost:
        count("frames lost on all links", static_cast<std::int64_t>(accounting().lost()));
        break;
      case expectation_kind::link_counter:
        count(fmt::format("link {} from {} {}", e.target, side_name(e.from), e.counter),
              static_cast<std::int64_t>(counter_of(links_.stats(link_named(e.target), e.from), e.counter)));
        break;
      case expectation_kind::probe_lost:
        count(fmt::format("probe {} frames lost", e.target),
              static_cast<std::int64_t>(probes_[*find_probe(e.target)].stats.lost()));
        break;
      case expectation_kind::probe_duplicates:
        count(fmt::format("probe {} duplicates", e.target),
              static_cast<std::int64_t>(probes_[*find_probe(e.target)].stats.duplicates));
        break;
      case expectation_kind::probe_max_gap: {
        const auto& ps = probes_[*find_probe(e.target)].stats;
        r.text = fmt::format("probe {} longest gap", e.target);
        r.measured = ps.max_gap.to_string();
        r.bound = fmt::format("{} {}", to_string(e.op), sim_time::from_ns(e.value));
        r.pass = ps.unique > 0 && compare(e.op, ps.max_gap.ns(), e.value);
        if (ps.unique == 0) r.measured = "nothing delivered";
        break;
      }
      case expectation_kind::flow_lost:
        count(fmt::format("flow {} datagrams lost", e.target),
              static_cast<std::int64_t>(endpoints_.flow_stats(*endpoints_.find_flow(e.target)).lost));
        break;
      case expectation_kind::flow_duplicates:
        count(fmt::format("flow {} duplicates", e.target),
              static_cast<std::int64_t>(endpoints_.flow_stats(*endpoints_.find_flow(e.target)).duplicated));
        break;
      case expectation_kind::flow_max_gap: {
        const auto& fs = endpoints_.flow_stats(*endpoints_.find_flow(e.target));
        r.text = fmt::format("flow {} longest gap", e.target);
        r.measured = fs.delivered > 0 ? fs.longest_gap.to_string() : "nothing delivered";
        r.bound = fmt::format("{} {}", to_string(e.op), sim_time::from_ns(e.value));
        r.pass = fs.delivered > 0 && compare(e.op, fs.longest_gap.ns(), e.value);
        break;
      }
      case expectation_kind::ping_loss:
        count(fmt::format("ping {} probes without a reply", e.target),
              static_cast<std::int64_t>(ping_lost(*endpoints_.find_ping(e.target))));
        break;
      case expectation_kind::bond_failover: {
        if (e.form == failover_form::member_leaves) {
          r.text = fmt::format("vmnic{} leaves the active set of bond{} on host {} after {}", e.from_vmnic, e.port,
                               e.target, e.after);
        } else if (e.form == failover_form::vm_traffic) {
          r.text = fmt::format("traffic of VM {} on bond{} of host {} moves from vmnic{} to vmnic{} after {}", e.vm,
                               e.port, e.target, e.from_vmnic, e.to_vmnic, e.after);
        } else {
          r.text = fmt::format("bond{} on host {} moves from vmnic{} to vmnic{} after {}", e.port, e.target, e.from_vmnic,
                               e.to_vmnic, e.after);
        }
        r.bound = fmt::format("in ({}, {}]", e.after, *e.by);
        r.measured = evaluate_failover(e, c, r.pass);
        break;
      }
      case expectation_kind::tcp_bytes:
      case expectation_kind::tcp_retransmits: {
        const auto rep = tcp_->report(*tcp_->find(e.target));
        if (e.kind == expectation_kind::tcp_bytes) {
          count(fmt::format("tcp {} bytes delivered", e.target), static_cast<std::int64_t>(rep.app.bytes_delivered));
        } else {
          count(fmt::format("tcp {} retransmitted segments", e.target), static_cast<std::int64_t>(rep.app.retransmissions));
        }
        break;
      }
      case expectation_kind::tcp_max_stall: {
        const auto rep = tcp_->report(*tcp_->find(e.target));
        r.text = fmt::format("tcp {} longest stall", e.target);
        r.measured = rep.app.longest_stall.to_string();
        r.bound = fmt::format("{} {}", to_string(e.op), sim_time::from_ns(e.value));
        r.pass = compare(e.op, rep.app.longest_stall.ns(), e.value);
        break;
      }
      case expectation_kind::beacon_state:
        r.text = fmt::format("host {} bond{} vmnic{} beacon state {} at t = {}", e.target, e.port, e.from_vmnic, e.state, *e.at);
        r.bound = fmt::format("{} at {}", e.state, *e.at);
        r.measured = c.done ? c.measured : "not reached (the run ended earlier)";
        r.pass = c.done && c.pass;
        break;
      case expectation_kind::vnic_uplink:
        r.text = fmt::format("host {} bond{} carries vNIC {} on vmnic{} at t = {}", e.target, e.port, e.vnic,
                             e.to_vmnic, *e.at);
        r.bound = fmt::format("vmnic{} at {}", e.to_vmnic, *e.at);
        r.measured = c.done ? c.measured : "not reached (the run ended earlier)";
        r.pass = c.done && c.pass;
        break;
      case expectation_kind::host_counter:
        count(fmt::format("host {} {}", e.target, e.counter),
              static_cast<std::int64_t>(host_counter(*hosts_.find_host(e.target), e.counter)));
        break;
      case expectation_kind::management:
      case expectation_kind::console_ping_loss:
        r = consoles_->evaluate(e, c.done ? std::optional<std::string>(c.measured) : std::nullopt);
        break;
      case expectation_kind::spanning_tree:
        r.text = fmt::format("forwarding ports loop-free and connected at t = {}", *e.at);
        r.bound = "loop-free and connected";
        r.measured = c.done ? c.measured : "not reached (the run ended earlier)";
        r.pass = c.done && c.pass;
        break;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// --- the model -> the world --------------------------------------------------------------

void build(world& w, const scenario_model& m, const std::filesystem::path* pcap_dir) {
  w.set_settings(m.settings);
  for (const auto& s : m.switches) w.add_switch(s);
  for (const auto& h : m.hubs) w.add_hub(h);
  for (const auto& s : m.stations) w.add_station(s);
  for (const auto& e : m.endpoints) w.add_endpoint(e);
  for (const auto& h : m.hosts) w.add_host(h);
  for (const auto& l : m.links) w.add_link(l);
  for (const auto& p : m.probes) w.add_probe(p);
  for (const auto& f : m.flows) w.add_flow(f);
  for (const auto& p : m.pings) w.add_ping(p);
  for (const auto& t : m.tcp) w.add_tcp(t);
  for (const auto& a : m.timeline) w.schedule(a);
  if (pcap_dir != nullptr) {
    for (const auto& c : m.captures) w.capture(c, *pcap_dir);
  }
  for (const auto& e : m.expectations) w.expect(e);
}

}  // namespace vnetsim::scenario
