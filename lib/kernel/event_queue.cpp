#include "vnetsim/kernel/event_queue.hpp"

#include <algorithm>

namespace vnetsim::kernel {

namespace {
constexpr std::uint64_t no_key = ~std::uint64_t{0};
// A bucket 0 that is only ever appended to while its head advances (events scheduled at
// "now", again and again) is compacted once its consumed part passes this size.
constexpr std::size_t compact_threshold = 4096;
}  // namespace

event_queue::event_queue() {
  bucket_min_.fill(no_key);
  slots_.reserve(64);
}

void event_queue::reserve(std::size_t n) {
  slots_.reserve(n);
  free_slots_.reserve(n);
  buckets_[0].reserve(n);
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
  auto& run = buckets_[0];
  if (head0_ < run.size() && key < run.back().time) {
    // Earlier than the end of the run: insert in order, after any equal times (FIFO).
    auto pos = run.size();
    while (pos > head0_ && run[pos - 1].time > key) --pos;
    run.insert(run.begin() + static_cast<std::ptrdiff_t>(pos), entry{key, slot, 0});
  } else if (head0_ < run.size() && key == run.back().time) {
    run.push_back(entry{key, slot, 0});
  } else {
    add(bucket_of(key, last_), entry{key, slot, 0});
  }
  ++live_;
  return event_handle{slot, r.generation};
}

std::optional<event> event_queue::cancel(event_handle h) noexcept {
  if (!pending(h)) return std::nullopt;
  slot_record& r = slots_[h.slot_];
  r.state = slot_state::cancelled;
  --live_;
  // The time is in the heap entry, which we do not search for; report what we know.
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
  // free_slots_ never needs to grow past slots_.size(); reserve keeps this allocation-free.
  free_slots_.push_back(slot);
}

bool event_queue::settle(std::uint64_t limit) noexcept {
  for (;;) {
    auto& b0 = buckets_[0];
    while (head0_ < b0.size()) {
      const std::uint32_t slot = b0[head0_].slot;
      if (slots_[slot].state == slot_state::pending) {
        if (head0_ >= compact_threshold && head0_ * 2 >= b0.size()) {
          b0.erase(b0.begin(), b0.begin() + static_cast<std::ptrdiff_t>(head0_));
          head0_ = 0;
        }
        return b0[head0_].time <= limit;
      }
      free_slot(slot);  // a cancelled entry reached the front: drop it
      ++head0_;
    }
    b0.clear();
    head0_ = 0;
    bucket_min_[0] = no_key;
    nonempty_[0] &= ~std::uint64_t{1};

    const std::size_t k = first_nonempty();
    if (k == bucket_count || bucket_min_[k] > limit) return false;

    auto& bk = buckets_[k];
    last_ = bucket_min_[k];
    bucket_min_[k] = no_key;
    nonempty_[k / 64] &= ~(std::uint64_t{1} << (k % 64));
    if (bk.size() <= small_bucket) {
      sort_into_run(bk);
      continue;
    }
    // Redistribute bucket k around its minimum. Every entry moves to a lower bucket, in
    // its current order, so entries of equal time keep their first-in first-out order.
    for (const entry& e : bk) add(bucket_of(e.time, last_), e);
    bk.clear();
  }
}

void event_queue::sort_into_run(std::vector<entry>& bk) {
  auto& run = buckets_[0];  // empty here
  for (const entry& e : bk) {
    auto pos = run.size();
    run.push_back(e);
    while (pos > 0 && run[pos - 1].time > e.time) {
      run[pos] = run[pos - 1];
      --pos;
    }
    run[pos] = e;
  }
  bucket_min_[0] = run.front().time;
  nonempty_[0] |= 1;
  bk.clear();
}

std::size_t event_queue::first_nonempty() const noexcept {
  for (std::size_t w = 0; w < bitmap_words; ++w) {
    std::uint64_t bits = nonempty_[w];
    if (w == 0) bits &= ~std::uint64_t{1};  // bucket 0 is handled by settle()
    if (bits != 0) return w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
  }
  return bucket_count;
}

std::optional<sim_time> event_queue::next_time() const noexcept {
  std::uint64_t best = no_key;
  for (std::size_t b = 0; b < bucket_count; ++b) {
    const auto& v = buckets_[b];
    for (std::size_t i = (b == 0 ? head0_ : 0); i < v.size(); ++i) {
      if (slots_[v[i].slot].state == slot_state::pending) best = std::min(best, v[i].time);
    }
    // Buckets are ordered: every key in bucket b is below every key in bucket b+1.
    if (best != no_key) break;
  }
  if (best == no_key) return std::nullopt;
  return sim_time::from_ns(static_cast<sim_time::rep>(best));
}

std::optional<event> event_queue::pop_until(sim_time limit) noexcept {
  if (limit.ns() < 0 || !settle(static_cast<std::uint64_t>(limit.ns()))) return std::nullopt;
  const entry e = buckets_[0][head0_++];
  const slot_record& r = slots_[e.slot];
  event ev{sim_time::from_ns(static_cast<sim_time::rep>(e.time)), r.seq, r.arg, r.target, r.kind};
  free_slot(e.slot);
  --live_;
  return ev;
}

std::size_t event_queue::memory_bytes() const noexcept {
  std::size_t bytes = sizeof(*this);
  for (const auto& b : buckets_) bytes += b.capacity() * sizeof(entry);
  bytes += slots_.capacity() * sizeof(slot_record);
  bytes += free_slots_.capacity() * sizeof(std::uint32_t);
  return bytes;
}

}  // namespace vnetsim::kernel
