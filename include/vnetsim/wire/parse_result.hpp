#pragma once
/// Why a wire parse failed, and a small value-or-error result for repr parsers
/// (C++20 has no std::expected). No allocation, no exceptions.

#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace vnetsim::wire {

enum class parse_error : std::uint8_t {
  truncated,        ///< buffer shorter than the header or than a length field claims
  bad_length,       ///< a length field is inconsistent (below the minimum, past the buffer)
  bad_version,      ///< version or protocol identifier not the one this parser reads
  bad_type,         ///< a type, opcode or subtype this parser does not accept
  bad_checksum,     ///< checksum present and wrong
  bad_option,       ///< malformed option or TLV
  stacked_tag,      ///< more VLAN tags than the parser accepts (802.1Q in 802.1Q)
  unsupported,      ///< well-formed but outside what vnetsim models (e.g. a hardware type)
};

constexpr std::string_view to_string(parse_error e) noexcept {
  switch (e) {
    case parse_error::truncated: return "truncated";
    case parse_error::bad_length: return "bad length";
    case parse_error::bad_version: return "bad version";
    case parse_error::bad_type: return "bad type";
    case parse_error::bad_checksum: return "bad checksum";
    case parse_error::bad_option: return "bad option";
    case parse_error::stacked_tag: return "stacked tag";
    case parse_error::unsupported: return "unsupported";
  }
  return "unknown";
}

/// Either a `T` or a parse_error. `T` must be trivially destructible (reprs are).
template <class T>
class parse_result {
  static_assert(std::is_trivially_destructible_v<T>);

 public:
  constexpr parse_result(T value) noexcept : value_(std::move(value)), ok_(true) {}  // NOLINT
  constexpr parse_result(parse_error e) noexcept : error_(e), ok_(false) {}          // NOLINT

  constexpr bool has_value() const noexcept { return ok_; }
  constexpr explicit operator bool() const noexcept { return ok_; }
  /// Precondition: has_value().
  constexpr const T& value() const noexcept { return value_; }
  constexpr const T& operator*() const noexcept { return value_; }
  constexpr const T* operator->() const noexcept { return &value_; }
  /// The error, or nothing when the parse succeeded (so `r.error() == parse_error::x`
  /// is false for a success, never a read of the wrong union member).
  constexpr std::optional<parse_error> error() const noexcept {
    if (ok_) return std::nullopt;
    return error_;
  }

 private:
  union {
    T value_;
    parse_error error_;
  };
  bool ok_;
};

}  // namespace vnetsim::wire
