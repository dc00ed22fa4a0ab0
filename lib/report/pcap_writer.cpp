#include "vnetsim/report/pcap_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace vnetsim::report {

namespace {

/// Records are gathered in a buffer of this size before each fwrite.
constexpr std::size_t write_buffer_len = 64 * 1024;

/// 802.1Q tag protocol identifier (IEEE 802.1Q-2018 9.5, C-VLAN).
constexpr std::uint16_t tpid_ctag = 0x8100;
/// Offset of the type/length field in an Ethernet header: after dst and src.
constexpr std::size_t eth_addrs_len = 12;

constexpr void put_le16(std::byte* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::byte>(v & 0xff);
  p[1] = static_cast<std::byte>(v >> 8);
}
constexpr void put_le32(std::byte* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::byte>(v & 0xff);
  p[1] = static_cast<std::byte>((v >> 8) & 0xff);
  p[2] = static_cast<std::byte>((v >> 16) & 0xff);
  p[3] = static_cast<std::byte>(v >> 24);
}

std::uint32_t clamp_u32(std::uint64_t v) noexcept {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, std::numeric_limits<std::uint32_t>::max()));
}

std::string errno_text(int err) {
  return err != 0 ? std::string(std::strerror(err)) : std::string("short write");
}

}  // namespace

std::array<std::byte, pcap_file_header_len> pcap_file_header(std::uint32_t snaplen,
                                                             std::uint32_t linktype) noexcept {
  std::array<std::byte, pcap_file_header_len> h{};
  put_le32(h.data() + 0, pcap_magic_nanos);
  put_le16(h.data() + 4, pcap_version_major);
  put_le16(h.data() + 6, pcap_version_minor);
  put_le32(h.data() + 8, 0);   // thiszone: timestamps are UTC
  put_le32(h.data() + 12, 0);  // sigfigs: always 0
  put_le32(h.data() + 16, snaplen);
  put_le32(h.data() + 20, linktype);
  return h;
}

std::array<std::byte, pcap_record_header_len> pcap_record_header(sim_time ts, std::uint32_t incl_len,
                                                                 std::uint32_t orig_len) noexcept {
  constexpr sim_time::rep ns_per_s = 1'000'000'000;
  const sim_time::rep ns = std::max<sim_time::rep>(ts.ns(), 0);
  std::array<std::byte, pcap_record_header_len> h{};
  put_le32(h.data() + 0, clamp_u32(static_cast<std::uint64_t>(ns / ns_per_s)));
  put_le32(h.data() + 4, static_cast<std::uint32_t>(ns % ns_per_s));
  put_le32(h.data() + 8, incl_len);
  put_le32(h.data() + 12, orig_len);
  return h;
}

pcap_writer::pcap_writer(const std::filesystem::path& path, std::uint32_t snaplen)
    : owned_(true), snaplen_(snaplen), name_(path.string()) {
  buf_.reserve(write_buffer_len);
  errno = 0;
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) fail("cannot open", errno);
  const auto h = pcap_file_header(snaplen_);
  try {
    append(h.data(), h.size());
    drain();
  } catch (...) {
    std::fclose(file_);
    file_ = nullptr;
    throw;
  }
}

pcap_writer::pcap_writer(std::FILE* file, std::uint32_t snaplen)
    : file_(file), owned_(false), snaplen_(snaplen), name_("<stream>") {
  if (!file_) throw pcap_error("pcap: null FILE*");
  buf_.reserve(write_buffer_len);
  const auto h = pcap_file_header(snaplen_);
  append(h.data(), h.size());
  drain();
}

pcap_writer::pcap_writer(pcap_writer&& o) noexcept
    : file_(std::exchange(o.file_, nullptr)),
      owned_(o.owned_),
      snaplen_(o.snaplen_),
      records_(o.records_),
      bytes_(o.bytes_),
      name_(std::move(o.name_)),
      buf_(std::move(o.buf_)) {}

pcap_writer& pcap_writer::operator=(pcap_writer&& o) noexcept {
  if (this != &o) {
    try {
      close();
    } catch (const pcap_error&) {  // NOLINT(bugprone-empty-catch): as in the destructor
    }
    file_ = std::exchange(o.file_, nullptr);
    owned_ = o.owned_;
    snaplen_ = o.snaplen_;
    records_ = o.records_;
    bytes_ = o.bytes_;
    name_ = std::move(o.name_);
    buf_ = std::move(o.buf_);
  }
  return *this;
}

pcap_writer::~pcap_writer() {
  try {
    close();
  } catch (const pcap_error&) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
  }
}

void pcap_writer::write(sim_time ts, std::span<const std::byte> frame, std::size_t orig_len) {
  write_pieces(ts, {frame}, std::max(orig_len, frame.size()));
}

void pcap_writer::write(sim_time ts, const dev::frame_ref& frame) {
  const std::span<const std::byte> d = frame.cdata();
  const auto& tci = frame.meta().vlan_tci;
  if (!tci || d.size() < eth_addrs_len) {
    write_pieces(ts, {d}, d.size());
    return;
  }
  std::array<std::byte, 4> tag{};
  tag[0] = static_cast<std::byte>(tpid_ctag >> 8);
  tag[1] = static_cast<std::byte>(tpid_ctag & 0xff);
  tag[2] = static_cast<std::byte>(*tci >> 8);
  tag[3] = static_cast<std::byte>(*tci & 0xff);
  write_pieces(ts, {d.first(eth_addrs_len), tag, d.subspan(eth_addrs_len)}, d.size() + tag.size());
}

void pcap_writer::write_pieces(sim_time ts, std::initializer_list<std::span<const std::byte>> pieces,
                               std::size_t orig_len) {
  if (!file_) throw pcap_error(fmt::format("pcap write after close: {}", name_));
  std::size_t captured = 0;
  for (const auto& p : pieces) captured += p.size();
  std::size_t incl = std::min<std::size_t>(captured, snaplen_);
  const auto h = pcap_record_header(ts, static_cast<std::uint32_t>(incl), clamp_u32(orig_len));
  append(h.data(), h.size());
  for (const auto& p : pieces) {
    const std::size_t n = std::min(incl, p.size());
    if (n != 0) append(p.data(), n);
    incl -= n;
  }
  ++records_;
}

void pcap_writer::append(const std::byte* p, std::size_t n) {
  if (buf_.size() + n > write_buffer_len) {
    drain();
    if (n > write_buffer_len) {  // a large record goes straight to the file
      errno = 0;
      if (std::fwrite(p, 1, n, file_) != n) fail("cannot write", errno);
      bytes_ += n;
      return;
    }
  }
  buf_.insert(buf_.end(), p, p + n);
  bytes_ += n;
}

void pcap_writer::drain() {
  if (buf_.empty()) return;
  errno = 0;
  const std::size_t n = buf_.size();
  const bool ok = std::fwrite(buf_.data(), 1, n, file_) == n;
  const int err = errno;
  buf_.clear();  // dropped on failure too, so close() does not retry the same bytes
  if (!ok) fail("cannot write", err);
}

void pcap_writer::flush() {
  if (!file_) return;
  drain();
  errno = 0;
  if (std::fflush(file_) != 0) fail("cannot flush", errno);
}

void pcap_writer::close() {
  if (!file_) return;
  std::FILE* f = file_;
  int err = 0;
  try {
    drain();
  } catch (const pcap_error&) {
    file_ = nullptr;
    if (owned_) std::fclose(f);
    throw;
  }
  file_ = nullptr;
  errno = 0;
  if (std::fflush(f) != 0) err = errno;
  if (owned_ && std::fclose(f) != 0 && err == 0) err = errno;
  if (err != 0) fail("cannot close", err);
}

void pcap_writer::fail(std::string_view what, int err) const {
  throw pcap_error(fmt::format("pcap {} {}: {}", what, name_, errno_text(err)));
}

// ---------------------------------------------------------------------------------------

pcap_reader::pcap_reader(std::vector<std::byte> contents) : data_(std::move(contents)) {
  if (data_.size() < pcap_file_header_len) {
    error_ = header_error_ = pcap_read_error::truncated_file_header;
    return;
  }
  const auto le = [&](std::size_t off) {
    return std::uint32_t{static_cast<std::uint8_t>(data_[off])} |
           std::uint32_t{static_cast<std::uint8_t>(data_[off + 1])} << 8 |
           std::uint32_t{static_cast<std::uint8_t>(data_[off + 2])} << 16 |
           std::uint32_t{static_cast<std::uint8_t>(data_[off + 3])} << 24;
  };
  const std::uint32_t magic = le(0);
  const std::uint32_t swapped = ((magic & 0xff) << 24) | ((magic & 0xff00) << 8) |
                                ((magic >> 8) & 0xff00) | (magic >> 24);
  if (magic == pcap_magic_nanos || magic == pcap_magic_micros) {
    big_endian_ = false;
    nanos_ = magic == pcap_magic_nanos;
  } else if (swapped == pcap_magic_nanos || swapped == pcap_magic_micros) {
    big_endian_ = true;
    nanos_ = swapped == pcap_magic_nanos;
  } else {
    error_ = header_error_ = pcap_read_error::bad_magic;
    return;
  }
  major_ = u16(4);
  minor_ = u16(6);
  snaplen_ = u32(16);
  linktype_ = u32(20);
  if (major_ != pcap_version_major || minor_ != pcap_version_minor) {
    error_ = header_error_ = pcap_read_error::bad_version;
  }
}

pcap_reader pcap_reader::open(const std::filesystem::path& path) {
  errno = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    throw pcap_error(fmt::format("pcap cannot open {}: {}", path.string(), errno_text(errno)));
  }
  std::vector<std::byte> contents;
  std::array<std::byte, 64 * 1024> chunk{};
  for (;;) {
    const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), f);
    contents.insert(contents.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (n < chunk.size()) break;
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) throw pcap_error(fmt::format("pcap cannot read {}: {}", path.string(), errno_text(err)));
  return pcap_reader(std::move(contents));
}

std::uint16_t pcap_reader::u16(std::size_t off) const noexcept {
  const auto b0 = static_cast<unsigned>(data_[off]);
  const auto b1 = static_cast<unsigned>(data_[off + 1]);
  return static_cast<std::uint16_t>(big_endian_ ? (b0 << 8) | b1 : (b1 << 8) | b0);
}

std::uint32_t pcap_reader::u32(std::size_t off) const noexcept {
  const std::uint32_t hi = u16(off + (big_endian_ ? 0 : 2));
  const std::uint32_t lo = u16(off + (big_endian_ ? 2 : 0));
  return (hi << 16) | lo;
}

std::optional<pcap_record> pcap_reader::next() noexcept {
  if (error_ != pcap_read_error::none || pos_ >= data_.size()) return std::nullopt;
  const std::size_t left = data_.size() - pos_;
  if (left < pcap_record_header_len) {
    error_ = pcap_read_error::truncated_record_header;
    return std::nullopt;
  }
  const std::uint32_t sec = u32(pos_);
  const std::uint32_t frac = u32(pos_ + 4);
  const std::uint32_t incl = u32(pos_ + 8);
  const std::uint32_t orig = u32(pos_ + 12);
  if (incl > snaplen_) {
    error_ = pcap_read_error::record_over_snaplen;
    return std::nullopt;
  }
  if (incl > left - pcap_record_header_len) {
    error_ = pcap_read_error::truncated_record;
    return std::nullopt;
  }
  pcap_record r;
  r.ts = sim_time::from_s(sec) + sim_time::from_ns(nanos_ ? frac : std::int64_t{frac} * 1000);
  r.orig_len = orig;
  r.data = std::span<const std::byte>(data_).subspan(pos_ + pcap_record_header_len, incl);
  pos_ += pcap_record_header_len + incl;
  return r;
}

void pcap_reader::rewind() noexcept {
  pos_ = pcap_file_header_len;
  error_ = header_error_;
}

std::vector<pcap_record> pcap_reader::records() {
  std::vector<pcap_record> out;
  while (auto r = next()) out.push_back(*r);
  return out;
}

}  // namespace vnetsim::report
