#pragma once
/// Shared by the comparison programs of bench/compare (vnetsim and ns-3 sides alike):
/// wall clock, resident memory and the one-line "key=value" result the harness parses.
/// Header-only and free of vnetsim and ns-3 types, so both sides measure the same way.

#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench_compare {

/// Seconds of wall-clock time since an arbitrary origin (steady clock).
inline double wall_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Seconds of CPU time used by this process (user + system): on a shared, loaded
/// machine a steadier measure than wall-clock time.
inline double cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Current resident set size in bytes, from /proc/self/statm (0 if unavailable).
inline std::uint64_t rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<std::uint64_t>(resident) * 4096u;
}

/// Peak resident set size in KiB (getrusage ru_maxrss).
inline long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

/// "--name value" from argv as an unsigned integer, or `def`.
inline std::uint64_t arg_u64(int argc, char** argv, const char* name, std::uint64_t def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
  }
  return def;
}
/// "--name value" from argv as a string, or `def`.
inline std::string arg_str(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

/// The hold model's random delays, identical on both sides so that the comparison is
/// about the event kernels: splitmix64 (Steele, Lea, Flood 2014) for 53-bit uniforms in
/// (0, 1], then inversion, -mean * ln(u).
class exp_source {
 public:
  explicit exp_source(std::uint64_t seed) : s_(seed) {}
  double next(double mean) {
    s_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = s_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const double u = static_cast<double>((z >> 11) + 1) * 0x1.0p-53;
    return -mean * std::log(u);
  }

 private:
  std::uint64_t s_;
};

}  // namespace bench_compare
