#pragma once
/// Physical NICs: a MAC, a speed, ring sizes and hardware capabilities (802.1Q tag
/// insertion and stripping, IPv4 TCP/UDP checksum offload, TCP segmentation offload).
/// When a capability is missing, the same work is done in software on the host side:
/// the bytes on the wire are identical, but the work is counted as software work and
/// charged to a configurable CPU-cost model, so a user sees what a bond of mismatched
/// NICs costs.
///
/// Per frame: transmit() and receive() are plain calls made by the device that owns the
/// NIC (a host's bond, an endpoint) and by the world's arrival handler; no virtual call,
/// no allocation once the frame pool is warm (TSO segments come from the pool).
///
/// Link state as the NIC sees it follows the carrier with a configurable detection delay
/// on loss and on restore; the owner is told through an event of its own kind.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::dev {

using nic_id = std::uint32_t;

/// Hardware features. The ESX Server 2.x guide names the three a bond may use only when
/// every member has them: VLAN tag handling, checksum calculation, TCP segmentation
/// offload [AG2][SEED].
struct nic_capabilities {
  bool vlan_insert = true;  ///< inserts an 802.1Q tag from the descriptor on transmit
  bool vlan_strip = true;   ///< strips the tag into the descriptor on receive
  bool tx_checksum = true;  ///< fills IPv4 header and TCP/UDP checksums on transmit
  bool rx_checksum = true;  ///< verifies them on receive
  bool tso = true;          ///< segments TCP super-frames into MSS-sized frames
  /// Largest super-frame the hardware takes: an IPv4 datagram of 65535 bytes (RFC 791
  /// 3.1 Total Length) behind an Ethernet header and one tag.
  std::uint32_t tso_max_frame = 65535 + 14 + 4;

  /// What a bond may use: the features every member has [AG2].
  friend constexpr nic_capabilities operator&(const nic_capabilities& a, const nic_capabilities& b) noexcept {
    return {a.vlan_insert && b.vlan_insert, a.vlan_strip && b.vlan_strip,
            a.tx_checksum && b.tx_checksum, a.rx_checksum && b.rx_checksum, a.tso && b.tso,
            std::min(a.tso_max_frame, b.tso_max_frame)};
  }
  friend constexpr bool operator==(const nic_capabilities&, const nic_capabilities&) noexcept = default;
};

/// The kinds of offloadable work, counted separately.
enum class nic_work : std::uint8_t { vlan_insert, vlan_strip, tx_checksum, rx_checksum, segmentation };
inline constexpr std::size_t nic_work_count = 5;
constexpr std::string_view to_string(nic_work w) noexcept {
  switch (w) {
    case nic_work::vlan_insert: return "vlan_insert";
    case nic_work::vlan_strip: return "vlan_strip";
    case nic_work::tx_checksum: return "tx_checksum";
    case nic_work::rx_checksum: return "rx_checksum";
    case nic_work::segmentation: return "segmentation";
  }
  return "unknown";
}

/// Host CPU cost of doing one kind of work in software: a fixed cost per operation plus a
/// cost per byte touched, in integer units so the totals are exact and reproducible.
/// The defaults are placeholders of the right order of magnitude (UNVERIFIED: no source
/// here gives figures for ESX 2.x); scenarios set their own.
struct cpu_cost {
  std::uint32_t ns_per_op = 0;
  std::uint32_t ps_per_byte = 0;
};
struct nic_cost_model {
  std::array<cpu_cost, nic_work_count> software{{
      {50, 0},     // vlan_insert: move 12 bytes, write 4
      {50, 0},     // vlan_strip
      {100, 250},  // tx_checksum: one pass over the bytes
      {100, 250},  // rx_checksum
      {500, 300},  // segmentation: a header copy per segment plus the payload copy
  }};
};

/// Work counters: operations done by the hardware and by software, the bytes software
/// touched, and the CPU time charged for it.
struct nic_work_stats {
  std::array<std::uint64_t, nic_work_count> hw_ops{};
  std::array<std::uint64_t, nic_work_count> sw_ops{};
  std::array<std::uint64_t, nic_work_count> sw_bytes{};
  std::uint64_t sw_cpu_ns = 0;
};

/// Interface counters named as in IF-MIB (RFC 2863). FCS errors are counted by the link
/// (link_direction_stats::fcs_errors), which is where a corrupted frame is dropped.
struct nic_stats {
  std::uint64_t ifInOctets = 0;
  std::uint64_t ifInUcastPkts = 0;
  std::uint64_t ifInMulticastPkts = 0;
  std::uint64_t ifInBroadcastPkts = 0;
  std::uint64_t ifInDiscards = 0;  ///< link down as the NIC sees it, or filtered by address
  std::uint64_t ifInErrors = 0;    ///< bad IPv4/TCP/UDP checksum
  std::uint64_t ifOutOctets = 0;
  std::uint64_t ifOutUcastPkts = 0;
  std::uint64_t ifOutMulticastPkts = 0;
  std::uint64_t ifOutBroadcastPkts = 0;
  std::uint64_t ifOutDiscards = 0;  ///< link down, queue full, or a super-frame the NIC cannot segment
  std::uint64_t ifOutErrors = 0;    ///< malformed frames handed to transmit
  std::uint64_t copies = 0;        ///< frames copied to edit a shared buffer
  std::uint64_t link_changes = 0;  ///< link state changes as the NIC saw them
};

struct nic_config {
  wire::mac_address mac;
  std::uint64_t speed_bps = 1'000'000'000;
  std::uint32_t rx_ring = 256;  ///< descriptors; recorded, and checked > 0
  std::uint32_t tx_ring = 256;
  nic_capabilities caps;
  nic_cost_model cost;
  /// Time from carrier loss / restore to the NIC reporting link down / up. Real NICs
  /// take time to renegotiate; no figure is given in the sources here, so both default
  /// to zero and scenarios set them (UNVERIFIED).
  sim_time detect_down = sim_time::zero();
  sim_time detect_up = sim_time::zero();
  /// Accept unicast frames for any MAC (a virtual switch uplink); otherwise only for
  /// `mac`, broadcast and multicast.
  bool promiscuous = false;
  /// Ask the NIC to strip received tags into the frame's metadata.
  bool rx_vlan_strip = false;
  /// Told of link state changes as the NIC sees them: an event of `owner_kind` with
  /// target `owner_target` and arg = nic id | (up << 32). 0 = nobody.
  kernel::event_kind owner_kind = 0;
  std::uint32_t owner_target = 0;
};

class nic_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Why transmit() refused a frame (each also counted).
enum class nic_tx_result : std::uint8_t { sent, link_down, queue_full, not_attached, malformed, too_big };

/// All the NICs of one simulated network, addressed by nic_id.
class nic_set {
 public:
  nic_set(kernel::simulator& sim, frame_pool& pool, link_set& links);

  /// Adds a NIC; throws nic_error on a zero speed or ring, or a duplicate name.
  nic_id add(std::string_view name, const nic_config& cfg);
  /// The endpoint a link end needs to reach this NIC: `arrive_kind` is the kind the world
  /// registered to run receive() on arrival.
  endpoint endpoint_for(nic_id id, kernel::event_kind arrive_kind) const;
  /// Records which link end the NIC drives. The NIC starts with link up iff the carrier is.
  void attach(nic_id id, link_id link, link_side side);

  /// Transmits one frame (or one TSO super-frame) with its metadata requests: an
  /// out-of-band VLAN tag (meta.vlan_tci), checksum requests (meta.csum), TSO (meta.tso_mss).
  /// The frame is always consumed (`frame` is left empty, sent or dropped). A plain frame
  /// (attached, link up, a whole Ethernet header, no request) goes straight to the link,
  /// inline; anything else takes the same checks out of line. O(1) except TSO.
  [[gnu::always_inline]] nic_tx_result transmit(nic_id id, frame_ref&& frame) {
    nic& n = nics_[id];
    if (n.tx_ready && frame.size() >= wire::ethernet_header_len) [[likely]] {
      const frame_meta& m = frame.meta();
      if (m.tso_mss == 0 && m.csum == csum_offload::none && !m.vlan_tci) [[likely]] {
        return send_plain(n, std::move(frame));
      }
    }
    return transmit_checked(n, std::move(frame));
  }
  /// Processes a received frame; returns it (tag stripped into meta if asked, checksums
  /// verified), or an empty handle when it was dropped (and counted).
  frame_ref receive(nic_id id, frame_ref frame);

  bool link_up(nic_id id) const { return at(id).link_up; }
  const nic_config& config(nic_id id) const { return at(id).cfg; }
  const nic_stats& stats(nic_id id) const { return at(id).stats; }
  const nic_work_stats& work(nic_id id) const { return at(id).work; }
  std::string_view name(nic_id id) const { return at(id).name; }
  std::optional<nic_id> find(std::string_view name) const noexcept;
  std::size_t size() const noexcept { return nics_.size(); }
  /// The links the NICs are attached to (for an owner's arrival handler: take_arrival).
  link_set& links() const noexcept { return *links_; }

 private:
  struct nic {
    // What transmit() reads first, together at the front.
    std::optional<link_id> link;
    link_side side = link_side::a;
    bool link_up = false;
    bool tx_ready = false;           // link && link_up: transmit's one test for both
    bool carrier = false;            // as the link last reported it
    nic_stats stats;
    std::uint64_t detect_generation = 0;  // a newer carrier change cancels a pending detection
    std::string name;
    nic_config cfg;
    nic_work_stats work;
  };

  nic& at(nic_id id);
  const nic& at(nic_id id) const;
  void charge(nic& n, nic_work w, bool hardware, std::size_t bytes) noexcept;
  /// Fills the checksums the frame asks for (IPv4 header, TCP/UDP); false when the
  /// frame is not the IPv4 it claims to be.
  bool fill_checksums(nic& n, frame_ref& f, csum_offload what);
  nic_tx_result send_one(nic& n, frame_ref f);
  /// transmit() for a frame with requests (tag, checksums, TSO), a runt, or a NIC that
  /// cannot send: every check in order, each refusal counted.
  nic_tx_result transmit_checked(nic& n, frame_ref frame);
  /// The link send and the IF-MIB counts of a frame the NIC sends as it is.
  [[gnu::always_inline]] nic_tx_result send_plain(nic& n, frame_ref&& f) {
    // I/G bit: the first bit on the wire, bit 0 of the first octet (IEEE 802-2014 8.2).
    const bool group = (std::to_integer<unsigned>(f.cdata()[0]) & 1u) != 0;
    const bool broadcast = group && wire::mac_address::read(f.cdata(), 0).is_broadcast();
    const std::size_t len = f.size();
    // The four-argument send: one handle move into the link, not two.
    const send_result r = links_->send(*n.link, n.side, std::move(f), sim_->now());
    if (r != send_result::queued) [[unlikely]] {
      ++n.stats.ifOutDiscards;
      return r == send_result::queue_full ? nic_tx_result::queue_full : nic_tx_result::link_down;
    }
    n.stats.ifOutOctets += len;
    if (!group) [[likely]] {
      ++n.stats.ifOutUcastPkts;
    } else if (broadcast) {
      ++n.stats.ifOutBroadcastPkts;
    } else {
      ++n.stats.ifOutMulticastPkts;
    }
    return nic_tx_result::sent;
  }
  nic_tx_result segment(nic& n, frame_ref f);
  static void on_carrier(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_detect(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  void set_link(nic_id id, bool up);

  kernel::simulator* sim_;
  frame_pool* pool_;
  link_set* links_;
  kernel::event_kind carrier_kind_ = 0;
  kernel::event_kind detect_kind_ = 0;
  std::vector<nic> nics_;
};

}  // namespace vnetsim::dev
