#pragma once
/// IEEE 802.1Q-2018 VLAN tag (clause 9): a 2-byte Tag Protocol Identifier (9.5) followed by
/// 2 bytes of Tag Control Information (9.6): PCP (3 bits), DEI (1 bit), VID (12 bits).
/// In a frame the tag sits between the source address and the EtherType:
///
///     dst(6) src(6) TPID(2) TCI(2) type/len(2) payload...
///
/// vnetsim models at most one C-VLAN tag. Stacked tags (802.1ad Q-in-Q: a C-tag inside a
/// C-tag, or any S-tag 0x88a8 outside) are reported as parse_error::stacked_tag by the
/// single-tag parser, but describe_tag_stack() still counts them.
///
/// Inserting or removing a tag moves only the 12 address bytes, never the payload: the frame
/// pool keeps vlan_tag_len bytes of headroom before each frame (emit_tag_in_place,
/// strip_tag_in_place).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/parse_result.hpp"

namespace vnetsim::wire {

/// Tag Protocol Identifiers, IEEE 802.1Q-2018 9.5 Table 9-1.
inline constexpr std::uint16_t vlan_tpid_c = 0x8100;  // C-VLAN (customer) tag
inline constexpr std::uint16_t vlan_tpid_s = 0x88a8;  // S-VLAN (service) tag, 802.1ad Q-in-Q

/// Size of one tag (TPID + TCI), IEEE 802.1Q-2018 9.3.
inline constexpr std::size_t vlan_tag_len = 4;
/// Where the (outer) tag starts in a frame: right after the two addresses.
inline constexpr std::size_t vlan_tag_offset = 12;
/// Bytes that move when a tag is inserted or stripped in place (dst + src).
inline constexpr std::size_t vlan_moved_len = 12;
/// Headroom a buffer needs before an untagged frame so a tag can be inserted in place.
inline constexpr std::size_t vlan_headroom = vlan_tag_len;
/// Header of a frame with one tag: dst, src, TPID, TCI, type.
inline constexpr std::size_t vlan_tagged_header_len = ethernet_header_len + vlan_tag_len;
static_assert(vlan_tag_offset == vlan_moved_len);
static_assert(vlan_tpid_c == static_cast<std::uint16_t>(ether_type::vlan));
static_assert(vlan_tpid_s == static_cast<std::uint16_t>(ether_type::qinq));
static_assert(vlan_tagged_header_len == 18);

/// VID values, IEEE 802.1Q-2018 9.6 Table 9-2.
inline constexpr std::uint16_t vlan_vid_null = 0;       // priority-tagged frame: no VLAN
inline constexpr std::uint16_t vlan_vid_default = 1;    // default PVID (802.1Q-2018 Table 9-2)
inline constexpr std::uint16_t vlan_vid_max = 4094;     // largest usable VID
inline constexpr std::uint16_t vlan_vid_reserved = 4095;  // reserved, never in a tag
inline constexpr std::uint16_t vlan_vid_mask = 0x0fff;
inline constexpr std::uint8_t vlan_pcp_max = 7;

/// True for the TPIDs that start a tag (0x8100, 0x88a8); the same set as Linux
/// eth_type_vlan() and OVS eth_type_vlan().
constexpr bool is_vlan_tpid(std::uint16_t type) noexcept {
  return type == vlan_tpid_c || type == vlan_tpid_s;
}

/// Zero-copy view of one 4-byte tag (TPID + TCI) over `B` bytes. In a frame the outer tag
/// is at vlan_tag_offset; a stacked tag follows at +4.
template <byte_type B>
class vlan_view {
 public:
  struct field {
    static constexpr std::size_t tpid = 0;  // 802.1Q-2018 9.5
    static constexpr std::size_t tci = 2;   // 802.1Q-2018 9.6
    static constexpr std::size_t end = 4;
  };
  static_assert(field::end == vlan_tag_len);

  /// TCI bit layout, IEEE 802.1Q-2018 9.6 Figure 9-2.
  static constexpr std::uint16_t pcp_shift = 13;
  static constexpr std::uint16_t dei_bit = 0x1000;

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit vlan_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<vlan_view> checked(std::span<B> buf) noexcept {
    vlan_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  constexpr bool check_len() const noexcept { return buf_.size() >= vlan_tag_len; }

  constexpr std::uint16_t tpid() const noexcept { return get_u16(buf_, field::tpid); }
  constexpr std::uint16_t tci() const noexcept { return get_u16(buf_, field::tci); }
  constexpr std::uint8_t pcp() const noexcept {
    return static_cast<std::uint8_t>(tci() >> pcp_shift);
  }
  constexpr bool dei() const noexcept { return (tci() & dei_bit) != 0; }
  constexpr std::uint16_t vid() const noexcept {
    return static_cast<std::uint16_t>(tci() & vlan_vid_mask);
  }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  constexpr void set_tpid(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::tpid, v);
  }
  constexpr void set_tci(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::tci, v);
  }

 private:
  std::span<B> buf_;
};

using vlan_tag = vlan_view<std::byte>;
using vlan_tag_const = vlan_view<const std::byte>;

/// One tag as a value. Invariants: pcp <= 7, vid <= 4095 (emit masks anything wider).
/// VID 0 marks a priority tag (vlan_vid_null); VID 4095 is reserved and the VLAN layer,
/// not the parser, drops it (802.1Q-2018 Table 9-2).
struct vlan_repr {
  std::uint16_t tpid = vlan_tpid_c;
  std::uint8_t pcp = 0;
  bool dei = false;
  std::uint16_t vid = 0;

  static constexpr std::size_t header_len = vlan_tag_len;

  static constexpr vlan_repr parse(vlan_tag_const v) noexcept {
    return {v.tpid(), v.pcp(), v.dei(), v.vid()};
  }
  /// The TCI this repr encodes (802.1Q-2018 9.6).
  constexpr std::uint16_t tci() const noexcept {
    return static_cast<std::uint16_t>(((pcp & 0x7u) << vlan_tag::pcp_shift) |
                                      (dei ? vlan_tag::dei_bit : 0u) | (vid & vlan_vid_mask));
  }
  /// Writes the 4-byte tag; `v` must hold at least buffer_len() bytes.
  constexpr void emit(vlan_tag v) const noexcept {
    v.set_tpid(tpid);
    v.set_tci(tci());
  }
  constexpr std::size_t buffer_len() const noexcept { return header_len; }

  constexpr bool is_priority_tag() const noexcept { return vid == vlan_vid_null; }
  constexpr bool is_reserved_vid() const noexcept { return vid == vlan_vid_reserved; }

  friend constexpr bool operator==(const vlan_repr&, const vlan_repr&) noexcept = default;
};

/// The tag stack of an Ethernet frame: how many tags precede the inner type/length field,
/// the outermost tag, and where the payload starts.
struct vlan_stack_repr {
  std::size_t tag_count = 0;          ///< 0 = untagged
  std::optional<vlan_repr> outer;     ///< set iff tag_count >= 1
  std::uint16_t inner_type = 0;       ///< EtherType (or 802.3 length) after the last tag
  std::size_t payload_offset = ethernet_header_len;  ///< from the frame start: 14 + 4 * tags

  constexpr bool is_tagged() const noexcept { return tag_count != 0; }
  /// The outer tag's VID when it is not a priority tag; nullopt for untagged and
  /// priority-tagged frames, which the ingress port classifies to its PVID
  /// (802.1Q-2018 Table 9-2, VID 0).
  constexpr std::optional<std::uint16_t> vid() const noexcept {
    if (!outer || outer->is_priority_tag()) return std::nullopt;
    return outer->vid;
  }

  friend constexpr bool operator==(const vlan_stack_repr&, const vlan_stack_repr&) noexcept =
      default;
};

/// Describes any depth of 0x8100/0x88a8 tags. Errors: truncated (shorter than the Ethernet
/// header, or a tag or the inner type field cut off).
parse_result<vlan_stack_repr> describe_tag_stack(const_bytes frame) noexcept;

/// The single-tag parser: untagged or exactly one C-tag. Errors: truncated; stacked_tag
/// when a tag follows the first or the outer tag is an S-tag (vnetsim does not model
/// Q-in-Q; describe_tag_stack() still reports the count).
parse_result<vlan_stack_repr> parse_tag_stack(const_bytes frame) noexcept;

/// Inserts `tag` into an untagged frame in place. `buf` starts vlan_headroom bytes before
/// the frame and ends where the frame ends. The 12 address bytes move back by 4, the tag is
/// written at offset 12 of the result, and nothing after the addresses moves. Returns the
/// tagged frame (all of `buf`), or nullopt when `buf` is shorter than headroom + a header.
std::optional<bytes> emit_tag_in_place(bytes buf, const vlan_repr& tag) noexcept;

/// Removes the outer tag of `frame` in place: the 12 address bytes move forward by 4 over
/// the tag, and nothing after the tag moves. Returns the untagged frame
/// (frame.subspan(vlan_headroom)), or nullopt when the frame has no tag or is too short.
std::optional<bytes> strip_tag_in_place(bytes frame) noexcept;

}  // namespace vnetsim::wire
