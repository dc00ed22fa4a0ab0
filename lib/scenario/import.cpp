#include "vnetsim/scenario/import.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vnetsim::scenario {

namespace {

using ojson = nlohmann::ordered_json;

/// "vmnicN" -> N.
std::optional<unsigned> vmnic_number(std::string_view s) {
  if (!s.starts_with("vmnic") || s.size() == 5 || s.size() > 9) return std::nullopt;
  unsigned n = 0;
  for (char c : s.substr(5)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n;
}

/// A label a scenario accepts as a name: ' ', ':' and '/' become '_'.
std::string scenario_label(std::string_view label) {
  std::string out(label);
  for (char& c : out) {
    if (c == ' ' || c == ':' || c == '/') c = '_';
  }
  return out.empty() ? "_" : out;
}

/// A file's text as an array of its lines (the form a scenario reads best).
ojson lines(std::string_view text) {
  ojson out = ojson::array();
  while (!text.empty()) {
    const auto nl = text.find('\n');
    out.push_back(std::string(text.substr(0, nl)));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace

std::string import_scenario(const host::esx_files& files, std::string_view host_name,
                            const std::vector<ifcfg_file>& ifcfgs) {
  if (host_name.empty() || host_name.find_first_of(": /") != std::string_view::npos) {
    throw host::esx_file_error(fmt::format("host name \"{}\" is not a valid scenario name (not empty, no ':', '/' or "
                                           "space)",
                                           host_name));
  }
  const host::esx_host_description d = host::import_esx_files(files);
  // The ifcfg files: ifcfg-ethN by base name, each checked (file:line on a malformed line).
  std::vector<std::pair<std::string, std::string>> cfgs;  // path in the console, text
  for (const auto& f : ifcfgs) {
    const auto slash = f.name.rfind('/');
    const std::string base = slash == std::string::npos ? f.name : f.name.substr(slash + 1);
    if (!base.starts_with("ifcfg-eth") || base.size() == 9 ||
        base.find_first_not_of("0123456789", 9) != std::string::npos) {
      throw host::esx_file_error(fmt::format("{}: the file name must be ifcfg-ethN", f.name));
    }
    try {
      const auto c = host::parse_ifcfg(f.text, f.name);
      if (!c.device.empty() && c.device != base.substr(6)) {
        throw host::esx_file_error(fmt::format("{}: DEVICE={} does not match the file name", f.name, c.device));
      }
    } catch (const host::console_error& e) {
      throw host::esx_file_error(e.what());
    }
    const std::string path = std::string(host::ifcfg_dir) + base;
    for (const auto& [p, t] : cfgs) {
      if (p == path) throw host::esx_file_error(fmt::format("{}: {} given twice", f.name, base));
    }
    cfgs.emplace_back(path, f.text);
  }
  // vmnics: contiguous numbers, in number order.
  std::map<unsigned, const host::esx_host_description::nic*> vmnics;
  std::vector<const host::esx_host_description::nic*> console_nics;
  for (const auto& n : d.nics) {
    if (n.owner == host::nic_owner::console) {
      console_nics.push_back(&n);
    } else if (const auto k = vmnic_number(n.name)) {
      vmnics[*k] = &n;
    }
  }
  unsigned expect = 0;
  for (const auto& [k, n] : vmnics) {
    if (k != expect) {
      throw host::esx_file_error(fmt::format("{}: vmnic{} is named but vmnic{} is not: the VMkernel numbers its "
                                             "adapters without gaps [AG2]",
                                             files.devnames_name, k, expect));
    }
    ++expect;
  }
  ojson h;
  h["name"] = std::string(host_name);
  ojson vm = ojson::array();
  for (const auto& [k, n] : vmnics) {
    vm.push_back(ojson{{"mac", fmt::format("02:00:00:00:00:{:02x}", k)}, {"speed", "1Gbps"}});
  }
  if (!vm.empty()) h["vmnics"] = std::move(vm);
  ojson bonds = ojson::array();
  for (const auto& b : d.bonds) {
    ojson o{{"number", b.number}, {"members", b.vmnics}};
    if (!b.options.empty()) {
      ojson t = ojson::object();
      for (const auto& [key, value] : b.options) t[key] = value;
      o["nicteam"] = std::move(t);
    }
    bonds.push_back(std::move(o));
  }
  if (!bonds.empty()) h["bonds"] = std::move(bonds);
  ojson vss = ojson::array();
  std::vector<std::string> used;
  for (const auto& n : d.networks) {
    std::string label = scenario_label(n.label);
    while (std::find(used.begin(), used.end(), label) != used.end()) label += "_";
    used.push_back(label);
    vss.push_back(ojson{{"label", label}, {"binding", n.device}});
  }
  if (!vss.empty()) h["vswitches"] = std::move(vss);
  // The console: NICs, shared vmnics, files.
  std::vector<unsigned> shared;
  for (const auto& [k, n] : vmnics) {
    if (n->owner == host::nic_owner::shared) shared.push_back(k);
  }
  if (!console_nics.empty() || !shared.empty() || d.modules_conf || d.rc_local || !cfgs.empty()) {
    host::modules_conf mc;
    if (d.modules_conf) mc = host::parse_modules_conf(*d.modules_conf, files.modules_conf_name);
    ojson c = ojson::object();
    ojson nics = ojson::array();
    for (std::size_t k = 0; k < console_nics.size(); ++k) {
      std::string driver = "e100";
      if (const auto it = mc.aliases.find(fmt::format("eth{}", k));
          it != mc.aliases.end() && it->second != host::vmxnet_console_module) {
        driver = it->second;
      }
      nics.push_back(ojson{{"name", fmt::format("cos{}", k)},
                           {"driver", driver},
                           {"mac", fmt::format("02:00:00:00:01:{:02x}", k)},
                           {"speed", "1Gbps"}});
    }
    if (!nics.empty()) c["nics"] = std::move(nics);
    if (!shared.empty()) {
      ojson s = ojson::array();
      for (unsigned v : shared) s.push_back(fmt::format("vmnic{}", v));
      c["shared"] = std::move(s);
    }
    ojson f = ojson::object();
    if (d.modules_conf) f[std::string(host::modules_conf_path)] = lines(*d.modules_conf);
    if (d.rc_local) f[std::string(host::rc_local_path)] = lines(*d.rc_local);
    for (const auto& [path, text] : cfgs) f[path] = lines(text);
    if (!f.empty()) c["files"] = std::move(f);
    h["console"] = std::move(c);
  }
  // The physical network: one switch port per NIC.
  const std::size_t ports = std::max<std::size_t>(vmnics.size() + console_nics.size(), 1);
  ojson links = ojson::array();
  std::size_t port = 0;
  for (const auto& [k, n] : vmnics) {
    links.push_back(ojson{{"name", fmt::format("vmnic{}", k)},
                          {"a", fmt::format("{}:vmnic{}", host_name, k)},
                          {"b", fmt::format("sw1:{}", port++)}});
  }
  for (std::size_t k = 0; k < console_nics.size(); ++k) {
    links.push_back(ojson{{"name", fmt::format("cos{}", k)},
                          {"a", fmt::format("{}:cos{}", host_name, k)},
                          {"b", fmt::format("sw1:{}", port++)}});
  }
  std::string sources = fmt::format("{}, {}, {}", files.hwconfig_name, files.netmap_name, files.devnames_name);
  if (files.modules_conf) sources += ", " + files.modules_conf_name;
  if (files.rc_local) sources += ", " + files.rc_local_name;
  for (const auto& c : ifcfgs) sources += ", " + c.name;
  ojson doc;
  doc["vnetsim"] = 1;
  doc["name"] = fmt::format("imported_{}", host_name);
  doc["description"] = fmt::format(
      "Skeleton imported by `simulate import` from {}. NIC MACs and speeds are placeholders (the files do not "
      "give them); sw1 stands for the physical network: add faults, traffic and expectations.",
      sources);
  doc["seed"] = 1;
  doc["duration"] = "30s";
  doc["switches"] = ojson::array({ojson{{"name", "sw1"}, {"ports", ports}}});
  doc["hosts"] = ojson::array({std::move(h)});
  if (!links.empty()) doc["links"] = std::move(links);
  return doc.dump(2) + "\n";
}

}  // namespace vnetsim::scenario
