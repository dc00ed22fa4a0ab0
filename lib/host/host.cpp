#include "vnetsim/host/host.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "vnetsim/wire/arp.hpp"
#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/tcp.hpp"
#include "vnetsim/wire/udp.hpp"
#include "vnetsim/wire/vlan.hpp"

namespace vnetsim::host {

namespace {

constexpr std::uint16_t tpid_c = wire::vlan_tpid_c;  // IEEE 802.1Q-2018 9.5
constexpr std::uint16_t tpid_s = wire::vlan_tpid_s;
constexpr std::uint16_t ether_ipv4 = 0x0800;  // RFC 894
constexpr std::uint8_t proto_tcp = 6;         // IANA protocol numbers
constexpr std::uint8_t proto_udp = 17;

static_assert(bond::bucket_count <= 256, "vnic_rec::mac_bkt holds a bucket in 8 bits");

/// Occupied-slot marker of the local MAC table (a MAC is 48 bits).
constexpr std::uint64_t slot_used = 1ULL << 63;

/// The 48-bit big-endian value (a MAC address) at `p`, read as one 8-byte load: the caller
/// guarantees 8 readable bytes from `p` (offsets 0 and 6 of an Ethernet header, 14 bytes).
/// Equals wire::mac_address::read(frame, p - frame).to_u64().
std::uint64_t load_mac(const std::byte* p) noexcept { return wire::load_be64(p) >> 16; }

std::size_t mac_hash(std::uint64_t mac) noexcept {
  std::uint64_t h = mac * 0x9e37'79b9'7f4a'7c15ULL;
  return static_cast<std::size_t>(h >> 40);
}

/// Decimal or 0x-hex unsigned integer, nothing else.
std::optional<std::uint64_t> parse_uint(std::string_view s) noexcept {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

/// A plain integer in `unit`s, or a duration with its own unit ("2s", "100ms").
std::optional<sim_time> parse_duration(std::string_view s, sim_time unit) noexcept {
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const auto v = parse_uint(s);
    if (!v || *v > 1'000'000'000ULL) return std::nullopt;
    return unit * static_cast<sim_time::rep>(*v);
  }
  return sim_time::parse(s);
}

std::optional<bool> parse_bool(std::string_view s) noexcept {
  if (s == "yes" || s == "true" || s == "on" || s == "1") return true;
  if (s == "no" || s == "false" || s == "off" || s == "0") return false;
  return std::nullopt;
}

/// "vmnicK" -> K.
std::optional<unsigned> parse_vmnic(std::string_view s) noexcept {
  if (s.substr(0, 5) != "vmnic") return std::nullopt;
  s.remove_prefix(5);
  if (s.empty() || s.size() > 5 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return static_cast<unsigned>(*parse_uint(s));
}

bond::capabilities bond_caps(const dev::nic_capabilities& c) noexcept {
  return {c.vlan_insert && c.vlan_strip, c.tx_checksum && c.rx_checksum, c.tso};
}


host_event make_event(host_event::kind k, sim_time at, host_id h, std::optional<unsigned> bond,
                      std::optional<unsigned> vmnic = std::nullopt) {
  host_event e;
  e.what = k;
  e.at = at;
  e.host = h;
  e.bond = bond;
  e.vmnic = vmnic;
  return e;
}

}  // namespace

std::string_view to_string(vnic_type t) noexcept {
  switch (t) {
    case vnic_type::vlance:
      return "vlance";
    case vnic_type::vmxnet:
      return "vmxnet";
  }
  return "?";
}

std::string_view to_string(tx_result r) noexcept {
  switch (r) {
    case tx_result::sent:
      return "sent";
    case tx_result::dropped_no_uplink:
      return "dropped_no_uplink";
    case tx_result::dropped_vlan:
      return "dropped_vlan";
    case tx_result::dropped_unknown_dst:
      return "dropped_unknown_dst";
    case tx_result::dropped_vm_off:
      return "dropped_vm_off";
    case tx_result::dropped_malformed:
      return "dropped_malformed";
    case tx_result::dropped_nic:
      return "dropped_nic";
  }
  return "?";
}

std::string_view to_string(ambiguous_policy p) noexcept {
  switch (p) {
    case ambiguous_policy::keep:
      return "keep";
    case ambiguous_policy::send_all:
      return "send_all";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------
// Records

struct host_set::host_rec {
  struct port_group {
    std::string label;
    vswitch_id vs = 0;
    std::uint16_t vlan = 0;
  };
  std::string name;
  advanced_settings adv;
  std::vector<std::uint32_t> vmnics;                      // by vmnic number
  std::vector<std::pair<unsigned, std::uint32_t>> bonds;  // bond number -> team
  std::vector<vswitch_id> vswitches;
  std::vector<port_group> port_groups;
  std::vector<vm_id> vms;
  std::vector<std::uint64_t> macs;  // every vNIC MAC of the host
  unsigned vmnet_count = 0;
  unsigned generated_macs = 0;
  std::uint64_t unbound_rx = 0;
};

struct host_set::vmnic_rec {
  host_id host = 0;
  unsigned number = 0;
  dev::nic_id nic = 0;
  std::optional<std::uint32_t> team;
  bond::member member = 0;
  bool reported_up = true;  // what the policy was told (after up/down delays)
  bool delay_pending = false;
  std::uint64_t delay_gen = 0;
};

struct host_set::team_rec {
  host_id host = 0;
  std::optional<unsigned> bond_number;  // nullopt: the team of a vswitch bound to one vmnic
  std::vector<std::uint32_t> members;   // vmnic records, in member order
  std::array<dev::nic_id, bond::max_members> nic{};
  std::optional<vswitch_id> vs;
  bond_options opts;
  std::optional<std::uint16_t> effective_home;  // failback off moves it
  std::unique_ptr<bond::policy> policy;
  std::unique_ptr<beacon::monitor> monitor;
  bond::capabilities caps{};
  dev::nic_capabilities vnic_caps;  // what a vNIC on the team's vswitch sees (vnic_capabilities)
  dev::nic_cost_model cost;
  kernel::event_handle timer{};
  std::optional<sim_time> timer_at;
  bool started = false;
  bool any_suspect = false;
  bond_counters c;
};

struct host_set::vswitch_rec {
  struct slot {
    std::uint64_t key = 0;  // mac | slot_used
    vnic_id vnic = 0;
  };
  host_id host = 0;
  std::string label;
  vswitch_binding binding;
  std::string device;
  unsigned ports = default_vswitch_ports;
  std::optional<std::uint32_t> team;
  team_rec* team_ptr = nullptr;  // == teams_[*team] (records never move)
  std::vector<vnic_id> vnics;    // port i = vnics[i]
  std::vector<slot> table;       // open addressing, power-of-2 size >= 4 x ports
  std::size_t mask = 0;
  vswitch_counters c;
  bool reflection_logged = false;

  const slot* lookup(std::uint64_t mac) const noexcept {
    const std::uint64_t key = mac | slot_used;
    for (std::size_t i = mac_hash(mac) & mask;; i = (i + 1) & mask) {
      const slot& s = table[i];
      if (s.key == key) return &s;
      if (s.key == 0) return nullptr;
    }
  }
  void insert(std::uint64_t mac, vnic_id v) {
    for (std::size_t i = mac_hash(mac) & mask;; i = (i + 1) & mask) {
      if (table[i].key == 0) {
        table[i] = {mac | slot_used, v};
        return;
      }
    }
  }
};

struct host_set::vm_rec {
  host_id host = 0;
  std::string name;
  bool running = true;
  std::vector<vnic_id> vnics;
};

struct host_set::vnic_rec {
  // What the frame path reads first, together in one cache line.
  vnic_id self = 0;
  vm_id vm = 0;
  vswitch_id vs = 0;
  std::uint32_t port = 0;
  std::uint16_t vlan = 0;     // port group: 0 EST, 1-4094 VST, 4095 VGT
  bool running = true;        // copy of the VM's state, for the frame path
  std::uint8_t mac_bkt = 0;   // bond::mac_bucket(mac): the out-mac bucket of the VM's own MAC
  vswitch_rec* sw = nullptr;  // == vswitches_[vs] (records never move)
  wire::mac_address mac;
  vnic_counters c;
  std::uint32_t head = 0, count = 0;
  delivery_config delivery;
  std::vector<dev::frame_ref> ring;
  vnic_type type = vnic_type::vmxnet;
  std::string network;
  std::optional<bond::member> notify_member;
  bool notify_known = false;  // notify_member holds a real assignment (not the initial one)
  std::uint32_t notify_gen = 0;
};

// ---------------------------------------------------------------------------------------
// The engines' sink: control plane, virtual calls are fine.

class team_sink final : public bond::sink, public beacon::sink {
 public:
  team_sink(host_set& hs, std::uint32_t t) : hs_(hs), t_(t) {}

  void member_changed(sim_time now, bond::member m, bond::member_state from, bond::member_state to) override {
    auto& t = *hs_.teams_[t_];
    const unsigned vmnic = hs_.vmnics_[t.members[m]]->number;
    host_event e = make_event(host_event::kind::member_state, now, t.host, t.bond_number, vmnic);
    e.from = static_cast<std::uint8_t>(from);
    e.to = static_cast<std::uint8_t>(to);
    hs_.log(std::move(e));
    if (t.policy->current_mode() == bond::mode::standby) return;  // see active_changed
    if (bond::healthy(from) && !bond::healthy(to)) {
      ++t.c.failovers;
      hs_.log(make_event(host_event::kind::failover, now, t.host, t.bond_number, vmnic));
    } else if (!bond::healthy(from) && bond::healthy(to)) {
      ++t.c.failbacks;
      hs_.log(make_event(host_event::kind::failback, now, t.host, t.bond_number, vmnic));
    }
  }
  void active_changed(sim_time now, std::optional<bond::member> from,
                      std::optional<bond::member> to) override {
    auto& t = *hs_.teams_[t_];
    host_event e = make_event(host_event::kind::active_changed, now, t.host, t.bond_number);
    if (from) e.from_vmnic = hs_.vmnics_[t.members[*from]]->number;
    if (to) e.to_vmnic = hs_.vmnics_[t.members[*to]]->number;
    hs_.log(e);
    if (!to) return;
    if (e.to_vmnic == t.effective_home) {
      ++t.c.failbacks;
      hs_.log(make_event(host_event::kind::failback, now, t.host, t.bond_number, e.to_vmnic));
    } else {
      ++t.c.failovers;
      hs_.log(make_event(host_event::kind::failover, now, t.host, t.bond_number, e.from_vmnic));
    }
  }
  void transmit(sim_time now, beacon::member m, const wire::beacon_frame_repr& frame) override {
    auto& t = *hs_.teams_[t_];
    wire::beacon_frame_repr r = frame;
    std::optional<std::uint16_t> tci;
    if (r.tag && t.caps.vlan) {  // the bond's NICs insert the tag in hardware
      tci = r.tag->tci();
      r.tag.reset();
    }
    dev::frame_ref f = hs_.pool_->allocate(r.buffer_len(), now);
    if (!f) {
      ++t.c.beacons_tx_failed;
      return;
    }
    r.emit(f.data());
    if (tci) f.meta().vlan_tci = tci;
    if (frame.tag && !tci) hs_.charge(t, dev::nic_work::vlan_insert, false, wire::vlan_tag_len);
    if (hs_.nics_->transmit(t.nic[m], std::move(f)) == dev::nic_tx_result::sent) {
      ++t.c.beacons_tx;
    } else {
      ++t.c.beacons_tx_failed;
    }
  }
  void state_changed(sim_time now, beacon::member m, beacon::member_state from,
                     beacon::member_state to) override {
    auto& t = *hs_.teams_[t_];
    host_event e = make_event(host_event::kind::beacon_state, now, t.host, t.bond_number,
                              hs_.vmnics_[t.members[m]]->number);
    e.from = static_cast<std::uint8_t>(from);
    e.to = static_cast<std::uint8_t>(to);
    hs_.log(std::move(e));
  }

 private:
  host_set& hs_;
  std::uint32_t t_;
};

// ---------------------------------------------------------------------------------------
// Set-up

host_set::host_set(kernel::simulator& sim, dev::frame_pool& pool, dev::link_set& links, dev::nic_set& nics,
                   const kernel::rng_streams& streams)
    : sim_(&sim), pool_(&pool), links_(&links), nics_(&nics), streams_(&streams) {
  arrive_kind_ = sim.register_kind("host/uplink-arrival", &host_set::on_arrival, this);
  nic_link_kind_ = sim.register_kind("host/nic-link", &host_set::on_nic_link, this);
  timer_kind_ = sim.register_kind("host/team-timer", &host_set::on_team_timer, this);
  delay_kind_ = sim.register_kind("host/member-delay", &host_set::on_member_delay, this);
  rarp_kind_ = sim.register_kind("host/notify-rarp", &host_set::on_rarp, this);
}

host_set::~host_set() = default;

host_set::host_rec& host_set::host_at(host_id h) {
  if (h >= hosts_.size()) throw host_error(fmt::format("host id {} does not exist", h));
  return *hosts_[h];
}
const host_set::host_rec& host_set::host_at(host_id h) const {
  if (h >= hosts_.size()) throw host_error(fmt::format("host id {} does not exist", h));
  return *hosts_[h];
}

host_id host_set::add_host(std::string_view name) {
  if (name.empty()) throw host_error("host: the name must not be empty");
  if (find_host(name)) throw host_error(fmt::format("host \"{}\": the name is already used", name));
  auto r = std::make_unique<host_rec>();
  r->name = std::string(name);
  hosts_.push_back(std::move(r));
  return static_cast<host_id>(hosts_.size() - 1);
}

dev::nic_id host_set::add_vmnic(host_id h, dev::nic_config cfg) {
  host_rec& hr = host_at(h);
  const auto number = static_cast<unsigned>(hr.vmnics.size());
  const auto idx = static_cast<std::uint32_t>(vmnics_.size());
  cfg.owner_kind = nic_link_kind_;
  cfg.owner_target = idx;
  cfg.promiscuous = true;     // a virtual switch uplink takes every unicast
  cfg.rx_vlan_strip = false;  // the host reads tags from the bytes (file comment)
  const dev::nic_id nic = nics_->add(fmt::format("{}/vmnic{}", hr.name, number), cfg);
  auto r = std::make_unique<vmnic_rec>();
  r->host = h;
  r->number = number;
  r->nic = nic;
  vmnics_.push_back(std::move(r));
  hr.vmnics.push_back(idx);
  return nic;
}

dev::endpoint host_set::uplink_endpoint(dev::nic_id nic) const {
  for (std::size_t i = 0; i < vmnics_.size(); ++i) {
    if (vmnics_[i]->nic == nic) {
      dev::endpoint e = nics_->endpoint_for(nic, arrive_kind_);
      e.port = static_cast<std::uint32_t>(i);
      return e;
    }
  }
  throw host_error(fmt::format("nic id {}: not a vmnic of any host", nic));
}

std::uint32_t host_set::vmnic_index(host_id h, unsigned number) const {
  const host_rec& hr = host_at(h);
  if (number >= hr.vmnics.size()) {
    throw host_error(fmt::format("host \"{}\": vmnic{} does not exist (the host has {} vmnics)", hr.name,
                                 number, hr.vmnics.size()));
  }
  return hr.vmnics[number];
}

host_set::team_rec& host_set::bond_at(host_id h, unsigned bond_number) {
  return const_cast<team_rec&>(std::as_const(*this).bond_at(h, bond_number));
}
const host_set::team_rec& host_set::bond_at(host_id h, unsigned bond_number) const {
  const host_rec& hr = host_at(h);
  for (const auto& [n, t] : hr.bonds) {
    if (n == bond_number) return *teams_[t];
  }
  throw host_error(fmt::format("host \"{}\": bond{} does not exist", hr.name, bond_number));
}

void host_set::log(host_event e) { events_.push_back(std::move(e)); }

void host_set::log_config(host_id h, std::optional<unsigned> bond, std::string detail) {
  host_event e = make_event(host_event::kind::config, sim_->now(), h, bond);
  e.detail = std::move(detail);
  log(std::move(e));
}

std::uint32_t host_set::new_team(host_id h, std::optional<unsigned> bond_number,
                                 std::vector<std::uint32_t> members) {
  const auto t = static_cast<std::uint32_t>(teams_.size());
  auto r = std::make_unique<team_rec>();
  r->host = h;
  r->bond_number = bond_number;
  r->members = std::move(members);
  teams_.push_back(std::move(r));
  try {
    rebuild(t, true, {});
  } catch (...) {
    teams_.pop_back();
    throw;
  }
  team_rec& tr = *teams_[t];
  for (std::size_t i = 0; i < tr.members.size(); ++i) {
    vmnic_rec& v = *vmnics_[tr.members[i]];
    v.team = t;
    v.member = static_cast<bond::member>(i);
  }
  // Starts once set-up at this time is over: reads the NICs' link state, starts beacons.
  tr.timer = sim_->schedule_at(sim_->now(), timer_kind_, t);
  tr.timer_at = sim_->now();
  return t;
}

void host_set::add_bond(host_id h, unsigned bond_number, std::span<const unsigned> vmnic_numbers) {
  host_rec& hr = host_at(h);
  for (const auto& [n, t] : hr.bonds) {
    (void)t;
    if (n == bond_number)
      throw host_error(fmt::format("host \"{}\": bond{} already exists", hr.name, bond_number));
  }
  if (vmnic_numbers.empty() || vmnic_numbers.size() > bond::max_members) {
    throw host_error(
        fmt::format("host \"{}\": bond{}: {} adapters given; a bond binds 1 to {} adapters [AG2]", hr.name,
                    bond_number, vmnic_numbers.size(), bond::max_members));
  }
  std::vector<std::uint32_t> members;
  for (unsigned n : vmnic_numbers) {
    const std::uint32_t v = vmnic_index(h, n);
    if (std::find(members.begin(), members.end(), v) != members.end()) {
      throw host_error(fmt::format("host \"{}\": bond{}: vmnic{} is listed twice", hr.name, bond_number, n));
    }
    if (vmnics_[v]->team) {
      throw host_error(fmt::format("host \"{}\": bond{}: vmnic{} is already bound to {}", hr.name,
                                   bond_number, n,
                                   teams_[*vmnics_[v]->team]->bond_number
                                       ? fmt::format("bond{}", *teams_[*vmnics_[v]->team]->bond_number)
                                       : std::string("a virtual switch")));
    }
    members.push_back(v);
  }
  const std::uint32_t t = new_team(h, bond_number, std::move(members));
  hr.bonds.emplace_back(bond_number, t);
  log_config(h, bond_number, fmt::format("bond{} = {} vmnics", bond_number, vmnic_numbers.size()));
}

bool host_set::vswitch_in_use(vswitch_id vs) const {
  for (vnic_id v : vswitches_[vs]->vnics) {
    if (vms_[vnics_[v].vm]->running) return true;
  }
  return false;
}

bool host_set::team_in_use(std::uint32_t t) const {
  const team_rec& tr = *teams_[t];
  return tr.vs && vswitch_in_use(*tr.vs);
}

void host_set::bond_add_member(host_id h, unsigned bond_number, unsigned vmnic_number) {
  team_rec& tr = bond_at(h, bond_number);
  const std::string& hn = hosts_[h]->name;
  const std::uint32_t t = *vmnics_[tr.members[0]]->team;
  const std::uint32_t v = vmnic_index(h, vmnic_number);
  if (team_in_use(t)) {
    throw host_error(
        fmt::format("host \"{}\": bond{}: cannot bind vmnic{} while a running virtual machine uses "
                    "the virtual switch \"{}\" [AG2]",
                    hn, bond_number, vmnic_number, vswitches_[*tr.vs]->label));
  }
  if (vmnics_[v]->team) {
    throw host_error(
        fmt::format("host \"{}\": bond{}: vmnic{} is already bound", hn, bond_number, vmnic_number));
  }
  if (tr.members.size() >= bond::max_members) {
    throw host_error(
        fmt::format("host \"{}\": bond{}: cannot bind vmnic{}: a bond binds at most {} adapters [AG2]", hn,
                    bond_number, vmnic_number, bond::max_members));
  }
  tr.members.push_back(v);
  try {
    rebuild(t, true, {});
  } catch (...) {
    tr.members.pop_back();
    throw;
  }
  vmnics_[v]->team = t;
  vmnics_[v]->member = static_cast<bond::member>(tr.members.size() - 1);
  log_config(h, bond_number, fmt::format("bond{} += vmnic{}", bond_number, vmnic_number));
  after_change(t);
}

void host_set::bond_remove_member(host_id h, unsigned bond_number, unsigned vmnic_number) {
  team_rec& tr = bond_at(h, bond_number);
  const std::string& hn = hosts_[h]->name;
  const std::uint32_t t = *vmnics_[tr.members[0]]->team;
  const std::uint32_t v = vmnic_index(h, vmnic_number);
  const auto it = std::find(tr.members.begin(), tr.members.end(), v);
  if (it == tr.members.end()) {
    throw host_error(
        fmt::format("host \"{}\": bond{}: vmnic{} is not a member", hn, bond_number, vmnic_number));
  }
  if (team_in_use(t)) {
    throw host_error(
        fmt::format("host \"{}\": bond{}: cannot detach vmnic{} while a running virtual machine uses "
                    "the virtual switch \"{}\" [AG2]",
                    hn, bond_number, vmnic_number, vswitches_[*tr.vs]->label));
  }
  if (tr.members.size() == 1) {
    throw host_error(
        fmt::format("host \"{}\": bond{}: cannot detach vmnic{}: a bond keeps at least 1 adapter", hn,
                    bond_number, vmnic_number));
  }
  const auto old = tr.members;
  const auto old_home = tr.opts.home_link;
  const auto old_eff = tr.effective_home;
  tr.members.erase(it);
  if (tr.opts.home_link == vmnic_number) tr.opts.home_link.reset();
  if (tr.effective_home == vmnic_number) tr.effective_home = tr.opts.home_link;
  try {
    rebuild(t, true, {});
  } catch (...) {
    tr.members = old;
    tr.opts.home_link = old_home;
    tr.effective_home = old_eff;
    throw;
  }
  vmnics_[v]->team.reset();
  for (std::size_t i = 0; i < tr.members.size(); ++i)
    vmnics_[tr.members[i]]->member = static_cast<bond::member>(i);
  log_config(h, bond_number, fmt::format("bond{} -= vmnic{}", bond_number, vmnic_number));
  after_change(t);
}

void host_set::rebuild(std::uint32_t t, bool monitor_too, std::string_view /*why*/) {
  team_rec& tr = *teams_[t];
  const host_rec& hr = *hosts_[tr.host];
  const std::string where = tr.bond_number ? fmt::format("host \"{}\": bond{}", hr.name, *tr.bond_number)
                                           : fmt::format("host \"{}\"", hr.name);
  bond::config c;
  // Beacon verdicts carry over when the monitor does (a new monitor starts all ok).
  const bool keep_verdicts = !monitor_too && tr.monitor && tr.monitor->enabled();
  for (std::size_t i = 0; i < tr.members.size(); ++i) {
    vmnic_rec& r = *vmnics_[tr.members[i]];
    if (tr.started && !r.delay_pending) r.reported_up = nics_->link_up(r.nic);
    const auto nc = bond_caps(nics_->config(r.nic).caps);
    c.members.push_back({static_cast<std::uint16_t>(r.number), nc, r.reported_up,
                         keep_verdicts ? tr.monitor->verdicts()[i] : bond::probe_verdict::ok});
  }
  c.load_balance_mode = tr.opts.load_balance_mode;
  c.home_link = tr.effective_home;
  c.ip_rr_volume = tr.opts.out_ip_volume;
  c.rx = tr.opts.rx;
  if (!c.home_link) {  // load-balance modes: failback in the policy (standby: after_change)
    c.failback = tr.opts.failback;
    if (!c.failback && tr.policy) {  // keep the members held inactive [VS65]
      const auto& old = *tr.policy;
      for (bond::member m = 0; m < old.member_count(); ++m) {
        const auto st = old.status(m);
        if (st.held && std::any_of(c.members.begin(), c.members.end(),
                                   [&](const bond::member_config& mc) { return mc.vmnic == st.vmnic; })) {
          c.inactive.push_back(st.vmnic);
        }
      }
    }
  }
  std::unique_ptr<bond::policy> p;
  std::unique_ptr<beacon::monitor> mon;
  try {
    p = std::make_unique<bond::policy>(c);
    if (monitor_too) {
      beacon::config bc;
      for (std::uint32_t v : tr.members) bc.members.push_back(nics_->config(vmnics_[v]->nic).mac);
      bc.bond_id = static_cast<std::uint16_t>(tr.bond_number.value_or(0));
      bc.interval = hr.adv.beacon_interval;
      bc.host_threshold = hr.adv.threshold;
      bc.switch_failover_threshold = tr.opts.switch_failover_threshold;
      bc.rule = hr.adv.rule;
      bc.vlan_id = hr.adv.beacon_vlan;
      bc.ether_type = hr.adv.beacon_ether_type;
      mon = std::make_unique<beacon::monitor>(std::move(bc));
    }
  } catch (const bond::config_error& e) {
    throw host_error(fmt::format("{}: {} = \"{}\": {}", where, e.parameter(), e.value(), e.rule()));
  } catch (const beacon::config_error& e) {
    throw host_error(fmt::format("{}: {} = \"{}\": {}", where, e.parameter(), e.value(), e.rule()));
  }
  // Committed from here on.
  const auto old_active = tr.policy ? tr.policy->active() : std::nullopt;
  std::optional<unsigned> old_active_vmnic;
  if (old_active && tr.policy) old_active_vmnic = tr.policy->configuration().members[*old_active].vmnic;
  if (tr.started && tr.policy) {
    // Member states the new policy starts in differently (failback on releasing an
    // inactive member, restarted beacons clearing a verdict): logged, not counted.
    for (bond::member m = 0; m < p->member_count(); ++m) {
      const auto now_st = p->status(m);
      const auto old_m = tr.policy->find_vmnic(now_st.vmnic);
      if (!old_m || tr.policy->state(*old_m) == now_st.state) continue;
      host_event e = make_event(host_event::kind::member_state, sim_->now(), tr.host, tr.bond_number, now_st.vmnic);
      e.from = static_cast<std::uint8_t>(tr.policy->state(*old_m));
      e.to = static_cast<std::uint8_t>(now_st.state);
      log(std::move(e));
    }
  }
  if (monitor_too) {
    if (tr.timer_at && tr.started) {
      sim_->cancel(tr.timer);
      tr.timer_at.reset();
    }
    tr.monitor = std::move(mon);
    for (std::size_t i = 0; i < tr.members.size(); ++i) {
      tr.monitor->set_link(static_cast<beacon::member>(i), vmnics_[tr.members[i]]->reported_up);
    }
  }
  tr.policy = std::move(p);
  tr.caps = tr.policy->bond_capabilities();
  // The vNICs' view: the features every member has [AG2], in the bond's terms (a feature
  // the host does only in pairs, as insert + strip or tx + rx checksum, is one feature).
  dev::nic_capabilities vc;
  for (std::uint32_t v : tr.members) vc = vc & nics_->config(vmnics_[v]->nic).caps;
  vc.vlan_insert = vc.vlan_strip = tr.caps.vlan;
  vc.tx_checksum = vc.rx_checksum = tr.caps.checksum;
  // A guest segments only what the vNIC also checksums: the host's software segmentation
  // fills checksums, but a guest stack drops TSO without checksum offload (Linux
  // netdev_fix_features: "Dropping TSO features since no CSUM feature").
  vc.tso = tr.caps.tso && tr.caps.checksum;
  tr.vnic_caps = vc;
  tr.cost = nics_->config(vmnics_[tr.members[0]]->nic).cost;
  for (std::size_t i = 0; i < tr.members.size(); ++i) tr.nic[i] = vmnics_[tr.members[i]]->nic;
  const auto new_active = tr.policy->active();
  std::optional<unsigned> new_active_vmnic;
  if (new_active) new_active_vmnic = tr.policy->configuration().members[*new_active].vmnic;
  if (tr.started && old_active_vmnic != new_active_vmnic && (old_active_vmnic || new_active_vmnic)) {
    host_event e = make_event(host_event::kind::active_changed, sim_->now(), tr.host, tr.bond_number);
    e.from_vmnic = old_active_vmnic;
    e.to_vmnic = new_active_vmnic;
    e.detail = "configuration";
    log(std::move(e));
  }
  if (monitor_too && tr.started) {
    team_sink out(*this, t);
    tr.monitor->start(sim_->now(), out);
    reschedule_timer(t);
  }
}

void host_set::reschedule_timer(std::uint32_t t) {
  team_rec& tr = *teams_[t];
  if (!tr.started) return;  // the start event is pending
  const std::optional<sim_time> want = tr.monitor->next_deadline();
  if (want == tr.timer_at) return;
  if (tr.timer_at) sim_->cancel(tr.timer);
  tr.timer_at = want;
  if (want) tr.timer = sim_->schedule_at(*want, timer_kind_, t);
}

void host_set::after_change(std::uint32_t t) {
  team_rec& tr = *teams_[t];
  // Failback off (standby): the member that took over becomes the home link.
  if (!tr.opts.failback && tr.policy->current_mode() == bond::mode::standby && tr.policy->active()) {
    const unsigned a = tr.policy->configuration().members[*tr.policy->active()].vmnic;
    if (tr.effective_home != a) {
      tr.effective_home = static_cast<std::uint16_t>(a);
      rebuild(t, false, {});
    }
  }
  tr.any_suspect = false;
  for (std::size_t i = 0; i < tr.members.size(); ++i) {
    if (tr.policy->state(static_cast<bond::member>(i)) == bond::member_state::suspect) tr.any_suspect = true;
  }
  if (!tr.vs || !tr.started) return;
  const vswitch_rec& s = *vswitches_[*tr.vs];
  for (vnic_id id : s.vnics) {
    vnic_rec& v = vnics_[id];
    const auto cur = tr.policy->select_broadcast(v.mac);
    if (cur == v.notify_member && v.notify_known) continue;
    const bool first = !v.notify_known;
    v.notify_member = cur;
    v.notify_known = true;
    // Only a move (failover, failback, rebalance) notifies, not the first assignment.
    if (first || !cur || !tr.opts.notify_switches || !vms_[v.vm]->running) continue;
    host_event e = make_event(host_event::kind::notify, sim_->now(), tr.host, tr.bond_number,
                              vmnics_[tr.members[*cur]]->number);
    e.mac = v.mac;
    log(std::move(e));
    ++v.notify_gen;
    sim_->schedule_at(sim_->now(), rarp_kind_, id, (std::uint64_t{v.notify_gen} << 8) | tr.opts.notify_count);
  }
}

vswitch_id host_set::add_vswitch(host_id h, std::string_view label, vswitch_binding binding, unsigned ports) {
  host_rec& hr = host_at(h);
  if (label.empty())
    throw host_error(fmt::format("host \"{}\": a virtual switch needs a network label", hr.name));
  if (find_vswitch(h, label) || std::any_of(hr.port_groups.begin(), hr.port_groups.end(),
                                            [&](const auto& p) { return p.label == label; })) {
    throw host_error(fmt::format("host \"{}\": network label \"{}\" is already used", hr.name, label));
  }
  if (ports == 0 || ports > max_vswitch_ports) {
    throw host_error(
        fmt::format("host \"{}\": virtual switch \"{}\": {} ports; allowed 1 to {} (ESX 2.x: 32 [AG2])",
                    hr.name, label, ports, max_vswitch_ports));
  }
  auto r = std::make_unique<vswitch_rec>();
  r->host = h;
  r->label = std::string(label);
  r->binding = binding;
  r->ports = ports;
  std::size_t size = 4;
  while (size < 4 * std::size_t{ports}) size *= 2;  // load <= 1/4: short failed probes
  r->table.assign(size, {});
  r->mask = size - 1;
  r->vnics.reserve(ports);
  const auto vs = static_cast<vswitch_id>(vswitches_.size());
  if (const auto* b = std::get_if<bond_binding>(&binding)) {
    team_rec& tr = bond_at(h, b->number);
    if (tr.vs) {
      throw host_error(fmt::format("host \"{}\": virtual switch \"{}\": bond{} is already bound to \"{}\"",
                                   hr.name, label, b->number, vswitches_[*tr.vs]->label));
    }
    tr.vs = vs;
    r->team = *vmnics_[tr.members[0]]->team;
    r->team_ptr = &tr;
    r->device = fmt::format("bond{}", b->number);
  } else if (const auto* n = std::get_if<vmnic_binding>(&binding)) {
    const std::uint32_t v = vmnic_index(h, n->number);
    if (vmnics_[v]->team) {
      throw host_error(fmt::format("host \"{}\": virtual switch \"{}\": vmnic{} is already bound", hr.name,
                                   label, n->number));
    }
    const std::uint32_t t = new_team(h, std::nullopt, {v});
    teams_[t]->vs = vs;
    r->team = t;
    r->team_ptr = teams_[t].get();
    r->device = fmt::format("vmnic{}", n->number);
  } else {
    r->device = fmt::format("vmnet_{}", hr.vmnet_count++);
  }
  vswitches_.push_back(std::move(r));
  hr.vswitches.push_back(vs);
  log_config(h, std::nullopt, fmt::format("vswitch \"{}\" = {}", label, vswitches_[vs]->device));
  return vs;
}

void host_set::add_port_group(host_id h, vswitch_id vs, std::string_view label,
                              std::optional<std::uint16_t> vlan) {
  host_rec& hr = host_at(h);
  if (vs >= vswitches_.size() || vswitches_[vs]->host != h) {
    throw host_error(fmt::format("host \"{}\": virtual switch id {} is not on this host", hr.name, vs));
  }
  if (label.empty())
    throw host_error(fmt::format("host \"{}\": a port group needs a network label", hr.name));
  if (find_vswitch(h, label) || std::any_of(hr.port_groups.begin(), hr.port_groups.end(),
                                            [&](const auto& p) { return p.label == label; })) {
    throw host_error(fmt::format("host \"{}\": network label \"{}\" is already used", hr.name, label));
  }
  const std::uint16_t v = vlan.value_or(0);
  if (v > vgt_vlan) {
    throw host_error(
        fmt::format("host \"{}\": port group \"{}\": VLAN {}: allowed are none/0 (EST), 1-4094 (VST) "
                    "and 4095 (VGT) [VLANWP]",
                    hr.name, label, v));
  }
  hr.port_groups.push_back({std::string(label), vs, v});
  log_config(h, std::nullopt,
             fmt::format("port group \"{}\" on \"{}\" vlan {}", label, vswitches_[vs]->label, v));
}

void host_set::rename_label(host_id h, std::string_view old_label, std::string_view new_label) {
  host_rec& hr = host_at(h);
  std::string* target = nullptr;
  if (const auto vs = find_vswitch(h, old_label)) target = &vswitches_[*vs]->label;
  for (auto& p : hr.port_groups) {
    if (p.label == old_label) target = &p.label;
  }
  if (!target)
    throw host_error(fmt::format("host \"{}\": network label \"{}\" does not exist", hr.name, old_label));
  if (new_label.empty())
    throw host_error(fmt::format("host \"{}\": the new label must not be empty", hr.name));
  if (new_label != old_label &&
      (find_vswitch(h, new_label) || std::any_of(hr.port_groups.begin(), hr.port_groups.end(),
                                                 [&](const auto& p) { return p.label == new_label; }))) {
    throw host_error(fmt::format("host \"{}\": network label \"{}\" is already used", hr.name, new_label));
  }
  for (vm_id vm : hr.vms) {
    for (vnic_id v : vms_[vm]->vnics) {
      if (vnics_[v].network == old_label && vms_[vm]->running) {
        throw host_error(
            fmt::format("host \"{}\": network label \"{}\": cannot be changed while the running virtual "
                        "machine \"{}\" uses it [AG2]",
                        hr.name, old_label, vms_[vm]->name));
      }
    }
  }
  for (vm_id vm : hr.vms) {
    for (vnic_id v : vms_[vm]->vnics) {
      if (vnics_[v].network == old_label) vnics_[v].network = std::string(new_label);
    }
  }
  *target = std::string(new_label);
  log_config(h, std::nullopt, fmt::format("label \"{}\" = \"{}\"", old_label, new_label));
}

vm_id host_set::add_vm(host_id h, std::string_view name) {
  host_rec& hr = host_at(h);
  if (name.empty()) throw host_error(fmt::format("host \"{}\": a virtual machine needs a name", hr.name));
  if (find_vm(h, name))
    throw host_error(fmt::format("host \"{}\": virtual machine \"{}\" already exists", hr.name, name));
  auto r = std::make_unique<vm_rec>();
  r->host = h;
  r->name = std::string(name);
  vms_.push_back(std::move(r));
  const auto id = static_cast<vm_id>(vms_.size() - 1);
  hr.vms.push_back(id);
  return id;
}

void host_set::set_vm_running(vm_id vm, bool running) {
  if (vm >= vms_.size()) throw host_error(fmt::format("virtual machine id {} does not exist", vm));
  vm_rec& r = *vms_[vm];
  if (r.running == running) return;
  r.running = running;
  for (vnic_id v : r.vnics) vnics_[v].running = running;
  log_config(r.host, std::nullopt,
             fmt::format("vm \"{}\" {}", r.name, running ? "powered on" : "powered off"));
}

vnic_id host_set::add_vnic(vm_id vm, const vnic_config& cfg) {
  if (vm >= vms_.size()) throw host_error(fmt::format("virtual machine id {} does not exist", vm));
  vm_rec& vr = *vms_[vm];
  host_rec& hr = *hosts_[vr.host];
  const std::string where =
      fmt::format("host \"{}\": vm \"{}\": ethernet{}", hr.name, vr.name, vr.vnics.size());
  std::optional<vswitch_id> vs = find_vswitch(vr.host, cfg.network);
  std::uint16_t vlan = 0;
  if (!vs) {
    for (const auto& p : hr.port_groups) {
      if (p.label == cfg.network) {
        vs = p.vs;
        vlan = p.vlan;
      }
    }
  }
  if (!vs)
    throw host_error(fmt::format("{}: network label \"{}\" does not exist on the host", where, cfg.network));
  vswitch_rec& s = *vswitches_[*vs];
  if (s.vnics.size() >= s.ports) {
    throw host_error(
        fmt::format("{}: virtual switch \"{}\" has all its {} ports in use; one virtual adapter per "
                    "port [AG2]",
                    where, s.label, s.ports));
  }
  if (cfg.rx_ring == 0) throw host_error(fmt::format("{}: rx_ring must be at least 1", where));
  wire::mac_address mac;
  bool generated = false;
  if (cfg.mac) {
    mac = *cfg.mac;
    if (mac.to_u64() < static_mac_first || mac.to_u64() > static_mac_last) {
      throw host_error(
          fmt::format("{}: MAC {}: a static address must lie in 00:50:56:00:00:00-00:50:56:3f:ff:ff "
                      "[AG2]",
                      where, mac));
    }
  } else {
    if (hr.generated_macs >= max_generated_macs) {
      throw host_error(
          fmt::format("{}: generated MAC addresses limit a host to {} virtual adapters [AG2]; give "
                      "a static MAC",
                      where, max_generated_macs));
    }
    // Generated under 00:0C:29 [AG2]; the 2.x algorithm is UNVERIFIED: vnetsim hashes
    // "<host>/<vm>/<index>" (FNV-1a) into the low 24 bits, then steps to the next free value.
    std::uint64_t low =
        kernel::fnv1a64(fmt::format("{}/{}/{}", hr.name, vr.name, vr.vnics.size())) & 0xff'ffffULL;
    for (;;) {
      const std::uint64_t m = (generated_oui << 24) | low;
      if (std::find(hr.macs.begin(), hr.macs.end(), m) == hr.macs.end()) break;
      low = (low + 1) & 0xff'ffffULL;
    }
    mac = wire::mac_address::from_u64((generated_oui << 24) | low);
    generated = true;
  }
  if (std::find(hr.macs.begin(), hr.macs.end(), mac.to_u64()) != hr.macs.end()) {
    throw host_error(
        fmt::format("{}: MAC {} is already used on this host; addresses must be unique [AG2]", where, mac));
  }
  vnic_rec r;
  r.vm = vm;
  r.running = vr.running;
  r.vs = *vs;
  r.sw = &s;
  r.port = static_cast<std::uint32_t>(s.vnics.size());
  r.vlan = vlan;
  r.network = cfg.network;
  r.mac = mac;
  r.mac_bkt = static_cast<std::uint8_t>(bond::mac_bucket(mac));
  r.type = cfg.type;
  r.delivery = cfg.delivery;
  r.ring.resize(cfg.rx_ring);
  const auto id = static_cast<vnic_id>(vnics_.size());
  r.self = id;
  if (s.team && teams_[*s.team]->started) {
    r.notify_member = teams_[*s.team]->policy->select_broadcast(mac);
    r.notify_known = true;
  }
  vnics_.push_back(std::move(r));
  s.vnics.push_back(id);
  s.insert(mac.to_u64(), id);
  hr.macs.push_back(mac.to_u64());
  if (generated) ++hr.generated_macs;
  vr.vnics.push_back(id);
  return id;
}

// ---------------------------------------------------------------------------------------
// Configuration keys

void host_set::set_advanced(host_id h, std::string_view name, std::string_view value) {
  host_rec& hr = host_at(h);
  auto bad = [&](std::string_view rule) {
    return host_error(
        fmt::format("host \"{}\": advanced setting {} = \"{}\": {}", hr.name, name, value, rule));
  };
  advanced_settings a = hr.adv;
  if (name == "SwitchFailoverBeaconInterval") {
    const auto d = parse_duration(value, sim_time::from_s(1));
    if (!d || *d <= sim_time::zero())
      throw bad("expected seconds (\"1\") or a duration (\"500ms\") above 0 [AG2]");
    a.beacon_interval = *d;
  } else if (name == "SwitchFailoverThreshold") {
    const auto v = parse_uint(value);
    if (!v || *v == 1 || *v > 1000) throw bad("0 turns beacon monitoring off, 2 or more turns it on [AG2]");
    a.threshold = static_cast<unsigned>(*v);
  } else if (name == "SwitchFailoverBeaconVlanID") {
    const auto v = parse_uint(value);
    if (!v || *v > wire::vlan_vid_max) throw bad("0 (untagged) or a VLAN ID 1-4094 [AG2]");
    a.beacon_vlan = *v == 0 ? std::nullopt : std::optional<std::uint16_t>(static_cast<std::uint16_t>(*v));
  } else if (name == "SwitchFailoverBeaconEtherType") {
    const auto v = parse_uint(value);
    if (!v || *v < wire::ethernet_min_ether_type || *v > 0xffff || *v == tpid_c || *v == tpid_s) {
      throw bad("an EtherType 0x0600-0xffff that is not a VLAN TPID (0x8100, 0x88a8) [AG2]");
    }
    a.beacon_ether_type = static_cast<std::uint16_t>(*v);
  } else if (name == "SwitchFailoverThresholdRule") {
    if (value == "exceeds") {
      a.rule = beacon::threshold_rule::exceeds;
    } else if (value == "reaches") {
      a.rule = beacon::threshold_rule::reaches;
    } else {
      throw bad("\"exceeds\" (the documented word [AG2]) or \"reaches\"");
    }
  } else if (name == "Net.TeamPolicyUpDelay") {
    const auto d = parse_duration(value, sim_time::from_ms(1));
    if (!d || *d < sim_time::zero())
      throw bad("expected milliseconds (\"200\") or a duration (\"2s\"), >= 0");
    a.team_updelay = *d;
  } else {
    throw host_error(
        fmt::format("host \"{}\": unknown advanced setting \"{}\" (known: SwitchFailoverBeaconInterval, "
                    "SwitchFailoverThreshold, SwitchFailoverBeaconVlanID, SwitchFailoverBeaconEtherType, "
                    "SwitchFailoverThresholdRule, Net.TeamPolicyUpDelay)",
                    hr.name, name));
  }
  const advanced_settings old = hr.adv;
  hr.adv = a;
  if (name == "Net.TeamPolicyUpDelay") {  // read at the next link-up; no beacon restart
    log_config(h, std::nullopt, fmt::format("{} = {}", name, value));
    return;
  }
  std::vector<std::uint32_t> done;
  try {
    for (const auto& [n, t] : hr.bonds) {
      (void)n;
      rebuild(t, true, {});
      done.push_back(t);
    }
  } catch (...) {
    hr.adv = old;
    for (std::uint32_t t : done) rebuild(t, true, {});
    throw;
  }
  log_config(h, std::nullopt, fmt::format("{} = {}", name, value));
  for (std::uint32_t t : done) after_change(t);
}

void host_set::set_nicteam(host_id h, std::string_view key, std::string_view value) {
  host_rec& hr = host_at(h);
  // nicteam.bondN.<option>
  auto bad_key = [&](std::string_view why) {
    return host_error(fmt::format("host \"{}\": hwconfig key \"{}\": {}", hr.name, key, why));
  };
  if (key.substr(0, 12) != "nicteam.bond") throw bad_key("expected nicteam.bondN.<option> [AG2]");
  const std::string_view rest = key.substr(12);
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0) throw bad_key("expected nicteam.bondN.<option> [AG2]");
  const auto num = parse_uint(rest.substr(0, dot));
  if (!num || rest.substr(0, 2) == "0x") throw bad_key("the bond number must be a decimal integer");
  const std::string_view opt = rest.substr(dot + 1);
  team_rec& tr = bond_at(h, static_cast<unsigned>(*num));
  const std::uint32_t t = *vmnics_[tr.members[0]]->team;
  auto bad = [&](std::string_view rule) {
    return host_error(fmt::format("host \"{}\": {} = \"{}\": {}", hr.name, key, value, rule));
  };
  bond_options o = tr.opts;
  bool monitor_too = false;
  if (opt == "load_balance_mode") {
    if (value != "out-mac" && value != "out-ip") throw bad("expected out-mac (the default) or out-ip [AG2]");
    o.load_balance_mode = std::string(value);
  } else if (opt == "home_link") {
    if (value.empty()) {
      o.home_link.reset();
    } else {
      const auto n = parse_vmnic(value);
      if (!n) throw bad("expected vmnicK [SEED]");
      const bool member = std::any_of(tr.members.begin(), tr.members.end(),
                                      [&](std::uint32_t v) { return vmnics_[v]->number == *n; });
      if (!member) throw bad("the home link must be an adapter of this bond");
      o.home_link = static_cast<std::uint16_t>(*n);
    }
  } else if (opt == "switch_failover_threshold") {
    if (value.empty()) {
      o.switch_failover_threshold.reset();
    } else {
      const auto v = parse_uint(value);
      if (!v || *v == 1 || *v > 1000) throw bad("0 turns beacon monitoring off, 2 or more turns it on [AG2]");
      o.switch_failover_threshold = static_cast<unsigned>(*v);
    }
    monitor_too = true;
  } else if (opt == "out_ip_volume") {
    const auto v = parse_uint(value);
    if (!v || *v == 0 || *v > 0xffff'ffffULL)
      throw bad("bytes per member of the non-IP cycle, 1 to 4294967295");
    o.out_ip_volume = static_cast<std::uint32_t>(*v);
  } else if (opt == "rx_filter") {
    if (value == "accept_all") {
      o.rx = bond::rx_policy::accept_all;
    } else if (value == "active_only") {
      o.rx = bond::rx_policy::active_only;
    } else {
      throw bad("expected accept_all (ESX 2.x) or active_only");
    }
  } else if (opt == "ambiguous_policy") {
    if (value == "keep") {
      o.ambiguous = ambiguous_policy::keep;
    } else if (value == "send_all") {
      o.ambiguous = ambiguous_policy::send_all;
    } else {
      throw bad("expected keep (default) or send_all [VS65]");
    }
  } else if (opt == "failback" || opt == "notify_switches") {
    const auto b = parse_bool(value);
    if (!b) throw bad("expected yes or no");
    (opt == "failback" ? o.failback : o.notify_switches) = *b;
  } else if (opt == "updelay" || opt == "downdelay") {
    const auto d = parse_duration(value, sim_time::from_ms(1));
    if (!d || *d < sim_time::zero())
      throw bad("expected milliseconds (\"200\") or a duration (\"2s\"), >= 0 [LB]");
    if (opt == "updelay") {
      o.updelay = *d;
    } else {
      o.downdelay = *d;
    }
  } else if (opt == "notify_count") {
    const auto v = parse_uint(value);
    if (!v || *v == 0 || *v > max_notify_count) throw bad("1 to 8 frames per VM [KB90045]");
    o.notify_count = static_cast<unsigned>(*v);
  } else if (opt == "notify_interval") {
    const auto d = parse_duration(value, sim_time::from_ms(1));
    if (!d || *d <= sim_time::zero()) throw bad("expected a duration above 0");
    o.notify_interval = *d;
  } else {
    throw bad_key(
        "unknown option (known: load_balance_mode, home_link, switch_failover_threshold, out_ip_volume, "
        "rx_filter, ambiguous_policy, failback, updelay, downdelay, notify_switches, notify_count, "
        "notify_interval)");
  }
  const bond_options old = tr.opts;
  const auto old_eff = tr.effective_home;
  tr.opts = o;
  if (o.home_link != old.home_link) tr.effective_home = o.home_link;
  try {
    rebuild(t, monitor_too, {});
  } catch (...) {
    tr.opts = old;
    tr.effective_home = old_eff;
    throw;
  }
  log_config(h, tr.bond_number, fmt::format("{} = \"{}\"", key, value));
  after_change(t);
}

// ---------------------------------------------------------------------------------------
// Events

void host_set::on_arrival(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<host_set*>(ctx);
  auto a = self.links_->take_arrival(ev.target);
  if (!a.frame) return;
  dev::frame_ref f = self.nics_->receive(a.device, std::move(a.frame));
  if (!f) return;
  self.uplink_in(a.port, std::move(f));
}

void host_set::apply_link(std::uint32_t vmnic, bool up) {
  vmnic_rec& r = *vmnics_[vmnic];
  r.reported_up = up;
  r.delay_pending = false;
  if (!r.team) return;
  const std::uint32_t t = *r.team;
  team_rec& tr = *teams_[t];
  if (!tr.started) return;  // the start event reads the NIC
  team_sink out(*this, t);
  tr.policy->set_link(r.member, up, sim_->now(), out);
  tr.monitor->set_link(r.member, up);
  after_change(t);
}

void host_set::on_nic_link(void* ctx, kernel::simulator& sim, const kernel::event& ev) {
  auto& self = *static_cast<host_set*>(ctx);
  vmnic_rec& r = *self.vmnics_[ev.target];
  const bool up = (ev.arg >> 32) != 0;
  ++r.delay_gen;
  r.delay_pending = false;
  if (!r.team || !self.teams_[*r.team]->started) {
    r.reported_up = up;
    return;
  }
  const team_rec& tr = *self.teams_[*r.team];
  sim_time delay = up ? tr.opts.updelay.value_or(self.hosts_[tr.host]->adv.team_updelay) : tr.opts.downdelay;
  if (up && delay > sim_time::zero()) {
    // Linux skips updelay when no slave is up [LB].
    bool any = false;
    for (std::size_t i = 0; i < tr.members.size(); ++i) {
      if (bond::healthy(tr.policy->state(static_cast<bond::member>(i)))) any = true;
    }
    if (!any) delay = sim_time::zero();
  }
  if (delay == sim_time::zero() || up == r.reported_up) {
    self.apply_link(ev.target, up);
    return;
  }
  r.delay_pending = true;
  sim.schedule_in(delay, self.delay_kind_, ev.target, (r.delay_gen << 1) | (up ? 1 : 0));
}

void host_set::on_member_delay(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<host_set*>(ctx);
  const vmnic_rec& r = *self.vmnics_[ev.target];
  if ((ev.arg >> 1) != r.delay_gen || !r.delay_pending) return;  // the link changed again
  self.apply_link(ev.target, (ev.arg & 1) != 0);
}

void host_set::on_team_timer(void* ctx, kernel::simulator& sim, const kernel::event& ev) {
  auto& self = *static_cast<host_set*>(ctx);
  const std::uint32_t t = ev.target;
  team_rec& tr = *self.teams_[t];
  tr.timer_at.reset();
  team_sink out(self, t);
  if (!tr.started) {
    tr.started = true;
    for (std::size_t i = 0; i < tr.members.size(); ++i) {
      vmnic_rec& r = *self.vmnics_[tr.members[i]];
      r.reported_up = self.nics_->link_up(r.nic);
      tr.policy->set_link(static_cast<bond::member>(i), r.reported_up, sim.now(), out);
      tr.monitor->set_link(static_cast<bond::member>(i), r.reported_up);
    }
    tr.monitor->start(sim.now(), out);
  } else {
    tr.monitor->on_timer(sim.now(), out);
  }
  if (tr.monitor->enabled()) tr.policy->apply_probes(tr.monitor->verdicts(), sim.now(), out);
  self.after_change(t);
  self.reschedule_timer(t);
}

void host_set::on_rarp(void* ctx, kernel::simulator& sim, const kernel::event& ev) {
  auto& self = *static_cast<host_set*>(ctx);
  vnic_rec& v = self.vnics_[ev.target];
  const auto gen = static_cast<std::uint32_t>(ev.arg >> 8);
  const auto left = static_cast<unsigned>(ev.arg & 0xff);
  if (gen != v.notify_gen || left == 0) return;  // a newer train replaced this one
  self.send_rarp(ev.target);
  const vswitch_rec& s = *self.vswitches_[v.vs];
  if (left > 1 && s.team) {
    sim.schedule_in(self.teams_[*s.team]->opts.notify_interval, self.rarp_kind_, ev.target,
                    (std::uint64_t{gen} << 8) | (left - 1));
  }
}

void host_set::send_rarp(std::uint32_t id) {
  vnic_rec& v = vnics_[id];
  vswitch_rec& s = *vswitches_[v.vs];
  if (!s.team || !vms_[v.vm]->running) return;
  team_rec& tr = *teams_[*s.team];
  const auto m = tr.policy->select_broadcast(v.mac);
  if (!m) return;
  // "Notify switches" RARP [KB90045][itecnotes]: to broadcast, from the VM's MAC, EtherType
  // 0x8035 (RFC 903), reverse request "who is MAC tell MAC", padded to 60 bytes.
  constexpr std::size_t len = wire::ethernet_header_len + wire::ethernet_min_payload_len;
  dev::frame_ref f = pool_->allocate(len, sim_->now());
  if (!f) return;
  const auto d = f.data();
  std::memset(d.data(), 0, d.size());
  wire::ethernet_repr{wire::mac_address::broadcast(), v.mac,
                      static_cast<std::uint16_t>(wire::ether_type::rarp)}
      .emit(wire::ethernet_frame{d});
  wire::arp_repr::reverse_request_for(v.mac).emit(wire::arp_packet{d.subspan(wire::ethernet_header_len)});
  const std::uint16_t vid = v.vlan == vgt_vlan ? 0 : v.vlan;
  if (team_send(tr, s, *m, std::move(f), vid, false)) ++tr.c.rarp_sent;
}

// ---------------------------------------------------------------------------------------
// Per frame

void host_set::charge(team_rec& t, dev::nic_work w, bool hardware, std::size_t bytes) noexcept {
  const auto i = static_cast<std::size_t>(w);
  if (hardware) {
    ++t.c.work.hw_ops[i];
    return;
  }
  ++t.c.work.sw_ops[i];
  t.c.work.sw_bytes[i] += bytes;
  const dev::cpu_cost& c = t.cost.software[i];
  t.c.work.sw_cpu_ns += c.ns_per_op + (std::uint64_t{c.ps_per_byte} * bytes) / 1000;
}

bool host_set::software_checksums(team_rec& t, dev::frame_ref& f) {
  const dev::csum_offload what = f.meta().csum;
  const auto off = wire::frame_ipv4_offset(f.cdata());
  if (!off) return false;
  const wire::ipv4_packet ip{f.data().subspan(*off)};
  if (dev::has(what, dev::csum_offload::ipv4_header)) {
    ip.fill_checksum();
    charge(t, dev::nic_work::tx_checksum, false, ip.header_len());
  }
  if (dev::has(what, dev::csum_offload::l4) && !ip.more_frags() && ip.frag_offset() == 0) {
    const std::span<std::byte> l4 =
        ip.buffer().subspan(ip.header_len(), std::size_t{ip.total_len()} - ip.header_len());
    if (ip.protocol() == proto_tcp && l4.size() >= wire::tcp_min_header_len) {
      wire::tcp_packet{l4}.fill_checksum(ip.src_addr(), ip.dst_addr());
    } else if (ip.protocol() == proto_udp && l4.size() >= wire::udp_header_len) {
      wire::udp_packet{l4}.fill_checksum(ip.src_addr(), ip.dst_addr());
    } else {
      return false;
    }
    charge(t, dev::nic_work::tx_checksum, false, l4.size());
  }
  f.meta().csum = dev::csum_offload::none;
  return true;
}

bool host_set::software_segment(team_rec& t, vswitch_rec& s, bond::member m, dev::frame_ref f,
                                std::uint16_t vid, bool tagged_bytes) {
  // TCP segmentation in software for a bond without TSO [AG2], as dev::nic_set does it:
  // each segment gets the headers, its share of the payload, its own IPv4 Total Length,
  // Identification (+1 per segment) and checksum, TCP sequence number and checksum; FIN and
  // PSH stay on the last segment, CWR on the first only (RFC 3168 6.1.2).
  const auto off = wire::frame_ipv4_offset(f.cdata());
  if (!off) {
    ++s.c.dropped_malformed;
    return false;
  }
  const wire::ipv4_packet_const ip{f.cdata().subspan(*off)};
  const std::size_t ip_hlen = ip.header_len();
  if (ip.protocol() != proto_tcp || ip.more_frags() || ip.frag_offset() != 0 ||
      std::size_t{ip.total_len()} < ip_hlen + wire::tcp_min_header_len) {
    ++s.c.dropped_malformed;
    return false;
  }
  const std::span<const std::byte> seg = ip.buffer().subspan(ip_hlen, std::size_t{ip.total_len()} - ip_hlen);
  const wire::tcp_packet_const tcp{seg};
  const std::size_t tcp_hlen = tcp.header_len();
  if (tcp_hlen < wire::tcp_min_header_len || tcp_hlen > seg.size()) {
    ++s.c.dropped_malformed;
    return false;
  }
  const std::size_t hdr_len = *off + ip_hlen + tcp_hlen;
  const std::span<const std::byte> payload = seg.subspan(tcp_hlen);
  const std::size_t mss = f.meta().tso_mss;
  const std::size_t count = (payload.size() + mss - 1) / mss;
  constexpr std::uint8_t fin_psh = 0x01 | 0x08;  // RFC 9293 3.1 control bits
  constexpr std::uint8_t cwr = 0x80;             // RFC 3168 6.1.2
  const auto flags0 = static_cast<std::uint8_t>(tcp.flags());
  bool ok = true;
  for (std::size_t i = 0, done = 0; i < count; ++i) {
    const std::size_t len = std::min(mss, payload.size() - done);
    dev::frame_ref g = pool_->allocate(hdr_len + len, sim_->now());
    if (!g) {
      ++s.c.dropped_nic;
      ok = false;
      done += len;
      continue;
    }
    std::memcpy(g.data().data(), f.cdata().data(), hdr_len);
    std::memcpy(g.data().data() + hdr_len, payload.data() + done, len);
    g.meta() = f.meta();
    g.meta().tso_mss = 0;
    g.meta().csum = dev::csum_offload::none;
    const wire::ipv4_packet gip{g.data().subspan(*off)};
    gip.set_total_len(static_cast<std::uint16_t>(ip_hlen + tcp_hlen + len));
    gip.set_ident(static_cast<std::uint16_t>(ip.ident() + i));
    gip.fill_checksum();
    const wire::tcp_packet gtcp{gip.buffer().subspan(ip_hlen, tcp_hlen + len)};
    gtcp.set_seq_number(tcp.seq_number() + static_cast<std::uint32_t>(done));
    std::uint8_t flags = flags0;
    if (i + 1 < count) flags &= static_cast<std::uint8_t>(~fin_psh);
    if (i > 0) flags &= static_cast<std::uint8_t>(~cwr);
    gtcp.set_flags(static_cast<wire::tcp_flags>(flags));
    gtcp.fill_checksum(gip.src_addr(), gip.dst_addr());
    charge(t, dev::nic_work::tx_checksum, false, ip_hlen + tcp_hlen + len);
    ok = team_send(t, s, m, std::move(g), vid, tagged_bytes) && ok;
    done += len;
  }
  charge(t, dev::nic_work::segmentation, false, payload.size() + count * hdr_len);
  return ok;
}

inline bool host_set::to_member_nic(team_rec& t, vswitch_rec& s, bond::member m,
                                    dev::frame_ref&& f) {
  if (nics_->transmit(t.nic[m], std::move(f)) != dev::nic_tx_result::sent) [[unlikely]] {
    ++s.c.dropped_nic;
    return false;
  }
  ++s.c.uplink_tx;
  ++t.c.tx_frames;
  return true;
}

inline bool host_set::team_send(team_rec& t, vswitch_rec& s, bond::member m, dev::frame_ref&& f,
                                std::uint16_t vid, bool tagged_bytes) {
  const dev::frame_meta& fm = f.meta();
  if (fm.tso_mss != 0 || fm.csum != dev::csum_offload::none || (vid != 0 && !tagged_bytes)) [[unlikely]] {
    return team_send_work(t, s, m, std::move(f), vid, tagged_bytes);
  }
  return to_member_nic(t, s, m, std::move(f));
}

bool host_set::team_send_work(team_rec& t, vswitch_rec& s, bond::member m, dev::frame_ref&& f,
                              std::uint16_t vid, bool tagged_bytes) {
  if (f.meta().tso_mss != 0 && !t.caps.tso &&
      f.size() > wire::ethernet_header_len + wire::ethernet_max_payload_len) [[unlikely]] {
    return software_segment(t, s, m, std::move(f), vid, tagged_bytes);
  }
  const bool need_tag = vid != 0 && !tagged_bytes;
  const bool sw_csum = f.meta().csum != dev::csum_offload::none && !t.caps.checksum;
  if ((need_tag || sw_csum) && !f.unique()) [[unlikely]] {
    // Shared with local ports or a duplicate: the tag or checksum must not reach them.
    if (!f.unshare()) {
      ++s.c.dropped_nic;
      return false;
    }
    ++s.c.vlan_copies;
  }
  if (sw_csum) [[unlikely]] {
    if (!software_checksums(t, f)) {
      ++s.c.dropped_malformed;
      return false;
    }
  }
  if (need_tag) {
    const std::uint16_t tci = vid;  // PCP 0, DEI 0
    if (t.caps.vlan) {
      f.meta().vlan_tci = tci;  // the NIC inserts it in hardware
    } else {
      // The bond lacks VLAN tagging [AG2]: the host inserts it in software.
      if (!f.push_front(wire::vlan_tag_len) ||
          !wire::emit_tag_in_place(f.data(), wire::vlan_repr{tpid_c, 0, false, vid})) [[unlikely]] {
        ++s.c.dropped_malformed;
        return false;
      }
      charge(t, dev::nic_work::vlan_insert, false, wire::vlan_tag_len);
    }
  }
  return to_member_nic(t, s, m, std::move(f));
}

std::optional<bond::member> host_set::select_out_ip(team_rec& t, const dev::frame_ref& f) {
  bond::frame_key k;
  k.length = static_cast<std::uint32_t>(f.size());
  if (const auto off = wire::frame_ipv4_offset(f.cdata())) {
    const wire::ipv4_packet_const ip{f.cdata().subspan(*off)};
    k.ipv4 = true;
    k.src_ip = ip.src_addr();
    k.dst_ip = ip.dst_addr();
  }
  return t.policy->select(k);  // out-ip reads the addresses (or the non-IP cycle), not the MAC
}

void host_set::send_to_suspects(team_rec& t, vswitch_rec& s, bond::member m, const dev::frame_ref& f,
                                std::uint16_t vid, bool tagged_bytes) {
  // vSphere "shotgun" [VS65]: the same frame on every suspect member.
  for (std::size_t j = 0; j < t.members.size(); ++j) {
    const auto jm = static_cast<bond::member>(j);
    if (jm == m || t.policy->state(jm) != bond::member_state::suspect) continue;
    if (team_send(t, s, jm, dev::frame_ref(f), vid, tagged_bytes)) ++t.c.duplicates_sent;
  }
}

inline void host_set::uplink_out(vswitch_rec& s, dev::frame_ref&& f, std::size_t mac_bkt, bool group,
                                 std::uint16_t vid, bool tagged_bytes, tx_result& result) {
  team_rec& t = *s.team_ptr;
  const bond::policy& p = *t.policy;
  std::optional<bond::member> m;
  if (group || p.current_mode() != bond::mode::out_ip) [[likely]] {
    m = p.select_out_mac(mac_bkt);  // out-mac, standby, and group frames in every mode
  } else {
    m = select_out_ip(t, f);
  }
  if (!m) [[unlikely]] {
    ++s.c.dropped_no_uplink;
    result = tx_result::dropped_no_uplink;
    return;
  }
  if (t.any_suspect && t.opts.ambiguous == ambiguous_policy::send_all &&
      p.state(*m) == bond::member_state::suspect) [[unlikely]] {
    send_to_suspects(t, s, *m, f, vid, tagged_bytes);
  }
  if (!team_send(t, s, *m, std::move(f), vid, tagged_bytes)) result = tx_result::dropped_nic;
}

void host_set::deliver(vnic_rec& v, vswitch_rec& s, dev::frame_ref f) {
  if (!v.running) [[unlikely]] {
    ++s.c.dropped_vm_off;
    return;
  }
  const auto cap = static_cast<std::uint32_t>(v.ring.size());
  if (v.count == cap) [[unlikely]] {
    ++v.c.rx_ring_full;
    return;
  }
  ++v.c.rx_delivered;
  ++s.c.local_deliveries;
  if (v.delivery.kind == 0) return;  // no guest: counted, dropped
  std::uint32_t slot = v.head + v.count;
  if (slot >= cap) slot -= cap;
  v.ring[slot] = std::move(f);
  ++v.count;
  sim_->schedule_at(sim_->now() + v.delivery.latency, v.delivery.kind, v.delivery.target, v.self);
}

void host_set::deliver_one(vswitch_rec& s, vnic_rec& v, const dev::frame_ref& f, std::uint16_t vid,
                           bool tagged_bytes, dev::frame_ref* converted) {
  const bool want_tagged = v.vlan == vgt_vlan && vid != 0;
  if (want_tagged == tagged_bytes) {
    deliver(v, s, f);
    return;
  }
  dev::frame_ref local;
  dev::frame_ref& g = converted ? *converted : local;
  if (!g) {
    g = f.clone();
    if (!g) {
      ++s.c.dropped_nic;
      return;
    }
    ++s.c.vlan_copies;
    g.meta().vlan_tci.reset();
    if (want_tagged) {
      if (!g.push_front(wire::vlan_tag_len) ||
          !wire::emit_tag_in_place(g.data(), wire::vlan_repr{tpid_c, 0, false, vid})) {
        ++s.c.dropped_malformed;
        g.reset();
        return;
      }
    } else {
      if (!wire::strip_tag_in_place(g.data()) || !g.pull_front(wire::vlan_tag_len)) {
        ++s.c.dropped_malformed;
        g.reset();
        return;
      }
    }
  }
  deliver(v, s, g);
}

void host_set::flood_local(vswitch_rec& s, const dev::frame_ref& f, std::uint16_t vid, bool tagged_bytes,
                           std::uint32_t except) {
  dev::frame_ref converted;
  for (vnic_id id : s.vnics) {
    vnic_rec& q = vnics_[id];
    if (q.port == except) continue;
    if (q.vlan != vgt_vlan && q.vlan != vid) continue;
    deliver_one(s, q, f, vid, tagged_bytes, &converted);
  }
}

tx_result host_set::vnic_transmit(vnic_id id, dev::frame_ref f) {
  if (id >= vnics_.size()) [[unlikely]]
    throw host_error(fmt::format("vnic id {} does not exist", id));
  vnic_rec& v = vnics_[id];
  vswitch_rec& s = *v.sw;
  ++v.c.tx_frames;
  ++s.c.tx_frames;
  if (!v.running) [[unlikely]] {
    ++v.c.tx_dropped;
    ++s.c.dropped_vm_off;
    return tx_result::dropped_vm_off;
  }
  const auto d = f.cdata();
  if (d.size() < wire::ethernet_header_len) [[unlikely]] {
    ++v.c.tx_dropped;
    ++s.c.dropped_malformed;
    return tx_result::dropped_malformed;
  }
  const auto dst = wire::mac_address::from_u64(load_mac(d.data()));
  const auto src = wire::mac_address::from_u64(load_mac(d.data() + 6));
  const std::uint16_t type = wire::get_u16(d, 12);
  std::uint16_t vid = v.vlan;
  bool tagged = false;
  if (type == tpid_c || type == tpid_s) [[unlikely]] {
    // Only VGT ports pass guest tags [VLANWP]; a reserved VID never goes anywhere.
    if (v.vlan != vgt_vlan || type != tpid_c || d.size() < wire::vlan_tagged_header_len ||
        (wire::get_u16(d, 14) & wire::vlan_vid_mask) == wire::vlan_vid_reserved) {
      ++v.c.tx_dropped;
      ++s.c.dropped_vlan;
      return tx_result::dropped_vlan;
    }
    vid = wire::get_u16(d, 14) & wire::vlan_vid_mask;
    tagged = true;
  } else if (v.vlan == vgt_vlan) {
    vid = 0;
  }
  const bool group = dst.is_multicast();
  if (group) [[unlikely]] {
    ++s.c.floods;
    flood_local(s, f, vid, tagged, v.port);
    if (s.team_ptr == nullptr) return tx_result::sent;
  } else {
    if (const auto* slot = s.lookup(dst.to_u64())) {
      vnic_rec& q = vnics_[slot->vnic];
      if (q.vlan != vgt_vlan && q.vlan != vid) {
        ++v.c.tx_dropped;
        ++s.c.dropped_vlan;
        return tx_result::dropped_vlan;
      }
      deliver_one(s, q, f, vid, tagged, nullptr);
      return tx_result::sent;
    }
    if (s.team_ptr == nullptr) [[unlikely]] {
      ++v.c.tx_dropped;
      ++s.c.dropped_unknown_dst;
      return tx_result::dropped_unknown_dst;
    }
  }
  // Out of the uplink (the one call site of uplink_out). A VM sends from its own MAC
  // almost always: its out-mac bucket is kept in the vNIC.
  tx_result result = tx_result::sent;
  uplink_out(s, std::move(f), src == v.mac ? v.mac_bkt : bond::mac_bucket(src), group, vid, tagged, result);
  if (result != tx_result::sent) [[unlikely]] ++v.c.tx_dropped;
  return result;
}

void host_set::uplink_in(std::uint32_t vmnic, dev::frame_ref f) {
  vmnic_rec& r = *vmnics_[vmnic];
  if (!r.team) [[unlikely]] {
    ++hosts_[r.host]->unbound_rx;
    return;
  }
  const std::uint32_t t = *r.team;
  team_rec& tr = *teams_[t];
  const auto d = f.cdata();
  if (d.size() < wire::ethernet_header_len) [[unlikely]] {
    ++hosts_[r.host]->unbound_rx;  // the NIC passes no runt; counted anyway
    return;
  }
  const auto dst = wire::mac_address::read(d, 0);
  const auto src = wire::mac_address::read(d, 6);
  std::uint16_t inner = wire::get_u16(d, 12);
  std::uint16_t vid = 0;
  bool tagged = false;
  if (inner == tpid_c && d.size() >= wire::vlan_tagged_header_len) {
    tagged = true;
    vid = wire::get_u16(d, 14) & wire::vlan_vid_mask;
    inner = wire::get_u16(d, 16);
  }
  const host_rec& hr = *hosts_[tr.host];
  if (inner == hr.adv.beacon_ether_type) [[unlikely]] {
    // Beacons go to the bond's monitor, never to a VM [AG2].
    ++tr.c.beacon_frames_in;
    if (tr.vs) ++vswitches_[*tr.vs]->c.beacons_rx;
    if (tr.started && tr.monitor->enabled()) {
      const auto b = wire::beacon_frame_repr::parse(d, hr.adv.beacon_ether_type);
      if (b) {
        ++tr.c.beacons_rx;
        team_sink out(*this, t);
        tr.monitor->on_beacon(r.member, b->beacon, sim_->now(), out);
        tr.policy->apply_probes(tr.monitor->verdicts(), sim_->now(), out);
        after_change(t);
        reschedule_timer(t);
      }
    }
    return;
  }
  if (!tr.vs) [[unlikely]] {
    ++hosts_[r.host]->unbound_rx;
    return;
  }
  vswitch_rec& s = *vswitches_[*tr.vs];
  ++s.c.uplink_rx;
  const bond::rx_verdict verdict = tr.policy->admit(r.member, dst.is_multicast());
  if (verdict == bond::rx_verdict::drop) [[unlikely]] {
    ++s.c.dropped_not_admitted;
    return;
  }
  if (s.lookup(src.to_u64())) [[unlikely]] {
    // Our own frame back from the network: a reflection.
    ++s.c.reflections;
    if (!s.reflection_logged) {
      s.reflection_logged = true;
      host_event e = make_event(host_event::kind::reflection, sim_->now(), tr.host, tr.bond_number, r.number);
      e.mac = src;
      log(std::move(e));
    }
    return;
  }
  if (vid == wire::vlan_vid_reserved) [[unlikely]] {
    ++s.c.dropped_vlan;
    return;
  }
  if (tagged && vid != 0) charge(tr, dev::nic_work::vlan_strip, tr.caps.vlan, wire::vlan_tag_len);
  if (dst.is_multicast()) {
    flood_local(s, f, vid, tagged, 0xffff'ffffu);
    return;
  }
  if (const auto* slot = s.lookup(dst.to_u64())) {
    vnic_rec& q = vnics_[slot->vnic];
    if (q.vlan != vgt_vlan && q.vlan != vid) {
      ++s.c.dropped_vlan;
      return;
    }
    deliver_one(s, q, f, vid, tagged, nullptr);
    return;
  }
  ++s.c.dropped_unknown_dst;
}

dev::frame_ref host_set::take_delivery(vnic_id id) {
  if (id >= vnics_.size()) [[unlikely]]
    throw host_error(fmt::format("vnic id {} does not exist", id));
  vnic_rec& v = vnics_[id];
  if (v.count == 0) return {};
  dev::frame_ref f = std::move(v.ring[v.head]);
  if (++v.head == v.ring.size()) v.head = 0;
  --v.count;
  ++v.c.rx_taken;
  return f;
}

std::uint32_t host_set::pending_deliveries(vnic_id v) const {
  if (v >= vnics_.size()) throw host_error(fmt::format("vnic id {} does not exist", v));
  return vnics_[v].count;
}

wire::mac_address host_set::vnic_mac(vnic_id v) const {
  if (v >= vnics_.size()) throw host_error(fmt::format("vnic id {} does not exist", v));
  return vnics_[v].mac;
}

const dev::nic_capabilities& host_set::vnic_capabilities(vnic_id v) const {
  if (v >= vnics_.size()) throw host_error(fmt::format("vnic id {} does not exist", v));
  const vswitch_rec& s = *vnics_[v].sw;
  return s.team_ptr != nullptr ? s.team_ptr->vnic_caps : internal_vnic_capabilities;
}

// ---------------------------------------------------------------------------------------
// Inspection

const bond::policy& host_set::bond_policy(host_id h, unsigned bond_number) const {
  return *bond_at(h, bond_number).policy;
}
const beacon::monitor* host_set::beacon_monitor(host_id h, unsigned bond_number) const {
  const team_rec& t = bond_at(h, bond_number);
  return t.monitor->enabled() ? t.monitor.get() : nullptr;
}
const bond_counters& host_set::bond_stats(host_id h, unsigned bond_number) const {
  return bond_at(h, bond_number).c;
}
const bond_options& host_set::bond_config(host_id h, unsigned bond_number) const {
  return bond_at(h, bond_number).opts;
}
const advanced_settings& host_set::advanced(host_id h) const { return host_at(h).adv; }
std::uint64_t host_set::unbound_rx(host_id h) const { return host_at(h).unbound_rx; }

const vswitch_counters& host_set::vswitch_stats(vswitch_id vs) const {
  if (vs >= vswitches_.size()) throw host_error(fmt::format("virtual switch id {} does not exist", vs));
  return vswitches_[vs]->c;
}
const vnic_counters& host_set::vnic_stats(vnic_id v) const {
  if (v >= vnics_.size()) throw host_error(fmt::format("vnic id {} does not exist", v));
  return vnics_[v].c;
}
std::string host_set::vswitch_device(vswitch_id vs) const {
  if (vs >= vswitches_.size()) throw host_error(fmt::format("virtual switch id {} does not exist", vs));
  return vswitches_[vs]->device;
}
std::string_view host_set::vswitch_label(vswitch_id vs) const {
  if (vs >= vswitches_.size()) throw host_error(fmt::format("virtual switch id {} does not exist", vs));
  return vswitches_[vs]->label;
}
unsigned host_set::vswitch_ports_used(vswitch_id vs) const {
  if (vs >= vswitches_.size()) throw host_error(fmt::format("virtual switch id {} does not exist", vs));
  return static_cast<unsigned>(vswitches_[vs]->vnics.size());
}

std::optional<host_id> host_set::find_host(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < hosts_.size(); ++i) {
    if (hosts_[i]->name == name) return static_cast<host_id>(i);
  }
  return std::nullopt;
}
std::optional<vm_id> host_set::find_vm(host_id h, std::string_view name) const noexcept {
  if (h >= hosts_.size()) return std::nullopt;
  for (vm_id vm : hosts_[h]->vms) {
    if (vms_[vm]->name == name) return vm;
  }
  return std::nullopt;
}
std::optional<vm_id> host_set::find_vm(std::string_view name) const noexcept {
  if (const auto slash = name.find('/'); slash != std::string_view::npos) {
    const auto h = find_host(name.substr(0, slash));
    if (!h) return std::nullopt;
    return find_vm(*h, name.substr(slash + 1));
  }
  std::optional<vm_id> found;
  for (std::size_t i = 0; i < vms_.size(); ++i) {
    if (vms_[i]->name == name) {
      if (found) return std::nullopt;  // ambiguous
      found = static_cast<vm_id>(i);
    }
  }
  return found;
}
std::optional<vnic_id> host_set::find_vnic(vm_id vm, unsigned index) const noexcept {
  if (vm >= vms_.size() || index >= vms_[vm]->vnics.size()) return std::nullopt;
  return vms_[vm]->vnics[index];
}
std::optional<vswitch_id> host_set::find_vswitch(host_id h, std::string_view label) const noexcept {
  if (h >= hosts_.size()) return std::nullopt;
  for (vswitch_id vs : hosts_[h]->vswitches) {
    if (vswitches_[vs]->label == label) return vs;
  }
  return std::nullopt;
}
std::optional<dev::nic_id> host_set::vmnic_nic(host_id h, unsigned number) const noexcept {
  if (h >= hosts_.size() || number >= hosts_[h]->vmnics.size()) return std::nullopt;
  return vmnics_[hosts_[h]->vmnics[number]]->nic;
}
std::size_t host_set::vnic_count() const noexcept { return vnics_.size(); }

std::optional<vswitch_id> host_set::find_vswitch_by_device(host_id h, std::string_view device) const noexcept {
  if (h >= hosts_.size()) return std::nullopt;
  for (vswitch_id vs : hosts_[h]->vswitches) {
    if (vswitches_[vs]->device == device) return vs;
  }
  return std::nullopt;
}
std::optional<unsigned> host_set::vmnic_bond(host_id h, unsigned number) const noexcept {
  if (h >= hosts_.size() || number >= hosts_[h]->vmnics.size()) return std::nullopt;
  const auto& v = *vmnics_[hosts_[h]->vmnics[number]];
  if (!v.team) return std::nullopt;
  return teams_[*v.team]->bond_number;
}
std::vector<unsigned> host_set::bond_vmnics(host_id h, unsigned bond_number) const {
  std::vector<unsigned> out;
  if (h >= hosts_.size()) return out;
  for (const auto& [n, t] : hosts_[h]->bonds) {
    if (n != bond_number) continue;
    for (std::uint32_t m : teams_[t]->members) out.push_back(vmnics_[m]->number);
  }
  return out;
}
unsigned host_set::vmnic_count(host_id h) const { return static_cast<unsigned>(host_at(h).vmnics.size()); }
std::string_view host_set::host_name(host_id h) const { return host_at(h).name; }
std::string_view host_set::vm_name(vm_id vm) const {
  if (vm >= vms_.size()) throw host_error(fmt::format("virtual machine id {} does not exist", vm));
  return vms_[vm]->name;
}

std::string host_set::to_string(const host_event& e) const {
  const std::string h = e.host < hosts_.size() ? hosts_[e.host]->name : std::string("?");
  const std::string b = e.bond ? fmt::format(" bond{}", *e.bond) : std::string();
  auto nic = [](std::optional<unsigned> n) { return n ? fmt::format("vmnic{}", *n) : std::string("none"); };
  switch (e.what) {
    case host_event::kind::member_state:
      return fmt::format("{} {}{} {}: {}=>{}", e.at, h, b, nic(e.vmnic),
                         bond::to_string(static_cast<bond::member_state>(e.from)),
                         bond::to_string(static_cast<bond::member_state>(e.to)));
    case host_event::kind::beacon_state:
      return fmt::format("{} {}{} {}: beacon {}=>{}", e.at, h, b, nic(e.vmnic),
                         beacon::to_string(static_cast<beacon::member_state>(e.from)),
                         beacon::to_string(static_cast<beacon::member_state>(e.to)));
    case host_event::kind::active_changed:
      return fmt::format("{} {}{}: active {}->{}{}", e.at, h, b, nic(e.from_vmnic), nic(e.to_vmnic),
                         e.detail.empty() ? std::string() : fmt::format(" ({})", e.detail));
    case host_event::kind::failover:
      return fmt::format("{} {}{}: failover from {}", e.at, h, b, nic(e.vmnic));
    case host_event::kind::failback:
      return fmt::format("{} {}{}: failback to {}", e.at, h, b, nic(e.vmnic));
    case host_event::kind::reflection:
      return fmt::format("{} {}{}: reflection of {} dropped on {} (further ones counted)", e.at, h, b, e.mac,
                         nic(e.vmnic));
    case host_event::kind::config:
      return fmt::format("{} {}{}: config {}", e.at, h, b, e.detail);
    case host_event::kind::notify:
      return fmt::format("{} {}{}: notify switches for {} on {}", e.at, h, b, e.mac, nic(e.vmnic));
  }
  return "?";
}

}  // namespace vnetsim::host
