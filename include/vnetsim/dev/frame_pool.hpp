#pragma once
/// Frame buffers for the per-frame path: a pool of fixed-size buffers in three size
/// classes (standard, jumbo, TSO super-frame), each with headroom so that an 802.1Q tag
/// is inserted without moving the payload, handed out as reference-counted `frame_ref`
/// handles (copying a handle shares the bytes; flooding to N ports copies none).
///
/// Hot path rules: single-threaded; allocate and release are O(1) pops and pushes on an
/// intrusive free stack (linked through the control blocks), with no heap allocation once
/// the pool holds enough slabs.
/// Slabs are added only when a class's free list is empty and it is below its
/// configured maximum (set-up and warm-up; call reserve() to do it all up front).
/// Running out is counted (`exhausted`) and answered with an empty handle, never a crash.
/// Precondition violations (oversized requests, edits past the headroom or length,
/// geometry edits on a shared frame) return false or an empty handle and are counted.
///
/// Lifetime: the pool may be destroyed while frames are still held. The slabs then stay
/// alive, owned by the outstanding frames, and are freed when the last one is released.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "vnetsim/kernel/sim_time.hpp"

namespace vnetsim::dev {

/// Buffer size classes; a frame takes the smallest class whose capacity holds it.
enum class frame_class : std::uint8_t { standard, jumbo, tso };
inline constexpr std::size_t frame_class_count = 3;

constexpr std::string_view to_string(frame_class c) noexcept {
  switch (c) {
    case frame_class::standard: return "standard";
    case frame_class::jumbo: return "jumbo";
    case frame_class::tso: return "tso";
  }
  return "unknown";
}

/// Bytes in front of a new frame's data: room for an 802.1Q tag (4 bytes, IEEE
/// 802.1Q-2018 9.3) or a stacked pair, rounded to a cache line so that the Ethernet
/// header of a fresh frame starts 64-byte aligned.
inline constexpr std::size_t frame_headroom = 64;
/// Cache-line alignment of every buffer.
inline constexpr std::size_t frame_buffer_align = 64;

/// Largest frame (without FCS) each class holds after its headroom.
/// standard: 1518 = 14 header + 1500 MTU + 4 FCS (IEEE 802.3-2018 3.2.7), plus a 4-byte tag.
inline constexpr std::size_t standard_frame_capacity = 1518 + 4;
/// jumbo: 9000-byte MTU plus the same 18 bytes of header and FCS, plus a 4-byte tag.
inline constexpr std::size_t jumbo_frame_capacity = 9018 + 4;
/// TSO super-frame: an IPv4 datagram of the largest total length (65535, RFC 791 3.1)
/// behind an Ethernet header and one 802.1Q tag.
inline constexpr std::size_t tso_frame_capacity = 65535 + 14 + 4;

constexpr std::size_t frame_capacity(frame_class c) noexcept {
  switch (c) {
    case frame_class::standard: return standard_frame_capacity;
    case frame_class::jumbo: return jumbo_frame_capacity;
    case frame_class::tso: return tso_frame_capacity;
  }
  return 0;
}

/// Smallest class that holds `len` bytes, or nullopt when even a TSO buffer is too small.
constexpr std::optional<frame_class> frame_class_for(std::size_t len) noexcept {
  if (len <= standard_frame_capacity) return frame_class::standard;
  if (len <= jumbo_frame_capacity) return frame_class::jumbo;
  if (len <= tso_frame_capacity) return frame_class::tso;
  return std::nullopt;
}

/// Checksum-offload requests a sender leaves for the NIC (the Linux skb CHECKSUM_PARTIAL
/// idea, split by header). Bit flags; combine with `|`.
enum class csum_offload : std::uint8_t {
  none = 0,
  ipv4_header = 1u << 0,  ///< fill the IPv4 header checksum (RFC 791 3.1)
  l4 = 1u << 1,           ///< fill the TCP or UDP checksum over the pseudo-header (RFC 9293 3.1, RFC 768)
};
constexpr csum_offload operator|(csum_offload a, csum_offload b) noexcept {
  return static_cast<csum_offload>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr csum_offload operator&(csum_offload a, csum_offload b) noexcept {
  return static_cast<csum_offload>(static_cast<unsigned>(a) & static_cast<unsigned>(b));
}
constexpr bool has(csum_offload set, csum_offload flag) noexcept {
  return (set & flag) != csum_offload::none;
}

/// Ingress port value of a frame that did not arrive on a port (created by an endpoint).
inline constexpr std::uint32_t no_ingress_port = 0xffff'ffffu;

/// Per-frame metadata, carried beside the bytes. Reset to these defaults on every
/// allocation. Shared by every handle to the same frame, like the bytes.
struct frame_meta {
  /// Out-of-band 802.1Q TCI (PCP, DEI, VID; IEEE 802.1Q-2018 9.6): the tag a NIC
  /// strips on receive or inserts on transmit, when it is not in the bytes.
  std::optional<std::uint16_t> vlan_tci;
  csum_offload csum = csum_offload::none;
  /// Segment size for TCP segmentation offload; 0 = not a TSO super-frame.
  std::uint16_t tso_mss = 0;
  std::uint32_t ingress_port = no_ingress_port;
  /// Flow id and sequence number for loss and duplicate accounting; flow 0 = untracked.
  std::uint32_t flow_id = 0;
  sim_time created;
  std::uint64_t flow_seq = 0;

  friend constexpr bool operator==(const frame_meta&, const frame_meta&) noexcept = default;
};
static_assert(sizeof(frame_meta) <= 32, "frame_meta is copied on every allocation");

/// Per-class counters. `in_use` = allocated - released; `high_water` is its maximum.
struct frame_class_stats {
  std::uint64_t allocated = 0;
  std::uint64_t released = 0;
  std::uint64_t in_use = 0;
  std::uint64_t high_water = 0;
  /// Allocations refused because the class was at its maximum with no free buffer.
  std::uint64_t exhausted = 0;
  /// Buffers backed by slabs now, and the configured maximum.
  std::uint64_t capacity = 0;
  std::uint64_t max_frames = 0;
  std::uint64_t slabs = 0;
};

/// Pool-wide counters of refused calls (API misuse that returned false or empty).
struct frame_pool_stats {
  /// allocate() asked for more than the class (or the TSO class) holds.
  std::uint64_t oversize = 0;
  /// push_front/pull_front/resize refused: past the headroom, length or capacity, or
  /// on a shared frame. (An edit on an empty handle is refused too, but has no pool to
  /// count it in.)
  std::uint64_t refused_edits = 0;
};

/// Sizing of one class. `frames_per_slab` is clamped to [1, 2^20]; `initial_frames` are
/// allocated by the constructor (up to the maximum); growth stops at exactly `max_frames`
/// (the last slab may be smaller). max_frames = 0 disables the class.
struct frame_class_config {
  std::uint32_t frames_per_slab = 256;
  std::uint32_t initial_frames = 0;
  std::uint32_t max_frames = 65536;
};

struct frame_pool_config {
  /// Indexed by frame_class. Defaults: ~1.6 MB of standard buffers up front, room for
  /// 64 Ki standard, 4 Ki jumbo and 512 TSO buffers (~105 + 37 + 34 MB at most).
  std::array<frame_class_config, frame_class_count> classes{{
      {256, 1024, 65536},
      {32, 0, 4096},
      {4, 0, 512},
  }};
};

class frame_pool;
class frame_ref;

namespace detail {

struct size_class;

/// Control block of one buffer, kept apart from the bytes so that allocate and release
/// touch no data cache line. `refs == 0` exactly when the slot is on its free list.
struct frame_slot {
  std::byte* buf = nullptr;      // start of the buffer (headroom included)
  size_class* cls = nullptr;     // owner, for release
  std::uint32_t refs = 0;
  std::uint32_t off = 0;         // data offset from buf
  std::uint32_t len = 0;         // data length
  frame_slot* next_free = nullptr;  // intrusive free-stack link, valid while refs == 0
  frame_meta meta;
};

struct pool_state;

/// One size class: slabs of buffers with their control blocks, and a free stack threaded
/// through frame_slot::next_free. Control blocks never move once a slab exists.
struct size_class {
  struct slab {
    std::unique_ptr<frame_slot[]> slots;
    std::byte* data = nullptr;  // aligned; freed by ~size_class
  };

  pool_state* owner = nullptr;
  frame_class cls = frame_class::standard;
  std::uint32_t frames_per_slab = 1;
  std::uint32_t buffer_len = 0;  // headroom + capacity
  std::uint32_t stride = 0;      // buffer_len rounded to frame_buffer_align
  frame_slot* free_head = nullptr;
  bool orphaned = false;         // the pool is gone; free the state at the last release
  std::vector<slab> slabs;       // reserved to the maximum at construction: never reallocates
  frame_class_stats stats;

  size_class() = default;
  size_class(const size_class&) = delete;
  size_class& operator=(const size_class&) = delete;
  ~size_class();

  /// Adds one slab to the free stack; false at the maximum (or if memory runs out).
  bool grow() noexcept;
};

struct pool_state {
  std::array<size_class, frame_class_count> classes;
  frame_pool_stats stats;
  std::uint64_t outstanding() const noexcept {
    std::uint64_t n = 0;
    for (const auto& c : classes) n += c.stats.in_use;
    return n;
  }
};

/// Called when the last frame of a destroyed pool is released.
void free_orphan(pool_state* s) noexcept;
/// Counts a refused edit on the slot's pool (cold path).
void count_refused(frame_slot* s) noexcept;
/// Metadata returned by an empty handle: reset on each call, so writes go nowhere.
frame_meta& empty_meta() noexcept;

/// Pops a buffer, or nullptr when the class is exhausted (after trying to grow).
inline frame_slot* pop(size_class& c) noexcept {
  if (c.free_head == nullptr) [[unlikely]] {
    if (!c.grow()) {
      ++c.stats.exhausted;
      return nullptr;
    }
  }
  frame_slot* s = c.free_head;
  c.free_head = s->next_free;
  ++c.stats.allocated;
  if (++c.stats.in_use > c.stats.high_water) c.stats.high_water = c.stats.in_use;
  return s;
}

/// Returns a buffer whose last reference went away.
inline void push(frame_slot* s) noexcept {
  size_class& c = *s->cls;
  s->next_free = c.free_head;
  c.free_head = s;
  ++c.stats.released;
  --c.stats.in_use;
  if (c.orphaned) [[unlikely]] {
    if (c.owner->outstanding() == 0) free_orphan(c.owner);
  }
}

}  // namespace detail

/// Handle to a pooled frame. Copying shares the buffer (an intrusive, non-atomic
/// reference count; no bytes are copied); the last handle to go returns the buffer to
/// its free list. clone() makes a private deep copy. An empty handle (default, moved-from,
/// or a failed allocation) is false in a boolean context and answers every call safely:
/// empty spans, zero sizes, false from edits.
///
/// Sharing rule: bytes and metadata are shared by all handles to a frame. Geometry edits
/// (push_front, pull_front, resize) are refused on a shared frame, since they would move
/// the frame under its other holders; call unshare() first. Writing bytes through data()
/// of a shared frame is visible to every holder: unshare() first when that is not wanted.
class frame_ref {
 public:
  constexpr frame_ref() noexcept = default;
  frame_ref(const frame_ref& o) noexcept : s_(o.s_) {
    if (s_) ++s_->refs;
  }
  frame_ref(frame_ref&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  frame_ref& operator=(const frame_ref& o) noexcept {
    frame_ref tmp(o);
    swap(tmp);
    return *this;
  }
  frame_ref& operator=(frame_ref&& o) noexcept {
    frame_ref tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~frame_ref() { reset(); }

  /// Drops this reference; the buffer goes back to the pool if it was the last.
  void reset() noexcept {
    if (s_ && --s_->refs == 0) detail::push(s_);
    s_ = nullptr;
  }
  void swap(frame_ref& o) noexcept { std::swap(s_, o.s_); }

  explicit operator bool() const noexcept { return s_ != nullptr; }
  bool empty() const noexcept { return s_ == nullptr; }

  /// The frame's bytes (shallow const, like a shared_ptr: the handle's constness does
  /// not make the shared bytes read-only).
  std::span<std::byte> data() const noexcept {
    return s_ ? std::span<std::byte>(s_->buf + s_->off, s_->len) : std::span<std::byte>();
  }
  std::span<const std::byte> cdata() const noexcept { return data(); }
  std::size_t size() const noexcept { return s_ ? s_->len : 0; }
  /// Free bytes in front of the data, for push_front().
  std::size_t headroom() const noexcept { return s_ ? s_->off : 0; }
  /// Largest length resize() accepts: from the data start to the end of the buffer.
  std::size_t capacity() const noexcept { return s_ ? s_->cls->buffer_len - s_->off : 0; }
  frame_class size_class() const noexcept { return s_ ? s_->cls->cls : frame_class::standard; }

  /// Metadata; on an empty handle, a scratch object reset on every call.
  frame_meta& meta() const noexcept { return s_ ? s_->meta : detail::empty_meta(); }

  std::uint32_t use_count() const noexcept { return s_ ? s_->refs : 0; }
  bool unique() const noexcept { return s_ && s_->refs == 1; }
  /// True when both handles refer to the same buffer.
  bool same_buffer(const frame_ref& o) const noexcept { return s_ && s_ == o.s_; }

  /// Grows the frame by `n` bytes at the front, into the headroom; the existing bytes do
  /// not move. False (and counted) when n > headroom(), the frame is shared, or empty.
  bool push_front(std::size_t n) noexcept {
    if (!s_ || s_->refs != 1 || n > s_->off) [[unlikely]] return refuse();
    s_->off -= static_cast<std::uint32_t>(n);
    s_->len += static_cast<std::uint32_t>(n);
    return true;
  }
  /// Drops `n` bytes from the front into the headroom. False (and counted) when
  /// n > size(), the frame is shared, or empty.
  bool pull_front(std::size_t n) noexcept {
    if (!s_ || s_->refs != 1 || n > s_->len) [[unlikely]] return refuse();
    s_->off += static_cast<std::uint32_t>(n);
    s_->len -= static_cast<std::uint32_t>(n);
    return true;
  }
  /// Sets the length, keeping the start. New bytes past the old length are not
  /// initialised. False (and counted) when len > capacity(), the frame is shared, or empty.
  bool resize(std::size_t len) noexcept {
    if (!s_ || s_->refs != 1 || len > capacity()) [[unlikely]] return refuse();
    s_->len = static_cast<std::uint32_t>(len);
    return true;
  }

  /// A private copy: a new buffer of the same class from the same pool, with the same
  /// headroom, bytes and metadata. Empty when the class is exhausted (counted) or when
  /// this handle is empty. O(size()).
  frame_ref clone() const noexcept;
  /// Makes this handle the only one to its bytes, cloning when shared. False (handle
  /// unchanged) when the clone could not be allocated or the handle is empty.
  bool unshare() noexcept;

 private:
  friend class frame_pool;
  explicit frame_ref(detail::frame_slot* s) noexcept : s_(s) {}
  bool refuse() const noexcept {
    if (s_) detail::count_refused(s_);
    return false;
  }

  detail::frame_slot* s_ = nullptr;
};

/// The pool. Not copyable or movable (frames point into it); hold it by value in the
/// world that outlives the devices, or by unique_ptr to move it.
class frame_pool {
 public:
  explicit frame_pool(const frame_pool_config& config = {});
  frame_pool(const frame_pool&) = delete;
  frame_pool& operator=(const frame_pool&) = delete;
  /// Safe with frames outstanding: their slabs live until the last one is released.
  ~frame_pool();

  /// A frame of `len` bytes (contents uninitialised) in the smallest class that holds
  /// it, with fresh metadata stamped `created = now`. Empty when len is larger than a
  /// TSO buffer (counted in stats().oversize) or the class is exhausted (counted in its
  /// `exhausted`). O(1); allocates memory only when growing by a slab.
  frame_ref allocate(std::size_t len, sim_time now) noexcept {
    const auto c = frame_class_for(len);
    if (!c) [[unlikely]] {
      ++state_->stats.oversize;
      return {};
    }
    return allocate_in(state_->classes[static_cast<std::size_t>(*c)], len, now);
  }
  /// The same in a given class; empty (counted as oversize) if len exceeds its capacity.
  frame_ref allocate(frame_class c, std::size_t len, sim_time now) noexcept {
    if (static_cast<std::size_t>(c) >= frame_class_count || len > frame_capacity(c)) [[unlikely]] {
      ++state_->stats.oversize;
      return {};
    }
    return allocate_in(state_->classes[static_cast<std::size_t>(c)], len, now);
  }
  /// A frame holding a copy of `bytes`.
  frame_ref allocate_copy(std::span<const std::byte> bytes, sim_time now) noexcept;

  /// Grows class `c` until it backs at least `frames` buffers (capped at its maximum).
  /// Returns whether the target was reached. For set-up and warm-up.
  bool reserve(frame_class c, std::uint32_t frames) noexcept;

  /// Counters of class `c` (all zero for a value outside the enum).
  const frame_class_stats& stats(frame_class c) const noexcept;
  const frame_pool_stats& stats() const noexcept { return state_->stats; }
  /// Frames held outside the pool, over all classes.
  std::uint64_t outstanding() const noexcept { return state_->outstanding(); }

 private:
  static frame_ref allocate_in(detail::size_class& c, std::size_t len, sim_time now) noexcept {
    detail::frame_slot* s = detail::pop(c);
    if (!s) [[unlikely]] return {};
    s->refs = 1;
    s->off = frame_headroom;
    s->len = static_cast<std::uint32_t>(len);
    s->meta = frame_meta{};
    s->meta.created = now;
    return frame_ref(s);
  }

  std::unique_ptr<detail::pool_state> state_;
};

}  // namespace vnetsim::dev
