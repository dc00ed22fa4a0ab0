#include "vnetsim/kernel/event_queue.hpp"

#include <algorithm>

namespace vnetsim::kernel {

namespace {
// A run that is only ever appended to while its head advances (events scheduled at
// "now", again and again) is compacted once its consumed part passes this size.
constexpr std::size_t compact_threshold = 4096;
}  // namespace

event_queue::event_queue() {
  slots_.reserve(64);
  run_.reserve(4 * small_bucket);
}

void event_queue::reserve(std::size_t n) {
  slots_.reserve(n);
  free_slots_.reserve(n);
  // Enough chunks for n entries, with every bucket's last chunk half empty.
  const std::size_t want = n / chunk_entries + bucket_count;
  chunks_.reserve(want);
  while (chunks_.size() < want) {
    chunks_.push_back(chunk{{}, free_chunk_, 0, 0});
    free_chunk_ = static_cast<std::uint32_t>(chunks_.size() - 1);
  }
}

std::uint32_t event_queue::new_chunk() {
  if (free_chunk_ != no_chunk) {
    const std::uint32_t c = free_chunk_;
    free_chunk_ = chunks_[c].next;
    chunks_[c].next = no_chunk;
    chunks_[c].count = 0;
    return c;
  }
  chunks_.push_back(chunk{{}, no_chunk, 0, 0});
  return static_cast<std::uint32_t>(chunks_.size() - 1);
}

void event_queue::add(std::size_t b, const entry& e) {
  bucket& bk = buckets_[b];
  if (bk.tail == no_chunk || chunks_[bk.tail].count == chunk_entries) {
    const std::uint32_t c = new_chunk();
    if (bk.tail == no_chunk) {
      bk.head = c;
      nonempty_[b / 64] |= std::uint64_t{1} << (b % 64);
    } else {
      chunks_[bk.tail].next = c;
    }
    bk.tail = c;
  }
  chunk& t = chunks_[bk.tail];
  t.e[t.count++] = e;
  ++bk.size;
  bk.min = std::min(bk.min, e.time);
}

event_handle event_queue::push(sim_time t, event_kind kind, std::uint32_t target,
                               std::uint64_t arg) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(slot_record{0, 0, 0, 1, 0, slot_state::free});
  }
  slot_record& r = slots_[slot];
  r.seq = next_seq_++;
  r.arg = arg;
  r.target = target;
  r.kind = kind;
  r.state = slot_state::pending;
  const auto key = static_cast<std::uint64_t>(t.ns());
  const entry e{key, slot, 0};
  if (head_ < run_.size() && key <= run_.back().time) {
    // Not later than the end of the run: insert in order, after equal times (FIFO).
    auto pos = run_.size();
    run_.push_back(e);
    while (pos > head_ && run_[pos - 1].time > key) {
      run_[pos] = run_[pos - 1];
      --pos;
    }
    run_[pos] = e;
  } else if (key == last_ && head_ == run_.size()) {
    run_.push_back(e);  // the run is empty and this is its minimum
  } else {
    add(bucket_of(key, last_), e);
  }
  ++live_;
  return event_handle{slot, r.generation};
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

void event_queue::free_slot(std::uint32_t slot) noexcept {
  slot_record& r = slots_[slot];
  r.state = slot_state::free;
  if (++r.generation == 0) r.generation = 1;  // 0 means "no event" in a handle
  // free_slots_ never holds more than slots_.size() entries: after warm-up it never grows.
  free_slots_.push_back(slot);
}

void event_queue::split(std::size_t k) {
  bucket bk = buckets_[k];
  buckets_[k] = bucket{};
  nonempty_[k / 64] &= ~(std::uint64_t{1} << (k % 64));
  last_ = bk.min;
  const bool small = bk.size <= small_bucket;
  if (small) {
    run_.clear();
    head_ = 0;
  }
  // Index chunks_ afresh at every step: add() may grow the arena and move it.
  std::uint32_t c = bk.head;
  while (c != no_chunk) {
    const std::uint32_t count = chunks_[c].count;
    for (std::uint32_t i = 0; i < count; ++i) {
      const entry e = chunks_[c].e[i];
      if (small) {
        // Stable insertion sort: equal times keep their first-in first-out order.
        auto pos = run_.size();
        run_.push_back(e);
        while (pos > 0 && run_[pos - 1].time > e.time) {
          run_[pos] = run_[pos - 1];
          --pos;
        }
        run_[pos] = e;
      } else if (e.time == last_) {
        run_.push_back(e);  // the run is empty here, and these are its minimum, in order
      } else {
        // Every entry lands in a strictly lower bucket (radix heap invariant), never in k,
        // and entries of equal time land together, in their current order.
        add(bucket_of(e.time, last_), e);
      }
    }
    // The chunk is read: recycle it (add() may take it for the next entries).
    const std::uint32_t next = chunks_[c].next;
    chunks_[c].next = free_chunk_;
    free_chunk_ = c;
    c = next;
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
    for (std::uint32_t c = buckets_[b].head; c != no_chunk; c = chunks_[c].next) {
      const chunk& ch = chunks_[c];
      for (std::uint32_t i = 0; i < ch.count; ++i) {
        if (slots_[ch.e[i].slot].state == slot_state::pending) {
          best = std::min(best, ch.e[i].time);
          found = true;
        }
      }
    }
  }
  if (!found) return std::nullopt;
  return sim_time::from_ns(static_cast<sim_time::rep>(best));
}

std::optional<event> event_queue::pop_until(sim_time limit) noexcept {
  if (limit.ns() < 0 || !settle(static_cast<std::uint64_t>(limit.ns()))) return std::nullopt;
  const entry e = run_[head_++];
  const slot_record& r = slots_[e.slot];
  event ev{sim_time::from_ns(static_cast<sim_time::rep>(e.time)), r.seq, r.arg, r.target, r.kind};
  free_slot(e.slot);
  --live_;
  return ev;
}

std::size_t event_queue::memory_bytes() const noexcept {
  return sizeof(*this) + run_.capacity() * sizeof(entry) + chunks_.capacity() * sizeof(chunk) +
         slots_.capacity() * sizeof(slot_record) + free_slots_.capacity() * sizeof(std::uint32_t);
}

}  // namespace vnetsim::kernel
