#include "vnetsim/proto/beacon.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace vnetsim::beacon {

std::string_view to_string(threshold_rule r) noexcept {
  switch (r) {
    case threshold_rule::exceeds: return "exceeds";
    case threshold_rule::reaches: return "reaches";
  }
  return "?";
}

std::string_view to_string(member_state s) noexcept {
  switch (s) {
    case member_state::ok: return "OK";
    case member_state::ambiguous: return "AMBIGUOUS";
    case member_state::failed: return "FAILED";
  }
  return "?";
}

monitor::monitor(config cfg) : cfg_(std::move(cfg)) {
  const auto n = cfg_.members.size();
  if (n == 0) throw config_error("members", "0", "a bond needs at least one adapter");
  if (n > bond::max_members) {
    throw config_error("members", std::to_string(n),
                       fmt::format("at most {} adapters per bond [AG2]", bond::max_members));
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto& mac = cfg_.members[i];
    if (mac.is_zero() || mac.is_multicast()) {
      throw config_error(fmt::format("members[{}]", i), mac.to_string(),
                         "a beacon source must be a unicast, non-zero MAC address");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (cfg_.members[j] == mac) {
        throw config_error(fmt::format("members[{}]", i), mac.to_string(),
                           fmt::format("members[{}] has the same MAC; beacons could not tell "
                                       "the senders apart",
                                       j));
      }
    }
  }
  if (cfg_.interval <= sim_time::zero()) {
    throw config_error("SwitchFailoverBeaconInterval", cfg_.interval.to_string(),
                       "must be greater than 0");
  }
  const bool per_bond = cfg_.switch_failover_threshold.has_value();
  threshold_ = per_bond ? *cfg_.switch_failover_threshold : cfg_.host_threshold;
  if (threshold_ == 1) {
    throw config_error(per_bond ? "switch_failover_threshold" : "SwitchFailoverThreshold", "1",
                       "0 turns beacon monitoring off and 2 or more turns it on; 1 is not "
                       "described [AG2], so vnetsim rejects it");
  }
  if (cfg_.vlan_id && (*cfg_.vlan_id == 0 || *cfg_.vlan_id > wire::vlan_vid_max)) {
    throw config_error("SwitchFailoverBeaconVlanID", std::to_string(*cfg_.vlan_id),
                       "must be 1..4094 (802.1Q-2018 Table 9-2); leave it unset for "
                       "untagged beacons");
  }
  if (cfg_.ether_type < 0x0600 || wire::is_vlan_tpid(cfg_.ether_type)) {
    throw config_error("SwitchFailoverBeaconEtherType", fmt::format("{:#06x}", cfg_.ether_type),
                       "must be an EtherType (0x0600 or more, IEEE 802.3-2018 3.2.6) and "
                       "not a VLAN TPID");
  }
  vars_.resize(n);
  verdicts_.assign(n, bond::probe_verdict::ok);
}

void monitor::check(member m) const {
  if (m >= vars_.size()) {
    throw config_error("member", std::to_string(m),
                       fmt::format("the bond has {} members", vars_.size()));
  }
}

member_state monitor::state(member m) const {
  check(m);
  return vars_[m].state;
}

unsigned monitor::missed(member m) const {
  check(m);
  return vars_[m].missed;
}

const member_counters& monitor::counters(member m) const {
  check(m);
  return vars_[m].counters;
}

void monitor::set_link(member m, bool up) {
  check(m);
  vars_[m].link_up = up;
}

std::optional<sim_time> monitor::next_deadline() const noexcept {
  if (!enabled()) return std::nullopt;
  return next_round_;
}

void monitor::start(sim_time now, sink& out) {
  if (!enabled()) return;  // off: no beacons at all [AG2]
  for (auto& v : vars_) {
    v.evidence = false;
    v.missed = 0;
  }
  send_round(now, out);
  next_round_ = now + cfg_.interval;
}

bool monitor::silent(const member_vars& v) const noexcept {
  return cfg_.rule == threshold_rule::exceeds ? v.missed > threshold_ : v.missed >= threshold_;
}

void monitor::set_state(member m, member_state s, sim_time now, sink& out) {
  auto& v = vars_[m];
  const auto from = v.state;
  if (from == s) return;
  v.state = s;
  verdicts_[m] = verdict(s);
  if (s == member_state::failed) ++v.counters.failures;
  out.log(now, fmt::format("member {}: {}=>{}", m, to_string(from), to_string(s)));
  out.state_changed(now, m, from, s);
}

void monitor::classify(sim_time now, sink& out) {
  const bool someone_hears =
      std::any_of(vars_.begin(), vars_.end(), [&](const member_vars& v) { return !silent(v); });
  for (member m = 0; m < vars_.size(); ++m) {
    member_state s = member_state::ok;
    if (silent(vars_[m])) s = someone_hears ? member_state::failed : member_state::ambiguous;
    set_state(m, s, now, out);
  }
}

void monitor::on_beacon(member receiver, const wire::beacon_repr& b, sim_time now, sink& out) {
  check(receiver);
  auto& rx = vars_[receiver];
  if (!enabled() || !next_round_ || b.bond_id != cfg_.bond_id ||
      b.member_index >= vars_.size() || b.member_index == receiver ||
      cfg_.members[b.member_index] != b.sender_mac) {
    ++rx.counters.rx_ignored;  // not evidence of a path between two members
    return;
  }
  auto& tx = vars_[b.member_index];
  ++rx.counters.beacons_rx;
  rx.evidence = tx.evidence = true;
  rx.missed = tx.missed = 0;
  classify(now, out);
}

void monitor::on_timer(sim_time now, sink& out) {
  while (enabled() && next_round_ && *next_round_ <= now) {
    for (auto& v : vars_) {
      if (!v.evidence) {
        ++v.missed;
        ++v.counters.missed_rounds;
      }
      v.evidence = false;
    }
    classify(now, out);
    send_round(now, out);
    *next_round_ += cfg_.interval;
  }
}

void monitor::send_round(sim_time now, sink& out) {
  wire::beacon_frame_repr f;
  f.ether_type = cfg_.ether_type;
  if (cfg_.vlan_id) f.tag = wire::vlan_repr{wire::vlan_tpid_c, 0, false, *cfg_.vlan_id};
  f.beacon.bond_id = cfg_.bond_id;
  for (member m = 0; m < vars_.size(); ++m) {
    auto& v = vars_[m];
    if (!v.link_up) continue;
    f.src = cfg_.members[m];
    f.beacon.member_index = m;
    f.beacon.sender_mac = cfg_.members[m];
    f.beacon.sequence = v.sequence++;
    ++v.counters.beacons_tx;
    out.transmit(now, m, f);
  }
}

}  // namespace vnetsim::beacon
