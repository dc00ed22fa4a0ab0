#pragma once
// tshark over a capture we wrote, for the tests that hold our pcap files up to Wireshark's
// dissectors (report/pcap_writer_test.cpp, traffic/flow_test.cpp and the traffic/tcp_*
// tests): one command line, run with `-T fields`, its output read back line by line.
// Each test keeps its own field list and its own checks on the rows.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace vnetsim::test {

/// `s` cut at every `sep`; at least `min_pieces` pieces, the missing ones empty.
inline std::vector<std::string> split(const std::string& s, char sep, std::size_t min_pieces = 0) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  if (out.size() < min_pieces) out.resize(min_pieces);
  return out;
}

/// tshark preferences: check IPv4 and TCP checksums.
inline constexpr std::string_view tcp_checksum_prefs = "-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE";
/// tshark preferences: check IPv4 and TCP checksums, and run TCP sequence analysis.
inline constexpr std::string_view tcp_analysis_prefs =
    "-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o tcp.analyze_sequence_numbers:TRUE";

/// Runs `tshark -n -r <file> <prefs> -T fields -E separator=/t <format> -e <field>...` with
/// its stderr in <file>.tshark.err (VNETSIM_TSHARK, found by tests/CMakeLists.txt), REQUIREs
/// that it exits 0 and returns the lines it printed, one a frame (empty lines left out).
/// `prefs` are `-o name:value` preferences, `format` further `-E` options (may be empty).
template <std::size_t n>
std::vector<std::string> tshark_lines(const std::filesystem::path& file, std::string_view prefs,
                                      std::string_view format, const std::array<const char*, n>& fields) {
  const auto err = std::filesystem::path(file).replace_extension(".tshark.err");
  std::string cmd = fmt::format("'{}' -n -r '{}' {} -T fields -E separator=/t", VNETSIM_TSHARK,
                                file.string(), prefs);
  if (!format.empty()) cmd += fmt::format(" {}", format);
  for (const char* f : fields) cmd += fmt::format(" -e {}", f);
  cmd += fmt::format(" 2>'{}'", err.string());
  INFO("command: " << cmd);
  std::FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> chunk{};
  std::size_t got = 0;
  while ((got = std::fread(chunk.data(), 1, chunk.size(), p)) > 0) out.append(chunk.data(), got);
  REQUIRE_MESSAGE(::pclose(p) == 0, "tshark failed; see " << err.string());
  std::vector<std::string> lines;
  for (auto& line : split(out, '\n')) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace vnetsim::test
