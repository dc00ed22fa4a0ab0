#include "vnetsim/scenario/loader.hpp"

#include "console_section.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/host/host.hpp"
#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/net/topology.hpp"
#include "vnetsim/proto/beacon.hpp"
#include "vnetsim/proto/rstp.hpp"
#include "vnetsim/proto/stp.hpp"
#include "vnetsim/wire/beacon.hpp"

namespace vnetsim::scenario {

using json = nlohmann::json;

std::string_view to_string(severity s) noexcept { return s == severity::error ? "error" : "warning"; }

std::string diagnostic::to_string(std::string_view source) const {
  return fmt::format("{}:{}:{}: {}: {}: {}", source, line, column, scenario::to_string(level),
                     pointer.empty() ? "/" : pointer, message);
}

std::size_t load_result::errors() const noexcept {
  return static_cast<std::size_t>(std::count_if(diagnostics.begin(), diagnostics.end(),
                                                [](const diagnostic& d) { return d.level == severity::error; }));
}

std::string scenario_hash(std::string_view text) { return fmt::format("{:016x}", kernel::fnv1a64(text)); }

std::optional<std::uint64_t> parse_rate(std::string_view text) noexcept {
  // Units, longest first so that "Gbps" is not read as "bps".
  static constexpr std::pair<std::string_view, std::uint64_t> units[] = {
      {"Gbps", 1'000'000'000}, {"Mbps", 1'000'000}, {"kbps", 1'000}, {"bps", 1}};
  for (const auto& [unit, scale] : units) {
    if (text.size() <= unit.size() || !text.ends_with(unit)) continue;
    const std::string_view num = text.substr(0, text.size() - unit.size());
    std::uint64_t whole = 0, frac = 0, frac_scale = 1;
    bool dot = false, digits = false;
    for (char c : num) {
      if (c == '.' && !dot) {
        dot = true;
        continue;
      }
      if (c < '0' || c > '9') return std::nullopt;
      digits = true;
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (!dot) {
        if (whole > (UINT64_MAX - d) / 10) return std::nullopt;
        whole = whole * 10 + d;
      } else {
        if (frac_scale >= scale) {
          if (d != 0) return std::nullopt;  // finer than one bit per second
          continue;
        }
        frac = frac * 10 + d;
        frac_scale *= 10;
      }
    }
    if (!digits || whole > UINT64_MAX / scale) return std::nullopt;
    return whole * scale + frac * (scale / frac_scale);
  }
  return std::nullopt;
}

namespace {

// --- positions: a counting iterator under the parser ------------------------------------

/// An input iterator over the text that publishes how far the parser has read.
class counting_iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  counting_iterator() = default;
  counting_iterator(const char* p, const char** published) : p_(p), published_(published) {}
  reference operator*() const { return *p_; }
  counting_iterator& operator++() {
    ++p_;
    if (published_ != nullptr) *published_ = p_;
    return *this;
  }
  counting_iterator operator++(int) {
    counting_iterator t = *this;
    ++*this;
    return t;
  }
  friend bool operator==(const counting_iterator& a, const counting_iterator& b) { return a.p_ == b.p_; }
  friend bool operator!=(const counting_iterator& a, const counting_iterator& b) { return a.p_ != b.p_; }

 private:
  const char* p_ = nullptr;
  const char** published_ = nullptr;
};


bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// Records the byte offset at which each value (or member key) starts, by pointer.
class position_recorder {
 public:
  explicit position_recorder(std::string_view text) : text_(text), cur_(text.data()) {}

  const char** cursor() { return &cur_; }
  std::map<std::string, std::size_t>& positions() { return pos_; }
  std::vector<diagnostic>& duplicates() { return dups_; }

  bool on_event(int depth, json::parse_event_t ev, json& parsed) {
    (void)depth;
    const auto offset = static_cast<std::size_t>(cur_ - text_.data());
    switch (ev) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        element_start(start_of(offset, ev, parsed));
        levels_.push_back({ev == json::parse_event_t::array_start, 0, {}, {}, pointer_of_current()});
        break;
      case json::parse_event_t::key: {
        level& l = levels_.back();
        l.key = parsed.get<std::string>();
        const std::string ptr = l.ptr + "/" + detail::pointer_token(l.key);
        const std::size_t at = start_of(offset, ev, parsed);
        if (!l.keys.insert(l.key).second) {
          dups_.push_back({severity::error, ptr, at, 0, fmt::format("duplicate key \"{}\"", l.key)});
        } else {
          pos_.emplace(ptr, at);
        }
        break;
      }
      case json::parse_event_t::value:
        element_start(start_of(offset, ev, parsed));
        advance();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        levels_.pop_back();
        advance();
        break;
    }
    return true;
  }

 private:
  struct level {
    bool array = false;
    std::size_t index = 0;
    std::string key;
    std::set<std::string> keys;
    std::string ptr;
  };

  std::string pointer_of_current() const {
    if (levels_.empty()) return "";
    const level& l = levels_.back();
    return l.ptr + "/" + (l.array ? std::to_string(l.index) : detail::pointer_token(l.key));
  }
  /// Array elements and the root get their own start; object members keep their key's.
  void element_start(std::size_t at) {
    if (levels_.empty() || levels_.back().array) pos_.emplace(pointer_of_current(), at);
  }
  void advance() {
    if (!levels_.empty() && levels_.back().array) ++levels_.back().index;
  }
  /// Start of the token that ends at or just before `offset` (the parser may have read
  /// one character past a number).
  std::size_t start_of(std::size_t offset, json::parse_event_t ev, const json& parsed) const {
    std::size_t e = std::min(offset, text_.size());
    if (ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) {
      return e > 0 ? e - 1 : 0;
    }
    if (ev == json::parse_event_t::value && parsed.is_number() && e > 0 &&
        std::string_view("0123456789.eE+-").find(text_[e - 1]) == std::string_view::npos) {
      --e;  // the lookahead character that ended the number
    }
    while (e > 0 && is_ws(text_[e - 1])) --e;
    if (e == 0) return 0;
    if (text_[e - 1] == '"') {
      std::size_t i = e - 1;
      while (i > 0) {
        --i;
        if (text_[i] == '"') {
          std::size_t bs = 0;
          while (i >= bs + 1 && text_[i - bs - 1] == '\\') ++bs;
          if (bs % 2 == 0) return i;
        }
      }
      return 0;
    }
    while (e > 0 && !is_ws(text_[e - 1]) && std::string_view(",:[{").find(text_[e - 1]) == std::string_view::npos) {
      --e;
    }
    return e;
  }

  std::string_view text_;
  const char* cur_;
  std::vector<level> levels_;
  std::map<std::string, std::size_t> pos_;
  std::vector<diagnostic> dups_;  // line holds the offset until resolved
};

/// Offset -> (line, column), both 1-based.
class line_index {
 public:
  explicit line_index(std::string_view text) {
    starts_.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(i + 1);
    }
  }
  std::pair<std::size_t, std::size_t> at(std::size_t offset) const {
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
    const auto line = static_cast<std::size_t>(it - starts_.begin());
    return {line, offset - starts_[line - 1] + 1};
  }

 private:
  std::vector<std::size_t> starts_;
};

// --- the checker ------------------------------------------------------------------------


std::string join(const std::vector<std::string_view>& v) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += ", ";
    s += x;
  }
  return s;
}

class checker {
 public:
  explicit checker(std::vector<diagnostic>& out) : out_(&out) {}

  void error(const std::string& ptr, std::string msg) { out_->push_back({severity::error, ptr, 0, 0, std::move(msg)}); }
  void warning(const std::string& ptr, std::string msg) {
    out_->push_back({severity::warning, ptr, 0, 0, std::move(msg)});
  }

  /// Checks that `j` is an object with only `allowed` keys and every `required` key.
  bool object(const json& j, const std::string& ptr, std::initializer_list<std::string_view> allowed,
              std::initializer_list<std::string_view> required = {}) {
    if (!j.is_object()) {
      error(ptr, fmt::format("must be an object, not {}", detail::type_name(j)));
      return false;
    }
    for (const auto& [k, v] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        error(ptr + "/" + detail::pointer_token(k),
              fmt::format("unknown key \"{}\" (allowed: {})", k, join(std::vector<std::string_view>(allowed))));
      }
    }
    for (const auto& r : required) {
      if (!j.contains(r)) error(ptr, fmt::format("missing required key \"{}\"", r));
    }
    return true;
  }

  const json* member(const json& obj, std::string_view key) {
    if (!obj.is_object()) return nullptr;
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  std::optional<std::int64_t> integer(const json& obj, const std::string& ptr, std::string_view key,
                                      std::int64_t lo, std::int64_t hi) {
    const json* v = member(obj, key);
    if (v == nullptr) return std::nullopt;
    return integer_value(*v, ptr + "/" + std::string(key), lo, hi);
  }
  std::optional<std::int64_t> integer_value(const json& v, const std::string& p, std::int64_t lo, std::int64_t hi) {
    if (!v.is_number_integer()) {
      error(p, fmt::format("must be an integer, not {}", detail::type_name(v)));
      return std::nullopt;
    }
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      error(p, fmt::format("{} is out of range [{}, {}]", v.get<std::uint64_t>(), lo, hi));
      return std::nullopt;
    }
    const auto x = v.get<std::int64_t>();
    if (x < lo || x > hi) {
      error(p, fmt::format("{} is out of range [{}, {}]", x, lo, hi));
      return std::nullopt;
    }
    return x;
  }
  std::optional<std::uint64_t> unsigned64(const json& obj, const std::string& ptr, std::string_view key) {
    const json* v = member(obj, key);
    if (v == nullptr) return std::nullopt;
    const std::string p = ptr + "/" + std::string(key);
    if (!v->is_number_unsigned()) {
      error(p, fmt::format("must be an integer >= 0, not {}", v->is_number_integer() ? "negative" : detail::type_name(*v)));
      return std::nullopt;
    }
    return v->get<std::uint64_t>();
  }
  std::optional<std::string> string(const json& obj, const std::string& ptr, std::string_view key) {
    const json* v = member(obj, key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      error(ptr + "/" + std::string(key), fmt::format("must be a string, not {}", detail::type_name(*v)));
      return std::nullopt;
    }
    return v->get<std::string>();
  }
  std::optional<std::string> name(const json& obj, const std::string& ptr, std::string_view key) {
    auto s = string(obj, ptr, key);
    if (s && (s->empty() || s->find_first_of(": /") != std::string::npos)) {
      error(ptr + "/" + std::string(key),
            fmt::format("\"{}\" is not a valid name (not empty, no ':', '/' or space)", *s));
      return std::nullopt;
    }
    return s;
  }
  std::optional<bool> boolean(const json& obj, const std::string& ptr, std::string_view key) {
    const json* v = member(obj, key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      error(ptr + "/" + std::string(key), fmt::format("must be true or false, not {}", detail::type_name(*v)));
      return std::nullopt;
    }
    return v->get<bool>();
  }
  std::optional<double> probability(const json& obj, const std::string& ptr, std::string_view key) {
    const json* v = member(obj, key);
    if (v == nullptr) return std::nullopt;
    const std::string p = ptr + "/" + std::string(key);
    if (!v->is_number()) {
      error(p, fmt::format("must be a number, not {}", detail::type_name(*v)));
      return std::nullopt;
    }
    const double x = v->get<double>();
    if (!(x >= 0.0 && x <= 1.0)) {
      error(p, fmt::format("{} is not a probability in [0, 1]", x));
      return std::nullopt;
    }
    return x;
  }
  std::optional<sim_time> duration(const json& obj, const std::string& ptr, std::string_view key) {
    const json* v = member(obj, key);
    if (v == nullptr) return std::nullopt;
    return duration_value(*v, ptr + "/" + std::string(key));
  }
  std::optional<sim_time> duration_value(const json& v, const std::string& p) {
    if (!v.is_string()) {
      error(p, fmt::format("must be a duration string with a unit (\"2.5s\", \"100ms\"), not {}", detail::type_name(v)));
      return std::nullopt;
    }
    const auto t = sim_time::parse(v.get<std::string>());
    if (!t) {
      error(p, fmt::format("\"{}\" is not a duration (a decimal number and one of ns, us, ms, s, min)",
                           v.get<std::string>()));
    }
    return t;
  }
  std::optional<std::uint64_t> rate(const json& obj, const std::string& ptr, std::string_view key) {
    const json* v = member(obj, key);
    if (v == nullptr) return std::nullopt;
    const std::string p = ptr + "/" + std::string(key);
    if (!v->is_string()) {
      error(p, fmt::format("must be a rate string with a unit (\"1Gbps\", \"10Mbps\"), not {}", detail::type_name(*v)));
      return std::nullopt;
    }
    const auto r = parse_rate(v->get<std::string>());
    if (!r || *r == 0) {
      error(p, fmt::format("\"{}\" is not a positive rate (a decimal number and one of bps, kbps, Mbps, Gbps)",
                           v->get<std::string>()));
      return std::nullopt;
    }
    return r;
  }
  std::optional<wire::mac_address> mac(const json& obj, const std::string& ptr, std::string_view key) {
    auto s = string(obj, ptr, key);
    if (!s) return std::nullopt;
    const auto m = wire::mac_address::parse(*s);
    if (!m) error(ptr + "/" + std::string(key), fmt::format("\"{}\" is not a MAC address (aa:bb:cc:dd:ee:ff)", *s));
    return m;
  }
  std::optional<std::string> choice(const json& obj, const std::string& ptr, std::string_view key,
                                    std::initializer_list<std::string_view> options) {
    auto s = string(obj, ptr, key);
    if (!s) return std::nullopt;
    if (std::find(options.begin(), options.end(), *s) == options.end()) {
      error(ptr + "/" + std::string(key),
            fmt::format("\"{}\" is not one of: {}", *s, join(std::vector<std::string_view>(options))));
      return std::nullopt;
    }
    return s;
  }
  const json* array(const json& obj, const std::string& ptr, std::string_view key) {
    const json* v = member(obj, key);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) {
      error(ptr + "/" + std::string(key), fmt::format("must be an array, not {}", detail::type_name(*v)));
      return nullptr;
    }
    return v;
  }

  const std::vector<diagnostic>& diagnostics() const { return *out_; }

 private:
  std::vector<diagnostic>* out_;
};

constexpr std::int64_t max_count = INT64_MAX;

/// 802.1Q-2018 9.6 Table 9-2: VID 0 is the null VID (priority tag) and 4095 (FFF) is
/// reserved; usable VIDs are 1-4094.
std::optional<std::uint16_t> vlan(checker& c, const json& obj, const std::string& ptr, std::string_view key) {
  const json* v = c.member(obj, key);
  if (v == nullptr) return std::nullopt;
  const std::string p = ptr + "/" + std::string(key);
  if (v->is_number_integer() && (v->get<std::int64_t>() == 0 || v->get<std::int64_t>() == 4095)) {
    c.error(p, fmt::format("VLAN id {} is reserved (802.1Q-2018 Table 9-2: usable VIDs are 1-4094)",
                           v->get<std::int64_t>()));
    return std::nullopt;
  }
  const auto x = c.integer_value(*v, p, net::min_vlan, net::max_vlan);
  if (!x) return std::nullopt;
  return static_cast<std::uint16_t>(*x);
}

/// Checks host Advanced Settings with host::host_set::set_advanced itself, on a scratch
/// host built on first use: the loader and the builder cannot disagree on a name or value.
class advanced_validator {
 public:
  /// nullopt when the host layer accepts `key` = `value`; else its reason (host name cut).
  std::optional<std::string> check(std::string_view key, std::string_view value) {
    if (!s_) s_ = std::make_unique<scratch>();
    try {
      s_->hosts.set_advanced(s_->host, key, value);
    } catch (const host::host_error& e) {
      std::string why = e.what();
      const std::string prefix = fmt::format("host \"{}\": ", scratch_name);
      if (why.starts_with(prefix)) why.erase(0, prefix.size());
      return why;
    }
    return std::nullopt;
  }

 private:
  static constexpr std::string_view scratch_name = "settings";
  static dev::frame_pool_config tiny_pool() {
    dev::frame_pool_config c;
    for (auto& k : c.classes) k = {1, 0, 1};
    return c;
  }
  struct scratch {
    kernel::simulator sim;
    kernel::rng_streams streams{1};
    dev::frame_pool pool{tiny_pool()};
    dev::link_set links{sim, streams};
    dev::nic_set nics{sim, pool, links};
    host::host_set hosts{sim, pool, links, nics, streams};
    host::host_id host = hosts.add_host(scratch_name);
  };
  std::unique_ptr<scratch> s_;
};

class model_reader {
 public:
  model_reader(checker& c, scenario_model& m) : c_(c), m_(m) {}

  void read(const json& root) {
    if (!c_.object(root, "",
                   {"vnetsim", "name", "description", "seed", "duration", "observe_interval", "switches", "hubs",
                    "stations", "links", "probes", "timeline", "captures", "expectations", "settings", "hosts",
                    "endpoints", "flows", "pings", "tcp"},
                   {"vnetsim", "name", "duration"})) {
      return;
    }
    if (const json* v = c_.member(root, "vnetsim")) {
      if (!v->is_number_integer() || v->get<std::int64_t>() != format_version) {
        c_.error("/vnetsim", fmt::format("unsupported format version {} (this build reads {})", v->dump(),
                                         format_version));
      }
    }
    if (auto s = c_.string(root, "", "name")) m_.name = *s;
    if (auto s = c_.string(root, "", "description")) m_.description = *s;
    if (auto s = c_.unsigned64(root, "", "seed")) m_.seed = *s;
    if (auto d = c_.duration(root, "", "duration")) {
      if (*d <= sim_time::zero()) c_.error("/duration", "must be positive");
      m_.duration = *d;
    }
    if (auto d = c_.duration(root, "", "observe_interval")) {
      if (*d <= sim_time::zero()) c_.error("/observe_interval", "must be positive");
      else m_.observe_interval = *d;
    }
    if (const json* s = c_.member(root, "settings")) m_.settings = advanced_settings(*s, "/settings");
    each(root, "switches", [&](const json& j, const std::string& p) { read_switch(j, p); });
    each(root, "hubs", [&](const json& j, const std::string& p) { read_hub(j, p); });
    each(root, "stations", [&](const json& j, const std::string& p) { read_station(j, p); });
    each(root, "endpoints", [&](const json& j, const std::string& p) { read_endpoint(j, p); });
    each(root, "hosts", [&](const json& j, const std::string& p) { read_host(j, p); });
    each(root, "links", [&](const json& j, const std::string& p) { read_link(j, p); });
    each(root, "probes", [&](const json& j, const std::string& p) { read_probe(j, p); });
    each(root, "flows", [&](const json& j, const std::string& p) { read_flow(j, p); });
    each(root, "pings", [&](const json& j, const std::string& p) { read_ping(j, p); });
    each(root, "tcp", [&](const json& j, const std::string& p) { read_tcp(j, p); });
    each(root, "timeline", [&](const json& j, const std::string& p) { read_action(j, p); });
    each(root, "captures", [&](const json& j, const std::string& p) { read_capture(j, p); });
    each(root, "expectations", [&](const json& j, const std::string& p) { read_expectation(j, p); });
    check_macs();
    // The topology checks need a consistent model: run them only when it has no error.
    if (std::none_of(out_errors().begin(), out_errors().end(),
                     [](const diagnostic& d) { return d.level == severity::error; })) {
      try {
        check_topology();
        check_beacon_domains();
      } catch (const net::topology_error& e) {
        c_.error("/links", e.what());
      }
    }
  }

 private:
  template <class F>
  void each(const json& root, std::string_view key, F&& f) {
    const json* a = c_.array(root, "", key);
    if (a == nullptr) return;
    for (std::size_t i = 0; i < a->size(); ++i) f((*a)[i], fmt::format("/{}/{}", key, i));
  }

  /// Registers a device name (switches, hubs and stations share one namespace).
  void device_name(const std::string& name, const std::string& ptr, char kind) {
    if (!devices_.emplace(name, kind).second) {
      c_.error(ptr, fmt::format("duplicate device name \"{}\"", name));
    }
  }
  void note_mac(wire::mac_address m, const std::string& ptr) {
    macs_.push_back({m, ptr});
  }

  void read_port_config(const json& j, const std::string& p, net::port_config& pc, bool with_port) {
    std::initializer_list<std::string_view> keys_with = {"port", "mode", "vlan", "allowed_vlans", "native_vlan",
                                                         "admin_up", "edge", "path_cost", "bpdu_guard"};
    std::initializer_list<std::string_view> keys_without = {"mode", "vlan", "allowed_vlans", "native_vlan",
                                                            "admin_up", "edge", "path_cost", "bpdu_guard"};
    if (!c_.object(j, p, with_port ? keys_with : keys_without, with_port ? std::initializer_list<std::string_view>{"port"}
                                                                          : std::initializer_list<std::string_view>{})) {
      return;
    }
    if (auto s = c_.choice(j, p, "mode", {"access", "trunk"})) pc.mode = *s == "trunk" ? net::port_mode::trunk : net::port_mode::access;
    if (auto v = vlan(c_, j, p, "vlan")) pc.access_vlan = *v;
    if (auto v = vlan(c_, j, p, "native_vlan")) pc.native_vlan = *v;
    if (const json* a = c_.array(j, p, "allowed_vlans")) {
      pc.allowed_vlans.clear();
      for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string ep = fmt::format("{}/allowed_vlans/{}", p, i);
        json wrap = json::object({{"v", (*a)[i]}});
        // vlan() names the key; rebuild the pointer to the element itself.
        std::vector<diagnostic> tmp;
        checker inner(tmp);
        if (auto v = vlan(inner, wrap, "", "v")) {
          if (std::find(pc.allowed_vlans.begin(), pc.allowed_vlans.end(), *v) != pc.allowed_vlans.end()) {
            c_.error(ep, fmt::format("VLAN {} listed twice", *v));
          }
          pc.allowed_vlans.push_back(*v);
        }
        for (auto& d : tmp) c_.error(ep, d.message);
      }
    }
    if (pc.mode == net::port_mode::trunk && !pc.allowed_vlans.empty() &&
        std::find(pc.allowed_vlans.begin(), pc.allowed_vlans.end(), pc.native_vlan) == pc.allowed_vlans.end()) {
      c_.error(p + "/native_vlan", fmt::format("native VLAN {} is not in allowed_vlans", pc.native_vlan));
    }
    if (auto b = c_.boolean(j, p, "admin_up")) pc.admin_up = *b;
    if (auto b = c_.boolean(j, p, "edge")) pc.edge = *b;
    if (auto b = c_.boolean(j, p, "bpdu_guard")) pc.bpdu_guard = *b;
    // 802.1D-2004 17.13.11 / Table 17-3: 1-200,000,000 (0 here: the engine's default).
    if (auto v = c_.integer(j, p, "path_cost", 1, 200'000'000)) pc.path_cost = static_cast<std::uint32_t>(*v);
  }

  void read_switch(const json& j, const std::string& p) {
    if (!c_.object(j, p,
                   {"name", "ports", "stp", "bridge", "latency", "link_detect_delay", "default_port", "port_config",
                    "port_channels", "lacp_system", "lacp_system_priority", "fdb"},
                   {"name", "ports"})) {
      return;
    }
    switch_spec s;
    if (auto n = c_.name(j, p, "name")) {
      s.cfg.name = *n;
      device_name(*n, p + "/name", 's');
    }
    if (auto v = c_.integer(j, p, "ports", 1, static_cast<std::int64_t>(net::max_switch_ports))) {
      s.cfg.ports = static_cast<std::uint16_t>(*v);
    }
    if (auto m = c_.choice(j, p, "stp", {"none", "stp", "rstp"})) {
      s.cfg.stp = *m == "stp" ? net::stp_mode::stp : *m == "rstp" ? net::stp_mode::rstp : net::stp_mode::none;
    }
    if (const json* b = c_.member(j, "bridge")) {
      const std::string bp = p + "/bridge";
      if (c_.object(*b, bp, {"mac", "priority", "hello_time", "max_age", "forward_delay"}, {"mac"})) {
        if (auto m = c_.mac(*b, bp, "mac")) {
          s.cfg.stp_bridge.address = *m;
          s.cfg.rstp_bridge.address = *m;
          note_mac(*m, bp + "/mac");
        }
        if (auto v = c_.integer(*b, bp, "priority", 0, 61440)) {
          // 802.1D-2004 17.13.7 / 802.1t: a multiple of 4096.
          if (*v % 4096 != 0) c_.error(bp + "/priority", fmt::format("{} is not a multiple of 4096 (802.1D-2004 17.13.7)", *v));
          s.cfg.stp_bridge.priority = s.cfg.rstp_bridge.priority = static_cast<std::uint16_t>(*v);
        }
        auto hello = c_.duration(*b, bp, "hello_time");
        auto age = c_.duration(*b, bp, "max_age");
        auto fwd = c_.duration(*b, bp, "forward_delay");
        if (hello) s.cfg.stp_bridge.hello_time = s.cfg.rstp_bridge.hello_time = *hello;
        if (age) s.cfg.stp_bridge.max_age = s.cfg.rstp_bridge.max_age = *age;
        if (fwd) s.cfg.stp_bridge.forward_delay = s.cfg.rstp_bridge.forward_delay = *fwd;
        if ((hello || !b->contains("hello_time")) && (age || !b->contains("max_age")) &&
            (fwd || !b->contains("forward_delay"))) {
          try {
            if (s.cfg.stp == net::stp_mode::rstp) {
              rstp::validate_times(s.cfg.rstp_bridge.hello_time, s.cfg.rstp_bridge.max_age,
                                   s.cfg.rstp_bridge.forward_delay);
            } else {
              stp::validate_times(s.cfg.stp_bridge.hello_time, s.cfg.stp_bridge.max_age,
                                  s.cfg.stp_bridge.forward_delay);
            }
          } catch (const std::exception& e) {
            c_.error(bp, e.what());
          }
        }
      }
    } else if (s.cfg.stp != net::stp_mode::none) {
      c_.error(p, "missing \"bridge\" (its \"mac\" is the Bridge Address the spanning tree needs)");
    }
    if (auto d = c_.duration(j, p, "latency")) s.cfg.latency = *d;
    if (auto d = c_.duration(j, p, "link_detect_delay")) s.cfg.link_detect_delay = *d;
    if (const json* d = c_.member(j, "default_port")) read_port_config(*d, p + "/default_port", s.cfg.default_port, false);
    if (const json* f = c_.member(j, "fdb")) {
      const std::string fp = p + "/fdb";
      if (c_.object(*f, fp, {"capacity", "ageing_time", "move_limit", "move_window", "move_hold"})) {
        if (auto v = c_.integer(*f, fp, "capacity", 0, 1 << 24)) s.cfg.fdb.capacity = static_cast<std::uint32_t>(*v);
        if (auto d = c_.duration(*f, fp, "ageing_time")) s.cfg.fdb.ageing_time = *d;
        if (auto v = c_.integer(*f, fp, "move_limit", 0, 1 << 20)) s.cfg.fdb.move_limit = static_cast<std::uint32_t>(*v);
        if (auto d = c_.duration(*f, fp, "move_window")) s.cfg.fdb.move_window = *d;
        if (auto d = c_.duration(*f, fp, "move_hold")) s.cfg.fdb.move_hold = *d;
      }
    }
    if (auto m = c_.mac(j, p, "lacp_system")) {
      s.cfg.lacp_system = *m;
      note_mac(*m, p + "/lacp_system");
    }
    if (auto v = c_.integer(j, p, "lacp_system_priority", 0, 65535)) s.cfg.lacp_system_priority = static_cast<std::uint16_t>(*v);
    std::set<std::uint16_t> seen;
    if (const json* a = c_.array(j, p, "port_config")) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string pp = fmt::format("{}/port_config/{}", p, i);
        net::port_config pc = s.cfg.default_port;
        read_port_config((*a)[i], pp, pc, true);
        if (auto n = c_.integer((*a)[i], pp, "port", 0, s.cfg.ports - 1)) {
          if (!seen.insert(static_cast<std::uint16_t>(*n)).second) {
            c_.error(pp + "/port", fmt::format("port {} configured twice", *n));
          }
          s.ports.emplace_back(static_cast<net::port_no>(*n), pc);
        }
      }
    }
    std::set<std::uint16_t> in_channel;
    if (const json* a = c_.array(j, p, "port_channels")) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string cp = fmt::format("{}/port_channels/{}", p, i);
        const json& cj = (*a)[i];
        if (!c_.object(cj, cp, {"name", "members", "mode", "hash", "rate", "activity"}, {"members"})) continue;
        net::port_channel_config pc;
        if (auto n = c_.name(cj, cp, "name")) pc.name = *n;
        if (const json* mem = c_.array(cj, cp, "members")) {
          if (mem->empty()) c_.error(cp + "/members", "needs at least one member port");
          for (std::size_t k = 0; k < mem->size(); ++k) {
            const std::string mp = fmt::format("{}/members/{}", cp, k);
            if (auto n = c_.integer_value((*mem)[k], mp, 0, s.cfg.ports - 1)) {
              if (!in_channel.insert(static_cast<std::uint16_t>(*n)).second) {
                c_.error(mp, fmt::format("port {} is already in a port-channel", *n));
              }
              pc.members.push_back(static_cast<net::port_no>(*n));
            }
          }
        }
        if (auto m = c_.choice(cj, cp, "mode", {"on", "lacp"})) pc.mode = *m == "lacp" ? net::channel_mode::lacp : net::channel_mode::on;
        if (auto h = c_.choice(cj, cp, "hash", {"src-mac", "dst-mac", "src-dst-mac", "src-dst-ip"})) {
          pc.hash = *h == "src-mac"   ? net::channel_hash::src_mac
                    : *h == "dst-mac" ? net::channel_hash::dst_mac
                    : *h == "src-dst-ip" ? net::channel_hash::src_dst_ip
                                         : net::channel_hash::src_dst_mac;
        }
        if (auto r = c_.choice(cj, cp, "rate", {"fast", "slow"})) {
          pc.rate = *r == "fast" ? lacp::lacp_timeout::short_timeout : lacp::lacp_timeout::long_timeout;
        }
        if (auto r = c_.choice(cj, cp, "activity", {"active", "passive"})) {
          pc.activity = *r == "active" ? lacp::activity::active : lacp::activity::passive;
        }
        if (pc.mode == net::channel_mode::lacp && !j.contains("lacp_system")) {
          c_.error(cp + "/mode", "an lacp port-channel needs the switch's \"lacp_system\" MAC");
        }
        if (s.cfg.stp != net::stp_mode::none) {
          c_.error(cp, "port-channels on a switch running STP/RSTP are not supported (net/switch.hpp)");
        }
        s.channels.push_back(std::move(pc));
      }
    }
    m_.switches.push_back(std::move(s));
  }

  void read_hub(const json& j, const std::string& p) {
    if (!c_.object(j, p, {"name", "ports", "latency"}, {"name", "ports"})) return;
    hub_spec h;
    if (auto n = c_.name(j, p, "name")) {
      h.name = *n;
      device_name(*n, p + "/name", 'h');
    }
    if (auto v = c_.integer(j, p, "ports", 2, 4096)) h.ports = static_cast<std::uint32_t>(*v);
    if (auto d = c_.duration(j, p, "latency")) h.latency = *d;
    m_.hubs.push_back(std::move(h));
  }

  void read_station(const json& j, const std::string& p) {
    if (!c_.object(j, p, {"name", "mac", "speed", "detect_down", "detect_up"}, {"name", "mac"})) return;
    station_spec s;
    if (auto n = c_.name(j, p, "name")) {
      s.name = *n;
      device_name(*n, p + "/name", 't');
    }
    if (auto m = c_.mac(j, p, "mac")) {
      if (m->is_multicast()) c_.error(p + "/mac", fmt::format("{} is a group address; a station needs a unicast MAC", *m));
      s.nic.mac = *m;
      note_mac(*m, p + "/mac");
    }
    if (auto r = c_.rate(j, p, "speed")) s.nic.speed_bps = *r;
    if (auto d = c_.duration(j, p, "detect_down")) s.nic.detect_down = *d;
    if (auto d = c_.duration(j, p, "detect_up")) s.nic.detect_up = *d;
    m_.stations.push_back(std::move(s));
  }

  /// "ip" ("a.b.c.d/len") and "gateway" of an endpoint (top-level or on a vNIC).
  void ip_fields(const json& j, const std::string& p, traffic::endpoint_config& cfg) {
    if (auto s = c_.string(j, p, "ip")) {
      // "a.b.c.d/len" (RFC 4632 3.1 prefix notation).
      const auto slash = s->find('/');
      const auto ip = wire::ipv4_address::parse(s->substr(0, slash));
      int len = -1;
      if (slash != std::string::npos && slash + 1 < s->size() && s->size() - slash <= 3) {
        len = 0;
        for (char ch : s->substr(slash + 1)) len = (ch >= '0' && ch <= '9') ? len * 10 + (ch - '0') : 99;
      }
      if (!ip || len < 0 || len > 32) {
        c_.error(p + "/ip", fmt::format("\"{}\" is not an IPv4 address with a prefix length (10.0.0.1/24)", *s));
      } else {
        cfg.ip = *ip;
        cfg.prefix_len = static_cast<unsigned>(len);
        if (!ips_.emplace(*ip, p + "/ip").second) c_.error(p + "/ip", fmt::format("duplicate IPv4 address {}", s->substr(0, slash)));
        endpoint_ips_[cfg.name] = *ip;
      }
    }
    if (auto s = c_.string(j, p, "gateway")) {
      const auto gw = wire::ipv4_address::parse(*s);
      if (!gw) c_.error(p + "/gateway", fmt::format("\"{}\" is not an IPv4 address", *s));
      else cfg.gateway = *gw;
    }
  }

  /// A key = value object whose values are strings or integers (ESX settings as written).
  std::vector<setting> settings(const json& j, const std::string& p) {
    std::vector<setting> out;
    if (!j.is_object()) {
      c_.error(p, "must be an object of \"key\": value");
      return out;
    }
    for (const auto& [k, v] : j.items()) {
      if (v.is_string()) out.push_back({k, v.get<std::string>()});
      else if (v.is_number_integer()) out.push_back({k, std::to_string(v.get<std::int64_t>())});
      else c_.error(p + "/" + k, "must be a string or an integer");
    }
    return out;
  }

  /// Host Advanced Settings (the `settings` section, a host's `advanced`): the values as
  /// settings() reads them, each checked by the host layer's own rules (advanced_validator)
  /// so that a bad name or value is reported at its place in the file.
  std::vector<setting> advanced_settings(const json& j, const std::string& p) {
    std::vector<setting> out = settings(j, p);
    for (const auto& s : out) {
      if (auto why = validator_.check(s.key, s.value)) c_.error(p + "/" + detail::pointer_token(s.key), *why);
    }
    return out;
  }

  /// "vmnicN" -> N (nullopt when not of that form).
  static std::optional<unsigned> vmnic_number(std::string_view s, std::string_view prefix) {
    if (!s.starts_with(prefix) || s.size() == prefix.size() || s.size() > prefix.size() + 4) return std::nullopt;
    unsigned n = 0;
    for (char ch : s.substr(prefix.size())) {
      if (ch < '0' || ch > '9') return std::nullopt;
      n = n * 10 + static_cast<unsigned>(ch - '0');
    }
    return n;
  }

  void read_host(const json& j, const std::string& p) {
    if (!c_.object(j, p, {"name", "advanced", "vmnics", "bonds", "vswitches", "vms", "console"}, {"name"})) return;
    host_spec h;
    h.pointer = p;
    if (auto n = c_.name(j, p, "name")) {
      h.name = *n;
      device_name(*n, p + "/name", 'x');
    }
    if (const json* a = c_.member(j, "advanced")) h.advanced = advanced_settings(*a, p + "/advanced");
    if (const json* a = c_.array(j, p, "vmnics")) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const json& v = (*a)[i];
        const std::string vp = fmt::format("{}/vmnics/{}", p, i);
        if (!c_.object(v, vp, {"mac", "speed", "detect_down", "detect_up", "capabilities"}, {"mac"})) continue;
        dev::nic_config n;
        if (auto m = c_.mac(v, vp, "mac")) {
          if (m->is_multicast()) c_.error(vp + "/mac", fmt::format("{} is a group address; a NIC needs a unicast MAC", *m));
          n.mac = *m;
          note_mac(*m, vp + "/mac");
        }
        if (auto r = c_.rate(v, vp, "speed")) n.speed_bps = *r;
        if (auto d = c_.duration(v, vp, "detect_down")) n.detect_down = *d;
        if (auto d = c_.duration(v, vp, "detect_up")) n.detect_up = *d;
        if (const json* c = c_.member(v, "capabilities")) {
          const std::string cp = vp + "/capabilities";
          if (c_.object(*c, cp, {"vlan", "checksum", "tso"}, {})) {
            if (auto b = c_.boolean(*c, cp, "vlan")) n.caps.vlan_insert = n.caps.vlan_strip = *b;
            if (auto b = c_.boolean(*c, cp, "checksum")) n.caps.tx_checksum = n.caps.rx_checksum = *b;
            if (auto b = c_.boolean(*c, cp, "tso")) n.caps.tso = *b;
          }
        }
        h.vmnics.push_back(n);
      }
    }
    const auto nvmnics = static_cast<std::int64_t>(h.vmnics.size());
    std::set<unsigned> bonds;
    if (const json* a = c_.array(j, p, "bonds")) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const json& b = (*a)[i];
        const std::string bp = fmt::format("{}/bonds/{}", p, i);
        if (!c_.object(b, bp, {"number", "members", "nicteam"}, {"number", "members"})) continue;
        bond_spec bs;
        if (auto n = c_.integer(b, bp, "number", 0, 9)) {
          bs.number = static_cast<unsigned>(*n);
          if (!bonds.insert(bs.number).second) c_.error(bp + "/number", fmt::format("duplicate bond{}", bs.number));
        }
        if (const json* m = c_.array(b, bp, "members")) {
          for (std::size_t k = 0; k < m->size(); ++k) {
            if (nvmnics == 0) {
              c_.error(fmt::format("{}/members/{}", bp, k), "the host has no vmnics");
              break;
            }
            if (auto v = c_.integer_value((*m)[k], fmt::format("{}/members/{}", bp, k), 0, nvmnics - 1)) {
              bs.members.push_back(static_cast<unsigned>(*v));
            }
          }
        }
        if (const json* t = c_.member(b, "nicteam")) bs.nicteam = settings(*t, bp + "/nicteam");
        h.bonds.push_back(std::move(bs));
      }
    }
    if (const json* a = c_.array(j, p, "vswitches")) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const json& v = (*a)[i];
        const std::string vp = fmt::format("{}/vswitches/{}", p, i);
        if (!c_.object(v, vp, {"label", "binding", "ports", "port_groups"}, {"label", "binding"})) continue;
        vswitch_spec vs;
        if (auto s = c_.name(v, vp, "label")) vs.label = *s;
        if (auto s = c_.string(v, vp, "binding")) {
          if (auto n = vmnic_number(*s, "vmnic")) {
            if (*n >= h.vmnics.size()) c_.error(vp + "/binding", fmt::format("host \"{}\" has no {}", h.name, *s));
            vs.binding = host::vmnic_binding{*n};
          } else if (auto b = vmnic_number(*s, "bond")) {
            if (!bonds.contains(*b)) c_.error(vp + "/binding", fmt::format("host \"{}\" has no {}", h.name, *s));
            vs.binding = host::bond_binding{*b};
          } else if (vmnic_number(*s, "vmnet_")) {
            vs.binding = std::monostate{};
          } else {
            c_.error(vp + "/binding", fmt::format("\"{}\" is not \"vmnicN\", \"bondN\" or \"vmnet_N\"", *s));
          }
        }
        if (auto n = c_.integer(v, vp, "ports", 1, host::max_vswitch_ports)) vs.ports = static_cast<unsigned>(*n);
        if (const json* g = c_.array(v, vp, "port_groups")) {
          for (std::size_t k = 0; k < g->size(); ++k) {
            const std::string gp = fmt::format("{}/port_groups/{}", vp, k);
            if (!c_.object((*g)[k], gp, {"label", "vlan"}, {"label"})) continue;
            port_group_spec pg;
            if (auto s = c_.name((*g)[k], gp, "label")) pg.label = *s;
            if (auto n = c_.integer((*g)[k], gp, "vlan", 0, host::vgt_vlan)) pg.vlan = static_cast<std::uint16_t>(*n);
            vs.port_groups.push_back(std::move(pg));
          }
        }
        h.vswitches.push_back(std::move(vs));
      }
    }
    if (const json* a = c_.array(j, p, "vms")) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const json& v = (*a)[i];
        const std::string vp = fmt::format("{}/vms/{}", p, i);
        if (!c_.object(v, vp, {"name", "running", "vnics"}, {"name"})) continue;
        vm_spec vm;
        if (auto s = c_.name(v, vp, "name")) vm.name = *s;
        if (auto b = c_.boolean(v, vp, "running")) vm.running = *b;
        if (const json* n = c_.array(v, vp, "vnics")) {
          for (std::size_t k = 0; k < n->size(); ++k) {
            const json& x = (*n)[k];
            const std::string np = fmt::format("{}/vnics/{}", vp, k);
            if (!c_.object(x, np, {"name", "type", "network", "mac", "ip", "gateway", "vlan"}, {"network", "ip"})) continue;
            vnic_spec vn;
            // The endpoint's device name: "name", else the VM's name (first vNIC) or "<vm>-<k>".
            vn.ep.name = k == 0 ? vm.name : fmt::format("{}-{}", vm.name, k);
            if (auto s = c_.name(x, np, "name")) vn.ep.name = *s;
            device_name(vn.ep.name, np, 'v');
            endpoint_names_.insert(vn.ep.name);
            if (auto s = c_.choice(x, np, "type", {"vlance", "vmxnet"})) {
              vn.cfg.type = *s == "vlance" ? host::vnic_type::vlance : host::vnic_type::vmxnet;
            }
            if (auto s = c_.string(x, np, "network")) vn.cfg.network = *s;
            if (auto m = c_.mac(x, np, "mac")) {
              vn.cfg.mac = *m;
              note_mac(*m, np + "/mac");
            }
            ip_fields(x, np, vn.ep);
            // A guest tag (VGT port groups only, VID 4095 [VLANWP]).
            if (auto t = vlan(c_, x, np, "vlan")) vn.ep.vlan_tci = *t;
            vm.vnics.push_back(std::move(vn));
          }
        }
        h.vms.push_back(std::move(vm));
      }
    }
    if (const json* c = c_.member(j, "console")) read_host_console(*c, p + "/console", h);
    m_.hosts.push_back(std::move(h));
  }

  void read_endpoint(const json& j, const std::string& p) {
    if (!c_.object(j, p, {"name", "mac", "ip", "gateway", "vlan", "speed"}, {"name", "mac", "ip"})) return;
    endpoint_spec e;
    if (auto n = c_.name(j, p, "name")) {
      e.cfg.name = *n;
      device_name(*n, p + "/name", 'e');
      endpoint_names_.insert(*n);
    }
    if (auto m = c_.mac(j, p, "mac")) {
      if (m->is_multicast()) c_.error(p + "/mac", fmt::format("{} is a group address; an endpoint needs a unicast MAC", *m));
      e.cfg.mac = e.nic.mac = *m;
      note_mac(*m, p + "/mac");
    }
    ip_fields(j, p, e.cfg);
    if (auto v = vlan(c_, j, p, "vlan")) e.cfg.vlan_tci = *v;
    if (auto r = c_.rate(j, p, "speed")) e.nic.speed_bps = *r;
    m_.endpoints.push_back(std::move(e));
  }

  void read_flow(const json& j, const std::string& p) {
    if (!c_.object(j, p, {"name", "from", "to", "src_port", "dst_port", "size", "pps", "process", "start", "stop"},
                   {"name", "from", "to", "pps"})) {
      return;
    }
    flow_spec f;
    if (auto n = c_.name(j, p, "name")) {
      f.name = *n;
      if (!flows_.insert(*n).second) c_.error(p + "/name", fmt::format("duplicate flow name \"{}\"", *n));
    }
    for (const char* k : {"from", "to"}) {
      if (auto s = c_.string(j, p, k)) {
        if (!endpoint_names_.contains(*s)) c_.error(p + "/" + k, fmt::format("no endpoint named \"{}\"", *s));
        (std::string_view(k) == "from" ? f.from : f.to) = *s;
      }
    }
    if (auto v = c_.integer(j, p, "src_port", 1, 65535)) f.src_port = static_cast<std::uint16_t>(*v);
    if (auto v = c_.integer(j, p, "dst_port", 1, 65535)) f.dst_port = static_cast<std::uint16_t>(*v);
    // The flow header (sequence and time) needs 24 bytes; 1472 = 1500 MTU - 20 IPv4 - 8 UDP.
    if (auto v = c_.integer(j, p, "size", 24, 1472)) f.payload = static_cast<std::uint32_t>(*v);
    if (auto v = c_.integer(j, p, "pps", 1, 100'000'000)) f.rate_pps = static_cast<std::uint64_t>(*v);
    if (auto s = c_.choice(j, p, "process", {"constant", "poisson"})) {
      f.process = *s == "poisson" ? traffic::arrival_process::poisson : traffic::arrival_process::constant;
    }
    if (auto d = c_.duration(j, p, "start")) f.start = *d;
    if (auto d = c_.duration(j, p, "stop")) f.stop = *d;
    if (f.stop <= f.start) c_.error(p + "/stop", fmt::format("stop {} is not after start {}", f.stop, f.start));
    m_.flows.push_back(std::move(f));
  }

  void read_ping(const json& j, const std::string& p) {
    if (!c_.object(j, p, {"name", "from", "to", "start", "interval", "timeout", "count"}, {"name", "from", "to"})) return;
    ping_spec g;
    if (auto n = c_.name(j, p, "name")) {
      g.name = *n;
      if (!pings_.insert(*n).second) c_.error(p + "/name", fmt::format("duplicate ping name \"{}\"", *n));
    }
    for (const char* k : {"from", "to"}) {
      if (auto s = c_.string(j, p, k)) {
        if (!endpoint_names_.contains(*s)) c_.error(p + "/" + k, fmt::format("no endpoint named \"{}\"", *s));
        (std::string_view(k) == "from" ? g.from : g.to) = *s;
      }
    }
    if (auto d = c_.duration(j, p, "start")) g.start = *d;
    if (auto d = c_.duration(j, p, "interval")) {
      if (*d <= sim_time::zero()) c_.error(p + "/interval", "must be positive");
      else g.interval = *d;
    }
    if (auto d = c_.duration(j, p, "timeout")) {
      if (*d <= sim_time::zero()) c_.error(p + "/timeout", "must be positive");
      else g.timeout = *d;
    }
    // The ICMP sequence number is 16 bits (RFC 792).
    if (auto v = c_.integer(j, p, "count", 1, 65536)) g.count = static_cast<std::uint32_t>(*v);
    m_.pings.push_back(std::move(g));
  }

  /// A TCP bulk transfer between two endpoints (model.hpp tcp_spec).
  void read_tcp(const json& j, const std::string& p) {
    if (!c_.object(j, p, {"name", "from", "to", "bytes", "start", "stop", "client_port", "server_port", "mss", "bin"},
                   {"name", "from", "to"})) {
      return;
    }
    tcp_spec t;
    if (auto n = c_.name(j, p, "name")) {
      t.name = *n;
      if (!tcps_.insert(*n).second) c_.error(p + "/name", fmt::format("duplicate tcp name \"{}\"", *n));
    }
    for (const char* k : {"from", "to"}) {
      if (auto s = c_.string(j, p, k)) {
        if (!endpoint_names_.contains(*s)) c_.error(p + "/" + k, fmt::format("no endpoint named \"{}\"", *s));
        (std::string_view(k) == "from" ? t.from : t.to) = *s;
      }
    }
    if (!t.from.empty() && t.from == t.to) c_.error(p + "/to", "a TCP session goes from one endpoint to another");
    if (auto v = c_.unsigned64(j, p, "bytes")) t.bytes = *v;
    if (auto d = c_.duration(j, p, "start")) t.start = *d;
    if (auto d = c_.duration(j, p, "stop")) {
      if (*d <= t.start) c_.error(p + "/stop", fmt::format("stop {} is not after start {}", *d, t.start));
      t.stop = *d;
    }
    if (auto v = c_.integer(j, p, "client_port", 1, 65535)) t.client_port = static_cast<std::uint16_t>(*v);
    if (auto v = c_.integer(j, p, "server_port", 1, 65535)) t.server_port = static_cast<std::uint16_t>(*v);
    // 536: the default send MSS (RFC 9293 3.7.1); 1460: a 1500-byte MTU - 20 IPv4 - 20 TCP.
    if (auto v = c_.integer(j, p, "mss", 536, 1460)) t.mss = static_cast<std::uint16_t>(*v);
    if (auto d = c_.duration(j, p, "bin")) {
      if (*d <= sim_time::zero()) c_.error(p + "/bin", "must be positive");
      else t.bin = *d;
    }
    m_.tcp.push_back(std::move(t));
  }

  /// "<device>:<port>" or "<station>"; checks the device and the port range.
  std::optional<port_ref> end(const json& j, const std::string& p, std::string_view key) {
    auto s = c_.string(j, p, key);
    if (!s) return std::nullopt;
    const std::string ep = p + "/" + std::string(key);
    port_ref r;
    const auto colon = s->find(':');
    r.device = s->substr(0, colon);
    const auto dev = devices_.find(r.device);
    if (dev == devices_.end()) {
      c_.error(ep, fmt::format("no switch, hub, station or endpoint named \"{}\"", r.device));
      return std::nullopt;
    }
    if (dev->second == 'v') {
      c_.error(ep, fmt::format("\"{}\" is a VM's endpoint on a vNIC: link its host's vmnics instead", r.device));
      return std::nullopt;
    }
    if (dev->second == 'x' && colon != std::string::npos && console_end(r.device, s->substr(colon + 1))) {
      r.port = *console_end(r.device, s->substr(colon + 1));
    } else if (dev->second == 'x') {
      const auto n = colon == std::string::npos ? std::nullopt : vmnic_number(s->substr(colon + 1), "vmnic");
      std::size_t count = 0;
      for (const auto& h : m_.hosts) if (h.name == r.device) count = h.vmnics.size();
      if (!n || *n >= count) {
        c_.error(ep, count == 0 ? fmt::format("\"{}\": host \"{}\" has no vmnics", *s, r.device)
                                : fmt::format("\"{}\": host \"{}\" has vmnic0-vmnic{}", *s, r.device, count - 1));
        return std::nullopt;
      }
      r.port = *n;
    } else if (dev->second == 't' || dev->second == 'e') {
      if (colon != std::string::npos) c_.error(ep, fmt::format("\"{}\" has one NIC: write \"{}\"", r.device, r.device));
    } else {
      if (colon == std::string::npos) {
        c_.error(ep, fmt::format("\"{}\" needs a port: \"{}:<port>\"", r.device, r.device));
        return std::nullopt;
      }
      const std::string num = s->substr(colon + 1);
      std::uint32_t port = 0;
      bool ok = !num.empty() && num.size() < 6;
      for (char ch : num) {
        if (ch < '0' || ch > '9') ok = false;
        else port = port * 10 + static_cast<std::uint32_t>(ch - '0');
      }
      const std::uint32_t count = port_count(r.device, dev->second);
      if (!ok || port >= count) {
        c_.error(ep, fmt::format("\"{}\": {} \"{}\" has ports 0-{}", *s, dev->second == 's' ? "switch" : "hub", r.device,
                                 count - 1));
        return std::nullopt;
      }
      r.port = port;
    }
    if (!ends_.emplace(fmt::format("{}:{}", r.device, r.port), ep).second) {
      c_.error(ep, fmt::format("\"{}\" already has a link", *s));
    }
    return r;
  }
  std::uint32_t port_count(const std::string& device, char kind) const {
    if (kind == 's') {
      for (const auto& s : m_.switches) if (s.cfg.name == device) return s.cfg.ports;
    } else {
      for (const auto& h : m_.hubs) if (h.name == device) return h.ports;
    }
    return 1;
  }

  void read_link(const json& j, const std::string& p) {
    if (!c_.object(j, p, {"name", "a", "b", "speed", "delay", "queue"}, {"name", "a", "b"})) return;
    link_spec l;
    if (auto n = c_.name(j, p, "name")) {
      l.name = *n;
      if (!links_.insert(*n).second) c_.error(p + "/name", fmt::format("duplicate link name \"{}\"", *n));
    }
    auto a = end(j, p, "a");
    auto b = end(j, p, "b");
    if (a) l.a = *a;
    if (b) l.b = *b;
    if (auto r = c_.rate(j, p, "speed")) l.cfg.bandwidth_bps = *r;
    if (auto d = c_.duration(j, p, "delay")) l.cfg.delay = *d;
    if (auto v = c_.integer(j, p, "queue", 0, 1 << 24)) l.cfg.queue_frames = static_cast<std::uint32_t>(*v);
    m_.links.push_back(std::move(l));
  }

  bool is_station(const std::string& n) const {
    const auto it = devices_.find(n);
    return it != devices_.end() && it->second == 't';
  }
  bool is_host(const std::string& n) const {
    const auto it = devices_.find(n);
    return it != devices_.end() && it->second == 'x';
  }
  const host_spec* find_host(const std::string& n) const {
    for (const auto& h : m_.hosts) if (h.name == n) return &h;
    return nullptr;
  }
  bool is_switch(const std::string& n) const {
    const auto it = devices_.find(n);
    return it != devices_.end() && it->second == 's';
  }
  const switch_spec* find_switch(const std::string& n) const {
    for (const auto& s : m_.switches) if (s.cfg.name == n) return &s;
    return nullptr;
  }

  void read_probe(const json& j, const std::string& p) {
    if (!c_.object(j, p, {"name", "from", "to", "dst_mac", "vlan", "interval", "start", "stop", "size"},
                   {"name", "from", "to"})) {
      return;
    }
    probe_spec pr;
    if (auto n = c_.name(j, p, "name")) {
      pr.name = *n;
      if (!probes_.insert(*n).second) c_.error(p + "/name", fmt::format("duplicate probe name \"{}\"", *n));
    }
    for (const char* k : {"from", "to"}) {
      if (auto s = c_.string(j, p, k)) {
        if (!is_station(*s)) c_.error(p + "/" + k, fmt::format("no station named \"{}\"", *s));
        (std::string_view(k) == "from" ? pr.from : pr.to) = *s;
      }
    }
    if (!pr.from.empty() && pr.from == pr.to) c_.error(p + "/to", "a probe goes from one station to another");
    if (auto m = c_.mac(j, p, "dst_mac")) pr.dst_mac = *m;
    if (auto v = vlan(c_, j, p, "vlan")) pr.vlan = *v;
    if (auto d = c_.duration(j, p, "interval")) {
      if (*d <= sim_time::zero()) c_.error(p + "/interval", "must be positive");
      else pr.interval = *d;
    }
    if (auto d = c_.duration(j, p, "start")) pr.start = *d;
    if (auto d = c_.duration(j, p, "stop")) pr.stop = *d;
    if (pr.stop < pr.start) c_.error(p + "/stop", fmt::format("stop {} is before start {}", pr.stop, pr.start));
    // 60 bytes: the minimum frame without FCS (802.3-2018 4.4.2); 1514: 1500-byte MTU + header.
    if (auto v = c_.integer(j, p, "size", 60, 1514)) pr.size = static_cast<std::uint32_t>(*v);
    if (pr.stop >= pr.start && (pr.stop - pr.start) / pr.interval > 10'000'000) {
      c_.error(p + "/interval", "more than 10,000,000 probe frames");
    }
    m_.probes.push_back(std::move(pr));
  }

  std::optional<dev::link_side> side(const json& j, const std::string& p, std::string_view key, bool both_ok) {
    auto s = both_ok ? c_.choice(j, p, key, {"a", "b", "both"}) : c_.choice(j, p, key, {"a", "b"});
    if (!s || *s == "both") return std::nullopt;
    return *s == "a" ? dev::link_side::a : dev::link_side::b;
  }

  void read_action(const json& j, const std::string& p) {
    if (!j.is_object()) {
      c_.error(p, fmt::format("must be an object, not {}", detail::type_name(j)));
      return;
    }
    const auto act = c_.choice(j, p, "action",
                                {"link_down", "link_up", "black_hole", "loss", "delay", "power_off", "power_on",
                                 "shutdown", "no_shutdown", "trap_ether_type", "trap_beacons", "configure_port",
                                 "set_advanced", "set_nicteam", "console", "vm_power", "bond_add_member",
                                 "bond_remove_member", "rename_label"});
    if (!j.contains("action")) c_.error(p, "missing required key \"action\"");
    if (!j.contains("at")) c_.error(p, "missing required key \"at\"");
    action_spec a;
    if (auto d = c_.duration(j, p, "at")) a.at = *d;
    if (!act) {
      return;
    }
    const std::string& k = *act;
    auto link_target = [&](std::initializer_list<std::string_view> allowed) {
      c_.object(j, p, allowed, {"link"});
      if (auto s = c_.string(j, p, "link")) {
        if (!links_.contains(*s)) c_.error(p + "/link", fmt::format("no link named \"{}\"", *s));
        a.target = *s;
      }
    };
    auto switch_target = [&](std::initializer_list<std::string_view> allowed,
                             std::initializer_list<std::string_view> required) {
      c_.object(j, p, allowed, required);
      if (auto s = c_.string(j, p, "switch")) {
        if (!is_switch(*s)) c_.error(p + "/switch", fmt::format("no switch named \"{}\"", *s));
        a.target = *s;
      }
      if (j.contains("port")) {
        const switch_spec* sw = find_switch(a.target);
        if (auto n = c_.integer(j, p, "port", 0, sw != nullptr ? sw->cfg.ports - 1 : 4095)) {
          a.port = static_cast<std::uint16_t>(*n);
        }
      }
    };
    if (k == "link_down" || k == "link_up") {
      a.kind = k == "link_down" ? action_kind::link_down : action_kind::link_up;
      link_target({"at", "action", "link"});
    } else if (k == "black_hole") {
      a.kind = action_kind::black_hole;
      link_target({"at", "action", "link", "from", "on"});
      a.from = side(j, p, "from", true);
      if (auto b = c_.boolean(j, p, "on")) a.on = *b;
    } else if (k == "loss") {
      a.kind = action_kind::loss;
      link_target({"at", "action", "link", "from", "probability"});
      if (!j.contains("probability")) c_.error(p, "missing required key \"probability\"");
      a.from = side(j, p, "from", true);
      if (auto v = c_.probability(j, p, "probability")) a.probability = *v;
    } else if (k == "delay") {
      a.kind = action_kind::delay;
      link_target({"at", "action", "link", "delay"});
      if (!j.contains("delay")) c_.error(p, "missing required key \"delay\"");
      if (auto d = c_.duration(j, p, "delay")) a.delay = *d;
    } else if (k == "power_off" || k == "power_on") {
      a.kind = action_kind::switch_power;
      a.on = k == "power_on";
      switch_target({"at", "action", "switch"}, {"switch"});
    } else if (k == "shutdown" || k == "no_shutdown") {
      a.kind = action_kind::port_admin;
      a.on = k == "no_shutdown";
      switch_target({"at", "action", "switch", "port"}, {"switch", "port"});
    } else if (k == "trap_ether_type" || k == "trap_beacons") {
      a.kind = action_kind::trap_ether_type;
      if (k == "trap_beacons") {
        switch_target({"at", "action", "switch", "on"}, {"switch"});
        a.ether_type = wire::beacon_default_ether_type;
      } else {
        switch_target({"at", "action", "switch", "on", "ether_type"}, {"switch"});
        // EtherType values start at 0x0600 (IEEE Std 802.3-2018 3.2.6).
        if (auto v = c_.integer(j, p, "ether_type", 0x0600, 0xffff)) a.ether_type = static_cast<std::uint16_t>(*v);
        else if (!j.contains("ether_type")) c_.error(p, "missing required key \"ether_type\"");
      }
      if (auto b = c_.boolean(j, p, "on")) a.on = *b;
    } else if (k == "set_advanced" || k == "set_nicteam") {
      // Values are checked when the change runs: a rejected one is a timeline entry.
      a.kind = k == "set_advanced" ? action_kind::set_advanced : action_kind::set_nicteam;
      c_.object(j, p, {"at", "action", "host", "key", "value"}, {"host", "key", "value"});
      if (auto s = c_.string(j, p, "host")) {
        if (!is_host(*s)) c_.error(p + "/host", fmt::format("no host named \"{}\"", *s));
        a.target = *s;
      }
      if (auto s = c_.string(j, p, "key")) a.key = *s;
      if (const json* v = c_.member(j, "value")) {
        if (v->is_string()) a.value = v->get<std::string>();
        else if (v->is_number_integer()) a.value = std::to_string(v->get<std::int64_t>());
        else c_.error(p + "/value", "must be a string or an integer");
      }
    } else if (k == "console") {
      detail::read_console_action(j, p, m_.hosts, a, console_errors());
    } else if (k == "vm_power" || k == "bond_add_member" || k == "bond_remove_member" || k == "rename_label") {
      read_host_action(j, p, k, a);
    } else if (k == "configure_port") {
      a.kind = action_kind::port_config;
      switch_target({"at", "action", "switch", "port", "config"}, {"switch", "port", "config"});
      const switch_spec* sw = find_switch(a.target);
      if (sw != nullptr) {
        a.port_cfg = sw->cfg.default_port;
        for (const auto& [n, pc] : sw->ports) if (n == a.port) a.port_cfg = pc;
      }
      if (const json* cfg = c_.member(j, "config")) read_port_config(*cfg, p + "/config", a.port_cfg, false);
    }
    if (a.at > m_.duration) c_.warning(p + "/at", fmt::format("at {} is after the end of the run ({})", a.at, m_.duration));
    m_.timeline.push_back(std::move(a));
  }

  /// Host configuration actions beyond set_advanced / set_nicteam: vm_power {host, vm, on},
  /// bond_add_member / bond_remove_member {host, bond, vmnic}, rename_label {host, label, to}.
  /// Names are checked here; whether the host accepts the change at that time (a running VM
  /// on the switch, 0 or 11 members) is decided when it runs: a rejection is a timeline entry.
  void read_host_action(const json& j, const std::string& p, const std::string& k, action_spec& a) {
    if (k == "vm_power") {
      a.kind = action_kind::vm_power;
      c_.object(j, p, {"at", "action", "host", "vm", "on"}, {"host", "vm", "on"});
    } else if (k == "rename_label") {
      a.kind = action_kind::rename_label;
      c_.object(j, p, {"at", "action", "host", "label", "to"}, {"host", "label", "to"});
    } else {
      a.kind = action_kind::bond_member;
      a.on = k == "bond_add_member";
      c_.object(j, p, {"at", "action", "host", "bond", "vmnic"}, {"host", "bond", "vmnic"});
    }
    if (auto s = c_.string(j, p, "host")) {
      if (!is_host(*s)) c_.error(p + "/host", fmt::format("no host named \"{}\"", *s));
      a.target = *s;
    }
    const host_spec* h = find_host(a.target);
    if (a.kind == action_kind::vm_power) {
      if (auto s = c_.string(j, p, "vm")) {
        a.key = *s;
        if (h != nullptr && std::none_of(h->vms.begin(), h->vms.end(), [&](const vm_spec& v) { return v.name == *s; })) {
          c_.error(p + "/vm", fmt::format("host \"{}\" has no VM named \"{}\"", a.target, *s));
        }
      }
      if (auto b = c_.boolean(j, p, "on")) a.on = *b;
    } else if (a.kind == action_kind::rename_label) {
      if (auto s = c_.name(j, p, "label")) a.key = *s;
      if (auto s = c_.name(j, p, "to")) a.value = *s;
    } else {
      if (auto s = c_.string(j, p, "bond")) {
        const auto n = vmnic_number(*s, "bond");
        if (!n || (h != nullptr && std::none_of(h->bonds.begin(), h->bonds.end(),
                                                [&](const bond_spec& b) { return b.number == *n; }))) {
          c_.error(p + "/bond", fmt::format("host \"{}\" has no bond \"{}\"", a.target, *s));
        } else {
          a.bond = *n;
        }
      }
      if (auto s = c_.string(j, p, "vmnic")) {
        const auto n = vmnic_number(*s, "vmnic");
        if (!n || (h != nullptr && *n >= h->vmnics.size())) {
          c_.error(p + "/vmnic", fmt::format("host \"{}\" has no vmnic \"{}\"", a.target, *s));
        } else {
          a.vmnic = *n;
        }
      }
    }
  }

  void read_capture(const json& j, const std::string& p) {
    if (!c_.object(j, p, {"link", "file"}, {"link"})) return;
    capture_spec cs;
    if (auto s = c_.string(j, p, "link")) {
      if (!links_.contains(*s)) c_.error(p + "/link", fmt::format("no link named \"{}\"", *s));
      cs.link = *s;
      cs.file = *s + ".pcap";
    }
    if (auto s = c_.string(j, p, "file")) {
      if (s->empty() || s->find('/') != std::string::npos || *s == "." || *s == "..") {
        c_.error(p + "/file", fmt::format("\"{}\" must be a plain file name (it goes in --pcap-dir)", *s));
      }
      cs.file = *s;
    }
    if (!capture_files_.insert(cs.file).second) c_.error(p + "/file", fmt::format("two captures write \"{}\"", cs.file));
    m_.captures.push_back(std::move(cs));
  }

  std::optional<comparison> op(const json& j, const std::string& p) {
    auto s = c_.choice(j, p, "op", {"==", "<=", ">=", "<", ">"});
    if (!s) return std::nullopt;
    if (*s == "==") return comparison::eq;
    if (*s == "<=") return comparison::le;
    if (*s == ">=") return comparison::ge;
    if (*s == "<") return comparison::lt;
    return comparison::gt;
  }

  void read_expectation(const json& j, const std::string& p) {
    if (!j.is_object()) {
      c_.error(p, fmt::format("must be an object, not {}", detail::type_name(j)));
      return;
    }
    const auto type = c_.choice(j, p, "type",
                                {"port_state", "mac_flaps", "frames_lost", "link_counter", "probe_lost",
                                 "probe_duplicates", "probe_max_gap", "spanning_tree", "flow_lost",
                                 "flow_duplicates", "flow_max_gap", "ping_loss", "bond_failover", "beacon_state",
                                 "host_counter", "management", "console_ping_loss", "vnic_uplink", "tcp_bytes",
                                 "tcp_retransmits", "tcp_max_stall"});
    if (!j.contains("type")) c_.error(p, "missing required key \"type\"");
    expectation_spec e;
    if (auto n = c_.name(j, p, "name")) e.name = *n;
    if (!type) return;
    const std::string& t = *type;
    if (e.name.empty()) e.name = fmt::format("{}#{}", t, m_.expectations.size() + 1);
    if (!expectation_names_.insert(e.name).second) c_.error(p + "/name", fmt::format("duplicate expectation name \"{}\"", e.name));
    auto count_bound = [&] {
      if (!j.contains("value")) c_.error(p, "missing required key \"value\"");
      if (auto v = c_.integer(j, p, "value", 0, max_count)) e.value = *v;
      if (auto o = op(j, p)) e.op = *o;
    };
    // flow_*, tcp_* and ping_loss: `key` names one of `names` (a `noun`), then op + value.
    auto named_target = [&](const char* key, const std::set<std::string>& names, std::string_view noun) {
      c_.object(j, p, {"name", "type", key, "op", "value"}, {key, "op", "value"});
      if (auto s = c_.string(j, p, key)) {
        if (!names.contains(*s)) c_.error(p + "/" + key, fmt::format("no {} named \"{}\"", noun, *s));
        e.target = *s;
      }
    };
    auto duration_bound = [&] {
      if (auto d = c_.duration(j, p, "value")) e.value = d->ns();
      if (auto o = op(j, p)) e.op = *o;
    };
    auto probe_target = [&] {
      if (!j.contains("probe")) c_.error(p, "missing required key \"probe\"");
      if (auto s = c_.string(j, p, "probe")) {
        if (!probes_.contains(*s)) c_.error(p + "/probe", fmt::format("no probe named \"{}\"", *s));
        e.target = *s;
      }
    };
    if (t == "port_state") {
      e.kind = expectation_kind::port_state;
      c_.object(j, p, {"name", "type", "switch", "port", "state", "at", "by", "after"}, {"switch", "port", "state"});
      if (auto s = c_.string(j, p, "switch")) {
        if (!is_switch(*s)) c_.error(p + "/switch", fmt::format("no switch named \"{}\"", *s));
        e.target = *s;
      }
      const switch_spec* sw = find_switch(e.target);
      if (auto n = c_.integer(j, p, "port", 0, sw != nullptr ? sw->cfg.ports - 1 : 4095)) e.port = static_cast<std::uint16_t>(*n);
      if (auto s = c_.choice(j, p, "state", {"forwarding", "blocking", "listening", "learning", "discarding", "disabled"})) {
        e.state = *s;
      }
      e.at = c_.duration(j, p, "at");
      e.by = c_.duration(j, p, "by");
      if (auto d = c_.duration(j, p, "after")) e.after = *d;
      if (j.contains("at") == j.contains("by")) c_.error(p, "give exactly one of \"at\" (state at a time) and \"by\" (entered by a time)");
      if (j.contains("after") && !j.contains("by")) c_.error(p + "/after", "\"after\" goes with \"by\"");
      if (j.contains("by") && sw != nullptr && sw->cfg.stp == net::stp_mode::none) {
        c_.error(p + "/by", fmt::format("\"by\" times a spanning tree transition; switch \"{}\" runs none (use \"at\")",
                                        e.target));
      }
    } else if (t == "mac_flaps") {
      e.kind = expectation_kind::mac_flaps;
      c_.object(j, p, {"name", "type", "switch", "op", "value"}, {"switch", "op", "value"});
      if (auto s = c_.string(j, p, "switch")) {
        if (!is_switch(*s)) c_.error(p + "/switch", fmt::format("no switch named \"{}\"", *s));
        e.target = *s;
      }
      count_bound();
    } else if (t == "frames_lost") {
      e.kind = expectation_kind::frames_lost;
      c_.object(j, p, {"name", "type", "op", "value"}, {"op", "value"});
      count_bound();
    } else if (t == "link_counter") {
      e.kind = expectation_kind::link_counter;
      c_.object(j, p, {"name", "type", "link", "from", "counter", "op", "value"}, {"link", "from", "counter", "op", "value"});
      if (auto s = c_.string(j, p, "link")) {
        if (!links_.contains(*s)) c_.error(p + "/link", fmt::format("no link named \"{}\"", *s));
        e.target = *s;
      }
      if (auto s = side(j, p, "from", false)) e.from = *s;
      if (auto s = c_.choice(j, p, "counter",
                             {"out_frames", "out_octets", "out_discards", "no_carrier", "delivered", "lost_carrier",
                              "lost_black_hole", "lost_random", "fcs_errors", "queue_high_water"})) {
        e.counter = *s;
      }
      count_bound();
    } else if (t == "probe_lost" || t == "probe_duplicates") {
      e.kind = t == "probe_lost" ? expectation_kind::probe_lost : expectation_kind::probe_duplicates;
      c_.object(j, p, {"name", "type", "probe", "op", "value"}, {"probe", "op", "value"});
      probe_target();
      count_bound();
    } else if (t == "probe_max_gap") {
      e.kind = expectation_kind::probe_max_gap;
      c_.object(j, p, {"name", "type", "probe", "op", "value"}, {"probe", "op", "value"});
      probe_target();
      duration_bound();
    } else if (t == "flow_lost" || t == "flow_duplicates" || t == "flow_max_gap") {
      e.kind = t == "flow_lost" ? expectation_kind::flow_lost
               : t == "flow_duplicates" ? expectation_kind::flow_duplicates
                                        : expectation_kind::flow_max_gap;
      named_target("flow", flows_, "flow");
      if (t == "flow_max_gap") {
        duration_bound();
      } else {
        count_bound();
      }
    } else if (t == "tcp_bytes" || t == "tcp_retransmits" || t == "tcp_max_stall") {
      e.kind = t == "tcp_bytes" ? expectation_kind::tcp_bytes
               : t == "tcp_retransmits" ? expectation_kind::tcp_retransmits
                                        : expectation_kind::tcp_max_stall;
      named_target("tcp", tcps_, "tcp session");
      if (t == "tcp_max_stall") {
        duration_bound();
      } else {
        count_bound();
      }
    } else if (t == "ping_loss") {
      e.kind = expectation_kind::ping_loss;
      named_target("ping", pings_, "ping");
      count_bound();
    } else if (t == "bond_failover" || t == "beacon_state" || t == "host_counter") {
      const bool failover = t == "bond_failover", beacon = t == "beacon_state";
      e.kind = failover ? expectation_kind::bond_failover
               : beacon ? expectation_kind::beacon_state
                        : expectation_kind::host_counter;
      if (failover) c_.object(j, p, {"name", "type", "host", "bond", "from", "to", "member", "vm", "after", "by"}, {"host", "bond", "by"});
      else if (beacon) c_.object(j, p, {"name", "type", "host", "bond", "vmnic", "state", "at"}, {"host", "bond", "vmnic", "state", "at"});
      else c_.object(j, p, {"name", "type", "host", "counter", "op", "value"}, {"host", "counter", "op", "value"});
      const host_spec* h = nullptr;
      const bond_spec* bond = read_host_bond(j, p, e, h);
      const auto member = [&](std::string_view key, unsigned& out) {
        if (auto s = c_.string(j, p, key)) {
          const auto n = vmnic_number(*s, "vmnic");
          if (!n || (bond != nullptr && std::find(bond->members.begin(), bond->members.end(), *n) == bond->members.end())) {
            c_.error(p + "/" + std::string(key), fmt::format("\"{}\" is not a vmnic of that bond", *s));
          } else {
            out = *n;
          }
        }
      };
      if (failover) {
        // Three forms: from + to (a standby bond's active vmnic), member (leaves the active
        // set of any bond), vm + from + to (that VM's frames change uplink).
        e.form = j.contains("member") ? failover_form::member_leaves
                 : j.contains("vm")   ? failover_form::vm_traffic
                                      : failover_form::active_changed;
        if (e.form == failover_form::member_leaves) {
          for (const char* k : {"from", "to", "vm"}) {
            if (j.contains(k)) c_.error(p + "/" + k, fmt::format("\"{}\" does not go with \"member\"", k));
          }
          member("member", e.from_vmnic);
        } else {
          for (const char* k : {"from", "to"}) {
            if (!j.contains(k)) c_.error(p, fmt::format("missing required key \"{}\" (or give \"member\")", k));
          }
          member("from", e.from_vmnic);
          member("to", e.to_vmnic);
          if (j.contains("from") && j.contains("to") && e.from_vmnic == e.to_vmnic) {
            c_.error(p + "/to", "\"to\" must differ from \"from\"");
          }
        }
        if (auto s = c_.string(j, p, "vm")) {
          e.vm = *s;
          const bool on_host = h != nullptr && std::any_of(h->vms.begin(), h->vms.end(), [&](const vm_spec& v) {
            return std::any_of(v.vnics.begin(), v.vnics.end(), [&](const vnic_spec& n) { return n.ep.name == *s; });
          });
          if (!on_host) c_.error(p + "/vm", fmt::format("no VM endpoint (vNIC) named \"{}\" on host \"{}\"", *s, e.target));
        }
        e.by = c_.duration(j, p, "by");
        if (auto d = c_.duration(j, p, "after")) e.after = *d;
        if (e.by && *e.by <= e.after) c_.error(p + "/by", fmt::format("by {} is not after {}", *e.by, e.after));
      } else if (beacon) {
        member("vmnic", e.from_vmnic);
        if (auto s = c_.choice(j, p, "state", {"OK", "AMBIGUOUS", "FAILED"})) e.state = *s;
        e.at = c_.duration(j, p, "at");
      } else {
        if (auto s = c_.choice(j, p, "counter",
                               {"reflections", "local_deliveries", "uplink_tx", "uplink_rx", "dropped_vlan",
                                "dropped_no_uplink", "dropped_unknown_dst", "beacons_rx", "failovers", "failbacks",
                                "beacons_tx", "duplicates_sent"})) {
          e.counter = *s;
        }
        count_bound();
      }
    } else if (t == "management" || t == "console_ping_loss") {
      detail::read_console_expectation(j, p, t, m_.hosts, m_.duration, e, console_errors());
    } else if (t == "vnic_uplink") {
      read_vnic_uplink(j, p, e);
    } else if (t == "spanning_tree") {
      e.kind = expectation_kind::spanning_tree;
      c_.object(j, p, {"name", "type", "at"}, {"at"});
      e.at = c_.duration(j, p, "at");
    }
    if (e.at && *e.at > m_.duration) c_.error(p + "/at", fmt::format("at {} is after the end of the run ({})", *e.at, m_.duration));
    if (e.by && *e.by > m_.duration) c_.error(p + "/by", fmt::format("by {} is after the end of the run ({})", *e.by, m_.duration));
    m_.expectations.push_back(std::move(e));
  }

  /// The "host" and "bond" keys of a host expectation: sets e.target and e.port (the bond
  /// number), reports a dangling name at its pointer; returns the bond (nullptr when absent or
  /// dangling) and sets `host` to the host's spec (nullptr likewise).
  const bond_spec* read_host_bond(const json& j, const std::string& p, expectation_spec& e, const host_spec*& host) {
    if (auto s = c_.string(j, p, "host")) {
      if (!is_host(*s)) c_.error(p + "/host", fmt::format("no host named \"{}\"", *s));
      e.target = *s;
    }
    const host_spec* h = find_host(e.target);
    host = h;
    const bond_spec* bond = nullptr;
    if (auto s = c_.string(j, p, "bond")) {
      const auto n = vmnic_number(*s, "bond");
      if (h != nullptr && n) {
        for (const auto& b : h->bonds) if (b.number == *n) bond = &b;
      }
      if (bond == nullptr) c_.error(p + "/bond", fmt::format("host \"{}\" has no bond \"{}\"", e.target, *s));
      else e.port = static_cast<std::uint16_t>(*n);
    }
    return bond;
  }

  /// vnic_uplink: {host, bond, vnic, vmnic, at}; the vNIC must sit on a vswitch bound to the
  /// bond (its network is the vswitch's label or one of its port groups').
  void read_vnic_uplink(const json& j, const std::string& p, expectation_spec& e) {
    e.kind = expectation_kind::vnic_uplink;
    c_.object(j, p, {"name", "type", "host", "bond", "vnic", "vmnic", "at"}, {"host", "bond", "vnic", "vmnic", "at"});
    const host_spec* h = nullptr;
    const bond_spec* bond = read_host_bond(j, p, e, h);
    if (auto s = c_.string(j, p, "vmnic")) {
      const auto n = vmnic_number(*s, "vmnic");
      if (!n || (bond != nullptr && std::find(bond->members.begin(), bond->members.end(), *n) == bond->members.end())) {
        c_.error(p + "/vmnic", fmt::format("\"{}\" is not a vmnic of that bond", *s));
      } else {
        e.to_vmnic = *n;
      }
    }
    if (auto s = c_.string(j, p, "vnic")) {
      e.vnic = *s;
      const vnic_spec* found = nullptr;
      if (h != nullptr) {
        for (const auto& vm : h->vms) {
          for (const auto& vn : vm.vnics) if (vn.ep.name == *s) found = &vn;
        }
      }
      bool bound = false;
      if (found != nullptr && h != nullptr) {
        for (const auto& vs : h->vswitches) {
          bool on = vs.label == found->cfg.network;
          for (const auto& pg : vs.port_groups) on = on || pg.label == found->cfg.network;
          const auto* b = std::get_if<host::bond_binding>(&vs.binding);
          bound = bound || (on && b != nullptr && b->number == e.port);
        }
      }
      if (found == nullptr) {
        c_.error(p + "/vnic", fmt::format("host \"{}\" has no VM vNIC named \"{}\"", e.target, *s));
      } else if (bond != nullptr && !bound) {
        c_.error(p + "/vnic", fmt::format("vNIC \"{}\" is not on a vswitch bound to bond{}", *s, e.port));
      }
    }
    e.at = c_.duration(j, p, "at");
  }

  void check_macs() {
    std::map<wire::mac_address, std::string> seen;
    for (const auto& [m, ptr] : macs_) {
      const auto [it, fresh] = seen.emplace(m, ptr);
      if (!fresh) c_.error(ptr, fmt::format("duplicate MAC {} (also at {})", m, it->second));
    }
  }

  /// net/topology checks: a physical loop through a switch without spanning tree, or
  /// through hubs only, is a broadcast storm.
  void check_topology() {
    net::topology t;
    std::map<std::string, net::node_id> ids;
    for (const auto& s : m_.switches) ids[s.cfg.name] = t.add_node(s.cfg.name, net::node_kind::bridge);
    for (const auto& h : m_.hubs) ids[h.name] = t.add_node(h.name, net::node_kind::hub);
    for (const auto& s : m_.stations) ids[s.name] = t.add_node(s.name, net::node_kind::host);
    for (const auto& e : m_.endpoints) ids[e.cfg.name] = t.add_node(e.cfg.name, net::node_kind::host);
    // A virtual switch never forwards from one uplink to another [AG2]: a host is an end node.
    for (const auto& h : m_.hosts) ids[h.name] = t.add_node(h.name, net::node_kind::host);
    std::map<std::string, std::size_t> link_index;
    std::set<std::string> channel_links;
    for (std::size_t i = 0; i < m_.links.size(); ++i) {
      const auto& l = m_.links[i];
      const auto a = ids.find(l.a.device), b = ids.find(l.b.device);
      if (a == ids.end() || b == ids.end() || l.name.empty()) return;  // already an error
      // A port-channel is one logical port [VS67]: its member links count once, as the
      // link of the channel's first member.
      const auto channel_of = [&](const port_ref& r) -> std::optional<std::pair<std::string, std::size_t>> {
        const switch_spec* sw = find_switch(r.device);
        if (sw == nullptr) return std::nullopt;
        for (std::size_t c = 0; c < sw->channels.size(); ++c) {
          const auto& mem = sw->channels[c].members;
          if (std::find(mem.begin(), mem.end(), r.port) != mem.end()) return std::pair{r.device, c};
        }
        return std::nullopt;
      };
      const auto ca = channel_of(l.a), cb = channel_of(l.b);
      if (ca || cb) {
        const std::string key = fmt::format("{}#{}|{}#{}", ca ? ca->first : l.a.device, ca ? ca->second : l.a.port,
                                            cb ? cb->first : l.b.device, cb ? cb->second : l.b.port);
        if (!channel_links.insert(key).second) continue;
      }
      try {
        t.add_link(a->second, l.a.port, b->second, l.b.port, true, l.name);
      } catch (const net::topology_error&) {
        return;  // a repeated end, already reported
      }
      link_index[l.name] = i;
    }
    const auto loop = net::find_bridge_loop(t);
    if (!loop) return;
    bool protected_loop = false;
    for (net::node_id n : loop->nodes) {
      const switch_spec* sw = find_switch(t.node(n).name);
      if (sw != nullptr && sw->cfg.stp != net::stp_mode::none) protected_loop = true;
    }
    if (!protected_loop) {
      const auto& first = m_.links[link_index[t.edge(loop->edges.front()).name]];
      (void)first;
      c_.warning(fmt::format("/links/{}", link_index[t.edge(loop->edges.front()).name]),
                 fmt::format("physical loop with no spanning tree on it: {} (a broadcast storm; MAC flaps)",
                             loop->describe(t)));
    }
  }

  /// The port configuration a switch port starts with (its override, or the default).
  static const net::port_config& port_settings(const switch_spec& sw, std::uint32_t port) {
    for (const auto& [n, pc] : sw.ports) {
      if (n == port) return pc;
    }
    return sw.cfg.default_port;
  }
  static std::optional<unsigned> uint_value(std::string_view v) {
    if (v.empty() || v.size() > 6) return std::nullopt;
    unsigned n = 0;
    for (char ch : v) {
      if (ch < '0' || ch > '9') return std::nullopt;
      n = n * 10 + static_cast<unsigned>(ch - '0');
    }
    return n;
  }

  /// Warning: a bond that runs beacon probing (effective SwitchFailoverThreshold >= 2 and
  /// two or more members [AG2]) whose members' uplinks reach different broadcast domains of
  /// the beacon VLAN. Beacons of one member then never reach another, and the monitor calls
  /// members failed (or every member ambiguous) whose links are fine: beacon probing needs
  /// all members in one broadcast domain ("All external switches connected to a virtual
  /// switch using beacon monitoring must be within the same network broadcast domain"
  /// [AG2]). Domains are computed from the topology as built at time 0 (carriers up, every
  /// port forwarding, each port's VLAN membership); each vmnic is a node of its own, since a
  /// vswitch never relays between uplinks [AG2].
  void check_beacon_domains() {
    for (std::size_t hi = 0; hi < m_.hosts.size(); ++hi) {
      const host_spec& h = m_.hosts[hi];
      // The host's settings: the `settings` section first, then its own `advanced`.
      unsigned host_threshold = beacon::default_threshold, beacon_vid = 0;
      for (const std::vector<setting>* list : {&std::as_const(m_.settings), &h.advanced}) {
        for (const auto& kv : *list) {
          if (kv.key == "SwitchFailoverThreshold") host_threshold = uint_value(kv.value).value_or(host_threshold);
          if (kv.key == "SwitchFailoverBeaconVlanID") beacon_vid = uint_value(kv.value).value_or(beacon_vid);
        }
      }
      for (std::size_t bi = 0; bi < h.bonds.size(); ++bi) {
        const bond_spec& b = h.bonds[bi];
        unsigned threshold = host_threshold;
        for (const auto& kv : b.nicteam) {
          if (kv.key == "switch_failover_threshold" && !kv.value.empty()) {
            threshold = uint_value(kv.value).value_or(threshold);
          }
        }
        if (threshold < beacon::min_enabled_threshold || b.members.size() < 2) continue;
        check_beacon_bond(h, bi, beacon_vid);
      }
    }
  }

  void check_beacon_bond(const host_spec& h, std::size_t bond_index, unsigned beacon_vid) {
    const bond_spec& b = h.bonds[bond_index];
    net::topology t;
    std::map<std::string, net::node_id> ids;
    for (const auto& s : m_.switches) ids[s.cfg.name] = t.add_node(s.cfg.name, net::node_kind::bridge);
    for (const auto& x : m_.hubs) ids[x.name] = t.add_node(x.name, net::node_kind::hub);
    for (const auto& x : m_.stations) ids[x.name] = t.add_node(x.name, net::node_kind::host);
    for (const auto& x : m_.endpoints) ids[x.cfg.name] = t.add_node(x.cfg.name, net::node_kind::host);
    const auto vmnic_node = [](const std::string& host, std::uint32_t n) { return fmt::format("{}:vmnic{}", host, n); };
    for (const auto& x : m_.hosts) {
      for (std::uint32_t n = 0; n < x.vmnics.size(); ++n) {
        ids[vmnic_node(x.name, n)] = t.add_node(vmnic_node(x.name, n), net::node_kind::host);
      }
    }
    const auto node_of = [&](const port_ref& r) -> std::optional<net::node_id> {
      const bool host =
          std::any_of(m_.hosts.begin(), m_.hosts.end(), [&](const host_spec& x) { return x.name == r.device; });
      const auto it = ids.find(host ? vmnic_node(r.device, r.port) : r.device);
      return it == ids.end() ? std::nullopt : std::optional<net::node_id>(it->second);
    };
    // The VLAN of the beacons: SwitchFailoverBeaconVlanID, or (untagged) the VLAN the first
    // member's switch port puts untagged frames in (access VLAN, trunk native VLAN; 1, the
    // default PVID, 802.1Q-2018 12.10.1.1, when the member is not on a switch port).
    net::vlan_id vid = static_cast<net::vlan_id>(beacon_vid);
    std::vector<net::node_id> members;
    for (const auto& l : m_.links) {
      const auto a = node_of(l.a), bn = node_of(l.b);
      if (!a || !bn) return;  // already an error
      t.add_link(*a, l.a.port, *bn, l.b.port, true, l.name);
    }
    for (unsigned m : b.members) {
      const auto n = ids.find(vmnic_node(h.name, m));
      if (n == ids.end()) return;
      members.push_back(n->second);
      if (vid != 0 || members.size() > 1) continue;
      vid = 1;
      for (const auto& l : m_.links) {
        for (const auto& [mine, peer] : {std::pair{l.a, l.b}, std::pair{l.b, l.a}}) {
          if (mine.device != h.name || mine.port != m) continue;
          if (const switch_spec* sw = find_switch(peer.device)) {
            const auto& pc = port_settings(*sw, peer.port);
            vid = pc.mode == net::port_mode::trunk ? pc.native_vlan : pc.access_vlan;
          }
        }
      }
    }
    const auto domains = net::vlan_broadcast_domains(t, vid, [&](net::node_id n, net::topo_port port, net::vlan_id v) {
      const switch_spec* sw = find_switch(t.node(n).name);
      if (sw == nullptr) return true;
      const auto& pc = port_settings(*sw, port);
      if (!pc.admin_up) return false;
      if (pc.mode == net::port_mode::access) return pc.access_vlan == v;
      return pc.allowed_vlans.empty() ||
             std::find(pc.allowed_vlans.begin(), pc.allowed_vlans.end(), v) != pc.allowed_vlans.end();
    });
    const auto verdict = net::check_same_domain(t, domains, members);
    if (!verdict) {
      c_.warning(fmt::format("{}/bonds/{}", h.pointer, bond_index),
                 fmt::format("bond{} of host \"{}\" runs beacon probing but its members reach different broadcast "
                             "domains of VLAN {}: {} (their beacons cannot reach each other; beacon probing needs "
                             "every member in one broadcast domain [AG2])",
                             b.number, h.name, vid, verdict.reason));
    }
  }

  const std::vector<diagnostic>& out_errors() const { return c_.diagnostics(); }

  // The service console parts (lib/scenario/console_section.cpp).
  detail::error_fn console_errors() {
    return [this](const std::string& ptr, std::string msg) { c_.error(ptr, std::move(msg)); };
  }
  void read_host_console(const json& j, const std::string& p, host_spec& h) {
    h.console.emplace();
    detail::read_console(j, p, h, *h.console, console_errors());
    for (std::size_t i = 0; i < h.console->nics.size(); ++i) {
      note_mac(h.console->nics[i].nic.mac, fmt::format("{}/nics/{}/mac", p, i));
    }
    for (std::size_t i = 0; i < h.console->pings.size(); ++i) {
      if (!console_pings_.insert(h.console->pings[i].name).second) {
        c_.error(fmt::format("{}/pings/{}/name", p, i),
                 fmt::format("duplicate console ping name \"{}\"", h.console->pings[i].name));
      }
    }
  }
  std::optional<std::uint32_t> console_end(const std::string& host, std::string_view suffix) const {
    for (const auto& h : m_.hosts) {
      if (h.name == host) return detail::console_nic_port(h, suffix);
    }
    return std::nullopt;
  }
  std::set<std::string> console_pings_;

  checker& c_;
  scenario_model& m_;
  advanced_validator validator_;
  // 's' switch, 'h' hub, 't' station, 'e' endpoint, 'x' host, 'v' VM endpoint
  std::map<std::string, char> devices_;
  std::set<std::string> links_, probes_, expectation_names_, capture_files_, flows_, pings_, endpoint_names_, tcps_;
  std::map<wire::ipv4_address, std::string> ips_;
  std::map<std::string, wire::ipv4_address> endpoint_ips_;
  std::map<std::string, std::string> ends_;
  std::vector<std::pair<wire::mac_address, std::string>> macs_;
};

}  // namespace

load_result load_scenario(std::string_view text) {
  load_result r;
  position_recorder rec(text);
  json root;
  line_index lines(text);
  try {
    counting_iterator first(text.data(), rec.cursor()), last(text.data() + text.size(), nullptr);
    root = json::parse(first, last, [&rec](int depth, json::parse_event_t ev, json& parsed) {
      return rec.on_event(depth, ev, parsed);
    });
  } catch (const json::parse_error& e) {
    diagnostic d{severity::error, "", 0, 0, ""};
    const std::size_t off = e.byte > 0 ? std::min<std::size_t>(e.byte - 1, text.size()) : 0;
    std::tie(d.line, d.column) = lines.at(off);
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    const auto colon = what.find(": ");
    d.message = "not valid JSON: " + (colon != std::string::npos ? what.substr(colon + 2) : what);
    r.diagnostics.push_back(std::move(d));
    return r;
  }
  for (auto d : rec.duplicates()) {
    std::tie(d.line, d.column) = lines.at(d.line);
    r.diagnostics.push_back(std::move(d));
  }
  scenario_model m;
  checker c(r.diagnostics);
  model_reader(c, m).read(root);
  // Resolve positions: the pointer itself, or its nearest ancestor that was recorded.
  for (auto& d : r.diagnostics) {
    if (d.line != 0) continue;
    std::string ptr = d.pointer;
    for (;;) {
      const auto it = rec.positions().find(ptr);
      if (it != rec.positions().end()) {
        std::tie(d.line, d.column) = lines.at(it->second);
        break;
      }
      if (ptr.empty()) break;
      ptr.erase(ptr.rfind('/'));
    }
  }
  std::stable_sort(r.diagnostics.begin(), r.diagnostics.end(), [](const diagnostic& a, const diagnostic& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  if (r.errors() == 0) r.model = std::move(m);
  return r;
}

}  // namespace vnetsim::scenario
