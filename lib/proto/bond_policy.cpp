#include "vnetsim/proto/bond_policy.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace vnetsim::bond {

std::string_view to_string(mode m) noexcept {
  switch (m) {
    case mode::out_mac: return "out-mac";
    case mode::out_ip: return "out-ip";
    case mode::standby: return "standby";
  }
  return "?";
}

std::string_view to_string(probe_verdict v) noexcept {
  switch (v) {
    case probe_verdict::ok: return "ok";
    case probe_verdict::suspect: return "suspect";
    case probe_verdict::failed: return "failed";
  }
  return "?";
}

std::string_view to_string(member_state s) noexcept {
  switch (s) {
    case member_state::up: return "UP";
    case member_state::suspect: return "SUSPECT";
    case member_state::beacon_failed: return "BEACON_FAILED";
    case member_state::link_down: return "LINK_DOWN";
    case member_state::inactive: return "INACTIVE";
  }
  return "?";
}

std::string_view to_string(rx_verdict v) noexcept {
  switch (v) {
    case rx_verdict::accept: return "accept";
    case rx_verdict::drop: return "drop";
    case rx_verdict::drop_if_moved: return "drop-if-moved";
  }
  return "?";
}

std::string_view to_string(rx_policy p) noexcept {
  switch (p) {
    case rx_policy::accept_all: return "accept-all";
    case rx_policy::active_only: return "active-only";
  }
  return "?";
}

capabilities intersect(std::span<const capabilities> caps) noexcept {
  capabilities all{true, true, true};
  for (const auto& c : caps) all = all & c;
  return all;
}

namespace {

std::string vmnic_name(std::uint16_t n) { return fmt::format("vmnic{}", n); }

mode parse_mode(const std::string& s) {
  if (s == "out-mac") return mode::out_mac;
  if (s == "out-ip") return mode::out_ip;
  throw config_error("load_balance_mode", fmt::format("\"{}\"", s),
                     "must be \"out-mac\" (the default) or \"out-ip\" [AG2]");
}

member_state derive(bool link_up, probe_verdict p) noexcept {
  if (!link_up) return member_state::link_down;  // link loss overrides beacons [SEED]
  switch (p) {
    case probe_verdict::ok: return member_state::up;
    case probe_verdict::suspect: return member_state::suspect;
    case probe_verdict::failed: return member_state::beacon_failed;
  }
  return member_state::up;
}

/// The state with failback off applied: a held member that is healthy is inactive.
member_state derive(const member_status& st) noexcept {
  const member_state base = derive(st.link_up, st.probe);
  return st.held && healthy(base) ? member_state::inactive : base;
}

/// Failed by link or beacons (not merely held inactive).
constexpr bool failed(member_state s) noexcept {
  return s == member_state::link_down || s == member_state::beacon_failed;
}

}  // namespace

policy::policy(config cfg) : cfg_(std::move(cfg)) {
  const auto n = cfg_.members.size();
  if (n == 0) {
    throw config_error("members", "0", "a bond needs at least one adapter");
  }
  if (n > max_members) {
    throw config_error("members", std::to_string(n),
                       fmt::format("at most {} adapters per bond [AG2]", max_members));
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (cfg_.members[j].vmnic == cfg_.members[i].vmnic) {
        throw config_error(fmt::format("members[{}]", i), vmnic_name(cfg_.members[i].vmnic),
                           fmt::format("an adapter can be bound only once; members[{}] is "
                                       "the same adapter",
                                       j));
      }
    }
  }
  // home_link overrides load_balance_mode [SEED], but an unknown mode is still a typo.
  const mode lb = parse_mode(cfg_.load_balance_mode);
  if (cfg_.ip_rr_volume == 0) {
    throw config_error("ip_rr_volume", "0", "the non-IP cycle volume must be at least 1 byte");
  }

  members_.reserve(n);
  for (const auto& mc : cfg_.members) {
    members_.push_back({mc.vmnic, mc.link_up, mc.probe, derive(mc.link_up, mc.probe), false});
  }
  caps_ = capabilities{true, true, true};
  for (const auto& mc : cfg_.members) caps_ = caps_ & mc.caps;

  if (cfg_.home_link) {
    home_ = find_vmnic(*cfg_.home_link);
    if (!home_) {
      throw config_error("home_link", vmnic_name(*cfg_.home_link),
                         "must be one of the bond's adapters [SEED]");
    }
    mode_ = mode::standby;
    standby_order_.push_back(*home_);
    for (std::size_t i = 0; i < cfg_.secondary_order.size(); ++i) {
      const auto v = cfg_.secondary_order[i];
      const auto m = find_vmnic(v);
      const auto param = fmt::format("secondary_order[{}]", i);
      if (!m) throw config_error(param, vmnic_name(v), "must be one of the bond's adapters");
      if (m == home_) throw config_error(param, vmnic_name(v), "is the home_link");
      if (std::find(standby_order_.begin(), standby_order_.end(), *m) != standby_order_.end()) {
        throw config_error(param, vmnic_name(v), "listed twice");
      }
      standby_order_.push_back(*m);
    }
    // The rest in ascending vmnic order: "lowest-numbered healthy" (UNVERIFIED [AG2]).
    std::vector<member> rest;
    for (member m = 0; m < n; ++m) {
      if (std::find(standby_order_.begin(), standby_order_.end(), m) == standby_order_.end()) {
        rest.push_back(m);
      }
    }
    std::sort(rest.begin(), rest.end(),
              [&](member a, member b) { return members_[a].vmnic < members_[b].vmnic; });
    standby_order_.insert(standby_order_.end(), rest.begin(), rest.end());
  } else {
    if (!cfg_.secondary_order.empty()) {
      throw config_error("secondary_order", vmnic_name(cfg_.secondary_order.front()),
                         "applies only with home_link (standby mode)");
    }
    mode_ = lb;
  }

  // Failback off: members held inactive (a rebuild keeps them so) [VS65].
  for (std::size_t i = 0; i < cfg_.inactive.size(); ++i) {
    const auto v = cfg_.inactive[i];
    const auto param = fmt::format("inactive[{}]", i);
    if (cfg_.failback || mode_ == mode::standby) {
      throw config_error(param, vmnic_name(v), "applies only with failback off in out-mac or out-ip mode");
    }
    const auto m = find_vmnic(v);
    if (!m) throw config_error(param, vmnic_name(v), "must be one of the bond's adapters");
    members_[*m].held = true;
  }
  bool any_active = false;
  for (auto& st : members_) {
    if (!healthy(derive(st.link_up, st.probe))) st.held = false;  // failed: not held
    st.state = derive(st);
    any_active = any_active || healthy(st.state);
  }
  if (!any_active) {  // nothing carries traffic: the lowest held member does
    for (auto& st : members_) {
      if (st.state == member_state::inactive) {
        st.held = false;
        st.state = derive(st);
        break;
      }
    }
  }

  // Initial assignment, silently (no sink yet).
  struct null_sink : sink {} quiet;
  buckets_.fill(none_);
  rebalance(sim_time::zero(), quiet);
  counters_ = {};
}

void policy::check(member m) const {
  if (m >= members_.size()) {
    throw config_error("member", std::to_string(m),
                       fmt::format("the bond has {} members", members_.size()));
  }
}

member_status policy::status(member m) const {
  check(m);
  return members_[m];
}

std::optional<member> policy::find_vmnic(std::uint16_t vmnic) const noexcept {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].vmnic == vmnic) return static_cast<member>(i);
  }
  return std::nullopt;
}

std::optional<member> policy::bucket_owner(std::size_t b) const {
  if (b >= bucket_count) {
    throw config_error("bucket", std::to_string(b),
                       fmt::format("buckets are 0..{}", bucket_count - 1));
  }
  if (buckets_[b] == none_) return std::nullopt;
  return buckets_[b];
}

bool policy::carries(member m) const noexcept {
  if (mode_ == mode::standby) return active_ == m;
  return healthy(members_[m].state);
}

rx_verdict policy::admit(member m, bool dst_group) noexcept {
  if (m >= members_.size() || !members_[m].link_up) {
    ++counters_.rx_dropped;
    return rx_verdict::drop;
  }
  const bool active_member = carries(m);
  if (cfg_.rx == rx_policy::accept_all) {
    if (!active_member) ++counters_.rx_inactive;
    return rx_verdict::accept;
  }
  // rx_policy::active_only (an OVS/Linux-like experiment, not ESX 2.x).
  if (!active_member) {
    ++counters_.rx_dropped;
    return rx_verdict::drop;
  }
  if (mode_ != mode::standby && dst_group && healthy_count_ > 0 && healthy_[0] != m) {
    return rx_verdict::drop_if_moved;
  }
  return rx_verdict::accept;
}

void policy::set_state(member m, member_state s, sim_time now, sink& out) {
  auto& st = members_[m];
  const auto from = st.state;
  if (from == s) return;
  st.state = s;
  out.log(now, fmt::format("{}: {}=>{}", vmnic_name(st.vmnic), to_string(from), to_string(s)));
  out.member_changed(now, m, from, s);
  if (mode_ != mode::standby) {
    if (healthy(from) && !healthy(s)) ++counters_.failovers;
    if (!healthy(from) && healthy(s)) ++counters_.failbacks;
  }
}

void policy::update_held() noexcept {
  if (cfg_.failback || mode_ == mode::standby) return;
  // [VS65] "Failback: No": see the file comment for the reading.
  std::size_t active_failing = 0;  // members carrying traffic that fail with this update
  bool active_after = false;       // a member carries traffic before and after it
  for (auto& st : members_) {
    const bool ok = healthy(derive(st.link_up, st.probe));
    if (healthy(st.state)) {
      if (ok) {
        active_after = true;
      } else {
        ++active_failing;
      }
    }
    if (!ok) st.held = false;  // failed (again): no longer merely inactive
  }
  for (auto& st : members_) {  // recovered while another member carries: held inactive
    if (failed(st.state) && healthy(derive(st.link_up, st.probe)) && active_after) st.held = true;
  }
  for (auto& st : members_) {  // one replacement per failed active member, lowest index first
    if (active_failing == 0) break;
    if (st.held && healthy(derive(st.link_up, st.probe))) {
      st.held = false;
      --active_failing;
    }
  }
}

void policy::refresh_states(sim_time now, sink& out) {
  update_held();
  for (member m = 0; m < members_.size(); ++m) set_state(m, derive(members_[m]), now, out);
  rebalance(now, out);
}

void policy::set_link(member m, bool up, sim_time now, sink& out) {
  check(m);
  members_[m].link_up = up;
  refresh_states(now, out);
}

void policy::set_probe(member m, probe_verdict v, sim_time now, sink& out) {
  check(m);
  members_[m].probe = v;
  refresh_states(now, out);
}

void policy::apply_probes(std::span<const probe_verdict> v, sim_time now, sink& out) {
  if (v.size() != members_.size()) {
    throw config_error("probe table", std::to_string(v.size()),
                       fmt::format("must have one verdict per member ({})", members_.size()));
  }
  for (member m = 0; m < members_.size(); ++m) members_[m].probe = v[m];
  refresh_states(now, out);
}

void policy::rebalance(sim_time now, sink& out) {
  const auto n = members_.size();
  healthy_count_ = 0;
  for (member m = 0; m < n; ++m) {
    if (healthy(members_[m].state)) healthy_[healthy_count_++] = m;
  }
  cycle_pos_ = 0;  // the volume cycle restarts at the lowest healthy member
  cycle_bytes_ = 0;

  if (mode_ == mode::standby) {
    std::optional<member> next;
    for (member m : standby_order_) {
      if (healthy(members_[m].state)) {
        next = m;
        break;
      }
    }
    if (next != active_) {
      const auto from = active_;
      active_ = next;
      if (next == home_) {
        ++counters_.failbacks;
      } else if (from || next) {
        ++counters_.failovers;
      }
      auto name = [&](std::optional<member> x) {
        return x ? vmnic_name(members_[*x].vmnic) : std::string("none");
      };
      out.log(now, fmt::format("active: {}=>{}", name(from), name(next)));
      out.active_changed(now, from, next);
    }
    buckets_.fill(active_ ? *active_ : none_);
    return;
  }

  for (std::size_t b = 0; b < bucket_count; ++b) {
    const auto home = static_cast<member>(b % n);
    std::uint8_t to = none_;
    if (healthy(members_[home].state)) {
      to = home;
    } else if (healthy_count_ > 0) {
      to = healthy_[(b / n) % healthy_count_];
    }
    const std::uint8_t from = buckets_[b];
    if (from == to) continue;
    buckets_[b] = to;
    ++counters_.bucket_moves;
    out.bucket_moved(now, b, from == none_ ? std::nullopt : std::optional<member>(from),
                     to == none_ ? std::nullopt : std::optional<member>(to));
  }
}

}  // namespace vnetsim::bond
