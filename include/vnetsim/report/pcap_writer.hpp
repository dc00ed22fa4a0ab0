#pragma once
/// Classic pcap capture files (draft-ietf-opsawg-pcap, "PCAP Capture File Format"), in
/// the nanosecond variant (magic 0xa1b23c4d) with LINKTYPE_ETHERNET: a writer for the
/// simulator's captures and a bounds-checked reader for tests and tools.
///
/// Every multi-byte field is written little-endian, byte by byte, so a file is the same
/// on any host. Timestamps are sim_time: seconds and nanoseconds since the start of the
/// run (a reader shows them as 1970-01-01 plus the simulated time).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/kernel/sim_time.hpp"

namespace vnetsim::report {

/// File header magic, nanosecond-resolution timestamps (draft-ietf-opsawg-pcap 4).
inline constexpr std::uint32_t pcap_magic_nanos = 0xa1b2'3c4du;
/// File header magic, microsecond-resolution timestamps (read only).
inline constexpr std::uint32_t pcap_magic_micros = 0xa1b2'c3d4u;
inline constexpr std::uint16_t pcap_version_major = 2;
inline constexpr std::uint16_t pcap_version_minor = 4;
/// LINKTYPE_ETHERNET: IEEE 802.3 frames without preamble and FCS (tcpdump.org link-layer types).
inline constexpr std::uint32_t linktype_ethernet = 1;
/// libpcap's and tcpdump's default snapshot length (MAXIMUM_SNAPLEN).
inline constexpr std::uint32_t pcap_default_snaplen = 262'144;
inline constexpr std::size_t pcap_file_header_len = 24;
inline constexpr std::size_t pcap_record_header_len = 16;

/// An I/O failure: open, write or read, with the path and the errno text.
class pcap_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The 24-byte file header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen, linktype.
std::array<std::byte, pcap_file_header_len> pcap_file_header(
    std::uint32_t snaplen = pcap_default_snaplen, std::uint32_t linktype = linktype_ethernet) noexcept;

/// The 16-byte record header: ts_sec, ts_nsec, incl_len, orig_len. A negative time is
/// written as 0; seconds past 2^32 - 1 saturate.
std::array<std::byte, pcap_record_header_len> pcap_record_header(
    sim_time ts, std::uint32_t incl_len, std::uint32_t orig_len) noexcept;

/// Writes a capture. Records are gathered in a 64 KiB buffer and reach the file on
/// flush(), close(), destruction, or when the buffer fills. Move-only.
class pcap_writer {
 public:
  /// Creates (truncates) `path` and writes the file header. Throws pcap_error naming
  /// the path and the errno text when the file cannot be opened or written.
  explicit pcap_writer(const std::filesystem::path& path,
                       std::uint32_t snaplen = pcap_default_snaplen);
  /// Writes to a stream the caller owns and closes; the header is written now.
  explicit pcap_writer(std::FILE* file, std::uint32_t snaplen = pcap_default_snaplen);
  pcap_writer(pcap_writer&& o) noexcept;
  pcap_writer& operator=(pcap_writer&& o) noexcept;
  pcap_writer(const pcap_writer&) = delete;
  pcap_writer& operator=(const pcap_writer&) = delete;
  /// Flushes and closes, swallowing errors (call close() to see them).
  ~pcap_writer();

  /// Appends one record; orig_len = frame.size(), truncated to snaplen. Throws
  /// pcap_error on a write failure or when the writer is closed.
  void write(sim_time ts, std::span<const std::byte> frame) { write(ts, frame, frame.size()); }
  /// The same, with the frame's length on the wire given separately (>= frame.size()).
  void write(sim_time ts, std::span<const std::byte> frame, std::size_t orig_len);
  /// A pooled frame; an out-of-band VLAN tag in its metadata is written into the record
  /// as an 802.1Q tag after the source address, as a capture on the wire would show it.
  void write(sim_time ts, const dev::frame_ref& frame);

  /// Pushes buffered records to the file and fflush()es it.
  void flush();
  /// Flushes and, if the writer opened the file, closes it. Idempotent.
  void close();

  bool is_open() const noexcept { return file_ != nullptr; }
  std::uint32_t snaplen() const noexcept { return snaplen_; }
  std::uint64_t records() const noexcept { return records_; }
  /// Bytes written so far, headers included.
  std::uint64_t bytes() const noexcept { return bytes_; }
  /// The path, or "<stream>" for a caller's FILE*.
  const std::string& name() const noexcept { return name_; }

 private:
  void write_pieces(sim_time ts, std::initializer_list<std::span<const std::byte>> pieces,
                    std::size_t orig_len);
  void append(const std::byte* p, std::size_t n);
  void drain();
  [[noreturn]] void fail(std::string_view what, int err) const;

  std::FILE* file_ = nullptr;
  bool owned_ = false;
  std::uint32_t snaplen_ = pcap_default_snaplen;
  std::uint64_t records_ = 0;
  std::uint64_t bytes_ = 0;
  std::string name_;
  std::vector<std::byte> buf_;  // capacity fixed at construction
};

/// One record as read: timestamp in ns, length on the wire, and the captured bytes
/// (a view into the reader's buffer, valid while the reader lives).
struct pcap_record {
  sim_time ts;
  std::uint32_t orig_len = 0;
  std::span<const std::byte> data;
};

enum class pcap_read_error : std::uint8_t {
  none,
  truncated_file_header,    ///< fewer than 24 bytes
  bad_magic,                ///< not a classic pcap magic in either byte order
  bad_version,              ///< not version 2.4
  truncated_record_header,  ///< bytes left over that do not make a 16-byte record header
  truncated_record,         ///< incl_len runs past the end of the file
  record_over_snaplen,      ///< incl_len larger than the file's snaplen
};

constexpr std::string_view to_string(pcap_read_error e) noexcept {
  switch (e) {
    case pcap_read_error::none: return "none";
    case pcap_read_error::truncated_file_header: return "truncated file header";
    case pcap_read_error::bad_magic: return "bad magic";
    case pcap_read_error::bad_version: return "bad version";
    case pcap_read_error::truncated_record_header: return "truncated record header";
    case pcap_read_error::truncated_record: return "truncated record";
    case pcap_read_error::record_over_snaplen: return "record longer than snaplen";
  }
  return "unknown";
}

/// Reads a classic pcap file held in memory: either magic, either byte order. Every
/// length is checked against the buffer before use; the first inconsistency stops the
/// iteration and is reported by error().
class pcap_reader {
 public:
  /// Validates the file header of `contents`; check ok() / error().
  explicit pcap_reader(std::vector<std::byte> contents);
  /// Reads the whole file. Throws pcap_error (path and errno text) if it cannot be read.
  static pcap_reader open(const std::filesystem::path& path);

  bool ok() const noexcept { return error_ == pcap_read_error::none; }
  pcap_read_error error() const noexcept { return error_; }
  bool nanosecond() const noexcept { return nanos_; }
  /// True when the file was written big-endian.
  bool big_endian() const noexcept { return big_endian_; }
  std::uint16_t version_major() const noexcept { return major_; }
  std::uint16_t version_minor() const noexcept { return minor_; }
  std::uint32_t snaplen() const noexcept { return snaplen_; }
  std::uint32_t linktype() const noexcept { return linktype_; }

  /// The next record, or nullopt at the end of the file or at the first error.
  std::optional<pcap_record> next() noexcept;
  /// Back to the first record (clears a record error; a header error stays).
  void rewind() noexcept;
  /// All remaining records (stops at an error).
  std::vector<pcap_record> records();

 private:
  std::uint32_t u32(std::size_t off) const noexcept;
  std::uint16_t u16(std::size_t off) const noexcept;

  std::vector<std::byte> data_;
  std::size_t pos_ = pcap_file_header_len;
  pcap_read_error error_ = pcap_read_error::none;
  pcap_read_error header_error_ = pcap_read_error::none;
  bool nanos_ = false;
  bool big_endian_ = false;
  std::uint16_t major_ = 0;
  std::uint16_t minor_ = 0;
  std::uint32_t snaplen_ = 0;
  std::uint32_t linktype_ = 0;
};

}  // namespace vnetsim::report
