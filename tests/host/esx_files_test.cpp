// Importing a real ESX Server 2.x host's files: hwconfig, netmap.conf, devnames.conf [AG2][SEED].
#include "vnetsim/host/esx_files.hpp"

#include <doctest/doctest.h>

using namespace vnetsim;

namespace {

// A real-looking 2.x host: two onboard e100 (one for the console), a dual-port e1000 card.
constexpr std::string_view hwconfig_text = R"x(device.0.3.0.class = "0200"
device.0.3.0.devID = "1229"
device.0.3.0.irq = "11"
device.0.3.0.name = "Intel Corporation 82557 [Ethernet Pro 100]"
device.0.3.0.owner = "COS"
device.0.3.0.subsys_devID = "000c"
device.0.3.0.subsys_vendor = "8086"
device.0.3.0.vendor = "8086"
device.2.4.0.class = "0200"
device.2.4.0.name = "Intel Corporation 82546EB Gigabit Ethernet Controller (Copper)"
device.2.4.0.owner = "VMK"
device.2.4.1.class = "0200"
device.2.4.1.name = "Intel Corporation 82546EB Gigabit Ethernet Controller (Copper)"
device.2.4.1.owner = "VMK"
device.2.5.0.class = "0200"
device.2.5.0.owner = "SHARED"
device.3.1.0.class = "0100"
device.3.1.0.name = "Adaptec AIC-7899P U160/m"
device.3.1.0.owner = "VMK"
# NIC teaming
nicteam.vmnic0.team = "bond0"
nicteam.vmnic1.team = "bond0"
nicteam.bond0.load_balance_mode = "out-ip"
nicteam.bond0.home_link = "vmnic1"
nicteam.bond0.switch_failover_threshold = "2"
)x";
constexpr std::string_view devnames_text = R"x(002:04.0 nic vmnic0
002:04.1 nic vmnic1
002:05.0 nic vmnic2
003:01.0 scsi vmhba0
)x";
constexpr std::string_view netmap_text = R"x(network0.name = "Production"
network0.device = "bond0"
network1.name = "Internal"
network1.device = "vmnet_0"
network2.name = "Backup"
network2.device = "vmnic2"
)x";

host::esx_files sample() {
  host::esx_files f;
  f.hwconfig = hwconfig_text;
  f.devnames = devnames_text;
  f.netmap = netmap_text;
  return f;
}

std::string import_error(host::esx_files f) {
  try {
    (void)host::import_esx_files(f);
  } catch (const host::esx_file_error& e) {
    return e.what();
  }
  return "no error";
}

std::string replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string s(text);
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  s.replace(at, from.size(), to);
  return s;
}

}  // namespace

TEST_CASE("esx_files: the sample host") {
  const auto d = host::import_esx_files(sample());
  REQUIRE(d.nics.size() == 4);
  CHECK(d.nics[0].pci.to_string() == "000:03.0");
  CHECK(d.nics[0].owner == host::nic_owner::console);
  CHECK(d.nics[0].name == "eth@000:03.0");
  CHECK(d.nics[0].model == "Intel Corporation 82557 [Ethernet Pro 100]");
  CHECK(d.nics[1].name == "vmnic0");
  CHECK(d.nics[1].owner == host::nic_owner::vmkernel);
  CHECK(d.nics[2].name == "vmnic1");
  CHECK(d.nics[3].name == "vmnic2");
  CHECK(d.nics[3].owner == host::nic_owner::shared);
  REQUIRE(d.bonds.size() == 1);
  CHECK(d.bonds[0].number == 0);
  CHECK(d.bonds[0].vmnics == std::vector<unsigned>{0, 1});
  CHECK(d.bonds[0].options == std::map<std::string, std::string>{
                                  {"home_link", "vmnic1"}, {"load_balance_mode", "out-ip"}, {"switch_failover_threshold", "2"}});
  REQUIRE(d.networks.size() == 3);
  CHECK(d.networks[0].label == "Production");
  CHECK(d.networks[0].device == "bond0");
  CHECK(d.networks[2].device == "vmnic2");
  REQUIRE(d.other_devices.size() == 1);
  CHECK(d.other_devices[0].name == "vmhba0");
  CHECK(d.other_keys.at("device.0.3.0.irq") == "11");
}

TEST_CASE("esx_files: malformed lines are located") {
  SUBCASE("devnames.conf") {
    auto f = sample();
    f.devnames = "002:04.0 nic vmnic0\n002:4 nic vmnic1\n";
    CHECK(import_error(f) ==
          "/etc/vmware/devnames.conf:2: bad PCI address (expected \"002:04.0 nic vmnic0\" [AG2]), got \"002:4 nic vmnic1\"");
    f.devnames = "002:04.0 nic vmnic0\n002:04.1 nic\n";
    CHECK(import_error(f).starts_with("/etc/vmware/devnames.conf:2: three fields needed"));
    f.devnames = "002:04.0 nic vmnic0\n002:04.0 nic vmnic1\n";
    CHECK(import_error(f).starts_with("/etc/vmware/devnames.conf:2: PCI address already named on line 1"));
    f.devnames = "002:04.0 nic eth1\n";
    CHECK(import_error(f).starts_with("/etc/vmware/devnames.conf:1: a nic must be named vmnicN"));
    f.devnames = "002:04.0 nic vmnic0\n002:04.1 nic vmnic2\n";
    CHECK(import_error(f) ==
          "/etc/vmware/devnames.conf: the nics must be vmnic0..vmnic1 (numbered in PCI order [AG2]); vmnic1 is missing");
  }
  SUBCASE("hwconfig") {
    auto f = sample();
    f.hwconfig = replace(hwconfig_text, "nicteam.bond0.load_balance_mode = \"out-ip\"",
                         "nicteam.bond0.load_balance_mode = \"out-port\"");
    CHECK(import_error(f) ==
          "/etc/vmware/hwconfig:23: load_balance_mode \"out-port\": allowed are out-mac and out-ip [AG2]");
    f.hwconfig = replace(hwconfig_text, "nicteam.bond0.home_link = \"vmnic1\"", "nicteam.bond0.home_link = \"vmnic2\"");
    CHECK(import_error(f) == "/etc/vmware/hwconfig:24: home_link \"vmnic2\" is not an adapter of bond0 [AG2]");
    f.hwconfig = replace(hwconfig_text, "switch_failover_threshold = \"2\"", "switch_failover_threshold = \"1\"");
    CHECK(import_error(f) == "/etc/vmware/hwconfig:25: switch_failover_threshold \"1\": 0 (off) or 2 and more [AG2]");
    f.hwconfig = replace(hwconfig_text, "device.0.3.0.irq = \"11\"", "device.0.3.0.irq = \"11");
    CHECK(import_error(f) == "/etc/vmware/hwconfig:3: expected key = \"value\", got \"device.0.3.0.irq = \"11\"");
    f.hwconfig = std::string(hwconfig_text) + "nicteam.bond3.home_link = \"vmnic0\"\n";
    CHECK(import_error(f).starts_with("/etc/vmware/hwconfig:26: nicteam.bond3.home_link: bond3 has no adapters"));
    f.hwconfig = std::string(hwconfig_text) + "nicteam.vmnic0.team = \"bond1\"\n";
    CHECK(import_error(f) == "/etc/vmware/hwconfig:26: key \"nicteam.vmnic0.team\" already set on line 21");
    f.hwconfig = replace(hwconfig_text, "device.2.4.1.owner = \"VMK\"", "device.2.4.1.owner = \"VM\"");
    CHECK(import_error(f) == "/etc/vmware/hwconfig:14: owner \"VM\": allowed are COS, VMK, SHARED");
    f.hwconfig = replace(hwconfig_text, "device.0.3.0.owner = \"COS\"", "device.0.3.0.owner = \"VMK\"");
    CHECK(import_error(f) ==
          "/etc/vmware/hwconfig:1: NIC 000:03.0 is allocated to the VMkernel but /etc/vmware/devnames.conf gives it no "
          "vmnic name");
    f.hwconfig = std::string(hwconfig_text) + "nicteam.vmnic7.team = \"bond0\"\n";
    CHECK(import_error(f) == "/etc/vmware/hwconfig:26: vmnic7 is not in /etc/vmware/devnames.conf");
  }
  SUBCASE("netmap.conf") {
    auto f = sample();
    f.netmap = replace(netmap_text, "network1.device = \"vmnet_0\"", "network1.device = \"eth0\"");
    CHECK(import_error(f).starts_with("/etc/vmware/netmap.conf:4: device \"eth0\" is not bondN, vmnicN or vmnet_N"));
    f.netmap = replace(netmap_text, "network0.device = \"bond0\"", "network0.device = \"bond2\"");
    CHECK(import_error(f) ==
          "/etc/vmware/netmap.conf:1: network0 uses bond2, which /etc/vmware/hwconfig does not define");
    f.netmap = replace(netmap_text, "network2.device = \"vmnic2\"", "network2.device = \"vmnic1\"");
    CHECK(import_error(f) == "/etc/vmware/netmap.conf:5: network2 uses vmnic1, which is in bond0: name the bond [SEED]");
    f.netmap = std::string(netmap_text) + "network3.name = \"Lab\"\n";
    CHECK(import_error(f) == "/etc/vmware/netmap.conf:7: network3 needs both .name and .device");
    f.netmap = std::string(netmap_text) + "network3.nam = \"Lab\"\n";
    CHECK(import_error(f).starts_with("/etc/vmware/netmap.conf:7: unknown key"));
    f.netmap = std::string(netmap_text) + "network3.name = \"Production\"\nnetwork3.device = \"vmnet_1\"\n";
    CHECK(import_error(f) == "/etc/vmware/netmap.conf:7: label \"Production\" used twice");
  }
  SUBCASE("console files") {
    auto f = sample();
    f.modules_conf = "alias eth0 vmxnet_console\noptions vmxnet_console\n";
    CHECK(import_error(f) ==
          "/etc/modules.conf:2: \"options\" takes a module and its arguments, got \"options vmxnet_console\"");
    f.modules_conf = "alias eth0 vmxnet_console\noptions vmxnet_console devName=vmnic2\n";
    f.rc_local = "ifup eth0\ninsmod vmxnet_console devName=\"vmnic1\n";
    CHECK(import_error(f).starts_with("/etc/rc.d/rc.local:2: unterminated \" quote"));
    f.rc_local = "ifup eth0\n";
    const auto d = host::import_esx_files(f);
    CHECK(*d.rc_local == "ifup eth0\n");
  }
}
