#include "vnetsim/traffic/tcp.hpp"

#include "vnetsim/traffic/tcp_set.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include <fmt/format.h>

namespace vnetsim::tcp {

namespace {

using wire::tcp_flags;

/// ssthresh "arbitrarily high" at the start (RFC 5681 3.1).
constexpr std::uint64_t initial_ssthresh = std::numeric_limits<std::uint64_t>::max();
/// A super-segment waits until this fraction of the window is free (Linux
/// net.ipv4.tcp_tso_win_divisor default 3, Documentation/networking/ip-sysctl.rst).
constexpr std::uint64_t tso_win_divisor = 3;
/// Largest unscaled window field (RFC 9293 3.1 "Window: 16 bits").
constexpr std::uint64_t max_window_field = 65535;

[[noreturn]] void fail(std::string_view where, std::string_view rule) {
  throw tcp_error(fmt::format("tcp::{}: {}", where, rule));
}

/// OPEN on a connection object (RFC 9293 3.10.1): it must be CLOSED and never used, since each
/// connection is made with its own ISS (3.4.1).
void require_unused(std::string_view where, state st, bool used) {
  if (st != state::closed) {
    fail(where, fmt::format("connection already exists (state {})", to_string(st)));
  }
  if (used) fail(where, "connection already used; make a new one with a new ISS (RFC 9293 3.4.1)");
}

}  // namespace

std::string_view to_string(state s) noexcept {
  switch (s) {
    case state::closed: return "CLOSED";
    case state::listen: return "LISTEN";
    case state::syn_sent: return "SYN-SENT";
    case state::syn_received: return "SYN-RECEIVED";
    case state::established: return "ESTABLISHED";
    case state::fin_wait_1: return "FIN-WAIT-1";
    case state::fin_wait_2: return "FIN-WAIT-2";
    case state::close_wait: return "CLOSE-WAIT";
    case state::closing: return "CLOSING";
    case state::last_ack: return "LAST-ACK";
    case state::time_wait: return "TIME-WAIT";
  }
  return "unknown";
}

void config::validate() const {
  // An MSS must leave room for data in a 576-byte datagram's worth of header (RFC 9293
  // 3.7.1 uses 536 as the default); below 64 is a configuration mistake.
  if (mss < 64) fail("config", fmt::format("mss {} is below 64 bytes", mss));
  if (mss > max_tso_payload) {
    fail("config", fmt::format("mss {} exceeds {} (a 65535-byte datagram)", mss, max_tso_payload));
  }
  if (recv_buffer < mss) {
    fail("config", fmt::format("recv_buffer {} is smaller than the mss {}", recv_buffer, mss));
  }
  // RFC 7323 2.3: the scaled window is at most 65535 << 14 = 1 GiB - 64 KiB.
  if (recv_buffer > (max_window_field << wire::tcp_option::max_window_scale)) {
    fail("config", fmt::format("recv_buffer {} exceeds 65535 << 14 (RFC 7323 2.3)", recv_buffer));
  }
  if (send_buffer < mss) {
    fail("config", fmt::format("send_buffer {} is smaller than the mss {}", send_buffer, mss));
  }
  if (tso && (tso_max_payload < mss || tso_max_payload > max_tso_payload)) {
    fail("config", fmt::format("tso_max_payload {} is outside [mss {}, {}]", tso_max_payload,
                               mss, max_tso_payload));
  }
  if (initial_rto <= sim_time::zero()) fail("config", "initial_rto must be > 0");
  if (min_rto <= sim_time::zero()) fail("config", "min_rto must be > 0");
  if (max_rto < min_rto) {
    fail("config", fmt::format("max_rto {} is below min_rto {}", max_rto, min_rto));
  }
  if (clock_granularity < sim_time::zero()) fail("config", "clock_granularity must be >= 0");
  if (delayed_ack < sim_time::zero() || delayed_ack >= max_delayed_ack) {
    fail("config", fmt::format("delayed_ack {} must be in [0, 0.5s) (RFC 5681 4.2)", delayed_ack));
  }
  if (msl <= sim_time::zero()) fail("config", "msl must be > 0");
}

void connection::set_tso(bool on, std::uint32_t max_payload) {
  if (on && (max_payload < cfg_.mss || max_payload > max_tso_payload)) {
    fail("set_tso", fmt::format("tso_max_payload {} is outside [mss {}, {}]", max_payload,
                                cfg_.mss, max_tso_payload));
  }
  cfg_.tso = on;
  if (on) cfg_.tso_max_payload = max_payload;
}

namespace {

/// payload_pattern() runs of up to 64 KiB: the mod-251 ramp from any phase, so a run in one
/// 64 KiB block is `ramp[offset % 251 + i] ^ high byte`, a loop the compiler vectorises.
struct pattern_ramp {
  static constexpr std::size_t block = 65536;
  std::array<std::uint8_t, block + 251> v{};
  pattern_ramp() noexcept {
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i % 251U);
  }
};

const pattern_ramp& ramp() noexcept {
  static const pattern_ramp r;
  return r;
}

/// Calls fn(stream offset, ramp pointer, high byte, n) for each run within a 64 KiB block.
template <typename F>
bool for_runs(std::size_t len, std::uint64_t offset, F&& fn) noexcept {
  const pattern_ramp& t = ramp();
  std::size_t i = 0;
  while (i < len) {
    const std::size_t n =
        std::min<std::size_t>(len - i, pattern_ramp::block - (offset & (pattern_ramp::block - 1)));
    const auto hi = static_cast<std::uint8_t>((offset >> 16) & 0xffU);
    if (!fn(i, t.v.data() + offset % 251U, hi, n)) return false;
    i += n;
    offset += n;
  }
  return true;
}

}  // namespace

void fill_payload(std::span<std::byte> out, std::uint64_t offset) noexcept {
  for_runs(out.size(), offset,
           [out](std::size_t at, const std::uint8_t* src, std::uint8_t hi, std::size_t n) {
             auto* dst = reinterpret_cast<std::uint8_t*>(out.data() + at);
             for (std::size_t j = 0; j < n; ++j) dst[j] = static_cast<std::uint8_t>(src[j] ^ hi);
             return true;
           });
}

bool payload_matches(std::span<const std::byte> data, std::uint64_t offset) noexcept {
  return for_runs(data.size(), offset,
                  [data](std::size_t at, const std::uint8_t* src, std::uint8_t hi, std::size_t n) {
                    const auto* got = reinterpret_cast<const std::uint8_t*>(data.data() + at);
                    std::uint8_t diff = 0;
                    for (std::size_t j = 0; j < n; ++j) {
                      diff |= static_cast<std::uint8_t>(got[j] ^ src[j] ^ hi);
                    }
                    return diff == 0;
                  });
}

connection::connection(const config& cfg, endpoint local, endpoint remote, std::uint32_t iss)
    : cfg_(cfg), local_(local), remote_(remote), iss_(iss) {
  cfg_.validate();
  rto_ = cfg_.initial_rto;  // RFC 6298 2.1
  ssthresh_ = initial_ssthresh;
  // The smallest shift that fits the receive buffer in the 16-bit field (RFC 7323 2.3).
  while (offered_wscale_ < wire::tcp_option::max_window_scale &&
         (std::uint64_t{cfg_.recv_buffer} >> offered_wscale_) > max_window_field) {
    ++offered_wscale_;
  }
  ooo_.reserve(cfg_.max_ooo_ranges);
  refresh_stats();
}

// --- user calls (RFC 9293 3.10.1-3.10.5) ------------------------------------------------

template <output_sink Sink>
void connection::open_active_impl(sim_time now, Sink& out) {
  require_unused("connection::open_active", state_, snd_max_ != 0 || rcv_nxt_ != 0);
  passive_ = false;
  ++stats_.tcpActiveOpens;
  set_state(state::syn_sent, now, out);
  send_syn(false, now, out);
  refresh_stats();
}

template <output_sink Sink>
void connection::listen_impl(sim_time now, Sink& out) {
  require_unused("connection::listen", state_, snd_max_ != 0 || rcv_nxt_ != 0);
  passive_ = true;
  set_state(state::listen, now, out);
}

template <output_sink Sink>
std::size_t connection::send_impl(std::size_t bytes, sim_time now, Sink& out) {
  switch (state_) {
    case state::syn_sent:
    case state::syn_received:
    case state::established:
    case state::close_wait:
      break;
    case state::closed:
    case state::listen:
      fail("connection::send",
           fmt::format("connection not open (state {})", to_string(state_)));
    default:
      fail("connection::send", fmt::format("connection closing (state {})", to_string(state_)));
  }
  const std::uint64_t used = bytes_unacked();
  const std::uint64_t room = cfg_.send_buffer > used ? cfg_.send_buffer - used : 0;
  const std::uint64_t take = std::min<std::uint64_t>(bytes, room);
  written_ += take;
  if (take != 0 && (state_ == state::established || state_ == state::close_wait)) {
    output(now, out);
  }
  refresh_stats();
  return static_cast<std::size_t>(take);
}

template <output_sink Sink>
void connection::close_impl(sim_time now, Sink& out) {
  switch (state_) {
    case state::closed:
      fail("connection::close", "connection does not exist (state CLOSED)");
    case state::listen:
    case state::syn_sent:
      set_state(state::closed, now, out);
      break;
    case state::syn_received:
      // Queued until ESTABLISHED (RFC 9293 3.10.4 SYN-RECEIVED, the "otherwise" case).
      close_pending_ = true;
      break;
    case state::established:
      fin_queued_ = true;
      set_state(state::fin_wait_1, now, out);
      output(now, out);
      break;
    case state::close_wait:
      // RFC 9293 3.10.4 CLOSE-WAIT (LAST-ACK, correcting RFC 793's "CLOSING").
      fin_queued_ = true;
      set_state(state::last_ack, now, out);
      output(now, out);
      break;
    default:
      fail("connection::close", fmt::format("connection closing (state {})", to_string(state_)));
  }
  refresh_stats();
}

template <output_sink Sink>
void connection::abort_impl(sim_time now, Sink& out) {
  if (synchronized(state_) && state_ != state::time_wait) {
    send_rst(snd_wire(snd_nxt_), 0, false, now, out);  // <SEQ=SND.NXT><CTL=RST>
  }
  if (state_ != state::closed) set_state(state::closed, now, out);
  refresh_stats();
}

std::uint64_t connection::bytes_unacked() const noexcept {
  const std::uint64_t acked = std::min(snd_una_, data_end());
  return written_ - (acked == 0 ? 0 : acked - 1);
}

// --- segment arrival (RFC 9293 3.10.7) ----------------------------------------------------

std::int64_t connection::unwrap_ack(std::uint32_t ack) const noexcept {
  return static_cast<std::int64_t>(snd_una_) +
         static_cast<std::int32_t>(ack - snd_wire(snd_una_));
}

std::int64_t connection::unwrap_seq(std::uint32_t seq) const noexcept {
  return static_cast<std::int64_t>(rcv_nxt_) +
         static_cast<std::int32_t>(seq - rcv_wire(rcv_nxt_));
}

template <output_sink Sink>
void connection::on_segment_impl(const wire::tcp_repr& seg, std::span<const std::byte> payload,
                            sim_time now, Sink& out) {
  ++stats_.tcpInSegs;
  switch (state_) {
    case state::closed: {
      // RFC 9293 3.10.7.1: anything but a RST is answered with a RST.
      if (has(seg.flags, tcp_flags::rst)) break;
      if (has(seg.flags, tcp_flags::ack)) {
        send_rst(seg.ack, 0, false, now, out);  // <SEQ=SEG.ACK><CTL=RST>
      } else {
        const auto len = static_cast<std::uint32_t>(
            payload.size() + (has(seg.flags, tcp_flags::syn) ? 1 : 0) +
            (has(seg.flags, tcp_flags::fin) ? 1 : 0));
        send_rst(0, seg.seq + len, true, now, out);  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
      }
      break;
    }
    case state::listen:
      on_segment_listen(seg, now, out);
      break;
    case state::syn_sent:
      on_segment_syn_sent(seg, payload, now, out);
      break;
    default:
      on_segment_synchronized(seg, payload, now, out);
      break;
  }
  refresh_stats();
}

template <output_sink Sink>
void connection::on_segment_listen(const wire::tcp_repr& seg, sim_time now, Sink& out) {
  // RFC 9293 3.10.7.2.
  if (has(seg.flags, tcp_flags::rst)) return;
  if (has(seg.flags, tcp_flags::ack)) {
    send_rst(seg.ack, 0, false, now, out);
    return;
  }
  if (!has(seg.flags, tcp_flags::syn)) return;
  irs_ = seg.seq;
  rcv_nxt_ = 1;
  take_options(seg);
  snd_wnd_ = seg.window;  // never scaled in a SYN (RFC 7323 2.2)
  snd_wl1_ = 0;
  snd_wl2_ = 0;
  ++stats_.tcpPassiveOpens;
  set_state(state::syn_received, now, out);
  send_syn(true, now, out);
}

template <output_sink Sink>
void connection::on_segment_syn_sent(const wire::tcp_repr& seg,
                                     std::span<const std::byte> /*payload*/, sim_time now,
                                     Sink& out) {
  // RFC 9293 3.10.7.3.
  bool ack_ok = false;
  std::int64_t ack_pos = 0;
  if (has(seg.flags, tcp_flags::ack)) {
    ack_pos = unwrap_ack(seg.ack);
    if (ack_pos <= 0 || ack_pos > static_cast<std::int64_t>(snd_max_)) {
      if (!has(seg.flags, tcp_flags::rst)) send_rst(seg.ack, 0, false, now, out);
      return;
    }
    ack_ok = true;
  }
  if (has(seg.flags, tcp_flags::rst)) {
    if (ack_ok) {
      log(now, out, "connection refused");
      ++stats_.tcpAttemptFails;
      set_state(state::closed, now, out);
    }
    return;
  }
  if (!has(seg.flags, tcp_flags::syn)) return;
  irs_ = seg.seq;
  rcv_nxt_ = 1;
  take_options(seg);
  snd_wnd_ = seg.window;  // never scaled in a SYN (RFC 7323 2.2)
  snd_wl1_ = 0;
  snd_wl2_ = static_cast<std::uint64_t>(ack_pos);
  if (ack_ok) {
    snd_una_ = static_cast<std::uint64_t>(ack_pos);
    if (timing_ && snd_una_ >= timed_end_) {
      rtt_sample(now - timed_at_);
      timing_ = false;
    }
    rto_deadline_.reset();
    established(now, out);
    ack_now_ = true;  // RFC 9293 3.10.7.3: "form an ACK segment ... and send it"
    output(now, out);
    return;
  }
  // Simultaneous open: SYN-RECEIVED, resend <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
  set_state(state::syn_received, now, out);
  timing_ = false;  // the SYN goes out twice: no sample (Karn)
  send_syn(true, now, out);
}

template <output_sink Sink>
void connection::on_segment_synchronized(const wire::tcp_repr& seg,
                                         std::span<const std::byte> payload, sim_time now,
                                         Sink& out) {
  // RFC 9293 3.10.7.4 "Otherwise".
  bool syn = has(seg.flags, tcp_flags::syn);
  const bool fin = has(seg.flags, tcp_flags::fin);
  const bool rst = has(seg.flags, tcp_flags::rst);
  std::int64_t seg_pos = unwrap_seq(seg.seq);

  if (state_ == state::syn_received && syn && seg_pos == 0 && !rst) {
    if (!has(seg.flags, tcp_flags::ack)) {
      // The peer resent its SYN: our SYN-ACK was lost; resend it at once.
      ++stats_.tcpRetransSegs;
      syn_retransmitted_ = true;
      timing_ = false;
      send_syn(true, now, out);
      return;
    }
    // Simultaneous open: the peer's SYN-ACK repeats a SYN we hold; keep its ACK.
    syn = false;
    seg_pos = 1;
  }

  // First, check sequence number (RFC 9293 3.10.7.4, the four acceptability cases).
  const std::uint64_t seg_len = payload.size() + (syn ? 1 : 0) + (fin ? 1 : 0);
  const std::uint64_t wnd = rcv_wnd();
  const auto nxt = static_cast<std::int64_t>(rcv_nxt_);
  const auto right = static_cast<std::int64_t>(rcv_nxt_ + wnd);
  const auto in_window = [&](std::int64_t p) { return nxt <= p && p < right; };
  bool acceptable;
  if (seg_len == 0) {
    acceptable = wnd == 0 ? seg_pos == nxt : in_window(seg_pos);
  } else {
    acceptable = wnd != 0 && (in_window(seg_pos) ||
                              in_window(seg_pos + static_cast<std::int64_t>(seg_len) - 1));
  }
  if (!acceptable) {
    if (seg_len != 0 && seg_pos + static_cast<std::int64_t>(seg_len) <= nxt) {
      ++stats_.dup_segments_in;
    } else {
      ++stats_.out_of_window;
    }
    if (!rst) {
      // A retransmitted FIN in TIME-WAIT restarts the 2 MSL timeout (RFC 9293 3.10.7.4,
      // eighth step, TIME-WAIT).
      if (state_ == state::time_wait && fin) time_wait_deadline_ = now + cfg_.msl * 2;
      send_ack(now, out);
    }
    return;
  }

  // Second, check the RST bit, with RFC 5961 3.2: only an exact match resets.
  if (rst) {
    if (seg_pos == nxt) {
      reset_received(now, out);
    } else {
      send_ack(now, out);  // challenge ACK
    }
    return;
  }

  // Fourth, check the SYN bit: a challenge ACK (RFC 5961 4.2, RFC 9293 3.10.7.4).
  if (syn) {
    send_ack(now, out);
    return;
  }

  // Fifth, check the ACK field.
  if (!has(seg.flags, tcp_flags::ack)) return;
  if (state_ == state::syn_received) {
    const std::int64_t ack_pos = unwrap_ack(seg.ack);
    if (ack_pos <= static_cast<std::int64_t>(snd_una_) ||
        ack_pos > static_cast<std::int64_t>(snd_max_)) {
      send_rst(seg.ack, 0, false, now, out);
      return;
    }
    snd_wnd_ = std::uint64_t{seg.window} << snd_wscale_;
    snd_wl1_ = seg_pos;
    snd_wl2_ = static_cast<std::uint64_t>(ack_pos);
    established(now, out);
  }
  const bool dup_candidate = payload.empty() && !fin;
  if (!process_ack(seg, seg_pos, dup_candidate, now, out)) return;
  if (state_ == state::closed) return;

  // Seventh, process the segment text.
  if (!payload.empty() && (state_ == state::established || state_ == state::fin_wait_1 ||
                           state_ == state::fin_wait_2)) {
    process_data(static_cast<std::uint64_t>(seg_pos), payload, now, out);
  }

  // Eighth, check the FIN bit.
  if (fin) {
    const auto pos = static_cast<std::uint64_t>(seg_pos) + payload.size();
    if (!fin_pos_) fin_pos_ = pos;
    if (rcv_nxt_ == *fin_pos_) process_fin(now, out);
  }
  if (close_pending_ && state_ == state::established) {
    close_pending_ = false;
    fin_queued_ = true;
    set_state(state::fin_wait_1, now, out);
  }
  output(now, out);
}

template <output_sink Sink>
bool connection::process_ack(const wire::tcp_repr& seg, std::int64_t seg_pos, bool dup_candidate,
                             sim_time now, Sink& out) {
  const std::int64_t ack_pos = unwrap_ack(seg.ack);
  if (ack_pos > static_cast<std::int64_t>(snd_max_)) {
    send_ack(now, out);  // acknowledges something not yet sent
    return false;
  }
  const std::uint64_t window = std::uint64_t{seg.window} << snd_wscale_;
  // RFC 5681 section 2 "DUPLICATE ACKNOWLEDGMENT" (a)-(e).
  const bool dup = dup_candidate && ack_pos == static_cast<std::int64_t>(snd_una_) &&
                   snd_max_ > snd_una_ && window == snd_wnd_;
  if (ack_pos >= static_cast<std::int64_t>(snd_una_)) {
    const auto ack_u = static_cast<std::uint64_t>(ack_pos);
    // Window update (RFC 9293 3.10.7.4, SND.WL1/SND.WL2 rule).
    if (snd_wl1_ < seg_pos || (snd_wl1_ == seg_pos && snd_wl2_ <= ack_u)) {
      snd_wnd_ = window;
      snd_wl1_ = seg_pos;
      snd_wl2_ = ack_u;
    }
    if (ack_u > snd_una_) {
      new_ack(ack_u, now, out);
    } else if (dup) {
      on_dupack(now, out);
    }
  }
  // State-specific ACK processing: our FIN acknowledged.
  if (fin_acked()) {
    switch (state_) {
      case state::fin_wait_1:
        set_state(state::fin_wait_2, now, out);
        break;
      case state::closing:
        enter_time_wait(now, out);
        break;
      case state::last_ack:
        set_state(state::closed, now, out);
        return false;
      default:
        break;
    }
  }
  return true;
}

template <output_sink Sink>
void connection::new_ack(std::uint64_t ack_pos, sim_time now, Sink& out) {
  const std::uint64_t prev = snd_una_;
  const std::uint64_t lo = std::max<std::uint64_t>(prev, 1);
  const std::uint64_t hi = std::min(ack_pos, data_end());
  const std::uint64_t data_acked = hi > lo ? hi - lo : 0;
  stats_.bytes_acked += data_acked;
  if (timing_ && ack_pos >= timed_end_) {
    rtt_sample(now - timed_at_);
    timing_ = false;
  }
  snd_una_ = ack_pos;
  snd_nxt_ = std::max(snd_nxt_, snd_una_);  // the peer held what we were about to resend
  backoff_ = 0;
  bool restart = true;
  if (in_recovery_) {
    if (ack_pos >= recover_) {
      // Full acknowledgment, RFC 6582 3.2 step 5, option (1).
      const std::uint64_t flight = snd_max_ - snd_una_;
      cwnd_ = std::min(ssthresh_, std::max<std::uint64_t>(flight, smss_) + smss_);
      in_recovery_ = false;
      dupacks_ = 0;
      log(now, out, fmt::format("fast recovery done, cwnd {} ssthresh {}", cwnd_, ssthresh_));
    } else {
      // Partial acknowledgment, RFC 6582 3.2 step 4.
      ++stats_.partial_acks;
      fast_retransmit(now, out);
      cwnd_ = (cwnd_ > data_acked ? cwnd_ - data_acked : 0) + (data_acked >= smss_ ? smss_ : 0);
      cwnd_ = std::max<std::uint64_t>(cwnd_, smss_);
      restart = !partial_seen_;  // "for the first partial ACK ... reset the retransmit timer"
      partial_seen_ = true;
    }
  } else if ((snd_nxt_ - prev) * 2 < cwnd_) {
    // Not cwnd-limited (less than half the window was in flight): the window is not
    // validated and must not grow (RFC 7661 4.3).
    dupacks_ = 0;
  } else {
    dupacks_ = 0;
    if (cwnd_ < ssthresh_) {
      cwnd_ += std::min<std::uint64_t>(data_acked, smss_);  // slow start, RFC 5681 eq. 2
    } else {
      // Congestion avoidance by byte counting (RFC 5681 3.1).
      ca_acked_ += data_acked;
      if (ca_acked_ >= cwnd_) {
        ca_acked_ -= cwnd_;
        cwnd_ += smss_;
      }
    }
  }
  stats_.max_cwnd = std::max(stats_.max_cwnd, cwnd_);
  // RFC 6298 5.2 and 5.3.
  if (snd_una_ >= snd_max_) {
    rto_deadline_.reset();
  } else if (restart) {
    restart_rto(now);
  }
  if (data_acked != 0) out.acked(now, hi - 1);
}

template <output_sink Sink>
void connection::on_dupack(sim_time now, Sink& out) {
  ++dupacks_;
  ++stats_.dup_acks_in;
  if (in_recovery_) {
    cwnd_ += smss_;  // RFC 6582 3.2 step 3 (RFC 5681 3.2 step 4)
    return;
  }
  if (dupacks_ != dupack_threshold) return;
  // RFC 6582 3.2 step 2: only when the ACK covers more than "recover".
  if (snd_una_ <= recover_) return;
  const std::uint64_t flight = snd_max_ - snd_una_;
  recover_ = snd_max_;
  ssthresh_ = std::max<std::uint64_t>(flight / 2, 2 * std::uint64_t{smss_});  // RFC 5681 eq. 4
  in_recovery_ = true;
  partial_seen_ = false;
  ++stats_.fast_recoveries;
  fast_retransmit(now, out);
  cwnd_ = ssthresh_ + dupack_threshold * std::uint64_t{smss_};  // RFC 5681 3.2 step 3
  stats_.max_cwnd = std::max(stats_.max_cwnd, cwnd_);
  log(now, out, fmt::format("fast retransmit at {}, ssthresh {} cwnd {}", snd_wire(snd_una_),
                            ssthresh_, cwnd_));
}

template <output_sink Sink>
void connection::process_data(std::uint64_t pos, std::span<const std::byte> payload,
                              sim_time now, Sink& out) {
  std::uint64_t start = pos;
  std::uint64_t end = pos + payload.size();
  if (start < rcv_nxt_) start = rcv_nxt_;
  end = std::min(end, rcv_nxt_ + rcv_wnd());
  if (start >= end) {
    ++stats_.dup_segments_in;
    ack_now_ = true;
    return;
  }
  if (cfg_.check_payload &&
      !payload_matches(payload.subspan(start - pos, end - start), start - 1)) {
    ++stats_.bad_payload;
  }
  if (start == rcv_nxt_) {
    out.deliver(now, start - 1, static_cast<std::uint32_t>(end - start));
    stats_.bytes_delivered += end - start;
    unacked_rcv_ += end - start;
    rcv_nxt_ = end;
    const bool had_gap = !ooo_.empty();
    // Pull in the held ranges that now continue the stream.
    std::size_t n = 0;
    while (n < ooo_.size() && ooo_[n].first <= rcv_nxt_ - 1) {
      if (ooo_[n].second > rcv_nxt_ - 1) {
        const std::uint64_t from = rcv_nxt_ - 1;
        out.deliver(now, from, static_cast<std::uint32_t>(ooo_[n].second - from));
        stats_.bytes_delivered += ooo_[n].second - from;
        rcv_nxt_ = ooo_[n].second + 1;
      }
      ++n;
    }
    ooo_.erase(ooo_.begin(), ooo_.begin() + static_cast<std::ptrdiff_t>(n));
    if (fin_pos_ && rcv_nxt_ == *fin_pos_) {
      process_fin(now, out);
      return;
    }
    // RFC 5681 4.2: at once when a gap is (partly) filled, every second full-sized
    // segment, otherwise within the delayed-ACK time.
    if (had_gap || unacked_rcv_ >= 2 * std::uint64_t{smss_} ||
        cfg_.delayed_ack == sim_time::zero()) {
      ack_now_ = true;
    } else if (!delack_deadline_) {
      delack_deadline_ = now + cfg_.delayed_ack;
    }
    return;
  }
  // Out of order: hold the range [start-1, end-1) and send a duplicate ACK at once
  // (RFC 5681 4.2, RFC 9293 3.10.7.4 seventh step).
  ack_now_ = true;
  const std::uint64_t a = start - 1, b = end - 1;
  auto it = std::lower_bound(ooo_.begin(), ooo_.end(), a,
                             [](const auto& r, std::uint64_t v) { return r.second < v; });
  // `it` is the first range that ends at or after a: merge every range touching [a, b).
  auto last = it;
  std::uint64_t lo = a, hi = b;
  while (last != ooo_.end() && last->first <= hi) {
    lo = std::min(lo, last->first);
    hi = std::max(hi, last->second);
    ++last;
  }
  if (it == last) {
    if (ooo_.size() >= cfg_.max_ooo_ranges) {
      ++stats_.ooo_dropped;
      return;
    }
    ooo_.insert(it, {lo, hi});
  } else {
    if (lo == it->first && hi == it->second && last - it == 1 && a >= lo && b <= hi) {
      ++stats_.dup_segments_in;
      return;
    }
    *it = {lo, hi};
    ooo_.erase(it + 1, last);
  }
  ++stats_.ooo_segments_in;
}

template <output_sink Sink>
void connection::process_fin(sim_time now, Sink& out) {
  rcv_nxt_ = *fin_pos_ + 1;
  ack_now_ = true;
  switch (state_) {
    case state::syn_received:
    case state::established:
      set_state(state::close_wait, now, out);
      break;
    case state::fin_wait_1:
      if (fin_acked()) {
        enter_time_wait(now, out);
      } else {
        set_state(state::closing, now, out);
      }
      break;
    case state::fin_wait_2:
      enter_time_wait(now, out);
      break;
    default:
      break;
  }
}

void connection::take_options(const wire::tcp_repr& syn) {
  // Effective send MSS (RFC 9293 3.7.1): the peer's MSS option or 536, within our own.
  smss_ = std::min<std::uint32_t>(syn.mss.value_or(default_send_mss), cfg_.mss);
  smss_ = std::max<std::uint32_t>(smss_, 64);
  // Window scaling only when both SYNs carry the option (RFC 7323 2.2).
  if (cfg_.window_scaling && syn.window_scale) {
    wscale_offered_ = true;
    snd_wscale_ = std::min(*syn.window_scale, wire::tcp_option::max_window_scale);
    rcv_wscale_ = offered_wscale_;
  } else {
    wscale_offered_ = false;
    snd_wscale_ = 0;
    rcv_wscale_ = 0;
  }
}

template <output_sink Sink>
void connection::established(sim_time now, Sink& out) {
  set_state(state::established, now, out);
  // Initial window (RFC 5681 3.1 eq. 1, or RFC 6928 2); one SMSS after a lost SYN or
  // SYN-ACK (RFC 5681 3.1).
  const std::uint64_t s = smss_;
  if (syn_retransmitted_) {
    cwnd_ = s;
  } else if (cfg_.initial_window == initial_window_rule::rfc6928) {
    cwnd_ = std::min(10 * s, std::max<std::uint64_t>(2 * s, 14600));
  } else {
    cwnd_ = s > 2190 ? 2 * s : (s > 1095 ? 3 * s : 4 * s);
  }
  stats_.max_cwnd = std::max(stats_.max_cwnd, cwnd_);
  // RFC 6298 5.7: after a SYN timeout with an initial RTO below 3 s, data starts at 3 s.
  if (syn_retransmitted_ && cfg_.initial_rto < syn_lost_rto && !have_rtt_) {
    rto_ = std::min(syn_lost_rto, cfg_.max_rto);
  }
  backoff_ = 0;
}

template <output_sink Sink>
void connection::reset_received(sim_time now, Sink& out) {
  // RFC 9293 3.10.7.4 second step.
  log(now, out, "connection reset");
  switch (state_) {
    case state::syn_received:
      ++stats_.tcpAttemptFails;
      if (passive_) {
        // Back to LISTEN, ready for a new SYN.
        snd_una_ = snd_nxt_ = snd_max_ = 0;
        rcv_nxt_ = 0;
        rto_deadline_.reset();
        timing_ = false;
        set_state(state::listen, now, out);
        return;
      }
      break;
    case state::established:
    case state::close_wait:
      ++stats_.tcpEstabResets;
      break;
    default:
      break;
  }
  set_state(state::closed, now, out);
}

template <output_sink Sink>
void connection::enter_time_wait(sim_time now, Sink& out) {
  set_state(state::time_wait, now, out);
  rto_deadline_.reset();
  time_wait_deadline_ = now + cfg_.msl * 2;  // RFC 9293 3.4.2
}

// --- timers -----------------------------------------------------------------------------

template <output_sink Sink>
void connection::on_timer_impl(sim_time now, Sink& out) {
  if (time_wait_deadline_ && *time_wait_deadline_ <= now) {
    time_wait_deadline_.reset();
    set_state(state::closed, now, out);
  }
  if (rto_deadline_ && *rto_deadline_ <= now) on_rto(now, out);
  if (delack_deadline_ && *delack_deadline_ <= now) {
    ++stats_.delayed_acks;
    send_ack(now, out);
  }
  if (persist_deadline_ && *persist_deadline_ <= now) {
    // Zero-window probe (RFC 9293 3.8.6.1): an already acknowledged sequence number and no
    // data, so the peer answers with an ACK and its current window (RFC 9293 3.10.7.4).
    persist_deadline_.reset();
    wire::tcp_repr r = header(tcp_flags::ack, snd_una_ - 1);
    ++stats_.tcpOutSegs;
    ++stats_.persist_probes;
    ++persist_backoff_;
    ack_now_ = false;
    delack_deadline_.reset();
    unacked_rcv_ = 0;
    out.transmit(now, r, 0, 0, 0);
    update_persist(now);
  }
  refresh_stats();
}

void connection::update_persist(sim_time now) noexcept {
  const bool waiting = snd_nxt_ < data_end() || (fin_queued_ && snd_nxt_ < fin_end());
  if (snd_wnd_ != 0 || !waiting || snd_nxt_ != snd_una_ || rto_deadline_) {
    persist_deadline_.reset();
    if (snd_wnd_ != 0) persist_backoff_ = 0;
    return;
  }
  if (persist_deadline_) return;
  // One RTO, doubled per probe, at most max_rto (RFC 9293 3.8.6.1 "increase exponentially").
  sim_time interval = rto_;
  for (std::uint32_t i = 0; i < persist_backoff_ && interval < cfg_.max_rto; ++i) interval = interval + interval;
  persist_deadline_ = now + std::min(interval, cfg_.max_rto);
}

std::optional<sim_time> connection::next_deadline() const noexcept {
  std::optional<sim_time> d;
  for (const auto& t : {rto_deadline_, delack_deadline_, time_wait_deadline_, persist_deadline_}) {
    if (t && (!d || *t < *d)) d = t;
  }
  return d;
}

template <output_sink Sink>
void connection::on_rto(sim_time now, Sink& out) {
  rto_deadline_.reset();
  if (state_ == state::syn_sent || state_ == state::syn_received) {
    if (backoff_ >= cfg_.max_syn_retransmissions) {
      log(now, out, "connection timed out (SYN)");
      ++stats_.tcpAttemptFails;
      ++stats_.aborts;
      set_state(state::closed, now, out);
      return;
    }
    ++backoff_;
    ++stats_.rto_events;
    syn_retransmitted_ = true;
    timing_ = false;
    rto_ = std::min(rto_ * 2, cfg_.max_rto);  // RFC 6298 5.5
    ++stats_.tcpRetransSegs;
    ++stats_.retrans_rto;
    send_syn(state_ == state::syn_received, now, out);
    return;
  }
  if (snd_una_ >= snd_max_) return;  // nothing outstanding
  if (backoff_ >= cfg_.max_retransmissions) {
    log(now, out, "connection timed out");
    ++stats_.aborts;
    if (state_ == state::established || state_ == state::close_wait) ++stats_.tcpEstabResets;
    send_rst(snd_wire(snd_nxt_), 0, false, now, out);
    set_state(state::closed, now, out);
    return;
  }
  ++stats_.rto_events;
  // RFC 5681 3.1 eq. 4, held when the same segment times out again; loss window 1 SMSS.
  if (backoff_ == 0) {
    ssthresh_ = std::max<std::uint64_t>((snd_max_ - snd_una_) / 2, 2 * std::uint64_t{smss_});
  }
  cwnd_ = smss_;
  ca_acked_ = 0;
  // RFC 6582 3.2 "Retransmit timeouts": record recover, leave fast recovery.
  recover_ = snd_max_;
  in_recovery_ = false;
  dupacks_ = 0;
  ++backoff_;
  rto_ = std::min(rto_ * 2, cfg_.max_rto);  // RFC 6298 5.5
  timing_ = false;                          // Karn
  snd_nxt_ = snd_una_;
  log(now, out, fmt::format("retransmission timeout #{}, next rto {}", backoff_, rto_));
  output(now, out);  // RFC 6298 5.4 and 5.6: resend the earliest segment, timer at RTO
}

void connection::rtt_sample(sim_time r) noexcept {
  // RFC 6298 2.2 and 2.3 in integer nanoseconds (truncating): alpha 1/8, beta 1/4.
  if (!have_rtt_) {
    srtt_ = r;
    rttvar_ = r / 2;
    have_rtt_ = true;
  } else {
    const sim_time delta = srtt_ > r ? srtt_ - r : r - srtt_;
    rttvar_ = (rttvar_ * 3 + delta) / 4;
    srtt_ = (srtt_ * 7 + r) / 8;
  }
  set_rto(srtt_ + std::max(cfg_.clock_granularity, rttvar_ * rto_k));
  backoff_ = 0;
}

void connection::set_rto(sim_time r) noexcept {
  rto_ = std::min(std::max(r, cfg_.min_rto), cfg_.max_rto);  // RFC 6298 2.4, 2.5
}

// --- output -----------------------------------------------------------------------------

std::uint64_t connection::rcv_wnd() const noexcept {
  return std::min<std::uint64_t>(std::uint64_t{cfg_.recv_buffer} >> rcv_wscale_,
                                 max_window_field)
         << rcv_wscale_;
}

std::uint16_t connection::window_field(bool syn) const noexcept {
  if (syn) {
    return static_cast<std::uint16_t>(std::min<std::uint64_t>(cfg_.recv_buffer, max_window_field));
  }
  return static_cast<std::uint16_t>(rcv_wnd() >> rcv_wscale_);
}

wire::tcp_repr connection::header(tcp_flags flags, std::uint64_t seq_pos) const noexcept {
  wire::tcp_repr r;
  r.src_port = local_.port;
  r.dst_port = remote_.port;
  r.seq = snd_wire(seq_pos);
  r.ack = has(flags, tcp_flags::ack) ? rcv_wire(rcv_nxt_) : 0;
  r.flags = flags;
  r.window = window_field(has(flags, tcp_flags::syn));
  return r;
}

template <output_sink Sink>
void connection::send_syn(bool with_ack, sim_time now, Sink& out) {
  wire::tcp_repr r = header(with_ack ? (tcp_flags::syn | tcp_flags::ack) : tcp_flags::syn, 0);
  r.mss = cfg_.mss;
  // Offered in a SYN when configured; in a SYN-ACK only if the SYN had it (RFC 7323 2.2).
  if (with_ack ? wscale_offered_ : cfg_.window_scaling) r.window_scale = offered_wscale_;
  if (!syn_retransmitted_ && !timing_ && snd_max_ == 0) {
    timing_ = true;
    timed_end_ = 1;
    timed_at_ = now;
  }
  snd_nxt_ = 1;
  snd_max_ = std::max<std::uint64_t>(snd_max_, 1);
  ++stats_.tcpOutSegs;
  ack_now_ = false;
  out.transmit(now, r, 0, 0, 0);
  if (!rto_deadline_) restart_rto(now);
}

template <output_sink Sink>
void connection::send_ack(sim_time now, Sink& out) {
  const wire::tcp_repr r = header(tcp_flags::ack, snd_nxt_);
  ++stats_.tcpOutSegs;
  ack_now_ = false;
  delack_deadline_.reset();
  unacked_rcv_ = 0;
  out.transmit(now, r, 0, 0, 0);
}

template <output_sink Sink>
void connection::send_rst(std::uint32_t seq, std::uint32_t ack, bool with_ack, sim_time now,
                          Sink& out) {
  wire::tcp_repr r;
  r.src_port = local_.port;
  r.dst_port = remote_.port;
  r.seq = seq;
  r.ack = ack;
  r.flags = with_ack ? (tcp_flags::rst | tcp_flags::ack) : tcp_flags::rst;
  ++stats_.tcpOutSegs;
  ++stats_.tcpOutRsts;
  out.transmit(now, r, 0, 0, 0);
}

template <output_sink Sink>
void connection::send_data(std::uint64_t pos, std::uint32_t len, bool fin, retrans_cause cause,
                           sim_time now, Sink& out) {
  tcp_flags flags = tcp_flags::ack;
  if (len != 0 && pos + len == data_end()) flags = flags | tcp_flags::psh;
  if (fin) flags = flags | tcp_flags::fin;
  const wire::tcp_repr r = header(flags, pos);
  const std::uint64_t n = len == 0 ? 1 : (len + smss_ - 1) / smss_;
  const bool tso = len > smss_;
  stats_.tcpOutSegs += n;
  if (tso) ++stats_.tso_super_segments;
  if (pos < snd_max_) {
    stats_.tcpRetransSegs += n;
    stats_.bytes_retransmitted += len;
    (cause == retrans_cause::fast ? stats_.retrans_fast : stats_.retrans_rto) += n;
    timing_ = false;  // Karn: no sample from a retransmitted segment
  } else if (!timing_) {
    timing_ = true;
    timed_end_ = pos + len + (fin ? 1 : 0);
    timed_at_ = now;
  }
  if (len != 0 && pos + len == snd_una_ + snd_wnd_) ++stats_.window_full;
  ack_now_ = false;
  delack_deadline_.reset();
  unacked_rcv_ = 0;
  out.transmit(now, r, pos - 1, len, tso ? static_cast<std::uint16_t>(smss_) : 0);
  if (!rto_deadline_) restart_rto(now);  // RFC 6298 5.1
}

template <output_sink Sink>
void connection::fast_retransmit(sim_time now, Sink& out) {
  const std::uint64_t end = data_end();
  const std::uint64_t len =
      snd_una_ < end ? std::min<std::uint64_t>(smss_, std::min(end, snd_max_) - snd_una_) : 0;
  const bool fin = fin_queued_ && snd_una_ + len == end && snd_max_ > end;
  if (len == 0 && !fin) return;
  send_data(snd_una_, static_cast<std::uint32_t>(len), fin, retrans_cause::fast, now, out);
}

template <output_sink Sink>
void connection::output(sim_time now, Sink& out) {
  const bool may_send = state_ == state::established || state_ == state::close_wait ||
                        state_ == state::fin_wait_1 || state_ == state::closing ||
                        state_ == state::last_ack;
  if (may_send) {
    // A super-segment holds whole MSS (tso_max_payload >= mss >= smss by validate()).
    const std::uint64_t seg_max =
        cfg_.tso ? cfg_.tso_max_payload - cfg_.tso_max_payload % smss_ : smss_;
    const std::uint64_t end = data_end();
    for (;;) {
      const std::uint64_t win = std::min(cwnd_, snd_wnd_);
      const std::uint64_t flight = snd_nxt_ - snd_una_;
      const std::uint64_t room = win > flight ? win - flight : 0;
      const bool resend = snd_nxt_ < snd_max_;
      std::uint64_t avail = snd_nxt_ < end ? end - snd_nxt_ : 0;
      if (resend) avail = std::min(avail, snd_max_ - snd_nxt_);
      std::uint64_t len = std::min({avail, room, seg_max});
      // Whole MSS multiples for a super-segment that is not the tail of the data.
      if (len > smss_ && len < avail) len -= len % smss_;
      // Sender SWS avoidance (RFC 9293 3.8.6.2.1): no runt while data is in flight.
      if (len < avail && len < smss_ && flight != 0) len = 0;
      // TSO deferral: while ACKs are due, wait until a third of the window is free rather
      // than hand one super-segment per ACK (Linux tcp_tso_should_defer, tcp_tso_win_divisor 3).
      if (cfg_.tso && flight != 0 && len < avail && len < seg_max &&
          room * tso_win_divisor < win) {
        len = 0;
      }
      const bool fin = fin_queued_ && snd_nxt_ + len == end && snd_nxt_ + len < fin_end() &&
                       (len != 0 || room != 0 || flight == 0);
      if (len == 0 && !fin) break;
      send_data(snd_nxt_, static_cast<std::uint32_t>(len), fin, retrans_cause::rto, now, out);
      snd_nxt_ += len + (fin ? 1 : 0);
      snd_max_ = std::max(snd_max_, snd_nxt_);
    }
    update_persist(now);
  }
  if (ack_now_) send_ack(now, out);
}

// --- state ------------------------------------------------------------------------------

template <output_sink Sink>
void connection::set_state(state to, sim_time now, Sink& out) {
  const state from = state_;
  if (from == to) return;
  state_ = to;
  if (to == state::closed) {
    rto_deadline_.reset();
    delack_deadline_.reset();
    time_wait_deadline_.reset();
    persist_deadline_.reset();
  }
  log(now, out, fmt::format("{}=>{}", to_string(from), to_string(to)));
  out.state_changed(from, to, now);
}

template <output_sink Sink>
void connection::log(sim_time now, Sink& out, std::string_view what) const {
  out.log(now, fmt::format("{} tcp {}:{}>{}:{}: {}", now, local_.addr, local_.port, remote_.addr,
                           remote_.port, what));
}

void connection::refresh_stats() noexcept {
  stats_.cwnd = cwnd_;
  stats_.ssthresh = ssthresh_;
  stats_.srtt = srtt_;
  stats_.rttvar = rttvar_;
  stats_.rto = rto_;
}

// The two output types (output_sink): the virtual interface, and tcp_set's session sink
// (private to tcp_set; explicit instantiations are exempt from access checks, C++20
// [temp.spec.general]/6).
#define VNETSIM_TCP_CONNECTION_FOR(S)                                                       \
  template void connection::open_active_impl<S>(sim_time, S&);                                   \
  template void connection::listen_impl<S>(sim_time, S&);                                        \
  template void connection::on_segment_impl<S>(const wire::tcp_repr&, std::span<const std::byte>, \
                                          sim_time, S&);                                    \
  template void connection::on_timer_impl<S>(sim_time, S&);                                      \
  template std::size_t connection::send_impl<S>(std::size_t, sim_time, S&);                      \
  template void connection::close_impl<S>(sim_time, S&);                                         \
  template void connection::abort_impl<S>(sim_time, S&);
VNETSIM_TCP_CONNECTION_FOR(sink)
VNETSIM_TCP_CONNECTION_FOR(tcp_set::side_sink)
#undef VNETSIM_TCP_CONNECTION_FOR

}  // namespace vnetsim::tcp
