#pragma once
// Test support for the TCP engine, with no kernel: a recording sink, a segment builder for a
// hand-driven peer, and a two-connection harness that carries segments between two engines
// with a fixed one-way delay, an optional line rate, scripted losses and an outage window.
// Events at the same time run in the order: scheduled actions, arrivals (in send order),
// A's timers, B's timers.
#include "vnetsim/traffic/tcp.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace doctest {
template <>
struct StringMaker<vnetsim::sim_time> {
  static String convert(vnetsim::sim_time t) { return t.to_string().c_str(); }
};
}  // namespace doctest

namespace vnetsim::test_tcp {

using namespace vnetsim::literals;
using tcp::state;
using wire::tcp_flags;

inline const tcp::endpoint ep_a{wire::ipv4_address(10, 0, 0, 1), 1000};
inline const tcp::endpoint ep_b{wire::ipv4_address(10, 0, 0, 2), 2000};

/// One transmit() call.
struct tx {
  sim_time at;
  wire::tcp_repr seg;
  std::uint64_t off = 0;
  std::uint32_t len = 0;
  std::uint16_t tso_mss = 0;
};

/// Pattern bytes for a payload span (one shared buffer; valid until the next call).
inline std::span<const std::byte> pattern(std::uint64_t off, std::size_t len) {
  static std::array<std::byte, 70000> buf;
  tcp::fill_payload(std::span<std::byte>(buf.data(), len), off);
  return {buf.data(), len};
}

/// Records everything; `on_tx`, when set, receives each transmit too.
class capture_sink final : public tcp::sink {
 public:
  bool record = true;
  std::vector<tx> txs;
  std::vector<std::string> logs;
  std::vector<std::tuple<state, state, sim_time>> states;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> deliveries;
  std::uint64_t delivered = 0;
  std::uint64_t next_offset = 0;   // the next in-order stream offset expected
  std::uint64_t gaps = 0;          // deliver() calls that did not continue the stream
  std::optional<sim_time> last_delivery;
  std::function<void(const tx&)> on_tx;
  std::function<void(sim_time, std::uint64_t, std::uint32_t)> on_deliver;

  void transmit(sim_time now, const wire::tcp_repr& seg, std::uint64_t off, std::uint32_t len,
                std::uint16_t tso_mss) override {
    const tx t{now, seg, off, len, tso_mss};
    if (record) txs.push_back(t);
    if (on_tx) on_tx(t);
  }
  void deliver(sim_time now, std::uint64_t off, std::uint32_t len) override {
    if (off != next_offset) ++gaps;
    next_offset = off + len;
    delivered += len;
    last_delivery = now;
    if (record) deliveries.emplace_back(off, len);
    if (on_deliver) on_deliver(now, off, len);
  }
  void state_changed(state from, state to, sim_time now) override {
    if (record) states.emplace_back(from, to, now);
  }
  void log(sim_time, std::string_view line) override {
    if (record) logs.emplace_back(line);
  }
  /// Data segments (len > 0) sent, in order.
  std::vector<tx> data() const {
    std::vector<tx> v;
    for (const auto& t : txs) {
      if (t.len != 0) v.push_back(t);
    }
    return v;
  }
};

/// A segment from a hand-driven peer.
inline wire::tcp_repr segment(std::uint32_t seq, std::uint32_t ack, tcp_flags flags,
                              std::uint16_t window = 65535) {
  wire::tcp_repr r;
  r.src_port = ep_b.port;
  r.dst_port = ep_a.port;
  r.seq = seq;
  r.ack = ack;
  r.flags = flags;
  r.window = window;
  return r;
}

/// Two connections, A (index 0) and B (index 1), joined by a path with a one-way delay.
class pair_harness {
 public:
  struct packet {
    sim_time at;
    std::uint64_t seq;
    int to;
    wire::tcp_repr seg;
    std::uint64_t off;
    std::uint32_t len;
  };

  tcp::connection a, b;
  capture_sink sa, sb;
  sim_time delay;
  std::uint64_t rate_bps = 0;  // 0: no serialisation delay
  std::optional<std::pair<sim_time, sim_time>> outage;  // drops everything sent in [from, to)
  /// Drops a segment when it returns true (from: 0 = A, 1 = B).
  std::function<bool(int from, const tx&)> drop;
  /// Sees every (MSS-cut) segment put on the path: its arrival time, or nullopt if lost.
  std::function<void(int from, const tx&, std::optional<sim_time> arrival)> tap;
  /// Runs after each segment a connection receives.
  std::function<void(int to, sim_time now)> after_rx;
  /// Runs after every event (application pumps).
  std::function<void(sim_time)> after_event;
  /// An extra timer source (application timers), run after B's at equal times.
  std::function<std::optional<sim_time>()> extra_deadline;
  std::function<void(sim_time)> extra_timer;
  /// Bulk source: after every event A's send buffer is topped up while this is true.
  bool bulk_a = false;
  std::uint64_t bulk_limit = ~std::uint64_t{0};
  std::uint64_t dropped = 0;
  /// Cut TSO super-segments into MSS segments on the way, as a NIC does.
  bool split_tso = true;

  pair_harness(const tcp::config& ca, const tcp::config& cb, sim_time one_way,
               std::uint32_t iss_a = 1000, std::uint32_t iss_b = 5000)
      : a(ca, ep_a, ep_b, iss_a), b(cb, ep_b, ep_a, iss_b), delay(one_way) {
    flight_.reserve(1 << 16);
    sa.on_tx = [this](const tx& t) { enqueue(0, t); };
    sb.on_tx = [this](const tx& t) { enqueue(1, t); };
  }

  /// Schedules `fn` at `t` (set-up only).
  void at(sim_time t, std::function<void(sim_time)> fn) {
    // Insert after every action at or before t (no stable_sort: its nothrow temporary
    // buffer does not pair with tests/kernel/alloc_counter.cpp's operator delete).
    const auto pos = std::upper_bound(actions_.begin(), actions_.end(), t,
                                      [](sim_time v, const auto& x) { return v < x.first; });
    actions_.emplace(pos, t, std::move(fn));
  }

  /// Opens A actively and B passively at time 0 (at `t`).
  void connect(sim_time t = sim_time::zero()) {
    b.listen(t, sb);
    a.open_active(t, sa);
  }

  void run_until(sim_time end) {
    for (;;) {
      sim_time t = sim_time::max();
      if (next_action_ < actions_.size()) t = std::min(t, actions_[next_action_].first);
      if (head_ < flight_.size()) t = std::min(t, flight_[head_].at);
      const auto da = a.next_deadline();
      const auto db = b.next_deadline();
      if (da) t = std::min(t, *da);
      if (db) t = std::min(t, *db);
      const auto dx = extra_deadline ? extra_deadline() : std::nullopt;
      if (dx) t = std::min(t, *dx);
      if (t > end || t == sim_time::max()) break;
      now_ = t;
      if (next_action_ < actions_.size() && actions_[next_action_].first == t) {
        actions_[next_action_++].second(t);
      } else if (head_ < flight_.size() && flight_[head_].at == t) {
        const packet p = flight_[head_++];
        if (head_ > 4096 && head_ * 2 > flight_.size()) {
          flight_.erase(flight_.begin(), flight_.begin() + static_cast<std::ptrdiff_t>(head_));
          head_ = 0;
        }
        tcp::connection& c = p.to == 0 ? a : b;
        c.on_segment(p.seg, pattern(p.off, p.len), t, p.to == 0 ? sa : sb);
        if (after_rx) after_rx(p.to, t);
      } else if (da && *da == t) {
        a.on_timer(t, sa);
      } else if (db && *db == t) {
        b.on_timer(t, sb);
      } else {
        extra_timer(t);
      }
      top_up(t);
      if (after_event) after_event(t);
    }
    now_ = end;
  }

  sim_time now() const { return now_; }

 private:
  void top_up(sim_time t) {
    if (!bulk_a) return;
    const auto s = a.current_state();
    if (s != state::established && s != state::close_wait) return;
    const std::uint64_t want = bulk_limit - a.bytes_written();
    if (want != 0) a.send(static_cast<std::size_t>(std::min<std::uint64_t>(want, 1u << 30)), t, sa);
  }

  void enqueue(int from, const tx& t) {
    if (t.tso_mss != 0 && split_tso) {
      // The NIC's segmentation: MSS pieces, FIN and PSH on the last only.
      for (std::uint32_t done = 0; done < t.len; done += t.tso_mss) {
        tx piece = t;
        piece.len = std::min<std::uint32_t>(t.tso_mss, t.len - done);
        piece.off = t.off + done;
        piece.seg.seq = t.seg.seq + done;
        piece.tso_mss = 0;
        if (done + piece.len < t.len) {
          piece.seg.flags = piece.seg.flags & ~(tcp_flags::fin | tcp_flags::psh);
        }
        enqueue_one(from, piece);
      }
      return;
    }
    enqueue_one(from, t);
  }

  void enqueue_one(int from, const tx& t) {
    if ((outage && t.at >= outage->first && t.at < outage->second) || (drop && drop(from, t))) {
      ++dropped;
      if (tap) tap(from, t, std::nullopt);
      return;
    }
    sim_time depart = t.at;
    if (rate_bps != 0) {
      depart = std::max(depart, link_free_[from]);
      const std::uint64_t bits = (std::uint64_t{t.len} + 54) * 8;
      depart += sim_time::from_ns(static_cast<sim_time::rep>(bits * 1'000'000'000ULL / rate_bps));
      link_free_[from] = depart;
    }
    packet p{depart + delay, seq_++, 1 - from, t.seg, t.off, t.len};
    if (tap) tap(from, t, p.at);
    const auto pos = std::upper_bound(
        flight_.begin() + static_cast<std::ptrdiff_t>(head_), flight_.end(), p,
        [](const packet& x, const packet& y) { return std::tie(x.at, x.seq) < std::tie(y.at, y.seq); });
    flight_.insert(pos, p);
  }

  std::vector<packet> flight_;
  std::size_t head_ = 0;
  std::uint64_t seq_ = 0;
  std::array<sim_time, 2> link_free_{};
  std::vector<std::pair<sim_time, std::function<void(sim_time)>>> actions_;
  std::size_t next_action_ = 0;
  sim_time now_;
};

}  // namespace vnetsim::test_tcp
