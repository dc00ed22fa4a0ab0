#pragma once
/// IEEE 802.2 LLC header (ISO/IEC 8802-2:1998 clause 3) of an 802.3 length-framed frame:
/// DSAP, SSAP and a control field that is 1 byte in U-format (unnumbered) and 2 bytes in
/// I- and S-format. vnetsim reads U-format only; STP uses DSAP = SSAP = 0x42 with control
/// 0x03 (UI) [CiscoBPDU].
///
///     dst(6) src(6) length(2) | DSAP(1) SSAP(1) control(1) | data... [padding]

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/parse_result.hpp"

namespace vnetsim::wire {

/// LSAP values (ISO/IEC 8802-2:1998 clause 3 and the IEEE RA list).
inline constexpr std::uint8_t llc_sap_null = 0x00;
inline constexpr std::uint8_t llc_sap_stp = 0x42;   // IEEE 802.1 Bridge Spanning Tree [CiscoBPDU]
inline constexpr std::uint8_t llc_sap_snap = 0xaa;  // SNAP, IEEE 802-2014 clause 10
/// Low bit of the DSAP: I/G (1 = group); low bit of the SSAP: C/R (1 = response).
inline constexpr std::uint8_t llc_sap_group_bit = 0x01;
inline constexpr std::uint8_t llc_ssap_response_bit = 0x01;

/// Control field values, ISO/IEC 8802-2:1998 clause 3 (control field formats).
inline constexpr std::uint8_t llc_control_ui = 0x03;  // Unnumbered Information [CiscoBPDU]
/// A control byte whose two low bits are 11 is U-format (1 byte); else I/S-format (2 bytes).
inline constexpr std::uint8_t llc_u_format_mask = 0x03;

inline constexpr std::size_t llc_u_header_len = 3;

/// Zero-copy view of a U-format LLC header over `B` bytes.
template <byte_type B>
class llc_view {
 public:
  struct field {
    static constexpr std::size_t dsap = 0;
    static constexpr std::size_t ssap = 1;
    static constexpr std::size_t control = 2;
    static constexpr std::size_t payload = 3;
  };
  static_assert(field::payload == llc_u_header_len);

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit llc_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<llc_view> checked(std::span<B> buf) noexcept {
    llc_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  constexpr bool check_len() const noexcept { return buf_.size() >= llc_u_header_len; }

  constexpr std::uint8_t dsap() const noexcept { return get_u8(buf_, field::dsap); }
  constexpr std::uint8_t ssap() const noexcept { return get_u8(buf_, field::ssap); }
  constexpr std::uint8_t control() const noexcept { return get_u8(buf_, field::control); }
  constexpr bool is_u_format() const noexcept {
    return (control() & llc_u_format_mask) == llc_u_format_mask;
  }
  constexpr std::span<B> payload() const noexcept { return buf_.subspan(field::payload); }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  constexpr void set_dsap(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::dsap, v);
  }
  constexpr void set_ssap(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::ssap, v);
  }
  constexpr void set_control(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::control, v);
  }

 private:
  std::span<B> buf_;
};

using llc_header = llc_view<std::byte>;
using llc_header_const = llc_view<const std::byte>;

/// A U-format LLC header as a value.
struct llc_repr {
  std::uint8_t dsap = 0;
  std::uint8_t ssap = 0;
  std::uint8_t control = llc_control_ui;

  static constexpr std::size_t header_len = llc_u_header_len;

  static constexpr llc_repr parse(llc_header_const v) noexcept {
    return {v.dsap(), v.ssap(), v.control()};
  }
  /// Errors: truncated (< 3 bytes); unsupported (I- or S-format control field).
  static parse_result<llc_repr> parse(const_bytes buf) noexcept;
  /// Writes the 3-byte header; `v` must hold at least buffer_len() bytes.
  constexpr void emit(llc_header v) const noexcept {
    v.set_dsap(dsap);
    v.set_ssap(ssap);
    v.set_control(control);
  }
  constexpr std::size_t buffer_len() const noexcept { return header_len; }

  friend constexpr bool operator==(const llc_repr&, const llc_repr&) noexcept = default;
};

/// The LLC header of every STP/RSTP BPDU: 0x42 0x42 0x03 [CiscoBPDU].
inline constexpr llc_repr stp_llc{llc_sap_stp, llc_sap_stp, llc_control_ui};

/// The MAC client data of an 802.3 length-framed frame (IEEE 802.3-2018 3.2.6): `data` is
/// everything after the length field, possibly followed by pad bytes; the result is its
/// first `length_field` bytes. Errors: bad_type when the field is an EtherType (>= 0x0600);
/// bad_length when it is neither (1501..1535); truncated when it exceeds the bytes present.
parse_result<const_bytes> length_framed_data(std::uint16_t length_field, const_bytes data) noexcept;

}  // namespace vnetsim::wire
