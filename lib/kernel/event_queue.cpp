#include "vnetsim/kernel/event_queue.hpp"

#include <algorithm>

namespace vnetsim::kernel {

namespace {
// A run that is only ever appended to while its head advances (events scheduled at
// "now", again and again) is compacted once its consumed part passes this size.
constexpr std::size_t compact_threshold = 4096;
// Slot records beyond this many (2 MiB of them) no longer fit a typical L2 cache.
constexpr std::size_t prefetch_min_slots = 65536;
}  // namespace

event_queue::event_queue() {
  slots_.reserve(64);
  run_.reserve(4 * small_bucket);
}

void event_queue::reserve(std::size_t n) {
  slots_.reserve(n);
  // Enough chunks for n entries with every bucket's last chunk partly empty.
  const std::size_t want = n / chunk_entries + bucket_count;
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
  // The next chunk handed out is written from its start; its `next` (the free list's
  // link) is read when it is taken: fetch both now, a chunk's worth of pushes ahead.
  if (free_chunk_ != nullptr) {
    __builtin_prefetch(free_chunk_, 1);
    __builtin_prefetch(&free_chunk_->next, 1);
  }
  return c;
}

void event_queue::add_chunk(std::size_t b) {
  bucket& bk = buckets_[b];
  chunk* c = new_chunk();
  if (bk.tail == nullptr) {
    bk.head = c;
  } else {
    bk.tail->next = c;
  }
  bk.tail = c;
  bk.cursor = c->e.data();
  bk.end = c->e.data() + chunk_entries;
}

void event_queue::insert_into_run(const entry& e) {
  if (head_ >= compact_threshold && head_ * 2 >= run_.size()) {
    run_.erase(run_.begin(), run_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  auto pos = run_.size();
  run_.push_back(e);
  while (pos > head_ && run_[pos - 1].time > e.time) {
    run_[pos] = run_[pos - 1];
    --pos;
  }
  run_[pos] = e;
}

std::optional<event> event_queue::cancel(event_handle h) noexcept {
  if (!pending(h)) return std::nullopt;
  slot_record& r = slots_[h.slot_];
  r.state = slot_state::cancelled;
  --live_;
  // The time is in the bucket entry, which we do not search for; report what we know.
  return event{sim_time{}, r.seq, r.arg, r.target, r.kind};
}

bool event_queue::pending(event_handle h) const noexcept {
  return h.valid() && h.slot_ < slots_.size() && slots_[h.slot_].generation == h.generation_ &&
         slots_[h.slot_].state == slot_state::pending;
}

void event_queue::split(std::size_t k) {
  const bucket bk = buckets_[k];
  nonempty_[k / 64] &= ~(std::uint64_t{1} << (k % 64));
  last_ = bk.min;
  if (bk.size == 1) {
    // One entry (a device re-arming its single pending event, e.g. a link direction's next
    // arrival, dev/link.hpp): it is the run. No rank sort.
    run_.assign(1, bk.head->e[0]);
    head_ = 0;
  } else if (bk.size <= small_bucket) {
    // Sort the few entries straight into the run. Rank sort: each entry's place is the
    // number of entries before it in (time, arrival) order, counted without data-dependent
    // branches (an insertion sort's branches mispredict on random times). Arrival order is
    // bucket order, so equal times keep first-in first-out order.
    std::array<entry, small_bucket> tmp;
    std::array<entry, small_bucket> sorted;
    std::size_t n = 0;
    for (const chunk* c = bk.head; c != nullptr; c = c->next) {
      const entry* const end = c == bk.tail ? bk.cursor : c->e.data() + chunk_entries;
      for (const entry* p = c->e.data(); p != end; ++p) tmp[n++] = *p;
    }
    if (n <= 4) {
      // The common case: a fixed 4 x 4 rank with unused keys all ones, so the loops have
      // constant trip counts. rank(i) = #{j : t_j < t_i} + #{j < i : t_j == t_i}.
      std::array<std::uint64_t, 4> key;
      for (std::size_t i = 0; i < 4; ++i) key[i] = i < n ? tmp[i].time : ~std::uint64_t{0};
      for (std::size_t i = 0; i < 4; ++i) {
        std::size_t rank = 0;
        for (std::size_t j = 0; j < 4; ++j) {
          rank += static_cast<std::size_t>(key[j] < key[i]) +
                  static_cast<std::size_t>((key[j] == key[i]) & (j < i));
        }
        if (i < n) sorted[rank] = tmp[i];
      }
    } else {
      // rank(i) = #{j < i : t_j <= t_i} + #{j > i : t_j < t_i}.
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t t = tmp[i].time;
        std::size_t rank = 0;
        for (std::size_t j = 0; j < i; ++j) rank += static_cast<std::size_t>(tmp[j].time <= t);
        for (std::size_t j = i + 1; j < n; ++j) rank += static_cast<std::size_t>(tmp[j].time < t);
        sorted[rank] = tmp[i];
      }
    }
    run_.assign(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n));
    head_ = 0;
  } else {
    for (const chunk* c = bk.head; c != nullptr; c = c->next) {
      // Chunks come from a free list, scattered in memory, and the next one's address is
      // at the end of this one: start loading the next chunk while this one is moved, so
      // that a bucket larger than the caches is read at memory bandwidth, not latency.
      if (const chunk* const n = c->next; n != nullptr) {
        for (std::size_t line = 0; line < sizeof(chunk); line += 64) {
          __builtin_prefetch(reinterpret_cast<const char*>(n) + line);
        }
      }
      const entry* const end = c == bk.tail ? bk.cursor : c->e.data() + chunk_entries;
      for (const entry* p = c->e.data(); p != end; ++p) {
        if (p->time == last_) {
          run_.push_back(*p);  // the run is empty here, and these are its minimum, in order
        } else {
          // Every entry lands in a strictly lower bucket (radix heap invariant), never in
          // k, and entries of equal time land together, in their current order.
          add(bucket_of(p->time, last_), p->time, p->slot);
        }
      }
    }
  }
  // Bucket k keeps its first chunk, empty; the others go back to the free list (add()
  // above took chunks only from the free list, so none of these was reused meanwhile).
  chunk* const first = bk.head;
  chunk* c = first->next;
  while (c != nullptr) {
    chunk* const next = c->next;
    c->next = free_chunk_;
    free_chunk_ = c;
    c = next;
  }
  first->next = nullptr;
  buckets_[k] = bucket{first->e.data(), first->e.data() + chunk_entries, first, first, 0, ~std::uint64_t{0}};
  // The run's events are the next to pop, and each pop reads its slot record, which for a
  // queue larger than the caches is a miss: start those loads now so they overlap.
  if (slots_.size() > prefetch_min_slots) {
    for (std::size_t i = head_; i < run_.size(); ++i) __builtin_prefetch(&slots_[run_[i].slot]);
  }
}

bool event_queue::settle(std::uint64_t limit) noexcept {
  for (;;) {
    while (head_ < run_.size()) {
      const std::uint32_t slot = run_[head_].slot;
      if (slots_[slot].state == slot_state::pending) {
        if (head_ >= compact_threshold && head_ * 2 >= run_.size()) {
          run_.erase(run_.begin(), run_.begin() + static_cast<std::ptrdiff_t>(head_));
          head_ = 0;
        }
        return run_[head_].time <= limit;
      }
      free_slot(slot);  // a cancelled entry reached the front: drop it
      ++head_;
    }
    run_.clear();
    head_ = 0;

    const std::size_t k = first_nonempty();
    if (k == bucket_count || buckets_[k].min > limit) return false;
    split(k);
  }
}

std::size_t event_queue::first_nonempty() const noexcept {
  for (std::size_t w = 0; w < bitmap_words; ++w) {
    if (nonempty_[w] != 0) return w * 64 + static_cast<std::size_t>(__builtin_ctzll(nonempty_[w]));
  }
  return bucket_count;
}

std::optional<sim_time> event_queue::next_time() const noexcept {
  std::uint64_t best = ~std::uint64_t{0};
  bool found = false;
  for (std::size_t i = head_; i < run_.size(); ++i) {
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
