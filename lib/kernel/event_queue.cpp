#include "vnetsim/kernel/event_queue.hpp"

#include <algorithm>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace vnetsim::kernel {

namespace {
// A run that is only ever appended to while its head advances (events scheduled at
// "now", again and again) is compacted once its consumed part passes this size.
constexpr std::size_t compact_threshold = 4096;
// The same on a push into the run: a few events re-armed one after another, each before
// the previous one has run, would otherwise walk through run_ and grow it to twice
// compact_threshold; compacting sooner keeps them in the first entries of run_.
constexpr std::size_t push_compact_threshold = 32;
// Slot records beyond this many (2 MiB of them) no longer fit a typical L2 cache.
constexpr std::size_t prefetch_min_slots = 65536;
// A bucket split with at most this many entries has its entries' slot records fetched
// (at most 64 KiB of them: they stay in L2 until their events run).
constexpr std::size_t prefetch_max_bucket = 2048;
/// Puts the smaller of a and b in a, without a branch (std::min/max here compile to
/// branches with GCC 12, which mispredict on random keys).
inline void compare_exchange(std::uint64_t& a, std::uint64_t& b) noexcept {
  const std::uint64_t swap = std::uint64_t{0} - static_cast<std::uint64_t>(b < a);
  const std::uint64_t d = (a ^ b) & swap;
  a ^= d;
  b ^= d;
}
/// Asks the kernel to back the whole 2 MiB pages inside [p, p + bytes) with huge pages
/// (Linux transparent huge pages in "madvise" mode, the Debian default). Slot records are
/// read in random order, and with 4 KiB pages nearly every read of a table larger than
/// the TLB's reach also misses the TLB. A hint only: if refused, nothing changes.
void advise_huge_pages([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t lo = (begin + huge - 1) & ~(huge - 1);
  const std::uintptr_t hi = (begin + bytes) & ~(huge - 1);
  if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#endif
}

}  // namespace

event_queue::event_queue() {
  slots_.reserve(64);
  run_.resize(run_min_size);
}

void event_queue::reserve(std::size_t n) {
  if (n > slots_.capacity()) {
    slots_.reserve(n);
    advise_huge_pages(slots_.data(), slots_.capacity() * sizeof(slot_record));
  }
  // Enough chunks for n entries plus a partly empty last chunk in two digits' worth of
  // buckets: for random delays only the few digits below the largest delay hold entries
  // (a chunk for each of all bucket_count buckets tripled the memory with 1 k pending).
  // A queue that needs more takes them from the arena until it reaches its working size.
  const std::size_t want = n / chunk_entries + 2 * (std::size_t{1} << radix_bits);
  while (blocks_.size() * chunks_per_block < want) {
    blocks_.push_back(std::make_unique<chunk[]>(chunks_per_block));
    for (std::size_t i = 0; i < chunks_per_block; ++i) {
      blocks_.back()[i].next = free_chunk_;
      free_chunk_ = &blocks_.back()[i];
    }
  }
}

event_queue::chunk* event_queue::new_chunk() {
  if (free_chunk_ == nullptr) {
    blocks_.push_back(std::make_unique<chunk[]>(chunks_per_block));
    for (std::size_t i = 0; i < chunks_per_block; ++i) {
      blocks_.back()[i].next = free_chunk_;
      free_chunk_ = &blocks_.back()[i];
    }
  }
  chunk* c = free_chunk_;
  free_chunk_ = c->next;
  c->next = nullptr;
  c->ahead = nullptr;
  // The next chunk handed out is written from its start; its `next` (the free list's
  // link) is read when it is taken: fetch both now, a chunk's worth of pushes ahead.
  if (free_chunk_ != nullptr) {
    __builtin_prefetch(free_chunk_, 1);
    __builtin_prefetch(&free_chunk_->next, 1);
  }
  return c;
}

std::uint32_t event_queue::new_slot() {
  if (slots_.size() == slots_.capacity()) {
    slots_.reserve(std::max<std::size_t>(64, slots_.capacity() * 2));
    advise_huge_pages(slots_.data(), slots_.capacity() * sizeof(slot_record));
  }
  slots_.push_back(slot_record{0, 0, 0, 1, 0, slot_state::free});
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

void event_queue::add_chunk(std::size_t b) {
  bucket& bk = buckets_[b];
  chunk* c = new_chunk();
  if (bk.tail == nullptr) {
    bk.head = c;
    bk.lag = c;
    bk.lag_gap = 0;
  } else {
    bk.tail->next = c;
    if (++bk.lag_gap == chunk_lookahead) {
      bk.lag->ahead = c;
      bk.lag = bk.lag->next;
      --bk.lag_gap;
    }
  }
  bk.tail = c;
  bk.cursor = c->e.data();
  bk.end = c->e.data() + chunk_entries;
}

void event_queue::compact_run() noexcept {
  std::copy(run_.begin() + static_cast<std::ptrdiff_t>(head_), run_.begin() + static_cast<std::ptrdiff_t>(run_end_),
            run_.begin());
  run_end_ -= head_;
  head_ = 0;
}

[[gnu::always_inline]] inline std::size_t event_queue::first_nonempty(std::size_t from) const noexcept {
  for (std::size_t w = from / 64; w < bitmap_words; ++w) {
    if (nonempty_[w] != 0) return w * 64 + static_cast<std::size_t>(__builtin_ctzll(nonempty_[w]));
  }
  return bucket_count;
}

[[gnu::always_inline]] inline void event_queue::find_floor(std::size_t from) noexcept {
  floor_bucket_ = first_nonempty(from);
  floor_ = buckets_[floor_bucket_].min;  // all ones for the empty sentinel
  update_run_limit();
}

void event_queue::push_into_run(const entry& e) {
  // Cap mode (run_limit_ == run_back_) ends only at a split, which refreshes floor_: here
  // e.time <= run_back_, so neither changes. A floor_ - 1 that happens to equal run_back_
  // is taken for cap mode too, which is only more cautious.
  const bool floor_mode = run_limit_ != run_back_;
  if (head_ == run_end_) {
    // Used up: start again at the front, so that a queue re-armed one event at a time
    // keeps writing the same few entries of run_ (and never grows it).
    head_ = 0;
    run_end_ = 0;
  } else if (head_ >= push_compact_threshold && head_ * 2 >= run_end_) {
    compact_run();  // moves at most head_ entries, after head_ pops: amortized O(1)
  }
  if (e.time >= run_back_) {
    run_append(e);  // after every entry of the run, equal times included: first in, first out
    run_back_ = e.time;
  } else {
    bool evicted = false;
    if (run_end_ - head_ >= run_cap) {
      // A long run: hand its latest time (all its entries, in order: first in, first out)
      // back to the buckets rather than let insertions grow it without bound. That time
      // is later than e.time >= last_, and later than the rest of the run.
      const std::uint64_t t = run_[run_end_ - 1].time;
      const std::size_t old_end = run_end_;
      while (run_end_ > head_ && run_[run_end_ - 1].time == t) --run_end_;
      const std::size_t b = bucket_of(t, last_);
      for (std::size_t i = run_end_; i < old_end; ++i) add(b, t, run_[i].slot);
      evicted = true;
    }
    auto pos = run_end_;
    run_append(e);
    while (pos > head_ && run_[pos - 1].time > e.time) {
      run_[pos] = run_[pos - 1];
      --pos;
    }
    run_[pos] = e;
    if (evicted) {
      // Cap mode (floor_ is stale: settle finds the floor again), at the run's new end.
      run_back_ = run_[run_end_ - 1].time;
      run_limit_ = run_back_;
      return;
    }
  }
  if (floor_mode) update_run_limit();
}

std::optional<event> event_queue::cancel(event_handle h) noexcept {
  if (!pending(h)) return std::nullopt;
  slot_record& r = slots_[h.slot_];
  r.state = slot_state::cancelled;
  --live_;
  ++cancelled_;
  // The time is in the bucket entry, which we do not search for; report what we know.
  return event{sim_time{}, r.seq, r.arg, r.target, r.kind};
}

bool event_queue::pending(event_handle h) const noexcept {
  return h.valid() && h.slot_ < slots_.size() && slots_[h.slot_].generation == h.generation_ &&
         slots_[h.slot_].state == slot_state::pending;
}

void event_queue::sort_into_run(const entry* src, std::size_t n) noexcept {
  // The run is empty here and run_ holds at least run_min_size >= small_bucket entries.
  // Each entry becomes one 64-bit sort key, (time - min) * 16 + its index: the keys of a
  // bucket differ only in the digits below the bucket's own, which starts at bit 60 at
  // most, so each is less than 2^60 above the minimum and the sort key is exact; equal
  // times are ordered by index, which is arrival order: first in, first out. No
  // comparison of two keys is ever a branch, so random times cost no mispredictions, and
  // the loops have constant trip counts.
  static_assert(small_bucket < 16 && (digits - 1) * radix_bits <= 60);
  entry* const out = run_.data();
  // All ones for an unused input (i >= n), so that it sorts last: a mask, not a branch.
  const auto unused = [n](std::size_t i) {
    return std::uint64_t{0} - static_cast<std::uint64_t>(i >= n);
  };
  if (n <= 4) {
    // The commonest case (for random times, buckets this small hold a few entries): an
    // optimal 4-input sorting network (5 compare-exchanges, Knuth, TAOCP vol. 3, 5.3.4),
    // unused inputs all ones. src[0..3] lies in the first chunk.
    std::array<std::uint64_t, 4> key;
    for (std::size_t i = 0; i < 4; ++i) key[i] = ((src[i].time - last_) << 4) | i | unused(i);
    const auto cx = [&key](std::size_t a, std::size_t b) { compare_exchange(key[a], key[b]); };
    cx(0, 1), cx(2, 3);
    cx(0, 2), cx(1, 3);
    cx(1, 2);
    for (std::size_t r = 0; r < 4; ++r) out[r] = src[key[r] & 3];  // past n: harmless copies
  } else if (n <= 8) {
    // An optimal 8-input sorting network (19 compare-exchanges, Knuth, TAOCP vol. 3,
    // 5.3.4), unused inputs all ones. src[0..7] lies in the first chunk.
    std::array<std::uint64_t, 8> key;
    for (std::size_t i = 0; i < 8; ++i) {
      key[i] = ((src[i].time - last_) << 4) | i | unused(i);
    }
    const auto cx = [&key](std::size_t a, std::size_t b) { compare_exchange(key[a], key[b]); };
    cx(0, 2), cx(1, 3), cx(4, 6), cx(5, 7);
    cx(0, 4), cx(1, 5), cx(2, 6), cx(3, 7);
    cx(0, 1), cx(2, 3), cx(4, 5), cx(6, 7);
    cx(2, 4), cx(3, 5);
    cx(1, 4), cx(3, 6);
    cx(1, 2), cx(3, 4), cx(5, 6);
    for (std::size_t r = 0; r < 8; ++r) out[r] = src[key[r] & 7];  // past n: harmless copies
  } else {
    // rank(i) = #{j : key_j < key_i}; the keys are distinct.
    std::array<std::uint64_t, small_bucket> key;
    for (std::size_t i = 0; i < small_bucket; ++i) {
      key[i] = ((src[i].time - last_) << 4) | i | unused(i);
    }
    for (std::size_t i = 0; i < small_bucket; ++i) {
      std::size_t rank = 0;
      for (std::size_t j = 0; j < small_bucket; ++j) rank += static_cast<std::size_t>(key[j] < key[i]);
      out[rank] = src[i];  // the unused inputs all land on out[n]: harmless
    }
  }
  run_end_ = n;
  head_ = 0;
  run_back_ = out[n - 1].time;
}

void event_queue::split(std::size_t k) {
  const bucket bk = buckets_[k];
  nonempty_[k / 64] &= ~(std::uint64_t{1} << (k % 64));
  last_ = bk.min;
  if (bk.size == 1) {
    // One entry (a device re-arming its single pending event, e.g. a link direction's next
    // arrival, dev/link.hpp): it is the run. No sorting network.
    run_[0] = bk.head->e[0];
    run_end_ = 1;
    head_ = 0;
    run_back_ = run_[0].time;
  } else if (bk.size <= small_bucket) {
    sort_into_run(bk.head->e.data(), bk.size);
  } else {
    // The entries of a bucket this small are all popped within the next few hundred
    // events, and each pop reads the entry's slot record, which for a queue larger than
    // the caches is a miss: start those loads now, so that they are cache hits by then.
    const bool fetch_slots = bk.size <= prefetch_max_bucket && slots_.size() > prefetch_min_slots;
    for (chunk* c = bk.head; c != nullptr;) {
      // Chunks come from a free list, scattered in memory: start loading the next one and
      // the one chunk_lookahead further while this one is moved, so that a bucket larger
      // than the caches is read at memory bandwidth, not latency.
      chunk* const next = c->next;
      if (next != nullptr) {
        for (std::size_t line = 0; line < sizeof(chunk); line += 64) {
          __builtin_prefetch(reinterpret_cast<const char*>(next) + line);
        }
      }
      if (const chunk* const far = c->ahead; far != nullptr) {
        for (std::size_t line = 0; line < sizeof(chunk); line += 64) {
          __builtin_prefetch(reinterpret_cast<const char*>(far) + line);
        }
      }
      const entry* const end = c == bk.tail ? bk.cursor : c->e.data() + chunk_entries;
      for (const entry* p = c->e.data(); p != end; ++p) {
        if (fetch_slots) __builtin_prefetch(&slots_[p->slot]);
        if (p->time == last_) {
          run_append(*p);  // the run is empty here, and these are its minimum, in order
        } else {
          // Every entry lands in a strictly lower bucket (radix heap invariant), never in
          // k, and entries of equal time land together, in their current order.
          add(bucket_of(p->time, last_), p->time, p->slot);
        }
      }
      // Bucket k keeps its first chunk; each other one goes back to the free list as soon
      // as it has been read, so the buckets filled next reuse it while it is in cache.
      if (c != bk.head) {
        c->next = free_chunk_;
        free_chunk_ = c;
      }
      c = next;
    }
    run_back_ = last_;
  }
  // Bucket k keeps its first chunk, empty (a large bucket's others are back on the free
  // list already; a small bucket has no others).
  chunk* const first = bk.head;
  first->next = nullptr;
  first->ahead = nullptr;
  buckets_[k] = bucket{first->e.data(), first->e.data() + chunk_entries, first, first, first, 0, 0, ~std::uint64_t{0}};
  if (bk.size <= small_bucket) {
    // The bucket went whole into the run, so nothing lies below bucket k, and the run is
    // shorter than run_cap: floor mode.
    static_assert(small_bucket < run_cap);
    floor_bucket_ = first_nonempty(k);
    floor_ = buckets_[floor_bucket_].min;
    run_limit_ = floor_ - 1;
  } else {
    find_floor(0);  // its entries went into lower buckets
  }
  // The run's events are the next to pop, and each pop reads its slot record, which for a
  // queue larger than the caches is a miss: start those loads now so they overlap.
  if (slots_.size() > prefetch_min_slots) {
    for (std::size_t i = head_; i < run_end_; ++i) __builtin_prefetch(&slots_[run_[i].slot]);
  }
}

bool event_queue::settle(std::uint64_t limit) noexcept {
  for (;;) {
    while (head_ < run_end_) {
      const std::uint32_t slot = run_[head_].slot;
      if (slots_[slot].state == slot_state::pending) {
        if (head_ >= compact_threshold && head_ * 2 >= run_end_) compact_run();
        return run_[head_].time <= limit;
      }
      free_slot(slot);  // a cancelled entry reached the front: drop it
      ++head_;
    }
    run_end_ = 0;
    head_ = 0;
    if (run_limit_ == run_back_) find_floor(0);  // cap mode: floor_ may be stale
    if (floor_ > limit) return false;  // also when no bucket holds an entry
    split(floor_bucket_);
  }
}

std::optional<sim_time> event_queue::next_time() const noexcept {
  std::uint64_t best = ~std::uint64_t{0};
  bool found = false;
  for (std::size_t i = head_; i < run_end_; ++i) {
    if (slots_[run_[i].slot].state == slot_state::pending) {
      best = run_[i].time;  // the run is sorted: the first live entry is its minimum
      found = true;
      break;
    }
  }
  // Buckets are ordered: every key in bucket b is below every key in bucket b+1, and the
  // run is below them all.
  for (std::size_t b = 1; b < bucket_count && !found; ++b) {
    const bucket& bk = buckets_[b];
    for (const chunk* c = bk.head; c != nullptr; c = c->next) {
      const entry* const end = c == bk.tail ? bk.cursor : c->e.data() + chunk_entries;
      for (const entry* p = c->e.data(); p != end; ++p) {
        if (slots_[p->slot].state == slot_state::pending) {
          best = std::min(best, p->time);
          found = true;
        }
      }
    }
  }
  if (!found) return std::nullopt;
  return sim_time::from_ns(static_cast<sim_time::rep>(best));
}

std::size_t event_queue::memory_bytes() const noexcept {
  return sizeof(*this) + run_.capacity() * sizeof(entry) +
         blocks_.size() * chunks_per_block * sizeof(chunk) +
         slots_.capacity() * sizeof(slot_record);
}

}  // namespace vnetsim::kernel
