#pragma once
/// A TCP connection engine (RFC 9293) with NewReno congestion control (RFC 5681, RFC 6582),
/// the RFC 6298 retransmission timer and window scaling (RFC 7323), for measuring what a
/// failover does to applications.
///
/// No kernel, scheduler or device inside (STYLE.md "Protocol engines"): the owner (the
/// endpoint stack) feeds in received segments (on_segment), timer expiry (on_timer at
/// next_deadline()) and application calls (open_active, listen, send, close), and receives
/// output through a sink (output_sink: tcp_set's concrete one, called without a virtual
/// call, or the virtual `sink` interface). Timers are absolute deadlines in sim_time.
///
/// Payload is never stored. A byte's content is a function of its stream offset
/// (payload_pattern()), so the sender hands only (offset, length) to the sink and the
/// receiver checks what arrives against the pattern (counted in stats::bad_payload).
/// Sequence numbers are held as 64-bit positions counted from the ISS / IRS (position 0 is
/// the SYN, data byte k of the stream is position k + 1) and wrapped to 32 bits only on
/// the wire, so comparisons need no modular arithmetic (RFC 9293 3.4).
///
/// Invariants: snd_una <= snd_nxt <= snd_max; every state change goes through one
/// set_state() that logs `A=>B` with the time; once buffers are reserved (construction),
/// no call allocates on the heap except for log lines (state changes, RTO, recovery).
///
/// Choices and limits (documented here, tested in tests/traffic/tcp_test.cpp):
/// - No timestamps, no SACK (neither option is sent; received ones are ignored), no
///   Nagle, no limited transmit, no urgent data. The receiving application reads at once,
///   so our own advertised window is always the whole receive buffer and never closes; a
///   peer's zero window is probed (below). No FIN-WAIT-2 timeout (RFC 9293 has none; Linux uses 60 s).
/// - A LISTEN connection accepts a SYN from any sender: the owner demultiplexes by the
///   four-tuple and makes one connection per peer (RFC 9293 3.10.7.2).
/// - Stream offsets handed to the sink are 64-bit (a 10 Gb/s transfer passes 2^32 bytes
///   in under 4 s); the wire sequence number is ISS + 1 + offset modulo 2^32.
/// - Delayed ACK: an ACK is sent when 2 * MSS bytes are unacknowledged ("at least every
///   second full-sized segment", RFC 5681 4.2), at once for out-of-order data, for data
///   that fills a hole, and for a FIN, otherwise after config::delayed_ack.
/// - Congestion avoidance counts bytes (RFC 5681 3.1, last paragraph of the section:
///   cwnd grows by SMSS once cwnd bytes have been acknowledged).
/// - cwnd grows only while at least half of it was in flight when the ACK came (RFC 7661
///   4.3): an application- or receiver-limited sender keeps the window it has used.
/// - Fast recovery ends with cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS), RFC 6582
///   3.2 step 5 option (1); the retransmit timer is reset on the first partial ACK only
///   (RFC 6582 3.2 step 4, "Impatient").
/// - After an RTO the sender goes back to SND.UNA and resends in slow start (RFC 5681
///   3.1 loss window of one SMSS); data the receiver already holds is skipped when its
///   cumulative ACK jumps past SND.NXT.
/// - The backed-off RTO is kept until an RTT sample from a segment that was not
///   retransmitted (Karn's algorithm, RFC 6298 section 3 and 5).
/// - Zero window (RFC 9293 3.8.6.1): with data waiting, nothing in flight and SND.WND 0,
///   the persist timer runs: the first probe after one RTO, then at doubling intervals up
///   to max_rto; it never gives up (RFC 9293 3.8.6.1: keep probing while the peer answers).
///   A probe is a segment with SEG.SEQ = SND.UNA - 1 and no data, which the peer must
///   answer with an ACK carrying its window (RFC 9293 3.10.7.4), as Linux probes
///   (tcp_xmit_probe_skb); the RFC's "one octet of new data" is not sent.
/// - Counters count wire segments: a TSO super-segment of n * MSS bytes counts n.
/// - With TSO, a segment is deferred while data is in flight and less than a third of the
///   window is free (Linux tcp_tso_should_defer), so ACK clocking yields large
///   super-segments instead of one per ACK.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "vnetsim/kernel/sim_time.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/tcp.hpp"

namespace vnetsim::tcp {

/// Connection states, RFC 9293 3.3.2.
enum class state : std::uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
};

/// "CLOSED", "LISTEN", "SYN-SENT", ... as RFC 9293 3.3.2 spells them.
std::string_view to_string(state s) noexcept;
/// States in which both sequence spaces are known (RFC 9293 3.10.7.4 "Otherwise").
constexpr bool synchronized(state s) noexcept {
  return s != state::closed && s != state::listen && s != state::syn_sent;
}

/// Invalid configuration or API misuse; the message names the place and the rule.
class tcp_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// One end of a connection.
struct endpoint {
  wire::ipv4_address addr;
  std::uint16_t port = 0;
  friend constexpr bool operator==(const endpoint&, const endpoint&) noexcept = default;
};

/// Initial window rule.
enum class initial_window_rule : std::uint8_t {
  rfc5681,  ///< 2, 3 or 4 SMSS by SMSS size (RFC 5681 3.1 eq. 1)
  rfc6928,  ///< min(10 * MSS, max(2 * MSS, 14600)) (RFC 6928 section 2)
};

/// Defaults and limits.
/// MSS for a 1500-byte Ethernet MTU: MTU - 20 (IPv4) - 20 (TCP) (RFC 9293 3.7.1).
inline constexpr std::uint16_t default_mss = 1460;
/// Send MSS when the peer sends no MSS option (RFC 9293 3.7.1, RFC 1122 4.2.2.6).
inline constexpr std::uint16_t default_send_mss = 536;
/// Initial RTO 1 s (RFC 6298 2.1), minimum RTO 1 s (RFC 6298 2.4), maximum at least 60 s
/// (RFC 6298 2.5 "A maximum value MAY be placed on RTO provided it is at least 60 seconds").
inline constexpr sim_time default_initial_rto = sim_time::from_s(1);
inline constexpr sim_time default_min_rto = sim_time::from_s(1);
inline constexpr sim_time default_max_rto = sim_time::from_s(60);
/// Linux's minimum RTO, TCP_RTO_MIN = HZ/5 (include/net/tcp.h).
inline constexpr sim_time linux_min_rto = sim_time::from_ms(200);
/// RTO used once data flows after a SYN retransmission (RFC 6298 5.7).
inline constexpr sim_time syn_lost_rto = sim_time::from_s(3);
/// Delayed-ACK timer: 200 ms as is common; RFC 5681 4.2 and RFC 9293 3.8.6.3 require less
/// than 500 ms.
inline constexpr sim_time default_delayed_ack = sim_time::from_ms(200);
inline constexpr sim_time max_delayed_ack = sim_time::from_ms(500);
/// Maximum Segment Lifetime, 2 minutes (RFC 9293 3.4.2); TIME-WAIT lasts 2 * MSL.
inline constexpr sim_time default_msl = sim_time::from_s(120);
/// Clock granularity G of RFC 6298 2.2-2.3 (1 ms, a 1000 Hz tick).
inline constexpr sim_time default_clock_granularity = sim_time::from_ms(1);
/// RFC 6298 2.3 constants: alpha = 1/8, beta = 1/4, K = 4.
inline constexpr std::int64_t rto_k = 4;
/// Duplicate ACK threshold (RFC 5681 3.2).
inline constexpr std::uint32_t dupack_threshold = 3;
/// Retransmissions of one segment before the connection is dropped: Linux tcp_retries2 15
/// (about 924 s at a 200 ms minimum RTO); RFC 9293 3.8.3 asks for R2 of at least 100 s.
inline constexpr std::uint32_t default_max_retransmissions = 15;
/// SYN retransmissions before the open fails: Linux tcp_syn_retries 6; RFC 9293 3.8.3
/// asks for at least 3 minutes for a SYN (about 127 s at 6 with a 1 s initial RTO).
inline constexpr std::uint32_t default_max_syn_retransmissions = 6;
/// Largest TSO super-segment payload: a 65535-byte IPv4 datagram (RFC 791 3.1 Total
/// Length) less 20 bytes of IPv4 and 20 of TCP header.
inline constexpr std::uint32_t max_tso_payload = 65535 - 20 - 20;

/// Connection parameters. validate() names the first broken rule.
struct config {
  /// MSS we advertise, and the largest segment we send (RFC 9293 3.7.1).
  std::uint16_t mss = default_mss;
  /// Receive buffer in bytes: the window we advertise (scaled, RFC 7323 2).
  std::uint32_t recv_buffer = 256 * 1024;
  /// Send buffer in bytes: send() accepts data while unacknowledged + queued <= this.
  std::uint32_t send_buffer = 1024 * 1024;
  /// Offer the window scale option (RFC 7323 2.2).
  bool window_scaling = true;
  initial_window_rule initial_window = initial_window_rule::rfc5681;
  /// Hand super-segments of up to tso_max_payload bytes (a whole number of MSS unless it
  /// is the tail of the data), for a NIC to segment.
  bool tso = false;
  std::uint32_t tso_max_payload = max_tso_payload;
  sim_time initial_rto = default_initial_rto;
  sim_time min_rto = default_min_rto;
  sim_time max_rto = default_max_rto;
  sim_time clock_granularity = default_clock_granularity;
  /// 0 disables delayed ACKs (every segment is acknowledged at once).
  sim_time delayed_ack = default_delayed_ack;
  sim_time msl = default_msl;
  std::uint32_t max_retransmissions = default_max_retransmissions;
  std::uint32_t max_syn_retransmissions = default_max_syn_retransmissions;
  /// Out-of-order ranges held by the receiver; a segment that would need more is dropped
  /// and counted (stats::ooo_dropped).
  std::uint32_t max_ooo_ranges = 64;
  /// Check received payload against payload_pattern() (stats::bad_payload).
  bool check_payload = true;

  /// Throws tcp_error naming the field, the value and the rule.
  void validate() const;
};

/// Counters. MIB names (RFC 4022 TCP-MIB) where one exists; segments are wire segments.
struct stats {
  std::uint64_t tcpActiveOpens = 0;
  std::uint64_t tcpPassiveOpens = 0;
  std::uint64_t tcpAttemptFails = 0;  ///< SYN-SENT/SYN-RECEIVED -> CLOSED/LISTEN
  std::uint64_t tcpEstabResets = 0;   ///< ESTABLISHED/CLOSE-WAIT -> CLOSED by a reset
  std::uint64_t tcpInSegs = 0;
  std::uint64_t tcpOutSegs = 0;       ///< including retransmissions
  std::uint64_t tcpRetransSegs = 0;
  std::uint64_t tcpOutRsts = 0;
  std::uint64_t retrans_rto = 0;      ///< segments resent after a retransmission timeout
  std::uint64_t retrans_fast = 0;     ///< fast retransmits and NewReno partial-ACK resends
  std::uint64_t rto_events = 0;       ///< retransmission timer expiries (SYN ones included)
  std::uint64_t dup_acks_in = 0;      ///< duplicate ACKs per RFC 5681 section 2
  std::uint64_t fast_recoveries = 0;
  std::uint64_t partial_acks = 0;     ///< RFC 6582 partial acknowledgments
  std::uint64_t bytes_acked = 0;      ///< data bytes acknowledged by the peer
  std::uint64_t bytes_delivered = 0;  ///< data bytes delivered in order to the application
  std::uint64_t bytes_retransmitted = 0;
  std::uint64_t tso_super_segments = 0;  ///< super-segments handed with tso_mss != 0
  /// Data segments that end exactly at the peer's window edge, SND.UNA + SND.WND (what
  /// Wireshark flags as tcp.analysis.window_full).
  std::uint64_t window_full = 0;
  std::uint64_t dup_segments_in = 0;  ///< segments whose data was all received before
  std::uint64_t ooo_segments_in = 0;  ///< segments held out of order
  std::uint64_t ooo_dropped = 0;      ///< out-of-order segments dropped: range table full
  std::uint64_t out_of_window = 0;    ///< unacceptable segments (RFC 9293 3.10.7.4)
  std::uint64_t bad_payload = 0;      ///< segments whose bytes differ from the pattern
  std::uint64_t delayed_acks = 0;     ///< ACKs sent by the delayed-ACK timer
  std::uint64_t aborts = 0;           ///< connections dropped after too many retransmissions
  std::uint64_t persist_probes = 0;   ///< zero-window probes sent (RFC 9293 3.8.6.1)
  std::uint64_t max_cwnd = 0;
  // Current values, refreshed at the end of every call.
  std::uint64_t cwnd = 0;
  std::uint64_t ssthresh = 0;
  sim_time srtt;
  sim_time rttvar;
  sim_time rto;
};

/// Where the engine's output goes, as an interface for tests and tools (see output_sink for
/// the simulator's path). Called synchronously from inside engine calls; a sink must not
/// call back into the engine it is serving, except send() from acked().
class sink {
 public:
  virtual ~sink() = default;
  /// Transmit one segment. `seg` holds header and options (its payload span is empty);
  /// the data are `payload_len` bytes of payload_pattern() from stream offset
  /// `payload_offset`. `tso_mss` is 0 for an ordinary segment, else the MSS a NIC must
  /// segment this super-segment with.
  virtual void transmit(sim_time now, const wire::tcp_repr& seg, std::uint64_t payload_offset,
                        std::uint32_t payload_len, std::uint16_t tso_mss) = 0;
  /// In-order data for the application: `len` bytes from stream offset `offset`.
  virtual void deliver(sim_time /*now*/, std::uint64_t /*offset*/, std::uint32_t /*len*/) {}
  /// The peer acknowledged data; `total_acked` bytes of the stream are acknowledged.
  virtual void acked(sim_time /*now*/, std::uint64_t /*total_acked*/) {}
  virtual void state_changed(state /*from*/, state /*to*/, sim_time /*now*/) {}
  /// One human-readable log line (no trailing newline).
  virtual void log(sim_time /*now*/, std::string_view /*line*/) {}
};

/// What the engine needs of its output: the calls of `sink`, resolved at compile time.
/// connection's (and the applications', tcp_app.hpp) calls that take a sink are member
/// templates, instantiated in tcp.cpp (tcp_app.cpp) for two types only: `sink` itself,
/// which dispatches virtually (tests, tools), and tcp_set's session sink, a concrete type
/// the engine calls directly, so the simulator's per-segment path has no virtual call
/// (STYLE.md "Hot path"). Any class derived from `sink` uses the first (sink_for); another
/// type would find no instantiation at link time: derive from `sink`.
template <class S>
concept output_sink = requires(S& s, sim_time t, const wire::tcp_repr& seg, std::uint64_t off,
                               std::uint32_t len, std::uint16_t mss, state st,
                               std::string_view line) {
  s.transmit(t, seg, off, len, mss);
  s.deliver(t, off, len);
  s.acked(t, off);
  s.state_changed(st, st, t);
  s.log(t, line);
};

/// The instantiation serving sink type S: `sink` for every class derived from it (virtual
/// dispatch), S otherwise.
template <class S>
using sink_for = std::conditional_t<std::is_base_of_v<sink, S>, sink, S>;

/// The content of the stream byte at `offset`: a period of 251 (a prime, so a segment
/// misplaced by any whole number of MSS or pages is caught) added to a slow ramp.
constexpr std::byte payload_pattern(std::uint64_t offset) noexcept {
  return static_cast<std::byte>((offset % 251U) ^ ((offset >> 16) & 0xffU));
}
/// Writes payload_pattern() for stream offsets offset .. offset + out.size(). O(n).
void fill_payload(std::span<std::byte> out, std::uint64_t offset) noexcept;
/// True when `data` equals payload_pattern() from `offset`. O(n).
bool payload_matches(std::span<const std::byte> data, std::uint64_t offset) noexcept;

/// One TCP connection.
class connection {
 public:
  /// Validates `cfg` (throws tcp_error). Starts CLOSED. `iss` is the initial send
  /// sequence number (RFC 9293 3.4.1; the owner draws it from an rng stream).
  connection(const config& cfg, endpoint local, endpoint remote, std::uint32_t iss);

  /// Active OPEN (RFC 9293 3.10.1): sends a SYN, SYN-SENT. Precondition: CLOSED, and no
  /// segment exchanged yet (a used connection is not reopened: make a new one).
  template <output_sink Sink>
  void open_active(sim_time now, Sink& out) {
    open_active_impl<sink_for<Sink>>(now, out);
  }
  /// Passive OPEN: LISTEN for a SYN. Preconditions as open_active().
  template <output_sink Sink>
  void listen(sim_time now, Sink& out) {
    listen_impl<sink_for<Sink>>(now, out);
  }
  /// A received segment for this connection (already parsed and demultiplexed; the
  /// checksum already checked). `payload` are its data bytes.
  template <output_sink Sink>
  void on_segment(const wire::tcp_repr& seg, std::span<const std::byte> payload, sim_time now,
                  Sink& out) {
    on_segment_impl<sink_for<Sink>>(seg, payload, now, out);
  }
  /// Runs every timer whose deadline is <= now: retransmission, delayed ACK, TIME-WAIT.
  template <output_sink Sink>
  void on_timer(sim_time now, Sink& out) {
    on_timer_impl<sink_for<Sink>>(now, out);
  }
  /// Earliest timer deadline; nullopt when none runs.
  std::optional<sim_time> next_deadline() const noexcept;
  /// SEND (RFC 9293 3.10.2): queues up to `bytes` more bytes of the stream and returns how
  /// many the send buffer took. Allowed in SYN-SENT, SYN-RECEIVED, ESTABLISHED and
  /// CLOSE-WAIT; throws tcp_error otherwise.
  template <output_sink Sink>
  std::size_t send(std::size_t bytes, sim_time now, Sink& out) {
    return send_impl<sink_for<Sink>>(bytes, now, out);
  }
  /// CLOSE (RFC 9293 3.10.4): a FIN follows the queued data. LISTEN and SYN-SENT go to
  /// CLOSED; repeated or late calls throw tcp_error ("connection closing").
  template <output_sink Sink>
  void close(sim_time now, Sink& out) {
    close_impl<sink_for<Sink>>(now, out);
  }
  /// ABORT (RFC 9293 3.10.5): a RST in synchronized states, then CLOSED.
  template <output_sink Sink>
  void abort(sim_time now, Sink& out) {
    abort_impl<sink_for<Sink>>(now, out);
  }

  /// The path's TSO changed (the NIC or bond under the endpoint gained or lost it, as
  /// Linux re-reads the device's features on a route change, sk_setup_caps): later
  /// segments follow config::tso and config::tso_max_payload as given here. Throws
  /// tcp_error when `on` and max_payload is outside [mss, max_tso_payload].
  void set_tso(bool on, std::uint32_t max_payload);
  state current_state() const noexcept { return state_; }
  const stats& counters() const noexcept { return stats_; }
  const config& settings() const noexcept { return cfg_; }
  endpoint local() const noexcept { return local_; }
  endpoint remote() const noexcept { return remote_; }

  // Sender and receiver variables, RFC 9293 3.3.1, as stream byte counts or positions.
  std::uint64_t cwnd() const noexcept { return cwnd_; }
  std::uint64_t ssthresh() const noexcept { return ssthresh_; }
  /// Effective send MSS (RFC 9293 3.7.1).
  std::uint32_t smss() const noexcept { return smss_; }
  /// SND.WND in bytes, scaled.
  std::uint64_t snd_wnd() const noexcept { return snd_wnd_; }
  sim_time rto() const noexcept { return rto_; }
  std::optional<sim_time> srtt() const noexcept {
    return have_rtt_ ? std::optional<sim_time>(srtt_) : std::nullopt;
  }
  sim_time rttvar() const noexcept { return rttvar_; }
  bool in_fast_recovery() const noexcept { return in_recovery_; }
  /// Window scale shifts in use (0 when the option was not agreed).
  std::uint8_t snd_wscale() const noexcept { return snd_wscale_; }
  std::uint8_t rcv_wscale() const noexcept { return rcv_wscale_; }
  /// Stream bytes written by the application, acknowledged by the peer, in flight.
  std::uint64_t bytes_written() const noexcept { return written_; }
  std::uint64_t bytes_unacked() const noexcept;
  std::uint64_t bytes_in_flight() const noexcept { return snd_nxt_ - snd_una_; }
  /// Out-of-order ranges the receiver holds, as stream offsets [first, last).
  std::span<const std::pair<std::uint64_t, std::uint64_t>> ooo_ranges() const noexcept {
    return ooo_;
  }
  std::optional<sim_time> rto_deadline() const noexcept { return rto_deadline_; }
  std::optional<sim_time> delayed_ack_deadline() const noexcept { return delack_deadline_; }
  std::optional<sim_time> time_wait_deadline() const noexcept { return time_wait_deadline_; }
  std::optional<sim_time> persist_deadline() const noexcept { return persist_deadline_; }

 private:
  // The instantiated bodies (tcp.cpp): Sink is `sink` or tcp_set's session sink.
  template <output_sink Sink>
  void open_active_impl(sim_time now, Sink& out);
  template <output_sink Sink>
  void listen_impl(sim_time now, Sink& out);
  template <output_sink Sink>
  void on_segment_impl(const wire::tcp_repr& seg, std::span<const std::byte> payload,
                       sim_time now, Sink& out);
  template <output_sink Sink>
  void on_timer_impl(sim_time now, Sink& out);
  template <output_sink Sink>
  std::size_t send_impl(std::size_t bytes, sim_time now, Sink& out);
  template <output_sink Sink>
  void close_impl(sim_time now, Sink& out);
  template <output_sink Sink>
  void abort_impl(sim_time now, Sink& out);
  enum class retrans_cause : std::uint8_t { none, rto, fast };

  template <output_sink Sink>
  void set_state(state to, sim_time now, Sink& out);
  template <output_sink Sink>
  void log(sim_time now, Sink& out, std::string_view what) const;
  void refresh_stats() noexcept;

  // Wire conversion (RFC 9293 3.4: sequence numbers modulo 2^32).
  std::uint32_t snd_wire(std::uint64_t pos) const noexcept {
    return iss_ + static_cast<std::uint32_t>(pos);
  }
  std::uint32_t rcv_wire(std::uint64_t pos) const noexcept {
    return irs_ + static_cast<std::uint32_t>(pos);
  }
  /// Position of a received ACK number, taken near SND.UNA.
  std::int64_t unwrap_ack(std::uint32_t ack) const noexcept;
  /// Position of a received sequence number, taken near RCV.NXT.
  std::int64_t unwrap_seq(std::uint32_t seq) const noexcept;

  // Segment arrival by state (RFC 9293 3.10.7.1-3.10.7.4).
  template <output_sink Sink>
  void on_segment_listen(const wire::tcp_repr& seg, sim_time now, Sink& out);
  template <output_sink Sink>
  void on_segment_syn_sent(const wire::tcp_repr& seg, std::span<const std::byte> payload,
                           sim_time now, Sink& out);
  template <output_sink Sink>
  void on_segment_synchronized(const wire::tcp_repr& seg, std::span<const std::byte> payload,
                               sim_time now, Sink& out);
  /// The ACK field in synchronized states; false when the segment must be dropped.
  template <output_sink Sink>
  bool process_ack(const wire::tcp_repr& seg, std::int64_t seg_pos, bool dup_candidate,
                   sim_time now, Sink& out);
  template <output_sink Sink>
  void new_ack(std::uint64_t ack_pos, sim_time now, Sink& out);
  template <output_sink Sink>
  void on_dupack(sim_time now, Sink& out);
  template <output_sink Sink>
  void process_data(std::uint64_t pos, std::span<const std::byte> payload, sim_time now,
                    Sink& out);
  template <output_sink Sink>
  void process_fin(sim_time now, Sink& out);
  void take_options(const wire::tcp_repr& syn);
  template <output_sink Sink>
  void established(sim_time now, Sink& out);
  template <output_sink Sink>
  void reset_received(sim_time now, Sink& out);
  template <output_sink Sink>
  void enter_time_wait(sim_time now, Sink& out);

  // Output.
  template <output_sink Sink>
  void output(sim_time now, Sink& out);
  template <output_sink Sink>
  void send_syn(bool with_ack, sim_time now, Sink& out);
  template <output_sink Sink>
  void send_ack(sim_time now, Sink& out);
  template <output_sink Sink>
  void send_rst(std::uint32_t seq, std::uint32_t ack, bool with_ack, sim_time now, Sink& out);
  /// Sends [pos, pos + len) (plus FIN when `fin`); counts it; starts the RTO timer.
  template <output_sink Sink>
  void send_data(std::uint64_t pos, std::uint32_t len, bool fin, retrans_cause cause,
                 sim_time now, Sink& out);
  template <output_sink Sink>
  void fast_retransmit(sim_time now, Sink& out);
  wire::tcp_repr header(wire::tcp_flags flags, std::uint64_t seq_pos) const noexcept;
  std::uint16_t window_field(bool syn) const noexcept;
  std::uint64_t rcv_wnd() const noexcept;
  std::uint64_t data_end() const noexcept { return written_ + 1; }
  std::uint64_t fin_end() const noexcept { return written_ + 2; }
  bool fin_acked() const noexcept { return fin_queued_ && snd_una_ >= fin_end(); }

  // RFC 6298.
  void rtt_sample(sim_time r) noexcept;
  void set_rto(sim_time r) noexcept;
  void restart_rto(sim_time now) noexcept { rto_deadline_ = now + rto_; }
  template <output_sink Sink>
  void on_rto(sim_time now, Sink& out);

  config cfg_;
  endpoint local_, remote_;
  state state_ = state::closed;
  bool passive_ = false;
  stats stats_;

  // Send sequence space (positions from ISS).
  std::uint32_t iss_;
  std::uint64_t snd_una_ = 0, snd_nxt_ = 0, snd_max_ = 0;
  std::uint64_t snd_wnd_ = 0;
  std::int64_t snd_wl1_ = 0;   // receive position of the segment of the last window update
  std::uint64_t snd_wl2_ = 0;  // send position acknowledged by it
  std::uint64_t written_ = 0;  // stream bytes the application has queued
  bool fin_queued_ = false;
  std::uint32_t smss_ = default_send_mss;
  std::uint8_t snd_wscale_ = 0, rcv_wscale_ = 0, offered_wscale_ = 0;
  bool wscale_offered_ = false;

  // Congestion control (RFC 5681, RFC 6582).
  std::uint64_t cwnd_ = 0, ssthresh_ = 0, ca_acked_ = 0;
  std::uint64_t recover_ = 1;  // one past RFC 6582 "recover" (initially ISS)
  std::uint32_t dupacks_ = 0;
  bool in_recovery_ = false, partial_seen_ = false;
  bool syn_retransmitted_ = false;
  bool close_pending_ = false;  // CLOSE in SYN-RECEIVED, done once ESTABLISHED

  // Retransmission timer (RFC 6298).
  sim_time rto_, srtt_, rttvar_;
  bool have_rtt_ = false;
  std::optional<sim_time> rto_deadline_;
  std::uint32_t backoff_ = 0;  // consecutive expiries without progress
  bool timing_ = false;
  std::uint64_t timed_end_ = 0;  // ACK position that ends the timed segment
  sim_time timed_at_;

  // Receive sequence space (positions from IRS).
  std::uint32_t irs_ = 0;
  std::uint64_t rcv_nxt_ = 0;
  std::optional<std::uint64_t> fin_pos_;  // position of a received FIN
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ooo_;  // stream offsets, sorted, disjoint
  std::uint64_t unacked_rcv_ = 0;  // bytes received since our last ACK
  bool ack_now_ = false;
  std::optional<sim_time> delack_deadline_;
  std::optional<sim_time> time_wait_deadline_;

  // Persist timer (RFC 9293 3.8.6.1).
  std::optional<sim_time> persist_deadline_;
  std::uint32_t persist_backoff_ = 0;  // probes sent since the window was last open
  /// Starts or stops the persist timer after output.
  void update_persist(sim_time now) noexcept;
};

}  // namespace vnetsim::tcp
