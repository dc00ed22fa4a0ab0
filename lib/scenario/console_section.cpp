#include "console_section.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "vnetsim/host/console.hpp"
#include "vnetsim/scenario/loader.hpp"

namespace vnetsim::scenario::detail {

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

const char* type_name(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a number";
    default: return "a value";
  }
}

namespace {

using json = nlohmann::json;

/// The few typed reads the console parts need, each reporting through err.
class reader {
 public:
  explicit reader(const error_fn& err) : err_(err) {}

  bool object(const json& j, const std::string& p, std::initializer_list<std::string_view> allowed,
              std::initializer_list<std::string_view> required) const {
    if (!j.is_object()) {
      err_(p, fmt::format("must be an object, not {}", type_name(j)));
      return false;
    }
    for (const auto& [k, v] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        err_(p + "/" + pointer_token(k), fmt::format("unknown key \"{}\" (allowed: {})", k, fmt::join(allowed, ", ")));
      }
    }
    for (const auto& r : required) {
      if (!j.contains(r)) err_(p, fmt::format("missing required key \"{}\"", r));
    }
    return true;
  }
  std::optional<std::string> string(const json& j, const std::string& p, std::string_view key) const {
    const auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    if (!it->is_string()) {
      err_(p + "/" + std::string(key), fmt::format("must be a string, not {}", type_name(*it)));
      return std::nullopt;
    }
    return it->get<std::string>();
  }
  std::optional<sim_time> duration(const json& j, const std::string& p, std::string_view key) const {
    auto s = string(j, p, key);
    if (!s) return std::nullopt;
    const auto t = sim_time::parse(*s);
    if (!t) {
      err_(p + "/" + std::string(key),
           fmt::format("\"{}\" is not a duration (a decimal number and one of ns, us, ms, s, min)", *s));
    }
    return t;
  }
  std::optional<std::int64_t> integer(const json& j, const std::string& p, std::string_view key, std::int64_t lo,
                                      std::int64_t hi) const {
    const auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    const std::string q = p + "/" + std::string(key);
    if (!it->is_number_integer()) {
      err_(q, fmt::format("must be an integer, not {}", type_name(*it)));
      return std::nullopt;
    }
    if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
      err_(q, fmt::format("{} is out of range [{}, {}]", it->get<std::uint64_t>(), lo, hi));
      return std::nullopt;
    }
    const auto x = it->get<std::int64_t>();
    if (x < lo || x > hi) {
      err_(q, fmt::format("{} is out of range [{}, {}]", x, lo, hi));
      return std::nullopt;
    }
    return x;
  }
  /// A name usable in a link end: not empty, no ':', '/' or space.
  std::optional<std::string> name(const json& j, const std::string& p, std::string_view key) const {
    auto s = string(j, p, key);
    if (s && (s->empty() || s->find_first_of(": /") != std::string::npos)) {
      err_(p + "/" + std::string(key), fmt::format("\"{}\" is not a valid name (not empty, no ':', '/' or space)", *s));
      return std::nullopt;
    }
    return s;
  }

 private:
  const error_fn& err_;
};

/// "prefixN" -> N.
std::optional<unsigned> numbered(std::string_view s, std::string_view prefix) {
  if (!s.starts_with(prefix) || s.size() == prefix.size() || s.size() > prefix.size() + 4) return std::nullopt;
  unsigned n = 0;
  for (char c : s.substr(prefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n;
}

/// Checks one console file with the host layer's parser for it; "" when fine.
std::string check_file(const std::string& path, const std::string& text) {
  try {
    if (path == host::modules_conf_path) {
      (void)host::parse_modules_conf(text, path);
    } else if (path == host::rc_local_path) {
      unsigned n = 0;
      std::string_view rest = text;
      while (!rest.empty()) {
        const auto nl = rest.find('\n');
        ++n;
        try {
          (void)host::split_shell_words(rest.substr(0, nl));
        } catch (const host::console_error& e) {
          return fmt::format("{}:{}: {}", path, n, e.what());
        }
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
      }
    } else if (path.starts_with(host::ifcfg_dir)) {
      const std::string base = path.substr(host::ifcfg_dir.size());
      if (!base.starts_with("ifcfg-")) return "";
      if (base == "ifcfg-lo") return "";
      if (!numbered(base, "ifcfg-eth")) return fmt::format("{}: only ifcfg-ethN and ifcfg-lo are modelled", path);
      const auto c = host::parse_ifcfg(text, path);
      if (!c.device.empty() && c.device != base.substr(6)) {
        return fmt::format("{}: DEVICE={} does not match the file name", path, c.device);
      }
    }
  } catch (const host::console_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

std::optional<std::uint32_t> console_nic_port(const host_spec& h, std::string_view suffix) {
  if (!h.console) return std::nullopt;
  for (std::size_t i = 0; i < h.console->nics.size(); ++i) {
    if (h.console->nics[i].name == suffix) return console_nic_port_base + static_cast<std::uint32_t>(i);
  }
  return std::nullopt;
}

void read_console(const json& j, const std::string& p, const host_spec& h, console_spec& out, const error_fn& err) {
  const reader r(err);
  if (!r.object(j, p, {"nics", "shared", "files", "boot", "watch", "pings"}, {})) return;
  if (const auto it = j.find("nics"); it != j.end()) {
    if (!it->is_array()) {
      err(p + "/nics", fmt::format("must be an array, not {}", type_name(*it)));
    } else {
      std::set<std::string> names;
      for (std::size_t i = 0; i < it->size(); ++i) {
        const json& n = (*it)[i];
        const std::string np = fmt::format("{}/nics/{}", p, i);
        if (!r.object(n, np, {"name", "driver", "mac", "speed", "detect_down", "detect_up"}, {"name", "driver", "mac"})) {
          continue;
        }
        console_nic_spec c;
        if (auto s = r.name(n, np, "name")) {
          if (numbered(*s, "vmnic")) {
            err(np + "/name", fmt::format("\"{}\" is a VMkernel name; a console NIC has none [SEED] (e.g. \"cos0\")", *s));
          } else if (!names.insert(*s).second) {
            err(np + "/name", fmt::format("duplicate console NIC name \"{}\"", *s));
          }
          c.name = *s;
        }
        if (auto s = r.string(n, np, "driver")) {
          if (s->empty() || *s == host::vmxnet_console_module || s->find_first_of(" \t") != std::string::npos) {
            err(np + "/driver", fmt::format("\"{}\" is not a NIC driver module name (e.g. \"e100\")", *s));
          }
          c.driver = *s;
        }
        if (auto s = r.string(n, np, "mac")) {
          const auto m = wire::mac_address::parse(*s);
          if (!m) err(np + "/mac", fmt::format("\"{}\" is not a MAC address (aa:bb:cc:dd:ee:ff)", *s));
          else if (m->is_multicast()) err(np + "/mac", fmt::format("{} is a group address; a NIC needs a unicast MAC", *m));
          else c.nic.mac = *m;
        }
        if (auto s = r.string(n, np, "speed")) {
          const auto b = parse_rate(*s);
          if (!b || *b == 0) err(np + "/speed", fmt::format("\"{}\" is not a positive rate (\"100Mbps\", \"1Gbps\")", *s));
          else c.nic.speed_bps = *b;
        }
        if (auto d = r.duration(n, np, "detect_down")) c.nic.detect_down = *d;
        if (auto d = r.duration(n, np, "detect_up")) c.nic.detect_up = *d;
        out.nics.push_back(std::move(c));
      }
    }
  }
  if (const auto it = j.find("shared"); it != j.end()) {
    if (!it->is_array()) {
      err(p + "/shared", fmt::format("must be an array, not {}", type_name(*it)));
    } else {
      for (std::size_t i = 0; i < it->size(); ++i) {
        const std::string sp = fmt::format("{}/shared/{}", p, i);
        const json& v = (*it)[i];
        const auto n = v.is_string() ? numbered(v.get<std::string>(), "vmnic") : std::nullopt;
        if (!n) {
          err(sp, "must be a vmnic name (\"vmnic1\")");
        } else if (*n >= h.vmnics.size()) {
          err(sp, fmt::format("host \"{}\" has no vmnic{}", h.name, *n));
        } else if (std::find(out.shared.begin(), out.shared.end(), *n) != out.shared.end()) {
          err(sp, fmt::format("vmnic{} is listed twice", *n));
        } else {
          out.shared.push_back(*n);
        }
      }
    }
  }
  if (const auto it = j.find("files"); it != j.end()) {
    if (!it->is_object()) {
      err(p + "/files", fmt::format("must be an object (path: text or array of lines), not {}", type_name(*it)));
    } else {
      for (const auto& [path, v] : it->items()) {
        const std::string fp = p + "/files/" + pointer_token(path);
        std::string text;
        if (v.is_string()) {
          text = v.get<std::string>();
        } else if (v.is_array() && std::all_of(v.begin(), v.end(), [](const json& l) { return l.is_string(); })) {
          for (const auto& l : v) text += l.get<std::string>() + "\n";
        } else {
          err(fp, fmt::format("must be the file's text or an array of its lines, not {}", type_name(v)));
          continue;
        }
        if (path.empty() || path.front() != '/') {
          err(fp, fmt::format("\"{}\" is not an absolute path", path));
          continue;
        }
        if (path == host::messages_path) {
          err(fp, fmt::format("{} is written by the simulation", path));
          continue;
        }
        if (const std::string problem = check_file(path, text); !problem.empty()) {
          err(fp, problem);
          continue;
        }
        out.files.emplace_back(path, std::move(text));
      }
    }
  }
  if (const auto it = j.find("boot"); it != j.end()) {
    if (it->is_boolean() && !it->get<bool>()) {
      out.boot.reset();
    } else if (auto d = r.duration(j, p, "boot")) {
      if (*d < sim_time::zero()) err(p + "/boot", "must not be negative");
      else out.boot = *d;
    }
  }
  if (auto d = r.duration(j, p, "watch")) {
    if (*d <= sim_time::zero()) err(p + "/watch", "must be positive");
    else out.watch = *d;
  }
  if (const auto it = j.find("pings"); it != j.end()) {
    if (!it->is_array()) {
      err(p + "/pings", fmt::format("must be an array, not {}", type_name(*it)));
    } else {
      for (std::size_t i = 0; i < it->size(); ++i) {
        const json& g = (*it)[i];
        const std::string gp = fmt::format("{}/pings/{}", p, i);
        if (!r.object(g, gp, {"name", "from", "to", "start", "interval", "timeout", "count"}, {"name", "from", "to"})) {
          continue;
        }
        console_ping_spec c;
        if (auto s = r.name(g, gp, "name")) c.name = *s;
        if (auto s = r.string(g, gp, "from")) {
          if (const auto n = numbered(*s, "eth")) c.eth = *n;
          else err(gp + "/from", fmt::format("\"{}\" is not a console device (\"eth0\")", *s));
        }
        if (auto s = r.string(g, gp, "to")) {
          const auto ip = wire::ipv4_address::parse(*s);
          if (!ip || !ip->is_unicast()) err(gp + "/to", fmt::format("\"{}\" is not a unicast IPv4 address", *s));
          else c.to = *ip;
        }
        if (auto d = r.duration(g, gp, "start")) c.start = *d;
        if (auto d = r.duration(g, gp, "interval")) {
          if (*d <= sim_time::zero()) err(gp + "/interval", "must be positive");
          else c.interval = *d;
        }
        if (auto d = r.duration(g, gp, "timeout")) {
          if (*d <= sim_time::zero()) err(gp + "/timeout", "must be positive");
          else c.timeout = *d;
        }
        // The ICMP sequence number is 16 bits (RFC 792).
        if (auto v = r.integer(g, gp, "count", 1, 65536)) c.count = static_cast<std::uint32_t>(*v);
        out.pings.push_back(std::move(c));
      }
    }
  }
}

void read_console_action(const json& j, const std::string& p, const std::vector<host_spec>& hosts, action_spec& a,
                         const error_fn& err) {
  const reader r(err);
  a.kind = action_kind::console;
  r.object(j, p, {"at", "action", "host", "command"}, {"host", "command"});
  if (auto s = r.string(j, p, "host")) {
    const auto h = std::find_if(hosts.begin(), hosts.end(), [&](const host_spec& x) { return x.name == *s; });
    if (h == hosts.end()) err(p + "/host", fmt::format("no host named \"{}\"", *s));
    else if (!h->console) err(p + "/host", fmt::format("host \"{}\" has no \"console\" section", *s));
    a.target = *s;
  }
  if (auto s = r.string(j, p, "command")) {
    // What a user typed is the console's business (a mistyped command prints an error in the
    // run); only what no shell line can be is refused here.
    if (s->find('\n') != std::string::npos) err(p + "/command", "one command line per action (no newline)");
    try {
      if (host::split_shell_words(*s).empty()) err(p + "/command", "empty command line");
    } catch (const host::console_error& e) {
      err(p + "/command", e.what());
    }
    a.value = *s;
  }
}

void read_console_expectation(const json& j, const std::string& p, std::string_view type,
                              const std::vector<host_spec>& hosts, sim_time duration, expectation_spec& e,
                              const error_fn& err) {
  const reader r(err);
  if (type == "console_ping_loss") {
    e.kind = expectation_kind::console_ping_loss;
    r.object(j, p, {"name", "type", "ping", "op", "value"}, {"ping", "op", "value"});
    if (auto s = r.string(j, p, "ping")) {
      bool found = false;
      for (const auto& h : hosts) {
        if (!h.console) continue;
        for (const auto& g : h.console->pings) found = found || g.name == *s;
      }
      if (!found) err(p + "/ping", fmt::format("no console ping named \"{}\"", *s));
      e.target = *s;
    }
    if (auto v = r.integer(j, p, "value", 0, INT64_MAX)) e.value = *v;
    if (auto s = r.string(j, p, "op")) {
      if (*s == "==") e.op = comparison::eq;
      else if (*s == "<=") e.op = comparison::le;
      else if (*s == ">=") e.op = comparison::ge;
      else if (*s == "<") e.op = comparison::lt;
      else if (*s == ">") e.op = comparison::gt;
      else err(p + "/op", fmt::format("\"{}\" is not one of: ==, <=, >=, <, >", *s));
    }
    return;
  }
  e.kind = expectation_kind::management;
  r.object(j, p, {"name", "type", "host", "at", "state", "lost", "after", "by"}, {"host"});
  if (auto s = r.string(j, p, "host")) {
    const auto h = std::find_if(hosts.begin(), hosts.end(), [&](const host_spec& x) { return x.name == *s; });
    if (h == hosts.end()) err(p + "/host", fmt::format("no host named \"{}\"", *s));
    else if (!h->console) err(p + "/host", fmt::format("host \"{}\" has no \"console\" section", *s));
    e.target = *s;
  }
  if (auto s = r.string(j, p, "state")) {
    static constexpr std::string_view states[] = {"running",   "lost",      "not-booted",     "loopback-down",
                                                  "no-eth0",   "eth0-down", "eth0-no-carrier"};
    if (std::find(std::begin(states), std::end(states), *s) == std::end(states)) {
      err(p + "/state", fmt::format("\"{}\" is not one of: {}", *s, fmt::join(states, ", ")));
    }
    e.state = *s;
  }
  const bool has_at = j.contains("at");
  const auto lost_it = j.find("lost");
  if (has_at == (lost_it != j.end())) {
    err(p, "give exactly one of \"at\" (the state at a time) and \"lost\" (true: lost in (after, by]; false: never lost after \"after\")");
    return;
  }
  if (auto d = r.duration(j, p, "after")) e.after = *d;
  if (has_at) {
    e.mode = "at";
    e.at = r.duration(j, p, "at");
    if (e.state.empty()) err(p, "missing required key \"state\" (with \"at\")");
    if (j.contains("by") || j.contains("after")) err(p, "\"by\" and \"after\" go with \"lost\", not with \"at\"");
  } else if (!lost_it->is_boolean()) {
    err(p + "/lost", fmt::format("must be true or false, not {}", type_name(*lost_it)));
  } else if (lost_it->get<bool>()) {
    e.mode = "lost";
    e.by = r.duration(j, p, "by");
    if (!j.contains("by")) err(p, "missing required key \"by\" (with \"lost\": true)");
    if (e.by && *e.by <= e.after) err(p + "/by", fmt::format("by {} is not after {}", *e.by, e.after));
    if (e.state == "running") err(p + "/state", "with \"lost\": true the state is the reason it stops running");
  } else {
    e.mode = "never_lost";
    if (j.contains("by") || j.contains("state")) err(p, "\"lost\": false takes only \"after\"");
  }
  if (e.at && *e.at > duration) err(p + "/at", fmt::format("at {} is after the end of the run ({})", *e.at, duration));
  if (e.by && *e.by > duration) err(p + "/by", fmt::format("by {} is after the end of the run ({})", *e.by, duration));
  if (e.after > duration) err(p + "/after", fmt::format("after {} is after the end of the run ({})", e.after, duration));
}

}  // namespace vnetsim::scenario::detail
