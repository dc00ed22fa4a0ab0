#include "vnetsim/host/console.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace vnetsim::host {

std::string_view to_string(nic_owner o) noexcept {
  switch (o) {
    case nic_owner::console: return "console";
    case nic_owner::vmkernel: return "vmkernel";
    case nic_owner::shared: return "shared";
  }
  return "unknown";
}

std::string_view to_string(mui_state s) noexcept {
  switch (s) {
    case mui_state::not_booted: return "not-booted";
    case mui_state::running: return "running";
    case mui_state::loopback_down: return "loopback-down";
    case mui_state::no_eth0: return "no-eth0";
    case mui_state::eth0_down: return "eth0-down";
    case mui_state::eth0_no_carrier: return "eth0-no-carrier";
  }
  return "unknown";
}

// ---- helpers -------------------------------------------------------------------------

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::optional<unsigned> parse_uint(std::string_view s) noexcept {
  unsigned v = 0;
  if (s.empty()) return std::nullopt;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

/// "ethN" -> N.
std::optional<unsigned> eth_number(std::string_view name) noexcept {
  if (name.substr(0, 3) != "eth") return std::nullopt;
  return parse_uint(name.substr(3));
}

std::string unquote(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  }
  return std::string(v);
}

}  // namespace

std::vector<std::string> split_shell_words(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        cur += c;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == '#' && !in_word) {
      break;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quote != 0) throw console_error(fmt::format("unterminated {} quote in \"{}\"", quote, line));
  if (in_word) out.push_back(std::move(cur));
  return out;
}

std::optional<std::vector<std::string>> split_dev_names(std::string_view list) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : list) {
    if (c == ';' || c == ',') {
      if (trim(cur).empty()) return std::nullopt;
      out.emplace_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (trim(cur).empty()) return std::nullopt;
  out.emplace_back(trim(cur));
  return out;
}

std::optional<unsigned> netmask_prefix(wire::ipv4_address mask) noexcept {
  const std::uint32_t m = mask.to_u32();
  unsigned n = 0;
  while (n < 32 && (m & (0x8000'0000U >> n)) != 0) ++n;
  if (wire::ipv4_address::netmask(static_cast<std::uint8_t>(n)).to_u32() != m) return std::nullopt;
  return n;
}

unsigned classful_prefix(wire::ipv4_address ip) noexcept {
  const std::uint32_t top = ip.to_u32() >> 24;
  if (top < 128) return 8;   // class A
  if (top < 192) return 16;  // class B
  return 24;                 // class C (D is not unicast; E is given /24 here)
}

modules_conf parse_modules_conf(std::string_view text, std::string_view file) {
  modules_conf out;
  unsigned n = 0;
  for (std::string_view raw : lines_of(text)) {
    ++n;
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> w;
    try {
      w = split_shell_words(line);
    } catch (const console_error& e) {
      throw console_error(fmt::format("{}:{}: {}", file, n, e.what()));
    }
    if (w.empty()) continue;
    if (w[0] == "alias") {
      if (w.size() != 3) {
        throw console_error(fmt::format("{}:{}: \"alias\" takes a name and a module (alias eth0 e100), got \"{}\"",
                                        file, n, line));
      }
      out.aliases[w[1]] = w[2];
    } else if (w[0] == "options") {
      if (w.size() < 3) {
        throw console_error(fmt::format("{}:{}: \"options\" takes a module and its arguments, got \"{}\"", file, n,
                                        line));
      }
      const auto args = trim(line.substr(line.find(w[1], 7) + w[1].size()));
      out.options[w[1]] = std::string(args);
    } else if (w[0] == "post-install" || w[0] == "pre-install" || w[0] == "install" || w[0] == "remove" ||
               w[0] == "above" || w[0] == "below" || w[0] == "probe" || w[0] == "probeall" || w[0] == "keep" ||
               w[0] == "path" || w[0] == "depfile" || w[0] == "post-remove" || w[0] == "pre-remove") {
      // modutils directives that do not affect networking here.
    } else {
      throw console_error(fmt::format("{}:{}: unknown directive \"{}\" (modules.conf(5): alias, options, "
                                      "install, ...)",
                                      file, n, w[0]));
    }
  }
  return out;
}

ifcfg parse_ifcfg(std::string_view text, std::string_view file) {
  ifcfg out;
  unsigned n = 0;
  std::optional<unsigned> ipaddr_line;
  for (std::string_view raw : lines_of(text)) {
    ++n;
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      throw console_error(fmt::format("{}:{}: expected KEY=VALUE, got \"{}\"", file, n, line));
    }
    const std::string key(trim(line.substr(0, eq)));
    if (!std::all_of(key.begin(), key.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; })) {
      throw console_error(fmt::format("{}:{}: \"{}\" is not a variable name", file, n, key));
    }
    const std::string value = unquote(line.substr(eq + 1));
    out.keys[key] = value;
    if (key == "DEVICE") {
      out.device = value;
    } else if (key == "BOOTPROTO") {
      if (value != "static" && value != "none" && value != "dhcp" && value != "bootp") {
        throw console_error(fmt::format("{}:{}: BOOTPROTO={}: allowed are static, none, dhcp, bootp", file, n, value));
      }
      out.bootproto = value;
    } else if (key == "IPADDR") {
      const auto ip = wire::ipv4_address::parse(value);
      if (!ip || !ip->is_unicast()) {
        throw console_error(fmt::format("{}:{}: IPADDR={}: not a unicast IPv4 address", file, n, value));
      }
      out.ipaddr = ip;
      ipaddr_line = n;
    } else if (key == "NETMASK") {
      const auto m = wire::ipv4_address::parse(value);
      const auto p = m ? netmask_prefix(*m) : std::nullopt;
      if (!p) throw console_error(fmt::format("{}:{}: NETMASK={}: not a contiguous netmask", file, n, value));
      out.prefix_len = p;
    } else if (key == "GATEWAY") {
      const auto ip = wire::ipv4_address::parse(value);
      if (!ip || !ip->is_unicast()) {
        throw console_error(fmt::format("{}:{}: GATEWAY={}: not a unicast IPv4 address", file, n, value));
      }
      out.gateway = ip;
    } else if (key == "ONBOOT") {
      if (value != "yes" && value != "no") {
        throw console_error(fmt::format("{}:{}: ONBOOT={}: allowed are yes and no", file, n, value));
      }
      out.onboot = value == "yes";
    }
  }
  if ((out.bootproto == "static" || out.bootproto == "none") && !out.ipaddr) {
    throw console_error(fmt::format("{}: BOOTPROTO={} needs IPADDR", file, out.bootproto));
  }
  return out;
}

// ---- console -------------------------------------------------------------------------

console::console(host_set& hs, dev::nic_set& nics, host_id h) : hs_(&hs), nics_(&nics), host_(h) {
  (void)hs.host_name(h);  // throws host_error on an unknown host
}

std::string_view console::host_name() const { return hs_->host_name(host_); }

void console::add_console_nic(dev::nic_id nic, std::string_view driver) {
  if (nic >= nics_->size()) {
    throw console_error(fmt::format("console of \"{}\": nic id {} does not exist", host_name(), nic));
  }
  for (unsigned v = 0; v < hs_->vmnic_count(host_); ++v) {
    if (hs_->vmnic_nic(host_, v) == nic) {
      throw console_error(fmt::format("console of \"{}\": NIC \"{}\" is vmnic{} (allocated to the VMkernel); a NIC "
                                      "is allocated to one owner [SEED]",
                                      host_name(), nics_->name(nic), v));
    }
  }
  for (const auto& c : console_nics_) {
    if (c.nic == nic) {
      throw console_error(fmt::format("console of \"{}\": NIC \"{}\" added twice", host_name(), nics_->name(nic)));
    }
  }
  if (driver.empty() || driver == vmxnet_console_module) {
    throw console_error(fmt::format("console of \"{}\": NIC \"{}\": driver \"{}\" is not a NIC driver",
                                    host_name(), nics_->name(nic), driver));
  }
  console_nics_.push_back({nic, std::string(driver), std::nullopt});
}

void console::set_shared(unsigned vmnic) {
  if (vmnic >= hs_->vmnic_count(host_)) {
    throw console_error(fmt::format("console of \"{}\": vmnic{} does not exist", host_name(), vmnic));
  }
  if (std::find(shared_.begin(), shared_.end(), vmnic) == shared_.end()) shared_.push_back(vmnic);
}

void console::set_file(std::string_view path, std::string content) {
  if (path.empty() || path.front() != '/') {
    throw console_error(fmt::format("console of \"{}\": file path \"{}\" is not absolute", host_name(), path));
  }
  if (path == messages_path) {
    throw console_error(fmt::format("console of \"{}\": {} is written by the simulation", host_name(), path));
  }
  files_[std::string(path)] = std::move(content);
}

std::optional<std::string_view> console::file(std::string_view path) const {
  if (const auto it = files_.find(path); it != files_.end()) return std::string_view(it->second);
  return std::nullopt;
}

const eth_device* console::find_eth(unsigned number) const noexcept {
  for (const auto& e : eth_) {
    if (e.number == number) return &e;
  }
  return nullptr;
}
eth_device* console::eth_at(unsigned number) noexcept {
  for (auto& e : eth_) {
    if (e.number == number) return &e;
  }
  return nullptr;
}

std::vector<std::pair<std::string, nic_owner>> console::allocation() const {
  std::vector<std::pair<std::string, nic_owner>> out;
  for (unsigned v = 0; v < hs_->vmnic_count(host_); ++v) {
    const bool shared = std::find(shared_.begin(), shared_.end(), v) != shared_.end();
    out.emplace_back(fmt::format("vmnic{}", v), shared ? nic_owner::shared : nic_owner::vmkernel);
  }
  for (const auto& c : console_nics_) out.emplace_back(std::string(nics_->name(c.nic)), nic_owner::console);
  return out;
}

void console::log(sim_time now, std::string_view source, std::string_view text) {
  log_.push_back({now, fmt::format("{} {}: {}", host_name(), source, text)});
}

std::string console::messages_text() const {
  std::string out;
  for (const auto& l : log_) {
    out += fmt::format("{}.{:09} {}\n", l.at.ns() / 1'000'000'000, l.at.ns() % 1'000'000'000, l.text);
  }
  return out;
}

bool console::carrier(const eth_device& e) const {
  if (e.kind == eth_device::backing::console_nic) return e.nic && nics_->link_up(*e.nic);
  std::vector<unsigned> members;
  if (e.target.rfind("vmnic", 0) == 0) {
    members.push_back(*parse_uint(std::string_view(e.target).substr(5)));
  } else if (e.target.rfind("bond", 0) == 0) {
    members = hs_->bond_vmnics(host_, *parse_uint(std::string_view(e.target).substr(4)));
  }
  return std::any_of(members.begin(), members.end(), [&](unsigned v) {
    const auto nic = hs_->vmnic_nic(host_, v);
    return nic && nics_->link_up(*nic);
  });
}

void console::update_mui(sim_time now) {
  if (!booted_) return;  // nothing runs before boot
  mui_state s = mui_state::running;
  const eth_device* e0 = find_eth(0);
  if (!lo_up_) {
    s = mui_state::loopback_down;
  } else if (e0 == nullptr) {
    s = mui_state::no_eth0;
  } else if (!e0->up || !e0->ip) {
    s = mui_state::eth0_down;
  } else if (!carrier(*e0)) {
    s = mui_state::eth0_no_carrier;
  }
  if (s == mui_) return;
  log(now, "vmware-mui", fmt::format("management interface {}=>{}", to_string(mui_), to_string(s)));
  mui_changes_.push_back({now, mui_, s});
  mui_ = s;
}

mui_state console::poll(sim_time now) {
  update_mui(now);
  return mui_;
}

void console::changed(unsigned number, sim_time now) {
  if (net_ != nullptr) net_->eth_changed(*this, number, now);
}

std::optional<unsigned> console::bind_console_nic(unsigned number, std::string_view driver, sim_time now) {
  for (auto& c : console_nics_) {
    if (c.eth || c.driver != driver) continue;
    c.eth = number;
    eth_device e;
    e.number = number;
    e.kind = eth_device::backing::console_nic;
    e.target = c.driver;
    e.nic = c.nic;
    eth_.push_back(e);
    log(now, "kernel", fmt::format("{}: {} at {}", e.name(), c.driver, nics_->name(c.nic)));
    changed(number, now);
    return number;
  }
  return std::nullopt;
}

void console::boot(sim_time now) {
  if (booted_) throw console_error(fmt::format("console of \"{}\": booted twice", host_name()));
  // Validate every file first: nothing changes on error.
  modules_conf mc;
  if (const auto f = file(modules_conf_path)) mc = parse_modules_conf(*f, modules_conf_path);
  std::vector<std::pair<unsigned, ifcfg>> cfgs;
  for (const auto& [path, text] : files_) {
    if (path.rfind(ifcfg_dir, 0) != 0) continue;
    const std::string_view base = std::string_view(path).substr(ifcfg_dir.size());
    if (base.rfind("ifcfg-", 0) != 0) continue;
    const auto n = eth_number(base.substr(6));
    if (!n) {
      if (base == "ifcfg-lo") continue;
      throw console_error(fmt::format("{}: only ifcfg-ethN and ifcfg-lo are modelled", path));
    }
    auto c = parse_ifcfg(text, path);
    if (!c.device.empty() && c.device != base.substr(6)) {
      throw console_error(fmt::format("{}: DEVICE={} does not match the file name", path, c.device));
    }
    cfgs.emplace_back(*n, std::move(c));
  }
  std::sort(cfgs.begin(), cfgs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> rc;
  if (const auto f = file(rc_local_path)) {
    unsigned n = 0;
    for (std::string_view l : lines_of(*f)) {
      ++n;
      try {
        if (!split_shell_words(l).empty()) rc.emplace_back(trim(l));
      } catch (const console_error& e) {
        throw console_error(fmt::format("{}:{}: {}", rc_local_path, n, e.what()));
      }
    }
  }
  booted_ = true;
  log(now, "kernel", "booting the service console");
  lo_up_ = true;
  log(now, "network", "Bringing up loopback interface:  [  OK  ]");
  // Console NIC drivers.
  if (file(modules_conf_path)) {
    for (const auto& [name, module] : mc.aliases) {
      const auto n = eth_number(name);
      if (!n || module == vmxnet_console_module) continue;
      if (!bind_console_nic(*n, module, now)) {
        log(now, "kernel", fmt::format("{}: no {} device found (modprobe: insmod {} failed)", name, module, module));
      }
    }
  } else {
    unsigned next = 0;
    for (auto& c : console_nics_) bind_console_nic(next++, c.driver, now);
  }
  for (auto& c : console_nics_) {
    if (!c.eth) log(now, "kernel", fmt::format("{}: no alias in {}: the NIC stays unused", nics_->name(c.nic),
                                               modules_conf_path));
  }
  update_mui(now);
  for (const auto& [n, c] : cfgs) {
    if (!c.onboot) continue;
    const auto r = run(fmt::format("ifup eth{}", n), now);
    log(now, "network", fmt::format("Bringing up interface eth{}:  [{}]", n, r.status == 0 ? "  OK  " : "FAILED"));
  }
  for (const auto& l : rc) run(l, now);
  update_mui(now);
}

command_result console::run(std::string_view line, sim_time now) {
  command_result r;
  std::vector<std::string> w;
  try {
    w = split_shell_words(line);
  } catch (const console_error& e) {
    r = {2, fmt::format("bash: {}\n", e.what())};
  }
  if (r.status == 0 && !w.empty()) {
    std::string cmd = w[0];
    if (const auto slash = cmd.rfind('/'); slash != std::string::npos) cmd = cmd.substr(slash + 1);
    const std::vector<std::string> args(w.begin() + 1, w.end());
    try {
      r = dispatch(cmd, args, now);
    } catch (const host_error& e) {
      // A host limit hit while creating (e.g. a full virtual switch: 32 ports [AG2]).
      r = {1, fmt::format("{}: {}\n", cmd, e.what())};
      log(now, "kernel", fmt::format("{}: {}", cmd, e.what()));
    }
  }
  update_mui(now);
  history_.push_back({now, std::string(trim(line)), r});
  return r;
}

command_result console::dispatch(const std::string& cmd, const std::vector<std::string>& args, sim_time now) {
  command_result r;
  {
    if (cmd == "insmod" || cmd == "modprobe") {
      r = insmod(args, now);
    } else if (cmd == "ifconfig") {
      r = ifconfig(args, now);
    } else if (cmd == "ifup") {
      r = ifup(args, now);
    } else if (cmd == "ifdown") {
      r = ifdown(args, now);
    } else if (cmd == "findnic") {
      r = findnic(args, now);
    } else if (cmd == "grep") {
      r = grep(args);
    } else if (cmd == "rmmod") {
      r = rmmod(args, now);
    } else if (cmd == "touch" || cmd == "true" || cmd == ":") {
      r = {0, ""};
    } else if (cmd == "echo") {
      r = {0, fmt::format("{}\n", fmt::join(args, " "))};
    } else {
      r = {127, fmt::format("bash: {}: command not found\n", cmd)};
    }
  }
  return r;
}

std::optional<std::string> ethernet_device_problem(const host_set& hs, host_id h, std::string_view n) {
  constexpr std::string_view head = "Ethernet device cannot be detected";  // [SEED] Troubleshooting
  if (n.rfind("vmnic", 0) == 0) {
    const auto num = parse_uint(n.substr(5));
    if (!num || *num >= hs.vmnic_count(h)) {
      return fmt::format("{}: {}: the VMkernel has no such network adapter (is it allocated to the console?)", head, n);
    }
    if (const auto b = hs.vmnic_bond(h, *num)) {
      return fmt::format("{}: {} is already assigned to bond{}: select bond{} instead [SEED]", head, n, *b, *b);
    }
    return std::nullopt;
  }
  if (n.rfind("bond", 0) == 0 || n.rfind("vmnet_", 0) == 0) {
    if (!hs.find_vswitch_by_device(h, n)) {
      return fmt::format("{}: {}: no virtual switch uses it (check the adapters assigned to bonds) [SEED]", head, n);
    }
    return std::nullopt;
  }
  return fmt::format("{}: {}: expected vmnicN, bondN or vmnet_N", head, n);
}

command_result console::insmod(const std::vector<std::string>& args, sim_time now) {
  if (args.empty()) return {1, "Usage: insmod [-fkmopsxvVyY] [-o name] object [ sym=value ... ]\n"};
  const std::string& module = args[0];
  if (module != vmxnet_console_module) {
    // A console NIC driver: binds the next console NIC with that driver to the next ethN.
    for (const auto& c : console_nics_) {
      if (c.driver == module && !c.eth) {
        unsigned next = 0;
        while (find_eth(next)) ++next;
        bind_console_nic(next, module, now);
        return {0, ""};
      }
    }
    const bool known = std::any_of(console_nics_.begin(), console_nics_.end(),
                                   [&](const console_nic& c) { return c.driver == module; });
    if (known) return {1, fmt::format("insmod: a module named {} already exists\n", module)};
    return {1, fmt::format("insmod: {}: no module by that name found\n", module)};
  }
  std::optional<std::string> dev_names;
  std::optional<std::string> tag;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const auto eq = args[i].find('=');
    const std::string key = args[i].substr(0, eq);
    const std::string value = eq == std::string::npos ? std::string() : args[i].substr(eq + 1);
    if (key == "devName" && eq != std::string::npos) {
      dev_names = value;
    } else if (key == "tagName" && eq != std::string::npos) {
      tag = value;
    } else {
      return {1, fmt::format("insmod: {}: unknown parameter \"{}\" (vmxnet_console takes devName= and tagName=)\n",
                             module, args[i])};
    }
  }
  if (!dev_names) return {1, fmt::format("insmod: {}: devName=\"vmnic1;vmnet_0\" is required [SEED]\n", module)};
  return load_vmxnet(*dev_names, tag, now);
}

command_result console::load_vmxnet(std::string_view dev_names, std::optional<std::string> tag, sim_time now) {
  if (module_loaded_) return {1, "insmod: a module named vmxnet_console already exists\n"};
  const auto names = split_dev_names(dev_names);
  const auto fail = [&](std::string why) {
    log(now, "kernel", fmt::format("vmxnet_console: {}", why));
    return command_result{1, fmt::format("vmxnet_console: {}\ninsmod: init_module: vmxnet_console: No such device\n",
                                         why)};
  };
  if (!names) {
    return fail(fmt::format("devName=\"{}\": an empty entry (names are separated by ';' or ',' [SEED])", dev_names));
  }
  // Check every name before creating anything.
  struct plan {
    std::string name;
    std::optional<vswitch_id> vs;  // nullopt: create a vswitch for the unbonded vmnic
  };
  std::vector<plan> plans;
  for (const auto& n : *names) {
    if (std::any_of(plans.begin(), plans.end(), [&](const plan& p) { return p.name == n; })) {
      return fail(fmt::format("{} is listed twice in devName", n));
    }
    for (const auto& e : eth_) {
      if (e.kind == eth_device::backing::vmxnet && e.target == n) {
        return fail(fmt::format("{} is already in use by the service console as {}", n, e.name()));
      }
    }
    if (const auto problem = ethernet_device_problem(*hs_, host_, n)) return fail(*problem);
    plans.push_back({n, hs_->find_vswitch_by_device(host_, n)});
    if (!plans.back().vs && hs_->find_vswitch(host_, n)) {
      return fail(fmt::format("{}: the network label {} is used by another virtual switch", n, n));
    }
  }
  if (!console_vm_) console_vm_ = hs_->find_vm(host_, "console");  // findnic may have made it
  if (!console_vm_) console_vm_ = hs_->add_vm(host_, "console");
  unsigned next = 0;
  for (const auto& e : eth_) next = std::max(next, e.number + 1);
  std::vector<std::string> created;
  for (const auto& p : plans) {
    vswitch_id vs = 0;
    if (p.vs) {
      vs = *p.vs;
    } else {
      vs = hs_->add_vswitch(host_, p.name, vmnic_binding{*parse_uint(std::string_view(p.name).substr(5))});
    }
    vnic_config vc;
    vc.type = vnic_type::vmxnet;
    vc.network = std::string(hs_->vswitch_label(vs));
    if (net_ != nullptr) vc.delivery = net_->delivery_for(next);
    eth_device e;
    e.number = next++;
    e.kind = eth_device::backing::vmxnet;
    e.target = p.name;
    e.vswitch = vs;
    e.vnic = hs_->add_vnic(*console_vm_, vc);  // a full vswitch throws host_error: caught by run()'s caller
    eth_.push_back(e);
    created.push_back(fmt::format("{}={}", e.name(), p.name));
    if (tag) log(now, "kernel", fmt::format("{} {} {}", *tag, e.name(), p.name));
    changed(e.number, now);
  }
  module_loaded_ = true;
  log(now, "kernel", fmt::format("vmxnet_console: attached {}", fmt::join(created, " ")));
  return {0, ""};
}

std::string console::show(const eth_device& e) const {
  std::string out = fmt::format("{:<10}Link encap:Ethernet  ({})\n", e.name(),
                                e.kind == eth_device::backing::vmxnet ? "vmxnet_console " + e.target : e.target);
  if (e.ip) {
    const auto mask = wire::ipv4_address::netmask(static_cast<std::uint8_t>(e.prefix_len));
    out += fmt::format("          inet addr:{}  Mask:{}\n", e.ip->to_string(), mask.to_string());
  }
  out += fmt::format("          {}{}\n", e.up ? "UP BROADCAST " : "", carrier(e) ? "RUNNING" : "");
  return out;
}

command_result console::ifconfig(const std::vector<std::string>& args, sim_time now) {
  if (args.empty()) {
    std::string out;
    for (const auto& e : eth_) {
      if (e.up) out += show(e);
    }
    if (lo_up_) out += "lo        Link encap:Local Loopback\n          inet addr:127.0.0.1  Mask:255.0.0.0\n";
    return {0, out};
  }
  const std::string& dev = args[0];
  if (dev == "lo") {
    if (args.size() == 2 && (args[1] == "up" || args[1] == "down")) {
      lo_up_ = args[1] == "up";
      log(now, "ifconfig", fmt::format("lo {}", args[1]));
      return {0, ""};
    }
    if (args.size() == 1) return {0, lo_up_ ? "lo        Link encap:Local Loopback\n          UP LOOPBACK\n" : "lo        Link encap:Local Loopback\n"};
    return {1, "ifconfig: only `ifconfig lo up` and `ifconfig lo down` are modelled for lo\n"};
  }
  const auto num = eth_number(dev);
  eth_device* e = num ? eth_at(*num) : nullptr;
  if (e == nullptr) return {1, fmt::format("{}: error fetching interface information: Device not found\n", dev)};
  if (args.size() == 1) return {0, show(*e)};
  std::optional<bool> up;
  std::optional<wire::ipv4_address> ip;
  std::optional<unsigned> prefix;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "up") {
      up = true;
    } else if (args[i] == "down") {
      up = false;
    } else if (args[i] == "netmask") {
      if (i + 1 == args.size()) return {1, "ifconfig: netmask needs an address\n"};
      const auto m = wire::ipv4_address::parse(args[++i]);
      prefix = m ? netmask_prefix(*m) : std::nullopt;
      if (!prefix) return {1, fmt::format("SIOCSIFNETMASK: Invalid argument ({})\n", args[i])};
    } else if (const auto a = wire::ipv4_address::parse(args[i]); a && !ip) {
      if (!a->is_unicast()) return {1, fmt::format("SIOCSIFADDR: Invalid argument ({})\n", args[i])};
      ip = a;
    } else {
      return {1, fmt::format("{}: Unknown host\nifconfig: `--help' gives usage information.\n", args[i])};
    }
  }
  if (prefix && !ip && !e->ip) return {1, "SIOCSIFNETMASK: Cannot assign requested address\n"};
  if (ip) {
    e->ip = ip;
    e->gateway.reset();  // Linux drops the routes through an interface whose address changes
    e->prefix_len = prefix.value_or(classful_prefix(*ip));
    if (!up) up = true;  // Linux brings an interface up when it gets an address
  } else if (prefix) {
    e->prefix_len = *prefix;
  }
  if (up) e->up = *up;
  log(now, "ifconfig", fmt::format("{} {}{}", e->name(), e->up ? "up" : "down",
                                   e->ip ? fmt::format(" {}/{}", e->ip->to_string(), e->prefix_len) : ""));
  changed(e->number, now);
  return {0, ""};
}

std::optional<std::string> console::load_alias(unsigned number, sim_time now) {
  const auto f = file(modules_conf_path);
  if (!f) return fmt::format("modprobe: Can't locate module eth{} (no {})", number, modules_conf_path);
  modules_conf mc;
  try {
    mc = parse_modules_conf(*f, modules_conf_path);
  } catch (const console_error& e) {
    return std::string(e.what());
  }
  const auto it = mc.aliases.find(fmt::format("eth{}", number));
  if (it == mc.aliases.end()) return fmt::format("modprobe: Can't locate module eth{}", number);
  if (it->second == vmxnet_console_module) {
    const auto opt = mc.options.find(vmxnet_console_module);
    if (opt == mc.options.end()) {
      return fmt::format("modprobe: vmxnet_console: no \"options vmxnet_console devName=...\" line in {}",
                         modules_conf_path);
    }
    auto r = run(fmt::format("insmod vmxnet_console {}", opt->second), now);
    if (r.status != 0) return r.output;
  } else if (!bind_console_nic(number, it->second, now)) {
    return fmt::format("modprobe: insmod {} failed: no such device", it->second);
  }
  if (!find_eth(number)) return fmt::format("modprobe: eth{}: the module created no such device", number);
  return std::nullopt;
}

command_result console::ifup(const std::vector<std::string>& args, sim_time now) {
  if (args.size() != 1) return {1, "Usage: ifup <device name>\n"};
  const auto num = eth_number(args[0]);
  if (!num) return {1, fmt::format("ifup: only ethN devices are modelled, not {}\n", args[0])};
  const std::string path = fmt::format("{}ifcfg-{}", ifcfg_dir, args[0]);
  const auto f = file(path);
  if (!f) return {1, fmt::format("/sbin/ifup: configuration for {} not found.\nUsage: ifup <device name>\n", args[0])};
  ifcfg c;
  try {
    c = parse_ifcfg(*f, path);
  } catch (const console_error& e) {
    return {1, fmt::format("{}\n", e.what())};
  }
  if (c.bootproto == "dhcp" || c.bootproto == "bootp") {
    return {1, fmt::format("ifup {}: BOOTPROTO={} is not modelled (use static)\n", args[0], c.bootproto)};
  }
  if (!find_eth(*num)) {
    if (const auto err = load_alias(*num, now)) {
      log(now, "ifup", fmt::format("{}; Device {} does not seem to be present, delaying initialization.", *err,
                                   args[0]));
      return {1, fmt::format("Device {} does not seem to be present, delaying initialization.\n", args[0])};
    }
  }
  std::vector<std::string> a{args[0], c.ipaddr->to_string()};
  if (c.prefix_len) {
    a.emplace_back("netmask");
    a.push_back(wire::ipv4_address::netmask(static_cast<std::uint8_t>(*c.prefix_len)).to_string());
  }
  a.emplace_back("up");
  auto r = ifconfig(a, now);
  if (r.status == 0 && c.gateway) {
    const auto mask = wire::ipv4_address::netmask(static_cast<std::uint8_t>(eth_at(*num)->prefix_len)).to_u32();
    if ((c.gateway->to_u32() & mask) != (c.ipaddr->to_u32() & mask)) {
      // route(8) refuses a gateway off the connected subnets.
      log(now, "ifup", fmt::format("{}: GATEWAY={}: SIOCADDRT: Network is unreachable", args[0], c.gateway->to_string()));
      return {1, "SIOCADDRT: Network is unreachable\n"};
    }
    eth_at(*num)->gateway = c.gateway;
    log(now, "ifup", fmt::format("{} default gateway {}", args[0], c.gateway->to_string()));
    changed(*num, now);
  }
  return r;
}

command_result console::ifdown(const std::vector<std::string>& args, sim_time now) {
  if (args.size() != 1) return {1, "Usage: ifdown <device name>\n"};
  const auto num = eth_number(args[0]);
  eth_device* e = num ? eth_at(*num) : nullptr;
  if (e == nullptr) return {1, fmt::format("{}: error fetching interface information: Device not found\n", args[0])};
  e->up = false;
  log(now, "ifdown", fmt::format("{} down", e->name()));
  changed(e->number, now);
  return {0, ""};
}

command_result console::rmmod(const std::vector<std::string>& args, sim_time now) {
  if (args.size() != 1) return {1, "Usage: rmmod [-as] module ...\n"};
  if (args[0] != vmxnet_console_module) {
    const bool driver = std::any_of(console_nics_.begin(), console_nics_.end(),
                                    [&](const console_nic& c) { return c.driver == args[0] && c.eth; });
    if (driver) return {1, fmt::format("rmmod: only `rmmod {}` is modelled\n", vmxnet_console_module)};
    return {1, fmt::format("rmmod: module {} is not loaded\n", args[0])};
  }
  if (!module_loaded_) return {1, "rmmod: module vmxnet_console is not loaded\n"};
  for (const auto& e : eth_) {
    if (e.kind == eth_device::backing::vmxnet && e.up) {
      return {1, fmt::format("vmxnet_console: {} is up\nrmmod: vmxnet_console: Device or resource busy\n", e.name())};
    }
  }
  std::vector<unsigned> removed;
  for (const auto& e : eth_) {
    if (e.kind == eth_device::backing::vmxnet) removed.push_back(e.number);
  }
  std::erase_if(eth_, [](const eth_device& e) { return e.kind == eth_device::backing::vmxnet; });
  module_loaded_ = false;
  for (unsigned n : removed) {
    log(now, "kernel", fmt::format("vmxnet_console: eth{} removed", n));
    changed(n, now);
  }
  return {0, ""};
}

command_result console::findnic(const std::vector<std::string>& args, sim_time now) {
  static constexpr std::string_view usage =
      "Usage: findnic [-f] [-i seconds] [-c count] <nic-name> <local-ip> <remote-ip>\n";
  findnic_request r;
  std::vector<std::string> pos;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-f") {
      r.flood = true;
      r.interval = findnic_flood_interval;
    } else if (args[i] == "-i" || args[i] == "-c") {
      if (i + 1 == args.size()) return {1, std::string(usage)};
      const auto v = parse_uint(args[i + 1]);
      if (!v || *v == 0) return {1, fmt::format("findnic: {} {}: a positive integer is needed\n", args[i], args[i + 1])};
      if (args[i] == "-i") {
        r.interval = sim_time::from_s(*v);
      } else {
        r.count = *v;
      }
      ++i;
    } else if (!args[i].empty() && args[i][0] == '-') {
      return {1, fmt::format("findnic: unknown option {}\n{}", args[i], usage)};
    } else {
      pos.push_back(args[i]);
    }
  }
  if (pos.size() != 3) return {1, std::string(usage)};
  const auto num = pos[0].rfind("vmnic", 0) == 0 ? parse_uint(std::string_view(pos[0]).substr(5)) : std::nullopt;
  if (!num || *num >= hs_->vmnic_count(host_)) {
    return {1, fmt::format("findnic: {}: no such VMkernel network adapter\n", pos[0])};
  }
  r.vmnic = *num;
  const auto local = wire::ipv4_address::parse(pos[1]);
  const auto remote = wire::ipv4_address::parse(pos[2]);
  if (!local || !local->is_unicast()) return {1, fmt::format("findnic: {}: bad local address\n", pos[1])};
  if (!remote || !remote->is_unicast()) return {1, fmt::format("findnic: {}: bad remote address\n", pos[2])};
  r.local = *local;
  r.remote = *remote;
  if (net_ == nullptr) return {1, "findnic: the console has no IP stack attached\n"};
  std::string out = net_->findnic(*this, r, now);
  log(now, "findnic", fmt::format("vmnic{} {} -> {} count {}", r.vmnic, r.local.to_string(), r.remote.to_string(),
                                  r.count));
  return {0, out};
}

command_result console::grep(const std::vector<std::string>& args) const {
  if (args.size() != 2 || args[1] != messages_path) {
    return {2, fmt::format("grep: only `grep PATTERN {}` is modelled\n", messages_path)};
  }
  std::string out;
  for (const auto& l : log_) {
    if (l.text.find(args[0]) != std::string::npos) {
      out += fmt::format("{}.{:09} {}\n", l.at.ns() / 1'000'000'000, l.at.ns() % 1'000'000'000, l.text);
    }
  }
  return {out.empty() ? 1 : 0, out};
}

}  // namespace vnetsim::host
