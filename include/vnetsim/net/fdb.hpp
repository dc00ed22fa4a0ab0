#pragma once
/// The filtering database of one switch (IEEE 802.1Q-2018 8.8): dynamic MAC entries keyed by
/// (VLAN, MAC), i.e. independent VLAN learning, each pointing at one port.
///
/// Storage: an open-addressing hash table (linear probing, backward-shift deletion, no
/// tombstones) sized once at construction to a power of two at least twice the entry
/// capacity, so lookup, learn and erase are expected O(1) and nothing allocates after the
/// constructor. Each slot holds only what the frame path reads (key, last seen, port:
/// 24 bytes); the move-guard fields sit in a parallel array read only by moves and by the
/// expiry test of an entry past its ageing time.
///
/// Ageing (802.1Q-2018 8.8.3): no timer per entry. Each entry keeps the time its source was
/// last seen; lookup() treats an entry whose age is >= the ageing time in force as gone and
/// erases it on the spot (lazy ageing), and sweep() erases every expired entry in
/// O(table size), for the owner to call now and then (the switch does it from its frame path
/// every ageing_time / 4, so counts stay close to the truth without an event).
/// While a topology change is in force the ageing time in force is the short one (the
/// spanning tree's forward delay, 802.1D-1998 8.3.5) [Cabletron].
///
/// Capacity: when `capacity` entries are held, a new (VLAN, MAC) is not learned
/// (learn_result::kind::table_full, counted); frames to it flood as unknown unicast.
/// Expired entries are reclaimed only by lookup of the same key or by sweep().
///
/// MAC moves: a known MAC seen on another port moves there (the entry is overwritten, as a
/// CAM without a port-channel does) and the move is counted and reported to the caller
/// with both ports, so the switch can log %SW_MATM-4-MACFLAP_NOTIF [CiscoFlap].
/// Move guard (optional, off by default; modelled on the SONiC "MAC move guard" idea
/// [sonic-net/sonic-swss#4602]; the action chosen here is "stop learning that MAC", not
/// err-disable): when `move_limit` > 0 and a MAC has moved `move_limit` times within
/// `move_window`, the entry is pinned to the port it is on for `move_hold`: further moves
/// are refused (learn_result::kind::guarded, counted) and the entry does not age out while
/// pinned.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "vnetsim/kernel/sim_time.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::net {

/// A switch port number (zero-based).
using port_no = std::uint16_t;
using vlan_id = std::uint16_t;

/// Default ageing time 300 s, IEEE 802.1Q-2018 8.8.3 (Table 8-6).
inline constexpr sim_time default_ageing_time = sim_time::from_s(300);
/// Short ageing time during a topology change: the default STP Forward Delay, 15 s
/// (802.1D-1998 8.3.5, Table 8-3) [Cabletron].
inline constexpr sim_time default_short_ageing_time = sim_time::from_s(15);

struct fdb_config {
  /// Most dynamic entries held; 0 is allowed (nothing is ever learned).
  std::uint32_t capacity = 8192;
  sim_time ageing_time = default_ageing_time;
  sim_time short_ageing_time = default_short_ageing_time;
  /// Move guard: 0 = off. See the file comment.
  std::uint32_t move_limit = 0;
  sim_time move_window = sim_time::from_s(10);
  sim_time move_hold = sim_time::from_s(60);
};

/// Counters of one table.
struct fdb_stats {
  std::uint64_t learned = 0;     ///< new entries created
  std::uint64_t refreshed = 0;   ///< existing entries seen again on the same port
  std::uint64_t moves = 0;       ///< entries moved to another port (MAC flaps)
  std::uint64_t table_full = 0;  ///< new addresses not learned because the table was full
  std::uint64_t guarded = 0;     ///< moves refused by the move guard
  std::uint64_t aged = 0;        ///< entries removed by ageing (lazily or by sweep)
  std::uint64_t flushed = 0;     ///< entries removed by flush()
};

/// What learn() did.
struct learn_result {
  enum class kind : std::uint8_t { learned, refreshed, moved, table_full, guarded };
  kind what = kind::learned;
  /// For `moved`: the port the entry was on before. For `guarded`: the port it is pinned to.
  port_no old_port = 0;
  /// For `moved`: this move made the guard pin the entry (the first move over the limit).
  bool pinned_now = false;
};

class fdb {
 public:
  /// Sizes the table for `cfg.capacity` entries. O(capacity).
  explicit fdb(const fdb_config& cfg = {});

  /// Learns that `mac` on `vlan` was seen on `port` (< no_port) at `now`. Expected O(1).
  /// The common case (an address seen again on its port) is inline: an out-of-line call
  /// returning these small structs made GCC 12 round-trip them through the stack.
  learn_result learn(vlan_id vlan, wire::mac_address mac, port_no port, sim_time now) noexcept {
    if (refresh(vlan, mac, port, now)) [[likely]] return {learn_result::kind::refreshed, port, false};
    const std::uint64_t key = key_of(vlan, mac);
    return learn_slow(key, probe(key), port, now);
  }
  /// learn() when `mac` on `vlan` is already learned on `port` and not expired at `now`
  /// (refreshed and counted as learn() would, true); otherwise nothing is done and the
  /// result is false, for the caller to call learn(). Expected O(1); a frame path checks
  /// this one result instead of a learn_result.
  bool refresh(vlan_id vlan, wire::mac_address mac, port_no port, sim_time now) noexcept {
    const std::uint64_t key = key_of(vlan, mac);
    slot& s = table_[home(key)];  // most keys sit in their home slot (load factor <= 1/2)
    if (s.key == key && s.port == port && now - s.last_seen < ageing_in_force_) [[likely]] {
      s.last_seen = now;
      ++stats_.refreshed;
      return true;
    }
    return refresh_probed(key, port, now);
  }
  /// The port `mac` on `vlan` was learned on, or nullopt (never learned, or aged out: the
  /// expired entry is erased). Expected O(1).
  std::optional<port_no> lookup(vlan_id vlan, wire::mac_address mac, sim_time now) noexcept {
    const port_no p = find(vlan, mac, now);
    if (p == no_port) return std::nullopt;
    return p;
  }
  /// lookup() with no_port for nullopt (GCC 12 keeps a returned optional on the stack).
  static constexpr port_no no_port = 0xffff;
  port_no find(vlan_id vlan, wire::mac_address mac, sim_time now) noexcept {
    const std::uint64_t key = key_of(vlan, mac);
    std::size_t i = home(key);
    if (table_[i].key != key) [[unlikely]] {
      i = probe(key);
      if (table_[i].key == 0) return no_port;
    }
    if (now - table_[i].last_seen >= ageing_in_force_) [[unlikely]] return find_aged(i, now);
    return table_[i].port;
  }
  /// The same without ageing or erasing (for tests and reports).
  std::optional<port_no> peek(vlan_id vlan, wire::mac_address mac) const noexcept;

  /// Erases every entry expired at `now`. O(table size).
  void sweep(sim_time now) noexcept;
  /// Erases all entries / those on `port` / those on `vlan`. O(table size). Return the count.
  std::size_t flush_all() noexcept;
  std::size_t flush_port(port_no port) noexcept;
  std::size_t flush_vlan(vlan_id vlan) noexcept;

  /// Switches between the normal and the short ageing time (topology change in force).
  void set_topology_change(bool active) noexcept {
    topology_change_ = active;
    update_ageing();
  }
  bool topology_change() const noexcept { return topology_change_; }
  void set_short_ageing_time(sim_time t) noexcept {
    cfg_.short_ageing_time = t;
    update_ageing();
  }
  sim_time ageing_time_in_force() const noexcept { return ageing_in_force_; }

  /// Entries held (expired ones not yet erased included).
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return cfg_.capacity; }
  const fdb_config& config() const noexcept { return cfg_; }
  const fdb_stats& stats() const noexcept { return stats_; }

 private:
  /// What learn() and lookup() read: 24 bytes (the move-guard fields live apart, in
  /// guard_ at the same index), so that more entries share a cache line.
  struct slot {
    std::uint64_t key = 0;  // key_of(vlan, mac); 0 = empty (key_of is never 0)
    sim_time last_seen;
    port_no port = 0;
  };
  static_assert(sizeof(slot) == 24);
  /// Move-guard state of the slot with the same index; read only by moves and by the
  /// expiry test of an entry past its ageing time.
  struct guard {
    sim_time window_start;  // start of the move-guard window
    sim_time pinned_until;  // move guard: no moves before this, and no ageing
    std::uint16_t window_moves = 0;
  };

  /// Bit 63 marks a used key, so that no (VLAN, MAC), VLAN 0 and MAC 0 included, is the
  /// empty key 0; bits 48-62 hold the VLAN (a VID is 12 bits, IEEE 802.1Q-2018 9.6), 0-47
  /// the MAC.
  static constexpr std::uint64_t used_bit = std::uint64_t{1} << 63;
  static constexpr std::uint64_t key_of(vlan_id vlan, wire::mac_address mac) noexcept {
    return used_bit | (std::uint64_t{vlan} << 48) | mac.to_u64();
  }
  static constexpr vlan_id vlan_of(std::uint64_t key) noexcept {
    return static_cast<vlan_id>((key >> 48) & 0x7fff);
  }
  std::size_t home(std::uint64_t key) const noexcept {
    return static_cast<std::size_t>((key * 0x9e37'79b9'7f4a'7c15ULL) >> shift_);
  }
  bool expired(std::size_t i, sim_time now) const noexcept {
    return now - table_[i].last_seen >= ageing_in_force_ && now >= guard_[i].pinned_until;
  }
  void update_ageing() noexcept {
    ageing_in_force_ = topology_change_ ? cfg_.short_ageing_time : cfg_.ageing_time;
  }
  /// Index of `key`'s slot, or of the empty slot where it would go.
  std::size_t probe(std::uint64_t key) const noexcept {
    std::size_t i = home(key);
    while (table_[i].key != 0 && table_[i].key != key) i = (i + 1) & mask_;
    return i;
  }
  /// refresh() when the home slot did not settle it (probed further, or a pinned entry).
  bool refresh_probed(std::uint64_t key, port_no port, sim_time now) noexcept;
  /// find() of the entry at i, past its ageing time: pinned (its port) or erased.
  port_no find_aged(std::size_t i, sim_time now) noexcept;
  /// learn() for everything but a refresh: i is the slot probe() found for `key`.
  learn_result learn_slow(std::uint64_t key, std::size_t i, port_no port, sim_time now) noexcept;
  /// Backward-shift deletion at index i.
  void erase_at(std::size_t i) noexcept;
  template <class Pred>
  std::size_t erase_if(Pred pred) noexcept;

  // What learn() and lookup() read first (one cache line with the counters they bump).
  std::vector<slot> table_;
  std::vector<guard> guard_;  // parallel to table_
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
  sim_time ageing_in_force_;  // the ageing time or, during a topology change, the short one
  fdb_stats stats_;
  std::size_t size_ = 0;
  bool topology_change_ = false;
  fdb_config cfg_;
};

}  // namespace vnetsim::net
