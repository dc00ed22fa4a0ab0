#pragma once
/// Full-duplex point-to-point Ethernet links: serialization at the line rate (with
/// preamble, FCS, padding to the minimum frame and the inter-packet gap), propagation
/// delay, a per-direction egress queue with tail drop, and scriptable, reversible faults
/// (carrier loss, silent black hole, random loss, bit errors caught as FCS drops, a
/// changed delay).
///
/// One pending event per link direction, whatever the number of frames in flight: a
/// frame's transmission start and end follow from the transmitter's busy time when it is
/// queued, so only arrivals are events. Each direction keeps its frames, queued or on the
/// wire, in a FIFO ring in queueing order, their arrival times non-decreasing (a frame
/// never overtakes the one before it); only the oldest frame's arrival is scheduled. The
/// arrival event is of the receiving endpoint's kind (registered by whoever owns the
/// receiving device type), with target = the link direction; its handler calls
/// take_arrival(), which takes the oldest frame, arms the event of the next one (before
/// the receiver runs), applies the faults, counts, and hands over the frame. So the event
/// queue holds at most 2 link events per link instead of one per frame in flight, and an
/// arrival is still one event run at its own nanosecond.
///
/// Same-time order: frames of one direction arrive in FIFO order. An arrival event is
/// pushed when its frame becomes the oldest of its direction (at send() when the direction
/// was empty, else at the previous frame's arrival), so among events of the same
/// nanosecond it runs after those pushed before that moment: still the kernel's (time,
/// seq) order, one deterministic order of simultaneous events like the former "pushed at
/// send()".
///
/// Ring size: a direction holds at most the frames waiting (the queue limit) plus those
/// started and not arrived, about delay x bandwidth / 672 bits (a minimum frame with its
/// overhead) + 1; the ring starts at 16 entries and doubles when full, so it allocates
/// only while reaching that working size, never per frame. No virtual call.
///
/// Faults are judged at arrival: a frame is lost to carrier loss if the carrier went down
/// at any time between its queueing and its arrival (a cut cable loses what is queued
/// and what is on the wire), to a black hole or random loss if one is in force at its
/// arrival, and to bit errors with probability 1 - (1 - BER)^bits.

#include <cassert>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"

namespace vnetsim::dev {

using link_id = std::uint32_t;

/// Which end a frame leaves from.
enum class link_side : std::uint8_t { a = 0, b = 1 };
constexpr link_side other(link_side s) noexcept {
  return s == link_side::a ? link_side::b : link_side::a;
}

/// Overhead on the wire besides the frame's bytes (IEEE 802.3-2018 3.1.1, 4.4.2).
inline constexpr std::size_t wire_preamble_sfd = 8;    // 7 preamble + 1 SFD
inline constexpr std::size_t wire_fcs = 4;             // frame check sequence
inline constexpr std::size_t wire_ifg = 12;            // minimum inter-packet gap, 96 bit times
inline constexpr std::size_t wire_min_frame = 60;      // 64-byte minimum frame without FCS

/// Where a link end is attached, and how to tell it about frames and carrier.
struct endpoint {
  kernel::event_kind arrive_kind = 0;   ///< event kind that runs the receiver on arrival
  kernel::event_kind carrier_kind = 0;  ///< event kind told of carrier changes (0: none)
  std::uint32_t device = 0;             ///< the receiver's device id within its kind
  std::uint32_t port = 0;               ///< the receiver's port on that device
};

struct link_config {
  std::uint64_t bandwidth_bps = 1'000'000'000;
  sim_time delay = sim_time::from_ns(500);
  /// Egress queue limits per direction, in frames waiting to start transmission (the
  /// frame being transmitted does not count) and in their bytes; 0 = no limit. Default:
  /// Linux's txqueuelen of 1000 frames.
  std::uint32_t queue_frames = 1000;
  std::uint64_t queue_bytes = 0;
};

/// Counters of one direction, named after IF-MIB where one applies (RFC 2863).
struct link_direction_stats {
  std::uint64_t out_frames = 0;       ///< accepted for transmission (ifOutUcastPkts + ...)
  std::uint64_t out_octets = 0;       ///< their frame bytes (ifOutOctets, without preamble)
  std::uint64_t out_discards = 0;     ///< tail drops: queue full (ifOutDiscards)
  std::uint64_t no_carrier = 0;       ///< refused while the carrier was down
  std::uint64_t delivered = 0;        ///< handed to the far end
  std::uint64_t lost_carrier = 0;     ///< queued or in flight when the carrier went down
  std::uint64_t lost_black_hole = 0;  ///< swallowed by a silent black hole
  std::uint64_t lost_random = 0;      ///< dropped by the configured loss rate
  std::uint64_t fcs_errors = 0;       ///< corrupted by bit errors, dropped by the receiver's FCS check
  std::uint64_t queue_high_water = 0; ///< most frames ever waiting
};

/// A capture tap on one direction of a link: called with each frame the far end receives
/// (after the faults, at its arrival time), before the receiver sees it. A plain function
/// pointer and context, not a virtual call; the frame must not be edited or kept.
using link_tap_fn = void (*)(void* ctx, std::uint32_t link, link_side from, sim_time at,
                             const frame_ref& frame);

/// Why send() refused a frame.
enum class send_result : std::uint8_t { queued, queue_full, no_carrier };

/// A precondition error at set-up (unknown link, bad configuration): the message names
/// the link and the rule.
class link_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Time to put `frame_len` bytes (without FCS) on a line of `bps`: padding to the minimum,
/// FCS, preamble and inter-packet gap included, rounded up to a whole nanosecond.
sim_time serialization_time(std::size_t frame_len, std::uint64_t bps) noexcept;

/// serialization_time() for one fixed rate without a division per frame: ns = ceil(bits x
/// num / den) with num / den = 1e9 / bps in lowest terms (den = 1 at 10 Mb/s, 100 Mb/s and
/// 1 Gb/s: one multiplication); otherwise the quotient by den is a multiplication by a
/// 64-bit reciprocal, exact for 32-bit dividends and divisors (Lemire, Kaser and Kurz,
/// "Faster remainder by direct computation", 2019, Theorem 1), with the division kept for
/// the rates where the dividend does not fit (num above ~4000, i.e. below ~250 kb/s).
/// Always equal to serialization_time(frame_len, bps).
class serializer {
 public:
  serializer() noexcept = default;
  explicit serializer(std::uint64_t bps) noexcept;
  sim_time operator()(std::size_t frame_len) const noexcept {
    const std::uint64_t bytes =
        (frame_len > wire_min_frame ? frame_len : wire_min_frame) + wire_fcs + wire_preamble_sfd + wire_ifg;
    const std::uint64_t x = bytes * 8 * num_ + den_ - 1;  // ceil(a / den) = floor((a + den - 1) / den)
    if (den_ == 1) return sim_time::from_ns(static_cast<sim_time::rep>(bytes * 8 * num_));
    if (x <= 0xffff'ffffULL) [[likely]] {
      return sim_time::from_ns(static_cast<sim_time::rep>(
          (static_cast<unsigned __int128>(recip_) * x) >> 64));
    }
    return sim_time::from_ns(static_cast<sim_time::rep>(x / den_));
  }

 private:
  std::uint64_t num_ = 1;    // 1e9 / gcd(1e9, bps)
  std::uint64_t den_ = 1;    // bps / gcd(1e9, bps)
  std::uint64_t recip_ = 0;  // floor((2^64 - 1) / den) + 1, for den < 2^32
};

/// All the point-to-point links of one simulated network, addressed by link_id.
class link_set {
 public:
  /// Random streams are drawn from `streams` under "link/<name>/a" and ".../b".
  link_set(kernel::simulator& sim, const kernel::rng_streams& streams);

  /// Adds a link between two endpoints, carrier up. Throws link_error on a zero
  /// bandwidth, a negative delay or a duplicate name.
  link_id add(std::string_view name, const link_config& cfg, const endpoint& a, const endpoint& b);

  /// Queues a frame for transmission from `from`. O(1); no allocation in steady state.
  send_result send(link_id id, link_side from, frame_ref frame) {
    return send(id, from, std::move(frame), sim_->now());
  }
  /// The same, for a frame that is not ready before `ready` >= now (a device's own
  /// processing latency, e.g. store-and-forward): transmission starts at the later of
  /// `ready` and the end of the frame before it. Costs no extra event.
  /// Inline, the common case first (carrier up, room in the queue and the ring): a frame
  /// path that calls it (the switch's) keeps its registers and hands the frame over
  /// without a temporary; refusals, ring growth and the arrival event of a direction that
  /// was empty are out-of-line calls.
  send_result send(link_id id, link_side from, frame_ref frame, sim_time ready) {
    link& l = links_[id];
    direction& d = l.dir[static_cast<std::size_t>(from)];
    const sim_time now = sim_->now();
    if (ready < now) ready = now;
    if (!l.carrier) [[unlikely]] return refuse(d, send_result::no_carrier);
    // Frames whose transmission has started since the last call stop counting as waiting.
    if (d.first_waiting_start <= now) settle_waiting(d, now);
    const std::size_t count = d.count;
    const auto bytes = static_cast<std::uint32_t>(frame.size());
    const sim_time busy_until = d.busy_until;
    // Only frames that must wait count against the queue: an idle line takes one at once.
    if (busy_until > now || ready > now) {
      const std::size_t waiting = count - d.waiting_from;
      if (waiting >= l.frame_limit || d.waiting_bytes + bytes > l.byte_limit) [[unlikely]] {
        return refuse(d, send_result::queue_full);
      }
    }
    if (count > d.mask) [[unlikely]] grow(d);
    const sim_time start = busy_until > ready ? busy_until : ready;
    // Serialization time of the direction's previous frame length, reused when this frame
    // has the same length (the same number exactly: a bulk flow's direction sends one
    // size): a compare instead of the rate's arithmetic.
    if (bytes != d.ser_bytes) [[unlikely]] {
      d.ser_bytes = bytes;
      d.ser_time = l.ser(bytes);
    }
    const sim_time end = start + d.ser_time;
    // A frame never overtakes the one before it, even after a delay decrease.
    const sim_time arrive = end + l.cfg.delay > d.last_arrive ? end + l.cfg.delay : d.last_arrive;
    d.busy_until = end;
    d.last_arrive = arrive;
    in_flight& slot = d.ring[(d.head + count) & d.mask];
    // The slot's handle is empty (moved out on arrival): the swap leaves `frame` empty, and
    // telling the compiler so drops the release test of `frame` at return.
    assert(!slot.frame);
    if (slot.frame) __builtin_unreachable();
    slot.frame.swap(frame);
    slot.start = start;
    slot.arrive = arrive;
    slot.bytes = bytes;
    slot.epoch = l.epoch;
    d.count = count + 1;
    // One pending arrival event per direction, for the oldest frame: when the ring was empty
    // this frame is the oldest; otherwise take_arrival() arms it when its turn comes.
    if (count == 0) arm(id, from, arrive);
    if (start > now) {
      if (d.waiting_from == count) d.first_waiting_start = start;  // the only one waiting
      d.waiting_bytes += bytes;
      const std::uint64_t waiting = count + 1 - d.waiting_from;
      if (waiting > d.stats.queue_high_water) d.stats.queue_high_water = waiting;
    } else if (d.waiting_from == count) {
      d.waiting_from = count + 1;  // started at once: it never waited
    }
    ++d.stats.out_frames;
    d.stats.out_octets += bytes;
    return send_result::queued;
  }

  struct arrival {
    frame_ref frame;  ///< empty when the frame was lost (and counted)
    std::uint32_t device = 0;
    std::uint32_t port = 0;
  };
  /// Called by the arrival handler with the event's target, exactly once per arrival
  /// event: takes the next frame of that direction, schedules the arrival of the one after
  /// it (if any), applies the faults and counts. O(1).
  arrival take_arrival(std::uint32_t target);

  /// Event target for a direction (what arrival events carry).
  static constexpr std::uint32_t target_of(link_id id, link_side from) noexcept {
    return id * 2 + static_cast<std::uint32_t>(from);
  }

  // Faults, each reversible, each effective at the current simulated time.
  /// Carrier loss and restore: both ends are told (their carrier_kind event) at once;
  /// each end applies its own detection delay.
  void set_carrier(link_id id, bool up);
  /// Silent black hole from `from`'s side: carrier stays up, frames vanish.
  void set_black_hole(link_id id, link_side from, bool on);
  /// Random loss probability in [0, 1] for frames from `from`.
  void set_loss(link_id id, link_side from, double probability);
  /// Bit error rate in [0, 1] for frames from `from`.
  void set_bit_error_rate(link_id id, link_side from, double ber);
  /// Propagation delay for frames queued from now on (earlier frames keep theirs; a frame
  /// never overtakes an earlier one on the same direction).
  void set_delay(link_id id, sim_time delay);
  /// Installs (or, with fn = nullptr, removes) the delivery tap of direction `from`. O(1).
  void set_tap(link_id id, link_side from, link_tap_fn fn, void* ctx);

  bool carrier(link_id id) const;
  std::size_t size() const noexcept { return links_.size(); }
  std::string_view name(link_id id) const;
  std::optional<link_id> find(std::string_view name) const noexcept;
  const link_config& config(link_id id) const;
  /// The endpoint attached at `side` (as given to add()).
  const endpoint& end(link_id id, link_side side) const {
    return at(id).end[static_cast<std::size_t>(side)];
  }
  const link_direction_stats& stats(link_id id, link_side from) const;
  /// Frames queued (not yet started) from `from` at the current time.
  std::uint32_t queued_frames(link_id id, link_side from);

 private:
  struct in_flight {
    frame_ref frame;
    sim_time start;    // transmission start
    sim_time arrive;   // last bit at the far end
    std::uint32_t bytes;
    std::uint32_t epoch;  // carrier epoch when queued
  };
  /// One direction: a FIFO ring of frames queued or on the wire, in order. What send()
  /// and take_arrival() read comes first. 256 bytes (cache-line aligned): send() finds it
  /// with a shift.
  struct alignas(64) direction {
    std::vector<in_flight> ring;  // capacity a power of two
    std::size_t mask = 0;         // ring.size() - 1
    std::size_t head = 0;         // oldest frame (next to arrive)
    std::size_t count = 0;
    std::size_t waiting_from = 0;  // ring offset from head of the first frame not yet started
    std::uint64_t waiting_bytes = 0;
    // Start of the frame at waiting_from, or max() when none waits: settle_waiting() has
    // work to do iff it is <= now.
    sim_time first_waiting_start = sim_time::max();
    sim_time busy_until;           // when the transmitter finishes the last queued frame
    sim_time last_arrive;
    std::uint32_t ser_bytes = 0;   // a frame length and its serialization time (send())
    sim_time ser_time;
    bool faulty = false;           // black_hole || loss > 0 || ber > 0: the slow arrival path
    bool black_hole = false;
    double loss = 0.0;
    double ber = 0.0;
    kernel::rng rng{0};
    link_tap_fn tap = nullptr;
    void* tap_ctx = nullptr;
    link_direction_stats stats;
  };
  static_assert(sizeof(direction) == 256);
  struct link {
    link_config cfg;
    // cfg.queue_frames and cfg.queue_bytes with 0 (no limit) as the largest value: one
    // compare each in send().
    std::uint64_t frame_limit = 0;
    std::uint64_t byte_limit = 0;
    serializer ser;  // cfg.bandwidth_bps's
    endpoint end[2];
    bool carrier = true;
    std::uint32_t epoch = 0;  // bumped at every carrier loss
    direction dir[2];
    std::string name;
  };

  link& at(link_id id);
  const link& at(link_id id) const;
  /// Advances the count of waiting frames past those whose transmission has started.
  void settle_waiting(direction& d, sim_time now) noexcept;
  void grow(direction& d);
  /// send() refused the frame: counts why.
  static send_result refuse(direction& d, send_result why) noexcept;
  /// Schedules the arrival event of the frame that made direction `from` non-empty.
  void arm(link_id id, link_side from, sim_time arrive);
  static void update_faulty(direction& d) noexcept {
    d.faulty = d.black_hole || d.loss > 0 || d.ber > 0;
  }
  void notify_carrier(const link& l, bool up);

  kernel::simulator* sim_;
  const kernel::rng_streams* streams_;
  std::vector<link> links_;
};

}  // namespace vnetsim::dev
