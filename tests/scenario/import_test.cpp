// `simulate import`: a real host's files -> a scenario skeleton the loader accepts [AG2][SEED].
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "vnetsim/report/run_report.hpp"
#include "vnetsim/scenario/import.hpp"
#include "vnetsim/scenario/loader.hpp"
#include "vnetsim/scenario/world.hpp"

using namespace vnetsim;
namespace fs = std::filesystem;

namespace {

const fs::path sample_dir = fs::path(VNETSIM_SOURCE_DIR) / "scenarios" / "import_sample";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE(f);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

/// The sample set, named as `simulate import` run inside scenarios/import_sample/ names them.
host::esx_files sample() {
  host::esx_files f;
  f.hwconfig = slurp(sample_dir / "hwconfig");
  f.netmap = slurp(sample_dir / "netmap.conf");
  f.devnames = slurp(sample_dir / "devnames.conf");
  f.modules_conf = slurp(sample_dir / "modules.conf");
  f.rc_local = slurp(sample_dir / "rc.local");
  f.hwconfig_name = "hwconfig";
  f.netmap_name = "netmap.conf";
  f.devnames_name = "devnames.conf";
  f.modules_conf_name = "modules.conf";
  f.rc_local_name = "rc.local";
  return f;
}

std::vector<scenario::ifcfg_file> sample_ifcfgs() {
  return {{"ifcfg-eth0", slurp(sample_dir / "ifcfg-eth0")}, {"ifcfg-eth1", slurp(sample_dir / "ifcfg-eth1")}};
}

std::string import_error(const host::esx_files& f, const std::vector<scenario::ifcfg_file>& cfgs = {},
                         std::string_view host = "esx1") {
  try {
    (void)scenario::import_scenario(f, host, cfgs);
  } catch (const host::esx_file_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("import: the sample files give the committed skeleton, byte for byte") {
  const std::string json = scenario::import_scenario(sample(), "esx1", sample_ifcfgs());
  CHECK(json == slurp(sample_dir / "imported_esx1.json"));
  // Pieces of it, to say what matters: the bond and its options, the label made a name, the
  // console NIC with its modules.conf driver, the shared vmnic, a file as lines.
  CHECK(json.find(R"("nicteam": {
            "home_link": "vmnic0",
            "load_balance_mode": "out-mac"
          })") != std::string::npos);
  CHECK(json.find(R"("label": "Backup_LAN",
          "binding": "vmnic2")") != std::string::npos);
  CHECK(json.find(R"("name": "cos0",
            "driver": "e100",
            "mac": "02:00:00:00:01:00")") != std::string::npos);
  CHECK(json.find(R"("shared": [
          "vmnic2"
        ])") != std::string::npos);
  CHECK(json.find(R"("options vmxnet_console devName=\"vmnic2;vmnet_0\" tagName=vmxcons")") != std::string::npos);
}

TEST_CASE("import: the skeleton loads, builds and runs: the console boots as its files say") {
  const std::string json = scenario::import_scenario(sample(), "esx1", sample_ifcfgs());
  const auto r = scenario::load_scenario(json);
  for (const auto& d : r.diagnostics) MESSAGE(d.to_string("imported"));
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  const auto& m = *r.model;
  REQUIRE(m.hosts.size() == 1);
  CHECK(m.hosts[0].vmnics.size() == 3);
  CHECK(m.hosts[0].bonds.size() == 1);
  CHECK(m.hosts[0].vswitches.size() == 3);
  REQUIRE(m.hosts[0].console);
  CHECK(m.hosts[0].console->shared == std::vector<unsigned>{2});
  scenario::world w(m.seed, m.observe_interval);
  scenario::build(w, m);
  w.run_until(m.duration);
  const auto summary = report::human_summary(w, {m.name, scenario::scenario_hash(json), m.seed, m.duration, {}}, w.evaluate());
  // eth0 from the e100 alias and ifcfg-eth0 (ONBOOT=yes); rc.local: vmxnet_console makes eth1
  // (vmnic2) and eth2 (vmnet_0), tagged; ifup eth1 reads ifcfg-eth1; eth2 by ifconfig.
  CHECK(summary.find("Service console of esx1: management interface running\n"
                     "  eth0   console NIC     e100       up   10.0.0.5/24\n"
                     "  eth1   vmxnet_console  vmnic2     up   10.2.0.4/16\n"
                     "  eth2   vmxnet_console  vmnet_0    up   192.168.50.4/24\n") != std::string::npos);
  CHECK(summary.find("0.000000000 esx1 kernel: vmxcons eth1 vmnic2\n") != std::string::npos);
}

TEST_CASE("import: malformed and inconsistent files are located") {
  auto f = sample();
  SUBCASE("hwconfig") {
    f.hwconfig += "nicteam.bond0.load_balance_mode = out-port\n";
    CHECK(import_error(f) == "hwconfig:36: key \"nicteam.bond0.load_balance_mode\" already set on line 34");
  }
  SUBCASE("netmap.conf") {
    f.netmap += "network3.name \"Lab\"\n";
    CHECK(import_error(f).starts_with("netmap.conf:7: "));
    f = sample();
    f.netmap += "network3.name = \"Lab\"\nnetwork3.device = \"bond4\"\n";
    // The line where network3 begins.
    CHECK(import_error(f) == "netmap.conf:7: network3 uses bond4, which hwconfig does not define");
  }
  SUBCASE("devnames.conf") {
    f.devnames = "002:04.0 nic vmnic0\n002:4.1 nic vmnic1\n";
    CHECK(import_error(f) == "hwconfig:22: NIC 002:05.0 is allocated to the VMkernel but devnames.conf gives it no vmnic "
                             "name");
    f.devnames = "002:04.0 nic vmnic0\n002:04.1 nic\n002:05.0 nic vmnic2\n";
    CHECK(import_error(f).starts_with("devnames.conf:2: three fields needed"));
  }
  SUBCASE("modules.conf and rc.local") {
    f.modules_conf = "alias eth0 e100\nalias eth1\n";
    CHECK(import_error(f) == "modules.conf:2: \"alias\" takes a name and a module (alias eth0 e100), got \"alias eth1\"");
    f = sample();
    f.rc_local = "ifup eth1\ninsmod vmxnet_console devName=\"vmnic2\n";
    CHECK(import_error(f) == "rc.local:2: unterminated \" quote in \"insmod vmxnet_console devName=\"vmnic2\"");
  }
  SUBCASE("ifcfg files") {
    CHECK(import_error(f, {{"ifcfg-eth0", "DEVICE=eth0\nNETMASK=255.0.255.0\n"}}) ==
          "ifcfg-eth0:2: NETMASK=255.0.255.0: not a contiguous netmask");
    CHECK(import_error(f, {{"ifcfg-eth0", "DEVICE=eth1\nIPADDR=10.0.0.1\n"}}) ==
          "ifcfg-eth0: DEVICE=eth1 does not match the file name");
    CHECK(import_error(f, {{"/tmp/ifcfg-lo", "DEVICE=lo\n"}}) == "/tmp/ifcfg-lo: the file name must be ifcfg-ethN");
    CHECK(import_error(f, {{"a/ifcfg-eth0", "IPADDR=10.0.0.1\n"}, {"b/ifcfg-eth0", "IPADDR=10.0.0.2\n"}}) ==
          "b/ifcfg-eth0: ifcfg-eth0 given twice");
  }
  SUBCASE("the host name") {
    CHECK(import_error(f, {}, "esx 1") ==
          "host name \"esx 1\" is not a valid scenario name (not empty, no ':', '/' or space)");
  }
}

TEST_CASE("import: a host with no console NIC and no console files has no console section") {
  host::esx_files f;
  f.hwconfig = "device.2.4.0.class = \"0200\"\ndevice.2.4.0.owner = \"VMK\"\n";
  f.devnames = "002:04.0 nic vmnic0\n";
  f.netmap = "network0.name = \"VM Network\"\nnetwork0.device = \"vmnic0\"\n";
  const std::string json = scenario::import_scenario(f, "esx9");
  CHECK(json.find("\"console\"") == std::string::npos);
  CHECK(json.find(R"("label": "VM_Network")") != std::string::npos);
  CHECK(json.find(R"("a": "esx9:vmnic0")") != std::string::npos);
  CHECK(scenario::load_scenario(json).ok());
}
