#include "vnetsim/net/fdb.hpp"

#include <algorithm>
#include <bit>

namespace vnetsim::net {

fdb::fdb(const fdb_config& cfg) : cfg_(cfg) {
  update_ageing();
  // Load factor at most 1/2: table size = the power of two >= 2 * capacity (at least 2).
  const std::size_t want = std::max<std::size_t>(2, std::size_t{cfg.capacity} * 2);
  const std::size_t n = std::bit_ceil(want);
  table_.assign(n, slot{});
  guard_.assign(n, guard{});
  mask_ = n - 1;
  shift_ = static_cast<unsigned>(64 - std::countr_zero(n));
}

void fdb::erase_at(std::size_t i) noexcept {
  // Backward-shift deletion (Knuth 6.4 Algorithm R): move later entries of the cluster
  // into the hole when their home position allows it.
  std::size_t hole = i;
  std::size_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    if (table_[j].key == 0) break;
    const std::size_t h = home(table_[j].key);
    // Entry j may move to `hole` iff its home is not in the cyclic range (hole, j].
    const bool home_in_range = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
    if (!home_in_range) {
      table_[hole] = table_[j];
      guard_[hole] = guard_[j];
      hole = j;
    }
  }
  table_[hole] = slot{};
  guard_[hole] = guard{};
  --size_;
}

bool fdb::refresh_probed(std::uint64_t key, port_no port, sim_time now) noexcept {
  const std::size_t i = probe(key);
  slot& s = table_[i];
  if (s.key != key || s.port != port || expired(i, now)) return false;
  s.last_seen = now;
  ++stats_.refreshed;
  return true;
}

port_no fdb::find_aged(std::size_t i, sim_time now) noexcept {
  if (!expired(i, now)) return table_[i].port;  // pinned by the move guard
  ++stats_.aged;
  erase_at(i);
  return no_port;
}

learn_result fdb::learn_slow(std::uint64_t key, std::size_t i, port_no port, sim_time now) noexcept {
  slot& s = table_[i];
  guard& g = guard_[i];
  if (s.key == 0) {
    if (size_ >= cfg_.capacity) {
      ++stats_.table_full;
      return {learn_result::kind::table_full, 0, false};
    }
    s = slot{key, now, port};
    g = guard{now, sim_time::zero(), 0};
    ++size_;
    ++stats_.learned;
    return {learn_result::kind::learned, port, false};
  }
  if (expired(i, now)) {
    // An aged entry seen again: a fresh entry, wherever it is now.
    ++stats_.aged;
    s = slot{key, now, port};
    g = guard{now, sim_time::zero(), 0};
    ++stats_.learned;
    return {learn_result::kind::learned, port, false};
  }
  if (s.port == port) {
    s.last_seen = now;
    ++stats_.refreshed;
    return {learn_result::kind::refreshed, port, false};
  }
  if (now < g.pinned_until) {
    ++stats_.guarded;
    return {learn_result::kind::guarded, s.port, false};
  }
  const port_no old = s.port;
  s.port = port;
  s.last_seen = now;
  ++stats_.moves;
  bool pinned = false;
  if (cfg_.move_limit > 0) {
    if (now - g.window_start >= cfg_.move_window) {
      g.window_start = now;
      g.window_moves = 0;
    }
    if (g.window_moves < 0xffff) ++g.window_moves;
    if (g.window_moves >= cfg_.move_limit) {
      g.pinned_until = now + cfg_.move_hold;
      g.window_moves = 0;
      g.window_start = now;
      pinned = true;
    }
  }
  return {learn_result::kind::moved, old, pinned};
}

std::optional<port_no> fdb::peek(vlan_id vlan, wire::mac_address mac) const noexcept {
  const std::size_t i = probe(key_of(vlan, mac));
  if (table_[i].key == 0) return std::nullopt;
  return table_[i].port;
}

template <class Pred>
std::size_t fdb::erase_if(Pred pred) noexcept {
  // Erasing at i may shift a later entry (possibly one that wrapped from the front) into i,
  // so i is examined again before moving on; entries re-examined are simply kept.
  std::size_t n = 0;
  for (std::size_t i = 0; i < table_.size();) {
    if (table_[i].key != 0 && pred(i)) {
      erase_at(i);
      ++n;
    } else {
      ++i;
    }
  }
  return n;
}

void fdb::sweep(sim_time now) noexcept {
  stats_.aged += erase_if([&](std::size_t i) { return expired(i, now); });
}

std::size_t fdb::flush_all() noexcept {
  const std::size_t n = size_;
  if (n != 0) {
    std::fill(table_.begin(), table_.end(), slot{});
    std::fill(guard_.begin(), guard_.end(), guard{});
    size_ = 0;
  }
  stats_.flushed += n;
  return n;
}

std::size_t fdb::flush_port(port_no port) noexcept {
  const std::size_t n = erase_if([&](std::size_t i) { return table_[i].port == port; });
  stats_.flushed += n;
  return n;
}

std::size_t fdb::flush_vlan(vlan_id vlan) noexcept {
  const std::size_t n = erase_if([&](std::size_t i) { return vlan_of(table_[i].key) == vlan; });
  stats_.flushed += n;
  return n;
}

}  // namespace vnetsim::net
