#include "vnetsim/dev/link.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace vnetsim::dev {

sim_time serialization_time(std::size_t frame_len, std::uint64_t bps) noexcept {
  const std::uint64_t on_wire =
      std::max(frame_len, wire_min_frame) + wire_fcs + wire_preamble_sfd + wire_ifg;
  const std::uint64_t bits = on_wire * 8;
  // ceil(bits * 1e9 / bps) without overflow for any realistic frame and rate: bits is at
  // most ~2^20 and 1e9 < 2^30, so the product fits in 64 bits.
  const std::uint64_t ns = (bits * 1'000'000'000ULL + bps - 1) / bps;
  return sim_time::from_ns(static_cast<sim_time::rep>(ns));
}

serializer::serializer(std::uint64_t bps) noexcept {
  if (bps == 0) return;  // rejected by link_set::add
  const std::uint64_t g = std::gcd(std::uint64_t{1'000'000'000}, bps);
  num_ = 1'000'000'000 / g;
  den_ = bps / g;
  if (den_ > 1 && den_ <= 0xffff'ffffULL) recip_ = ~std::uint64_t{0} / den_ + 1;
}

namespace {

/// Probability that a frame of `bits` bits has at least one bit error at rate `ber`:
/// 1 - (1 - ber)^bits, computed without cancellation for small rates and with the
/// deterministic exp/log so that every platform draws the same losses.
double frame_error_probability(double ber, std::uint64_t bits) noexcept {
  if (ber <= 0) return 0.0;
  if (ber >= 1) return 1.0;
  const double log1m = ber < 1e-4 ? -ber - ber * ber / 2 : kernel::deterministic_log(1.0 - ber);
  const double x = static_cast<double>(bits) * log1m;  // ln((1 - ber)^bits), <= 0
  return x > -1e-5 ? -x - x * x / 2 : 1.0 - kernel::deterministic_exp(x);
}

}  // namespace

link_set::link_set(kernel::simulator& sim, const kernel::rng_streams& streams)
    : sim_(&sim), streams_(&streams) {}

link_id link_set::add(std::string_view name, const link_config& cfg, const endpoint& a,
                      const endpoint& b) {
  if (cfg.bandwidth_bps == 0) {
    throw link_error(fmt::format("link \"{}\": bandwidth must be above 0 bit/s", name));
  }
  if (cfg.delay < sim_time::zero()) {
    throw link_error(fmt::format("link \"{}\": delay {} is negative", name, cfg.delay));
  }
  if (find(name)) throw link_error(fmt::format("link \"{}\": the name is already used", name));
  link& l = links_.emplace_back();
  l.name = std::string(name);
  l.cfg = cfg;
  l.ser = serializer(cfg.bandwidth_bps);
  l.frame_limit = cfg.queue_frames != 0 ? cfg.queue_frames : ~std::uint64_t{0};
  l.byte_limit = cfg.queue_bytes != 0 ? cfg.queue_bytes : ~std::uint64_t{0};
  l.end[0] = a;
  l.end[1] = b;
  for (int s = 0; s < 2; ++s) {
    direction& d = l.dir[s];
    d.rng = streams_->get(fmt::format("link/{}/{}", name, s == 0 ? "a" : "b"));
    d.ring.resize(16);
    d.mask = d.ring.size() - 1;
    d.busy_until = sim_->now();
    d.last_arrive = sim_->now();
    d.ser_bytes = 0;
    d.ser_time = l.ser(0);
  }
  return static_cast<link_id>(links_.size() - 1);
}

link_set::link& link_set::at(link_id id) {
  if (id >= links_.size()) throw link_error(fmt::format("link id {} does not exist", id));
  return links_[id];
}

const link_set::link& link_set::at(link_id id) const {
  if (id >= links_.size()) throw link_error(fmt::format("link id {} does not exist", id));
  return links_[id];
}

void link_set::settle_waiting(direction& d, sim_time now) noexcept {
  const std::size_t mask = d.mask;
  while (d.waiting_from < d.count) {
    const in_flight& f = d.ring[(d.head + d.waiting_from) & mask];
    if (f.start > now) break;
    d.waiting_bytes -= f.bytes;
    ++d.waiting_from;
  }
  d.first_waiting_start =
      d.waiting_from < d.count ? d.ring[(d.head + d.waiting_from) & mask].start : sim_time::max();
}

void link_set::grow(direction& d) {
  std::vector<in_flight> bigger(d.ring.size() * 2);
  const std::size_t mask = d.ring.size() - 1;
  for (std::size_t i = 0; i < d.count; ++i) bigger[i] = std::move(d.ring[(d.head + i) & mask]);
  d.ring = std::move(bigger);
  d.mask = d.ring.size() - 1;
  d.head = 0;
}

send_result link_set::refuse(direction& d, send_result why) noexcept {
  if (why == send_result::no_carrier) {
    ++d.stats.no_carrier;
  } else {
    ++d.stats.out_discards;
  }
  return why;
}

void link_set::arm(link_id id, link_side from, sim_time arrive) {
  const link& l = links_[id];
  sim_->schedule_at(arrive, l.end[1 - static_cast<int>(from)].arrive_kind, target_of(id, from));
}

link_set::arrival link_set::take_arrival(std::uint32_t target) {
  link& l = links_[target / 2];
  direction& d = l.dir[target % 2];
  const endpoint& far = l.end[1 - target % 2];
  arrival out{frame_ref{}, far.device, far.port};
  if (d.count == 0) [[unlikely]] return out;  // cannot happen: armed only with a frame
  in_flight& f = d.ring[d.head];
  const std::uint32_t epoch = f.epoch;
  const std::uint32_t bytes = f.bytes;
  d.head = (d.head + 1) & d.mask;
  --d.count;
  if (d.waiting_from > 0) {
    --d.waiting_from;
  } else {
    // It was still counted as waiting (no send() since it started): it leaves the count.
    d.waiting_bytes -= bytes;
    d.first_waiting_start = d.count != 0 ? d.ring[d.head].start : sim_time::max();
  }
  // Re-arm for the next frame before the receiver runs, so that its event precedes
  // whatever the receiver schedules (as it did when every frame had its event from send).
  if (d.count != 0) sim_->schedule_at(d.ring[d.head].arrive, far.arrive_kind, target);
  // A carrier loss since queueing bumped the epoch (and no frame is queued while the
  // carrier is down), so the epoch alone tells a frame lost to it.
  if (epoch == l.epoch && !d.faulty) [[likely]] {
    ++d.stats.delivered;
    out.frame = std::move(f.frame);
    if (d.tap != nullptr) [[unlikely]] {
      d.tap(d.tap_ctx, target / 2, static_cast<link_side>(target % 2), sim_->now(), out.frame);
    }
    return out;
  }
  frame_ref frame = std::move(f.frame);  // released on return unless delivered
  if (epoch != l.epoch || !l.carrier) {
    ++d.stats.lost_carrier;
  } else if (d.black_hole) {
    ++d.stats.lost_black_hole;
  } else if (d.loss > 0 && d.rng.bernoulli(d.loss)) {
    ++d.stats.lost_random;
  } else if (d.ber > 0 &&
             d.rng.bernoulli(frame_error_probability(
                 d.ber, (std::max<std::uint64_t>(bytes, wire_min_frame) + wire_fcs) * 8))) {
    ++d.stats.fcs_errors;
  } else {
    ++d.stats.delivered;
    if (d.tap != nullptr) [[unlikely]] {
      d.tap(d.tap_ctx, target / 2, static_cast<link_side>(target % 2), sim_->now(), frame);
    }
    out.frame = std::move(frame);
  }
  return out;
}

void link_set::set_tap(link_id id, link_side from, link_tap_fn fn, void* ctx) {
  direction& d = at(id).dir[static_cast<std::size_t>(from)];
  d.tap = fn;
  d.tap_ctx = fn != nullptr ? ctx : nullptr;
}

void link_set::notify_carrier(const link& l, bool up) {
  for (const endpoint& e : l.end) {
    if (e.carrier_kind != 0) {
      sim_->schedule_at(sim_->now(), e.carrier_kind, e.device, (std::uint64_t{up} << 32) | e.port);
    }
  }
}

void link_set::set_carrier(link_id id, bool up) {
  link& l = at(id);
  if (l.carrier == up) return;
  l.carrier = up;
  const sim_time now = sim_->now();
  if (!up) {
    // Everything queued or on the wire is lost: it is judged against the epoch at arrival.
    ++l.epoch;
    for (direction& d : l.dir) {
      d.busy_until = now;
      d.waiting_from = d.count;
      d.waiting_bytes = 0;
      d.first_waiting_start = sim_time::max();
    }
  } else {
    for (direction& d : l.dir) d.busy_until = std::max(d.busy_until, now);
  }
  notify_carrier(l, up);
}

void link_set::set_black_hole(link_id id, link_side from, bool on) {
  direction& d = at(id).dir[static_cast<int>(from)];
  d.black_hole = on;
  update_faulty(d);
}

void link_set::set_loss(link_id id, link_side from, double probability) {
  link& l = at(id);
  if (!(probability >= 0.0 && probability <= 1.0)) {
    throw link_error(fmt::format("link \"{}\": loss probability {} is outside [0, 1]", l.name, probability));
  }
  l.dir[static_cast<int>(from)].loss = probability;
  update_faulty(l.dir[static_cast<int>(from)]);
}

void link_set::set_bit_error_rate(link_id id, link_side from, double ber) {
  link& l = at(id);
  if (!(ber >= 0.0 && ber <= 1.0)) {
    throw link_error(fmt::format("link \"{}\": bit error rate {} is outside [0, 1]", l.name, ber));
  }
  l.dir[static_cast<int>(from)].ber = ber;
  update_faulty(l.dir[static_cast<int>(from)]);
}

void link_set::set_delay(link_id id, sim_time delay) {
  link& l = at(id);
  if (delay < sim_time::zero()) {
    throw link_error(fmt::format("link \"{}\": delay {} is negative", l.name, delay));
  }
  l.cfg.delay = delay;
}

bool link_set::carrier(link_id id) const { return at(id).carrier; }

std::string_view link_set::name(link_id id) const { return at(id).name; }

std::optional<link_id> link_set::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < links_.size(); ++i) {
    if (links_[i].name == name) return static_cast<link_id>(i);
  }
  return std::nullopt;
}

const link_config& link_set::config(link_id id) const { return at(id).cfg; }

const link_direction_stats& link_set::stats(link_id id, link_side from) const {
  return at(id).dir[static_cast<int>(from)].stats;
}

std::uint32_t link_set::queued_frames(link_id id, link_side from) {
  direction& d = at(id).dir[static_cast<int>(from)];
  settle_waiting(d, sim_->now());
  return static_cast<std::uint32_t>(d.count - d.waiting_from);
}

}  // namespace vnetsim::dev
