#include "vnetsim/host/esx_files.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace vnetsim::host {

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

template <class F>
void for_lines(std::string_view text, F&& f) {
  unsigned n = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    ++n;
    if (!line.empty() && line.front() != '#') f(line, n);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

std::optional<unsigned> to_uint(std::string_view s, int base = 10) noexcept {
  unsigned v = 0;
  if (s.empty()) return std::nullopt;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

/// "vmnic3" -> 3 (prefix given).
std::optional<unsigned> numbered(std::string_view s, std::string_view prefix) noexcept {
  if (s.substr(0, prefix.size()) != prefix) return std::nullopt;
  return to_uint(s.substr(prefix.size()));
}

/// key = "value" (or bare value); nullopt when not of that form.
std::optional<std::pair<std::string, std::string>> key_value(std::string_view line) {
  const auto eq = line.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const std::string_view key = trim(line.substr(0, eq));
  std::string_view v = trim(line.substr(eq + 1));
  if (key.empty() || key.find_first_of(" \t\"") != std::string_view::npos) return std::nullopt;
  if (!v.empty() && v.front() == '"') {
    if (v.size() < 2 || v.back() != '"') return std::nullopt;
    v = v.substr(1, v.size() - 2);
    if (v.find('"') != std::string_view::npos) return std::nullopt;
  } else if (v.find_first_of(" \t\"") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::pair{std::string(key), std::string(v)};
}

/// "B.S.F" (decimal or hex as hwconfig writes them; read as decimal).
std::optional<pci_address> dotted_pci(std::string_view s) {
  const auto a = s.find('.');
  const auto b = a == std::string_view::npos ? a : s.find('.', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  const auto bus = to_uint(s.substr(0, a));
  const auto slot = to_uint(s.substr(a + 1, b - a - 1));
  const auto fn = to_uint(s.substr(b + 1));
  if (!bus || !slot || !fn || *bus > 255 || *slot > 31 || *fn > 7) return std::nullopt;
  return pci_address{*bus, *slot, *fn};
}

}  // namespace

std::string pci_address::to_string() const { return fmt::format("{:03}:{:02}.{}", bus, slot, function); }

hwconfig_file parse_hwconfig(std::string_view text, std::string_view file) {
  hwconfig_file out;
  for_lines(text, [&](std::string_view line, unsigned n) {
    auto kv = key_value(line);
    if (!kv) throw esx_file_error(fmt::format("{}:{}: expected key = \"value\", got \"{}\"", file, n, line));
    if (const auto it = out.keys.find(kv->first); it != out.keys.end()) {
      throw esx_file_error(fmt::format("{}:{}: key \"{}\" already set on line {}", file, n, kv->first, it->second.line));
    }
    out.keys.emplace(kv->first, located_value{kv->second, n});
  });
  return out;
}

std::vector<devnames_entry> parse_devnames(std::string_view text, std::string_view file) {
  std::vector<devnames_entry> out;
  for_lines(text, [&](std::string_view line, unsigned n) {
    std::vector<std::string_view> w;
    std::string_view rest = line;
    while (!rest.empty()) {
      const auto sp = rest.find_first_of(" \t");
      w.push_back(rest.substr(0, sp));
      if (sp == std::string_view::npos) break;
      rest = trim(rest.substr(sp));
    }
    const auto bad = [&](std::string_view why) {
      return esx_file_error(fmt::format("{}:{}: {} (expected \"002:04.0 nic vmnic0\" [AG2]), got \"{}\"", file, n, why,
                                        line));
    };
    if (w.size() != 3) throw bad("three fields needed");
    const auto colon = w[0].find(':');
    const auto dot = w[0].find('.');
    if (colon == std::string_view::npos || dot == std::string_view::npos || dot < colon) throw bad("bad PCI address");
    const auto bus = to_uint(w[0].substr(0, colon));
    const auto slot = to_uint(w[0].substr(colon + 1, dot - colon - 1));
    const auto fn = to_uint(w[0].substr(dot + 1));
    if (!bus || !slot || !fn || *bus > 255 || *slot > 31 || *fn > 7) throw bad("bad PCI address");
    devnames_entry e{{*bus, *slot, *fn}, std::string(w[1]), std::string(w[2]), n};
    if (e.cls == "nic" && !numbered(e.name, "vmnic")) throw bad("a nic must be named vmnicN");
    for (const auto& o : out) {
      if (o.pci == e.pci) throw bad(fmt::format("PCI address already named on line {}", o.line));
      if (o.name == e.name) throw bad(fmt::format("name {} already used on line {}", e.name, o.line));
    }
    out.push_back(std::move(e));
  });
  return out;
}

std::vector<netmap_entry> parse_netmap(std::string_view text, std::string_view file) {
  std::vector<netmap_entry> out;
  for_lines(text, [&](std::string_view line, unsigned n) {
    const auto kv = key_value(line);
    const auto bad = [&](std::string_view why) {
      return esx_file_error(fmt::format("{}:{}: {} (expected networkN.name = \"Label\" or networkN.device = "
                                        "\"bond0\"), got \"{}\"",
                                        file, n, why, line));
    };
    if (!kv) throw bad("not a key = \"value\" line");
    const auto dot = kv->first.find('.');
    if (dot == std::string::npos) throw bad("unknown key");
    const auto num = numbered(std::string_view(kv->first).substr(0, dot), "network");
    const std::string field = kv->first.substr(dot + 1);
    if (!num || (field != "name" && field != "device")) throw bad("unknown key");
    auto it = std::find_if(out.begin(), out.end(), [&](const netmap_entry& e) { return e.network == *num; });
    if (it == out.end()) {
      out.push_back({*num, "", "", n});
      it = out.end() - 1;
    }
    std::string& slot = field == "name" ? it->label : it->device;
    if (!slot.empty()) throw bad(fmt::format("network{}.{} set twice", *num, field));
    if (kv->second.empty()) throw bad("empty value");
    if (field == "device" && !numbered(kv->second, "bond") && !numbered(kv->second, "vmnic") &&
        !numbered(kv->second, "vmnet_")) {
      throw bad(fmt::format("device \"{}\" is not bondN, vmnicN or vmnet_N", kv->second));
    }
    slot = kv->second;
  });
  for (const auto& e : out) {
    if (e.label.empty() || e.device.empty()) {
      throw esx_file_error(fmt::format("{}:{}: network{} needs both .name and .device", file, e.line, e.network));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.network < b.network; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].label == out[i - 1].label || std::any_of(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(i),
                                                        [&](const auto& e) { return e.label == out[i].label; })) {
      throw esx_file_error(fmt::format("{}:{}: label \"{}\" used twice", file, out[i].line, out[i].label));
    }
  }
  return out;
}

esx_host_description import_esx_files(const esx_files& f) {
  esx_host_description d;
  const auto hw = parse_hwconfig(f.hwconfig, f.hwconfig_name);
  const auto dn = parse_devnames(f.devnames, f.devnames_name);
  const auto nm = parse_netmap(f.netmap, f.netmap_name);
  const auto at = [&](const located_value& v) { return fmt::format("{}:{}", f.hwconfig_name, v.line); };

  // NICs from devnames.conf.
  std::map<pci_address, esx_host_description::nic> nics;
  std::vector<unsigned> vmnic_numbers;
  for (const auto& e : dn) {
    if (e.cls != "nic") {
      d.other_devices.push_back(e);
      continue;
    }
    nics[e.pci] = {e.pci, e.name, "", nic_owner::vmkernel};
    vmnic_numbers.push_back(*numbered(e.name, "vmnic"));
  }
  std::sort(vmnic_numbers.begin(), vmnic_numbers.end());
  for (std::size_t i = 0; i < vmnic_numbers.size(); ++i) {
    if (vmnic_numbers[i] != i) {
      throw esx_file_error(fmt::format("{}: the nics must be vmnic0..vmnic{} (numbered in PCI order [AG2]); vmnic{} "
                                       "is missing",
                                       f.devnames_name, vmnic_numbers.size() - 1, i));
    }
  }
  const auto vmnic_exists = [&](unsigned k) { return k < vmnic_numbers.size(); };

  // hwconfig: device entries, then team membership and bond options.
  std::map<pci_address, std::map<std::string, located_value>> devices;
  std::map<unsigned, esx_host_description::bond> bonds;
  std::vector<std::pair<unsigned, std::pair<std::string, located_value>>> bond_keys;
  for (const auto& [key, v] : hw.keys) {
    if (key.rfind("device.", 0) == 0) {
      const auto last = key.rfind('.');
      const auto pci = dotted_pci(std::string_view(key).substr(7, last - 7));
      if (!pci) throw esx_file_error(fmt::format("{}: \"{}\": expected device.<bus>.<slot>.<function>.<field>", at(v), key));
      const std::string field = key.substr(last + 1);
      devices[*pci][field] = v;
      if (field != "class" && field != "owner" && field != "name") d.other_keys[key] = v.value;
    } else if (key.rfind("nicteam.", 0) == 0) {
      const auto dot = key.find('.', 8);
      if (dot == std::string::npos) throw esx_file_error(fmt::format("{}: \"{}\": expected nicteam.<bondN|vmnicN>.<key>", at(v), key));
      const std::string_view obj = std::string_view(key).substr(8, dot - 8);
      const std::string field = key.substr(dot + 1);
      if (const auto k = numbered(obj, "vmnic")) {
        if (field != "team") throw esx_file_error(fmt::format("{}: \"{}\": the only vmnic key is team", at(v), key));
        if (!vmnic_exists(*k)) throw esx_file_error(fmt::format("{}: vmnic{} is not in {}", at(v), *k, f.devnames_name));
        const auto b = numbered(v.value, "bond");
        if (!b) throw esx_file_error(fmt::format("{}: {} = \"{}\": expected bondN", at(v), key, v.value));
        bonds[*b].number = *b;
        bonds[*b].vmnics.push_back(*k);
      } else if (const auto b = numbered(obj, "bond")) {
        bond_keys.push_back({*b, {field, v}});
      } else {
        throw esx_file_error(fmt::format("{}: \"{}\": expected nicteam.bondN.<key> or nicteam.vmnicN.team", at(v), key));
      }
    } else {
      d.other_keys[key] = v.value;
    }
  }
  for (auto& [n, b] : bonds) {
    std::sort(b.vmnics.begin(), b.vmnics.end());
    if (b.vmnics.size() > 10) {
      throw esx_file_error(fmt::format("{}: bond{} has {} adapters; at most 10 [AG2]", f.hwconfig_name, n, b.vmnics.size()));
    }
  }
  for (const auto& [n, kv] : bond_keys) {
    const auto& [field, v] = kv;
    const auto it = bonds.find(n);
    if (it == bonds.end()) {
      throw esx_file_error(fmt::format("{}: nicteam.bond{}.{}: bond{} has no adapters (no nicteam.vmnicK.team = "
                                       "\"bond{}\")",
                                       at(v), n, field, n, n));
    }
    if (field == "load_balance_mode") {
      if (v.value != "out-mac" && v.value != "out-ip") {
        throw esx_file_error(fmt::format("{}: load_balance_mode \"{}\": allowed are out-mac and out-ip [AG2]", at(v), v.value));
      }
    } else if (field == "home_link") {
      const auto k = numbered(v.value, "vmnic");
      if (!k || std::find(it->second.vmnics.begin(), it->second.vmnics.end(), *k) == it->second.vmnics.end()) {
        throw esx_file_error(fmt::format("{}: home_link \"{}\" is not an adapter of bond{} [AG2]", at(v), v.value, n));
      }
    } else if (field == "switch_failover_threshold") {
      const auto t = to_uint(v.value);
      if (!t || *t == 1) {
        throw esx_file_error(fmt::format("{}: switch_failover_threshold \"{}\": 0 (off) or 2 and more [AG2]", at(v), v.value));
      }
    } else {
      throw esx_file_error(fmt::format("{}: nicteam.bond{}.{}: unknown key (load_balance_mode, home_link, "
                                       "switch_failover_threshold [AG2])",
                                       at(v), n, field));
    }
    it->second.options[field] = v.value;
  }
  for (const auto& [pci, fields] : devices) {
    const auto cls = fields.find("class");
    if (cls == fields.end() || cls->second.value.rfind("02", 0) != 0) continue;  // not a network controller
    const auto owner = fields.find("owner");
    auto it = nics.find(pci);
    nic_owner o = nic_owner::vmkernel;
    if (owner != fields.end()) {
      if (owner->second.value == "COS") {
        o = nic_owner::console;
      } else if (owner->second.value == "VMK") {
        o = nic_owner::vmkernel;
      } else if (owner->second.value == "SHARED") {
        o = nic_owner::shared;
      } else {
        throw esx_file_error(fmt::format("{}: owner \"{}\": allowed are COS, VMK, SHARED", at(owner->second),
                                         owner->second.value));
      }
    }
    if (o == nic_owner::console) {
      if (it != nics.end()) {
        throw esx_file_error(fmt::format("{}: the console owns {} but {} names it {}", at(owner->second), pci.to_string(),
                                         f.devnames_name, it->second.name));
      }
      it = nics.emplace(pci, esx_host_description::nic{pci, "eth@" + pci.to_string(), "", o}).first;
    } else if (it == nics.end()) {
      throw esx_file_error(fmt::format("{}: NIC {} is allocated to the VMkernel but {} gives it no vmnic name",
                                       at(cls->second), pci.to_string(), f.devnames_name));
    }
    it->second.owner = o;
    if (const auto name = fields.find("name"); name != fields.end()) it->second.model = name->second.value;
  }
  for (auto& [pci, n] : nics) d.nics.push_back(n);
  for (auto& [n, b] : bonds) d.bonds.push_back(b);
  for (const auto& e : nm) {
    if (const auto b = numbered(e.device, "bond"); b && !bonds.contains(*b)) {
      throw esx_file_error(fmt::format("{}:{}: network{} uses bond{}, which {} does not define", f.netmap_name, e.line,
                                       e.network, *b, f.hwconfig_name));
    }
    if (const auto k = numbered(e.device, "vmnic")) {
      if (!vmnic_exists(*k)) {
        throw esx_file_error(fmt::format("{}:{}: network{} uses vmnic{}, which {} does not name", f.netmap_name, e.line,
                                         e.network, *k, f.devnames_name));
      }
      for (const auto& [n, b] : bonds) {
        if (std::find(b.vmnics.begin(), b.vmnics.end(), *k) != b.vmnics.end()) {
          throw esx_file_error(fmt::format("{}:{}: network{} uses vmnic{}, which is in bond{}: name the bond [SEED]",
                                           f.netmap_name, e.line, e.network, *k, n));
        }
      }
    }
    for (const auto& o : d.networks) {
      if (o.device == e.device) {
        throw esx_file_error(fmt::format("{}:{}: device {} already has the network \"{}\"", f.netmap_name, e.line, e.device,
                                         o.label));
      }
    }
    d.networks.push_back({e.label, e.device});
  }
  if (f.modules_conf) {
    try {
      (void)parse_modules_conf(*f.modules_conf, f.modules_conf_name);
    } catch (const console_error& e) {
      throw esx_file_error(e.what());
    }
    d.modules_conf = f.modules_conf;
  }
  if (f.rc_local) {
    unsigned n = 0;
    std::string_view text = *f.rc_local;
    while (!text.empty()) {
      const auto nl = text.find('\n');
      ++n;
      try {
        (void)split_shell_words(text.substr(0, nl));
      } catch (const console_error& e) {
        throw esx_file_error(fmt::format("{}:{}: {}", f.rc_local_name, n, e.what()));
      }
      if (nl == std::string_view::npos) break;
      text.remove_prefix(nl + 1);
    }
    d.rc_local = f.rc_local;
  }
  return d;
}

}  // namespace vnetsim::host
