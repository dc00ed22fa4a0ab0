#pragma once
/// The pending-event set of the discrete-event kernel: a monotone radix heap (Ahuja,
/// Mehlhorn, Orlin and Tarjan 1990) with radix 64, keyed by absolute time, with O(1)
/// cancellation through generation-checked handles.
///
/// Buckets: bucket 1 + 64h + d holds the keys whose highest base-64 digit differing from
/// `last` (a lower bound of every key) is digit h and equals d there. Bucket order is key
/// order, and when the lowest non-empty bucket is emptied around its minimum every entry
/// moves to a strictly lower bucket, so an entry moves at most 11 times and, for random
/// delays, about log64(pending) times. (Under cachegrind, radix 64 ran the fewest
/// instructions with the fewest mispredicted branches of radix 8 to 256 on the hold model
/// with 1 k pending, and beat radix 16 with 1 M pending; wall-clock differences were
/// within this machine's noise.) Bucket 0 is the "run": the next few events, sorted, all
/// earlier than anything in another bucket; a small bucket (at most 15 entries) is
/// sorted straight into it by a sorting network, with no data-dependent branch, instead
/// of being split further.
///
/// Order: events leave in (time, seq) order, where seq is the global count of pushes, so
/// events at the same time leave first-in first-out and every run is reproducible
/// (ns-3 scheduler.h rule). The radix heap gives this without comparing seq: entries of
/// equal time always share a bucket and every move between buckets is stable.
///
/// Monotone: a push must not be earlier than the time of the last event popped (the
/// simulator's "now"); the simulator checks that before calling push(). Looking ahead
/// never moves that bound: pop_until() leaves the queue untouched when the next event is
/// past its limit, so a caller may stop at any time and schedule from there.
///
/// Memory: a pending event costs one 16-byte bucket entry (in 256-byte chunks of 15 shared
/// by all buckets) plus one 32-byte slot record, about 49 bytes in all with 1 M pending
/// (hold model); all storage is recycled, so a queue that has reached its working size
/// allocates nothing more. On Linux the slot table asks for transparent huge pages: its
/// records are read in random order, and with 1 M pending most reads would otherwise also
/// miss the TLB.

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "vnetsim/kernel/sim_time.hpp"

namespace vnetsim::kernel {

/// What to run: dispatched by kind to a target id (STYLE.md, "Hot path").
using event_kind = std::uint16_t;

struct event {
  sim_time time;
  std::uint64_t seq = 0;     ///< global push counter: the tie-breaker, and a trace id
  std::uint64_t arg = 0;     ///< kind-specific argument (a frame slot, a port, ...)
  std::uint32_t target = 0;  ///< device or engine id within its kind
  event_kind kind = 0;
};

/// Refers to one scheduled event; stays safe to use after the event ran or was
/// cancelled (the generation no longer matches, so cancel() returns nothing).
class event_handle {
 public:
  constexpr event_handle() noexcept = default;
  constexpr bool valid() const noexcept { return generation_ != 0; }

 private:
  friend class event_queue;
  constexpr event_handle(std::uint32_t slot, std::uint32_t gen) noexcept
      : slot_(slot), generation_(gen) {}
  std::uint32_t slot_ = 0;
  std::uint32_t generation_ = 0;  // 0 = no event
};

class event_queue {
 public:
  event_queue();

  /// Adds an event. Amortized O(1). Precondition: `t` >= the time of the last pop and
  /// t >= 0 (not checked here; the simulator checks).
  event_handle push(sim_time t, event_kind kind, std::uint32_t target, std::uint64_t arg);

  /// Cancels a pending event in O(1) and returns it; nothing if it already ran, was
  /// cancelled, or the handle is empty. Its heap entry is dropped when it reaches the front.
  std::optional<event> cancel(event_handle h) noexcept;

  /// True while the event behind `h` is scheduled and not cancelled. O(1).
  bool pending(event_handle h) const noexcept;

  /// Removes the next live event into `out` and returns true if its time is <= `limit`;
  /// otherwise returns false and leaves the queue (and `out`) as they were. Amortized
  /// O(b), b = bits in the largest scheduling distance (at most 64): each entry moves
  /// down at most once per base-64 digit of b. The run loop's form: no std::optional.
  bool pop_until(sim_time limit, event& out) noexcept;
  /// As above, returning the event or nothing.
  std::optional<event> pop_until(sim_time limit) noexcept {
    event ev;
    if (!pop_until(limit, ev)) return std::nullopt;
    return ev;
  }
  /// Removes and returns the next live event. Amortized O(b) as pop_until().
  std::optional<event> pop() noexcept { return pop_until(sim_time::max()); }

  /// Time of the next live event, without removing it or reorganising anything.
  /// O(1) in the common case; O(n) when cancelled entries hide the minimum. For
  /// diagnostics and tests: the run loop uses pop_until().
  std::optional<sim_time> next_time() const noexcept;

  /// Live (scheduled, not cancelled) events. O(1).
  std::size_t size() const noexcept { return live_; }
  bool empty() const noexcept { return live_ == 0; }
  /// Events pushed so far (the next seq).
  std::uint64_t pushed() const noexcept { return next_seq_; }
  /// Events cancelled so far.
  std::uint64_t cancelled() const noexcept { return cancelled_; }
  /// Events popped so far: every push is popped, cancelled or still pending. O(1).
  std::uint64_t popped() const noexcept { return next_seq_ - cancelled_ - live_; }
  /// Bytes held by the queue's own storage, for the memory figures in benchmarks.
  std::size_t memory_bytes() const noexcept;
  /// Pre-sizes the slot storage for `n` pending events. The buckets reach their working
  /// size during warm-up and keep it, so a run in steady state allocates nothing.
  void reserve(std::size_t n);

 private:
  struct entry {
    std::uint64_t time;
    std::uint32_t slot;
    std::uint32_t pad;
  };
  static_assert(sizeof(entry) == 16);

  enum class slot_state : std::uint8_t { free, pending, cancelled };
  struct slot_record {
    std::uint64_t seq;
    std::uint64_t arg;
    std::uint32_t target;
    std::uint32_t generation;  // odd, and bumped by 2 when the slot is freed: never 0
    event_kind kind;
    slot_state state;
  };
  static_assert(sizeof(slot_record) == 32);

  static constexpr std::size_t radix_bits = 6;
  static constexpr std::size_t digits = (64 + radix_bits - 1) / radix_bits;
  static constexpr std::size_t bucket_count = 1 + digits * (1u << radix_bits);
  static constexpr std::size_t bitmap_words = (bucket_count + 63) / 64;
  /// A bucket this small is sorted into the run rather than split further.
  static constexpr std::size_t small_bucket = 15;

  /// Buckets are singly linked lists of fixed-size chunks from one shared arena, so the
  /// memory they need depends only on the total number of pending events, not on how
  /// the events happen to spread over buckets: once the arena has reached the peak, no
  /// bucket ever allocates again. Chunks never move (the arena grows by blocks), and a
  /// bucket appends through a cursor, as cheaply as a vector's push_back. An emptied
  /// bucket keeps its first chunk, so refilling it needs no chunk from the free list.
  /// Each chunk also points `chunk_lookahead` chunks further down its bucket's chain, so
  /// that a split reading a bucket larger than the caches can fetch that far ahead rather
  /// than wait for each `next` in turn.
  static constexpr std::size_t chunk_entries = 15;
  static constexpr std::uint32_t chunk_lookahead = 4;
  struct chunk {
    std::array<entry, chunk_entries> e;
    chunk* next;
    chunk* ahead;  // chunk_lookahead chunks further on, or null
  };
  static_assert(sizeof(chunk) == 256);
  static_assert(small_bucket <= chunk_entries, "a small bucket lies in its first chunk");
  static constexpr std::size_t chunks_per_block = 256;
  /// One cache line each: push() touches one line of buckets_, and indexes it by a shift.
  struct alignas(64) bucket {
    entry* cursor = nullptr;  // next free entry in the tail chunk
    entry* end = nullptr;     // end of the tail chunk (cursor == end: full or no chunk)
    chunk* head = nullptr;
    chunk* tail = nullptr;
    chunk* lag = nullptr;  // the chunk whose `ahead` the next new chunk fills in
    std::uint32_t lag_gap = 0;  // chunks from lag to tail (< chunk_lookahead)
    std::uint32_t size = 0;
    std::uint64_t min = ~std::uint64_t{0};  // exact minimum key (all ones when empty)
  };

  /// For each count of leading zeros of key ^ last: the differing digit's bit offset
  /// (h * radix_bits) and bucket base (1 + h * 2^radix_bits). A table instead of the
  /// division by radix_bits: two loads for five arithmetic instructions on every push.
  struct digit_info {
    std::uint8_t shift;
    std::uint16_t base;
  };
  static constexpr std::array<digit_info, 64> digit_of_clz = [] {
    std::array<digit_info, 64> t{};
    for (std::size_t z = 0; z < 64; ++z) {
      const std::size_t h = (63 - z) / radix_bits;
      t[z] = digit_info{static_cast<std::uint8_t>(h * radix_bits), static_cast<std::uint16_t>(1 + (h << radix_bits))};
    }
    return t;
  }();
  /// The bucket of `key` relative to `last`. Precondition: key > last (a key equal to
  /// last belongs in the run).
  static std::size_t bucket_of(std::uint64_t key, std::uint64_t last) noexcept {
    const std::uint64_t x = key ^ last;  // not 0: the caller keeps key == last in the run
    const digit_info di = digit_of_clz[static_cast<std::size_t>(__builtin_clzll(x))];
    return di.base + static_cast<std::size_t>((key >> di.shift) & ((1u << radix_bits) - 1));
  }
  /// Appends to bucket b >= 1. O(1); allocates only when the arena is exhausted.
  void add(std::size_t b, std::uint64_t time, std::uint32_t slot) {
    bucket& bk = buckets_[b];
    nonempty_[b / 64] |= std::uint64_t{1} << (b % 64);  // unconditional: no branch to mispredict
    if (bk.cursor == bk.end) [[unlikely]] add_chunk(b);
    // Field by field: a whole-entry copy from a just-built temporary makes GCC 12 load
    // 16 bytes from two narrower stores, which stalls store forwarding.
    bk.cursor->time = time;
    bk.cursor->slot = slot;
    ++bk.cursor;
    ++bk.size;
    bk.min = std::min(bk.min, time);
  }
  void add_chunk(std::size_t b);
  /// A new slot record, at the end of slots_ (the free list is empty). Amortized O(1).
  std::uint32_t new_slot();
  chunk* new_chunk();
  /// Empties bucket k (the lowest non-empty one) around its minimum: into the run,
  /// sorted, when small; otherwise into lower buckets, stably.
  void split(std::size_t k);
  /// The lowest non-empty bucket, or bucket_count; buckets below `from` must be empty.
  std::size_t first_nonempty(std::size_t from) const noexcept;
  /// Brings the next live entry to the head of the run if its time is <= limit;
  /// false (and no change to last_) otherwise.
  bool settle(std::uint64_t limit) noexcept;
  void free_slot(std::uint32_t slot) noexcept {
    slot_record& r = slots_[slot];
    r.state = slot_state::free;
    // 0 means "no event" in a handle: starting at 1 and stepping by 2 (wrapping after 2^31
    // reuses of one slot), the generation stays odd, so no test for 0 is needed.
    r.generation += 2;
    // Intrusive free list through the record's arg field: no allocation, ever.
    r.arg = free_head_;
    free_head_ = slot;
  }
  /// Puts a push with key <= run_limit_ into the run: appended when not earlier than the
  /// run's last key, else inserted in time order after equal times (first in, first
  /// out). O(1) for an append; O(run length) for an insertion, and an append past
  /// run_back_ happens only while the run is shorter than run_cap.
  void push_into_run(const entry& e);
  /// Sets floor_ and floor_bucket_ from the buckets, then run_limit_; buckets below
  /// `from` must be empty. O(bitmap words).
  void find_floor(std::size_t from) noexcept;
  /// Sets run_limit_ from floor_ and the run's length (see run_limit_).
  void update_run_limit() noexcept {
    run_limit_ = run_end_ - head_ < run_cap ? floor_ - 1 : run_back_;
  }
  /// Appends to the run (the caller keeps it sorted).
  void run_append(const entry& e) {
    if (run_end_ == run_.size()) run_.resize(run_.size() * 2);
    run_[run_end_++] = e;
  }
  /// Moves the run's unconsumed entries to the front of run_.
  void compact_run() noexcept;
  /// Sorts the n <= small_bucket entries at `src` into the run, by (time, arrival).
  void sort_into_run(const entry* src, std::size_t n) noexcept;

  /// The run: entries [head_, run_end_) of run_, the next events sorted by (time, seq),
  /// each earlier than any bucketed one. run_ is kept at its full size (at least
  /// run_min_size), so a sorted bucket is written straight into it.
  static constexpr std::size_t run_min_size = 64;
  std::vector<entry> run_;
  std::size_t head_ = 0;     // first unconsumed entry of run_
  std::size_t run_end_ = 0;  // one past the run's last entry
  /// The largest key of the current run, consumed entries included (last_ while it has
  /// held none): a push at or before it belongs in the run, a later one in a bucket. One
  /// compare, where "the run is not empty and key <= its last key" is a branch that
  /// mispredicts whenever the run has just been used up.
  std::uint64_t run_back_ = 0;
  /// The smallest key in any bucket (all ones when none holds an entry), and its bucket
  /// (bucket_count when none). Exact while run_limit_ != run_back_ ("floor mode"): then a
  /// push goes to a bucket only if its key is >= floor_, which changes neither. Refreshed
  /// by every split.
  std::uint64_t floor_ = ~std::uint64_t{0};
  std::size_t floor_bucket_ = bucket_count;
  /// The largest key push() puts into the run. While the run holds fewer than run_cap
  /// entries, floor_ - 1: every key below all bucketed ones goes into the run (appended
  /// when not earlier than its end), rather than into a bucket that is split and sorted
  /// one pop later. A device re-arming its one pending event a few hundred ns ahead (a
  /// link direction's next arrival, dev/link.hpp) then never touches a bucket, even with
  /// far timers pending. Otherwise run_back_ ("cap mode", where floor_ may go stale).
  std::uint64_t run_limit_ = ~std::uint64_t{0} - 1;
  /// The longest run that pushes later than its end are appended to, so that an insertion
  /// into the run (a push earlier than its end) moves at most this many entries of it.
  static constexpr std::size_t run_cap = 16;
  /// buckets_[0] is unused (the run takes its place); buckets_[bucket_count] is a sentinel
  /// that stays empty, so that "the lowest non-empty bucket's minimum" needs no branch.
  std::array<bucket, bucket_count + 1> buckets_{};
  std::array<std::uint64_t, bitmap_words> nonempty_{};  // bit b set iff bucket b is non-empty
  std::vector<std::unique_ptr<chunk[]>> blocks_;  // the arena
  chunk* free_chunk_ = nullptr;
  std::uint64_t last_ = 0;  // lower bound of every key; buckets are relative to it
  std::vector<slot_record> slots_;
  static constexpr std::uint32_t no_slot = 0xffff'ffffu;
  std::uint32_t free_head_ = no_slot;  // first free slot record, linked through arg
  std::size_t live_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t cancelled_ = 0;  // successful cancel() calls
};

// The two per-event operations are defined here so that the simulator loop inlines them.
// push() is always inlined: GCC 12 otherwise calls it out of line from handlers in other
// files (about 20 more instructions per event on the hold model, under cachegrind).

[[gnu::always_inline]] inline event_handle event_queue::push(sim_time t, event_kind kind, std::uint32_t target,
                                      std::uint64_t arg) {
  std::uint32_t slot;
  if (free_head_ != no_slot) [[likely]] {
    slot = free_head_;
    free_head_ = static_cast<std::uint32_t>(slots_[slot].arg);
  } else {
    slot = new_slot();
  }
  slot_record& r = slots_[slot];
  r.seq = next_seq_++;
  r.arg = arg;
  r.target = target;
  r.kind = kind;
  r.state = slot_state::pending;
  const auto key = static_cast<std::uint64_t>(t.ns());
  if (key <= run_limit_) [[unlikely]] {
    push_into_run(entry{key, slot, 0});  // not later than the run's end, or no bucket in use
  } else {
    add(bucket_of(key, last_), key, slot);
  }
  ++live_;
  return event_handle{slot, r.generation};
}

inline bool event_queue::pop_until(sim_time limit, event& out) noexcept {
  if (limit.ns() < 0) [[unlikely]] return false;  // every key is >= 0
  const auto lim = static_cast<std::uint64_t>(limit.ns());
  if (head_ >= run_end_ || slots_[run_[head_].slot].state != slot_state::pending) [[unlikely]] {
    if (!settle(lim)) return false;
  }
  const entry e = run_[head_];
  if (e.time > lim) return false;
  ++head_;
  const slot_record& r = slots_[e.slot];
  out.time = sim_time::from_ns(static_cast<sim_time::rep>(e.time));
  out.seq = r.seq;
  out.arg = r.arg;
  out.target = r.target;
  out.kind = r.kind;
  free_slot(e.slot);
  --live_;
  return true;
}

}  // namespace vnetsim::kernel
