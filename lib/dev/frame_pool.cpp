#include "vnetsim/dev/frame_pool.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace vnetsim::dev {

namespace detail {

namespace {

constexpr std::uint32_t max_frames_per_slab = 1u << 20;

constexpr std::uint32_t round_up(std::uint32_t v, std::uint32_t align) noexcept {
  return (v + align - 1) / align * align;
}

}  // namespace

size_class::~size_class() {
  for (auto& s : slabs) ::operator delete(s.data, std::align_val_t{frame_buffer_align});
}

bool size_class::grow() noexcept {
  if (stats.capacity >= stats.max_frames) return false;
  const auto n = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(frames_per_slab, stats.max_frames - stats.capacity));
  if (slabs.size() == slabs.capacity()) return false;  // cannot happen: reserved to the maximum

  slab sl;
  sl.slots.reset(new (std::nothrow) frame_slot[n]);
  if (!sl.slots) return false;
  sl.data = static_cast<std::byte*>(::operator new(
      std::size_t{n} * stride, std::align_val_t{frame_buffer_align}, std::nothrow));
  if (!sl.data) return false;

  for (std::uint32_t i = 0; i < n; ++i) {
    frame_slot& s = sl.slots[i];
    s.buf = sl.data + std::size_t{i} * stride;
    s.cls = this;
  }
  // Link so that the lowest address is popped first.
  for (std::uint32_t i = n; i-- > 0;) {
    sl.slots[i].next_free = free_head;
    free_head = &sl.slots[i];
  }
  slabs.push_back(std::move(sl));  // no reallocation: reserved
  stats.capacity += n;
  ++stats.slabs;
  return true;
}

void free_orphan(pool_state* s) noexcept { delete s; }

void count_refused(frame_slot* s) noexcept { ++s->cls->owner->stats.refused_edits; }

frame_meta& empty_meta() noexcept {
  thread_local frame_meta m;
  m = frame_meta{};
  return m;
}

}  // namespace detail

frame_pool::frame_pool(const frame_pool_config& config)
    : state_(std::make_unique<detail::pool_state>()) {
  for (std::size_t i = 0; i < frame_class_count; ++i) {
    const frame_class_config& cc = config.classes[i];
    detail::size_class& c = state_->classes[i];
    c.owner = state_.get();
    c.cls = static_cast<frame_class>(i);
    const std::uint32_t per_slab =
        std::clamp<std::uint32_t>(cc.frames_per_slab, 1, detail::max_frames_per_slab);
    c.frames_per_slab = per_slab;
    c.buffer_len = static_cast<std::uint32_t>(frame_headroom + frame_capacity(c.cls));
    c.stride = detail::round_up(c.buffer_len, frame_buffer_align);
    c.stats.max_frames = cc.max_frames;
    c.slabs.reserve((std::size_t{cc.max_frames} + per_slab - 1) / per_slab);
    reserve(c.cls, cc.initial_frames);
  }
}

frame_pool::~frame_pool() {
  if (state_->outstanding() == 0) return;  // state_ frees the slabs
  // Frames are still held: hand the slabs to them. The last release frees the state.
  for (auto& c : state_->classes) c.orphaned = true;
  (void)state_.release();
}

frame_ref frame_pool::allocate_copy(std::span<const std::byte> bytes, sim_time now) noexcept {
  frame_ref r = allocate(bytes.size(), now);
  if (r && !bytes.empty()) std::memcpy(r.data().data(), bytes.data(), bytes.size());
  return r;
}

const frame_class_stats& frame_pool::stats(frame_class c) const noexcept {
  static const frame_class_stats none{};
  if (static_cast<std::size_t>(c) >= frame_class_count) return none;
  return state_->classes[static_cast<std::size_t>(c)].stats;
}

bool frame_pool::reserve(frame_class c, std::uint32_t frames) noexcept {
  if (static_cast<std::size_t>(c) >= frame_class_count) return false;
  detail::size_class& sc = state_->classes[static_cast<std::size_t>(c)];
  while (sc.stats.capacity < frames) {
    if (!sc.grow()) return false;
  }
  return true;
}

frame_ref frame_ref::clone() const noexcept {
  if (!s_) return {};
  detail::frame_slot* d = detail::pop(*s_->cls);
  if (!d) return {};
  d->refs = 1;
  d->off = s_->off;
  d->len = s_->len;
  d->meta = s_->meta;
  if (s_->len != 0) std::memcpy(d->buf + d->off, s_->buf + s_->off, s_->len);
  return frame_ref(d);
}

bool frame_ref::unshare() noexcept {
  if (!s_) return false;
  if (s_->refs == 1) return true;
  frame_ref copy = clone();
  if (!copy) return false;
  swap(copy);
  return true;
}

}  // namespace vnetsim::dev
