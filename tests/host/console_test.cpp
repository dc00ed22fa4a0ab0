// The service console: vmxnet_console, ifconfig/ifup/ifdown, boot files, eth0 sharing,
// the Management Interface state, findnic's command line [SEED][AG2].
#include "vnetsim/host/console.hpp"

#include "host_world.hpp"

using namespace vnetsim;
using host_test::world;

namespace {

/// A console_net that records what the console tells it.
struct recording_net : host::console_net {
  std::vector<std::string> changes;
  std::vector<host::findnic_request> finds;
  host::delivery_config delivery_for(unsigned number) override {
    host::delivery_config d;
    d.target = number;
    return d;
  }
  void eth_changed(const host::console& c, unsigned number, sim_time now) override {
    const auto* e = c.find_eth(number);
    if (e == nullptr) {  // removed by rmmod vmxnet_console
      changes.push_back(fmt::format("{} eth{} removed", now.ns(), number));
      return;
    }
    changes.push_back(fmt::format("{} eth{} {} {}", now.ns(), number, e->up ? "up" : "down",
                                  e->ip ? fmt::format("{}/{}", e->ip->to_string(), e->prefix_len) : "-"));
  }
  std::string findnic(const host::console&, const host::findnic_request& r, sim_time) override {
    finds.push_back(r);
    return "started\n";
  }
};

/// A host with vmnic0..vmnic2 (vmnic1 and vmnic2 in bond0? no: see each test), a console NIC
/// "esx1/eth0" (e100) wired to a station, and the internal switch vmnet_0.
struct console_world : world {
  host::host_id h;
  dev::nic_id cos_nic;
  recording_net net;
  std::optional<host::console> con;
  explicit console_world(unsigned vmnics = 2) {
    h = add_host("esx1", vmnics);
    dev::nic_config c;
    c.mac = host_test::mac(0x0200'0000'0100ULL);
    cos_nic = nics.add("esx1/eth0", c);
    const auto id = links.add("esx1/eth0-st", {}, nics.endpoint_for(cos_nic, station_kind), {station_kind, 0, 0, 0});
    nics.attach(cos_nic, id, dev::link_side::a);
    hs.add_vswitch(h, "Internal", std::monostate{});  // vmnet_0
    con.emplace(hs, nics, h);
    con->add_console_nic(cos_nic, "e100");
    con->set_net(&net);
  }
  host::command_result run(std::string_view l, std::int64_t ns = 0) { return con->run(l, sim_time::from_ns(ns)); }
};

}  // namespace

TEST_CASE("console: file formats") {
  SUBCASE("the seed's ifcfg-eth1") {
    const auto c = host::parse_ifcfg(
        "DEVICE=eth1\nBOOTPROTO=static\nBROADCAST=10.255.255.255\nIPADDR=10.2.0.4\nNETMASK=255.0.0.0\n"
        "NETWORK=10.0.0.0\nONBOOT=yes\n",
        "ifcfg-eth1");
    CHECK(c.device == "eth1");
    CHECK(c.bootproto == "static");
    CHECK(c.ipaddr->to_string() == "10.2.0.4");
    CHECK(*c.prefix_len == 8);
    CHECK(c.onboot);
    CHECK(c.keys.at("BROADCAST") == "10.255.255.255");
  }
  SUBCASE("quoted values and comments") {
    const auto c = host::parse_ifcfg("# eth0\nDEVICE=\"eth0\"\nIPADDR='192.168.1.5'\nONBOOT=no\n", "f");
    CHECK(c.device == "eth0");
    CHECK(c.ipaddr->to_string() == "192.168.1.5");
    CHECK(!c.prefix_len);
    CHECK(!c.onboot);
  }
  SUBCASE("malformed ifcfg lines are located") {
    CHECK_THROWS_WITH_AS(host::parse_ifcfg("DEVICE=eth1\nIPADDR 10.2.0.4\n", "ifcfg-eth1"),
                         "ifcfg-eth1:2: expected KEY=VALUE, got \"IPADDR 10.2.0.4\"", host::console_error);
    CHECK_THROWS_WITH_AS(host::parse_ifcfg("IPADDR=10.2.0.4\nNETMASK=255.0.255.0\n", "x"),
                         "x:2: NETMASK=255.0.255.0: not a contiguous netmask", host::console_error);
    CHECK_THROWS_WITH_AS(host::parse_ifcfg("IPADDR=10.2.0.400\n", "x"), "x:1: IPADDR=10.2.0.400: not a unicast IPv4 address",
                         host::console_error);
    CHECK_THROWS_WITH_AS(host::parse_ifcfg("IPADDR=10.2.0.4\nONBOOT=true\n", "x"), "x:2: ONBOOT=true: allowed are yes and no",
                         host::console_error);
    CHECK_THROWS_WITH_AS(host::parse_ifcfg("DEVICE=eth1\nBOOTPROTO=static\n", "x"), "x: BOOTPROTO=static needs IPADDR",
                         host::console_error);
  }
  SUBCASE("modules.conf") {
    const auto m = host::parse_modules_conf(
        "alias parport_lowlevel parport_pc\n# alias eth0 e100\nalias eth0 vmxnet_console\n"
        "options vmxnet_console devName=\"vmnic0\" tagName=share\npost-install foo /bin/true\n");
    CHECK(m.aliases.size() == 2);
    CHECK(m.aliases.at("eth0") == "vmxnet_console");
    CHECK(m.options.at("vmxnet_console") == "devName=\"vmnic0\" tagName=share");
    CHECK_THROWS_WITH_AS(host::parse_modules_conf("alias eth0\n"),
                         "/etc/modules.conf:1: \"alias\" takes a name and a module (alias eth0 e100), got \"alias eth0\"",
                         host::console_error);
    CHECK_THROWS_WITH_AS(host::parse_modules_conf("\nalias eth0 e100\naliass eth1 e100\n"),
                         "/etc/modules.conf:3: unknown directive \"aliass\" (modules.conf(5): alias, options, install, ...)",
                         host::console_error);
    CHECK_THROWS_AS(host::parse_modules_conf("options vmxnet_console devName=\"vmnic0\n"), host::console_error);
  }
  SUBCASE("devName separators: ';' and ',' both accepted [SEED]") {
    CHECK(*host::split_dev_names("vmnic1;vmnet_0") == std::vector<std::string>{"vmnic1", "vmnet_0"});
    CHECK(*host::split_dev_names("vmnic1,vmnet_0") == std::vector<std::string>{"vmnic1", "vmnet_0"});
    CHECK(*host::split_dev_names("bond0, vmnic1;vmnet_0") == std::vector<std::string>{"bond0", "vmnic1", "vmnet_0"});
    CHECK(!host::split_dev_names("vmnic1;;vmnet_0"));
    CHECK(!host::split_dev_names(""));
  }
  SUBCASE("netmasks") {
    CHECK(host::classful_prefix(*wire::ipv4_address::parse("10.2.0.4")) == 8);
    CHECK(host::classful_prefix(*wire::ipv4_address::parse("172.16.0.1")) == 16);
    CHECK(host::classful_prefix(*wire::ipv4_address::parse("192.168.0.1")) == 24);
    CHECK(*host::netmask_prefix(*wire::ipv4_address::parse("255.255.254.0")) == 23);
    CHECK(!host::netmask_prefix(*wire::ipv4_address::parse("255.0.255.0")));
  }
}

TEST_CASE("console: vmxnet_console as the seed describes it") {
  console_world w;
  w.con->boot(sim_time::zero());  // no modules.conf: the console NIC is eth0
  REQUIRE(w.con->eth_devices().size() == 1);
  CHECK(w.con->find_eth(0)->target == "e100");

  SUBCASE("devName=\"vmnic1;vmnet_0\" makes eth1 and eth2, tag lines in the log") {
    const auto r = w.run("insmod vmxnet_console devName=\"vmnic1;vmnet_0\" tagName=vmxshare", 5'000'000'000);
    CHECK(r.status == 0);
    CHECK(r.output.empty());
    const auto* e1 = w.con->find_eth(1);
    const auto* e2 = w.con->find_eth(2);
    REQUIRE(e1);
    REQUIRE(e2);
    CHECK(e1->target == "vmnic1");
    CHECK(e2->target == "vmnet_0");
    CHECK(w.hs.vswitch_device(*e1->vswitch) == "vmnic1");  // created for the unbonded vmnic
    CHECK(w.hs.vswitch_label(*e2->vswitch) == "Internal");
    CHECK(w.hs.vswitch_ports_used(*e2->vswitch) == 1);
    const auto g = w.run("grep vmxshare /var/log/messages", 6'000'000'000);
    CHECK(g.status == 0);
    CHECK(g.output ==
          "5.000000000 esx1 kernel: vmxshare eth1 vmnic1\n"
          "5.000000000 esx1 kernel: vmxshare eth2 vmnet_0\n");
    CHECK(w.net.changes == std::vector<std::string>{"0 eth0 down -", "5000000000 eth1 down -", "5000000000 eth2 down -"});
    CHECK(w.run("ifconfig eth1 up 10.2.0.4", 7'000'000'000).status == 0);
    CHECK(w.con->find_eth(1)->ip->to_string() == "10.2.0.4");
    CHECK(w.con->find_eth(1)->prefix_len == 8);  // classful default, as Linux
    CHECK(w.net.changes.back() == "7000000000 eth1 up 10.2.0.4/8");
  }
  SUBCASE("commas work too") {
    CHECK(w.run("insmod vmxnet_console devName=vmnet_0,vmnic1").status == 0);
    CHECK(w.con->find_eth(1)->target == "vmnet_0");
    CHECK(w.con->find_eth(2)->target == "vmnic1");
  }
  SUBCASE("without tagName nothing begins with a tag") {
    CHECK(w.run("insmod vmxnet_console devName=vmnic1").status == 0);
    CHECK(w.run("grep vmxshare /var/log/messages").status == 1);
  }
  SUBCASE("errors leave nothing half-created") {
    const auto before = w.con->messages().size();
    auto r = w.run("insmod vmxnet_console devName=\"vmnet_0;vmnic7\"");
    CHECK(r.status == 1);
    CHECK(r.output ==
          "vmxnet_console: Ethernet device cannot be detected: vmnic7: the VMkernel has no such network adapter (is "
          "it allocated to the console?)\ninsmod: init_module: vmxnet_console: No such device\n");
    CHECK(w.con->eth_devices().size() == 1);
    CHECK(!w.con->module_loaded());
    CHECK(!w.hs.find_vm(w.h, "console"));
    CHECK(w.con->messages().size() == before + 1);
    r = w.run("insmod vmxnet_console devName=\"vmnic1;vmnic1\"");
    CHECK(r.output.starts_with("vmxnet_console: vmnic1 is listed twice in devName\n"));
    r = w.run("insmod vmxnet_console devName=\"eth0\"");
    CHECK(r.output.starts_with("vmxnet_console: Ethernet device cannot be detected: eth0: expected vmnicN, bondN or vmnet_N"));
    r = w.run("insmod vmxnet_console");
    CHECK(r.status == 1);
    CHECK(r.output == "insmod: vmxnet_console: devName=\"vmnic1;vmnet_0\" is required [SEED]\n");
    r = w.run("insmod vmxnet_console devName=vmnic1 speed=100");
    CHECK(r.output == "insmod: vmxnet_console: unknown parameter \"speed=100\" (vmxnet_console takes devName= and tagName=)\n");
    CHECK(w.run("insmod tulip").output == "insmod: tulip: no module by that name found\n");
    CHECK(w.con->eth_devices().size() == 1);
    // Loaded twice.
    CHECK(w.run("insmod vmxnet_console devName=vmnic1").status == 0);
    r = w.run("insmod vmxnet_console devName=vmnet_0");
    CHECK(r.status == 1);
    CHECK(r.output == "insmod: a module named vmxnet_console already exists\n");
    CHECK(w.con->eth_devices().size() == 2);
  }
}

TEST_CASE("console: a bonded adapter must be named by its bond; Ethernet device cannot be detected") {
  console_world w(3);
  const std::array<unsigned, 2> members{1, 2};
  w.hs.add_bond(w.h, 0, members);
  w.con->boot(sim_time::zero());
  auto r = w.run("insmod vmxnet_console devName=vmnic2");
  CHECK(r.status == 1);
  CHECK(r.output.starts_with(
      "vmxnet_console: Ethernet device cannot be detected: vmnic2 is already assigned to bond0: select bond0 instead "
      "[SEED]\n"));
  r = w.run("insmod vmxnet_console devName=bond0");
  CHECK(r.output.starts_with("vmxnet_console: Ethernet device cannot be detected: bond0: no virtual switch uses it"));
  CHECK(host::ethernet_device_problem(w.hs, w.h, "vmnic0") == std::nullopt);
  const auto vs = w.hs.add_vswitch(w.h, "Production", host::bond_binding{0});
  CHECK(w.run("insmod vmxnet_console devName=bond0").status == 0);
  CHECK(w.con->find_eth(1)->vswitch == vs);
  CHECK(w.hs.bond_vmnics(w.h, 0) == std::vector<unsigned>{1, 2});
  CHECK(w.hs.bond_vmnics(w.h, 5).empty());
  CHECK(w.hs.vmnic_bond(w.h, 2) == 0u);
  CHECK(!w.hs.vmnic_bond(w.h, 0));
  CHECK(!w.con->carrier(*w.con->find_eth(1)));  // neither member is wired
  CHECK(w.con->carrier(*w.con->find_eth(0)));   // the console NIC's station link
  // The same device twice: the module is loaded, so the error is the module's.
  CHECK(w.run("insmod vmxnet_console devName=bond0").output == "insmod: a module named vmxnet_console already exists\n");
}

TEST_CASE("console: ifconfig and the loopback note") {
  console_world w;
  w.con->boot(sim_time::zero());
  CHECK(w.con->management() == host::mui_state::eth0_down);
  CHECK(w.run("ifconfig eth0 up 192.168.10.5 netmask 255.255.255.0", 1000).status == 0);
  CHECK(w.con->find_eth(0)->prefix_len == 24);
  // The station link has carrier from the start: the NIC starts with link up.
  CHECK(w.con->management() == host::mui_state::running);
  CHECK(w.run("ifconfig lo down", 2'000'000'000).status == 0);
  CHECK(w.con->management() == host::mui_state::loopback_down);
  CHECK(w.run("ifconfig lo up", 3'000'000'000).status == 0);
  CHECK(w.con->management() == host::mui_state::running);
  CHECK(w.run("ifconfig eth0 down", 4'000'000'000).status == 0);
  CHECK(w.con->management() == host::mui_state::eth0_down);
  CHECK(w.run("ifconfig eth0 up", 5'000'000'000).status == 0);
  CHECK(w.con->management() == host::mui_state::running);
  const auto g = w.run("grep vmware-mui /var/log/messages");
  CHECK(g.output ==
        "0.000000000 esx1 vmware-mui: management interface not-booted=>eth0-down\n"
        "0.000001000 esx1 vmware-mui: management interface eth0-down=>running\n"
        "2.000000000 esx1 vmware-mui: management interface running=>loopback-down\n"
        "3.000000000 esx1 vmware-mui: management interface loopback-down=>running\n"
        "4.000000000 esx1 vmware-mui: management interface running=>eth0-down\n"
        "5.000000000 esx1 vmware-mui: management interface eth0-down=>running\n");
  SUBCASE("usage errors are statuses, not exceptions") {
    CHECK(w.run("ifconfig eth5 up 10.0.0.1").output == "eth5: error fetching interface information: Device not found\n");
    CHECK(w.run("ifconfig eth0 up 10.0.0.1 netmask 255.0.255.0").output == "SIOCSIFNETMASK: Invalid argument (255.0.255.0)\n");
    CHECK(w.run("ifconfig eth0 up 10.0.0.300").status == 1);
    CHECK(w.run("ifconfig eth0 up 224.0.0.1").output == "SIOCSIFADDR: Invalid argument (224.0.0.1)\n");
    CHECK(w.run("frobnicate eth0").status == 127);
    CHECK(w.run("ifconfig eth0 \"up").status == 2);
    CHECK(w.run("ifconfig").output.find("inet addr:192.168.10.5  Mask:255.255.255.0") != std::string::npos);
  }
}

TEST_CASE("console: ifup/ifdown read ifcfg-ethN") {
  console_world w;
  w.con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth1",
                  "DEVICE=eth1\nBOOTPROTO=static\nBROADCAST=10.255.255.255\nIPADDR=10.2.0.4\nNETMASK=255.0.0.0\n"
                  "NETWORK=10.0.0.0\nONBOOT=yes\n");
  w.con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth3", "DEVICE=eth3\nIPADDR=10.3.0.4\n");
  w.con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth4", "DEVICE=eth4\nIPADDR 10.3.0.4\n");
  SUBCASE("before the module: the device is absent") {
    // Booting would ifup eth1 (ONBOOT=yes) and fail: eth4's file is malformed, so boot refuses.
    CHECK_THROWS_WITH_AS(w.con->boot(sim_time::zero()),
                         "/etc/sysconfig/network-scripts/ifcfg-eth4:2: expected KEY=VALUE, got \"IPADDR 10.3.0.4\"",
                         host::console_error);
    CHECK(w.con->eth_devices().empty());
    CHECK(w.con->messages().empty());
    const auto r = w.run("ifup eth1");
    CHECK(r.status == 1);
    CHECK(r.output == "Device eth1 does not seem to be present, delaying initialization.\n");
  }
  SUBCASE("after it") {
    CHECK(w.run("insmod vmxnet_console devName=\"vmnic1;vmnet_0\"").status == 0);  // no eth0: eth0, eth1
    CHECK(w.con->find_eth(1)->target == "vmnet_0");
    CHECK(w.run("ifup eth1", 10).status == 0);
    CHECK(w.con->find_eth(1)->up);
    CHECK(w.con->find_eth(1)->ip->to_string() == "10.2.0.4");
    CHECK(w.run("ifdown eth1", 20).status == 0);
    CHECK(!w.con->find_eth(1)->up);
    CHECK(w.net.changes == std::vector<std::string>{"0 eth0 down -", "0 eth1 down -", "10 eth1 up 10.2.0.4/8",
                                                    "20 eth1 down 10.2.0.4/8"});
    CHECK(w.run("ifup eth2").output == "/sbin/ifup: configuration for eth2 not found.\nUsage: ifup <device name>\n");
    CHECK(w.run("ifup eth4").output ==
          "/etc/sysconfig/network-scripts/ifcfg-eth4:2: expected KEY=VALUE, got \"IPADDR 10.3.0.4\"\n");
    CHECK(w.run("ifup").output == "Usage: ifup <device name>\n");
  }
}

TEST_CASE("console: boot replays rc.local (the seed's example)") {
  console_world w;
  w.con->set_file("/etc/rc.d/rc.local",
                  "#!/bin/sh\ntouch /var/lock/subsys/local\ninsmod vmxnet_console devName=\"vmnic1;vmnet_0\"\n"
                  "ifconfig eth1 up 10.2.0.4\nifconfig eth2 up 63.93.12.47\n");
  w.con->boot(sim_time::from_s(30));
  REQUIRE(w.con->eth_devices().size() == 3);
  CHECK(w.con->find_eth(1)->ip->to_string() == "10.2.0.4");
  CHECK(w.con->find_eth(2)->ip->to_string() == "63.93.12.47");
  CHECK(w.con->find_eth(2)->prefix_len == 8);
  // touch does nothing and succeeds (rc.local files have it).
  REQUIRE(w.con->history().size() == 4);
  CHECK(w.con->history()[0].line == "touch /var/lock/subsys/local");
  CHECK(w.con->history()[0].result.status == 0);
  CHECK(w.con->messages_text() ==
        "30.000000000 esx1 kernel: booting the service console\n"
        "30.000000000 esx1 network: Bringing up loopback interface:  [  OK  ]\n"
        "30.000000000 esx1 kernel: eth0: e100 at esx1/eth0\n"
        "30.000000000 esx1 vmware-mui: management interface not-booted=>eth0-down\n"
        "30.000000000 esx1 kernel: vmxnet_console: attached eth1=vmnic1 eth2=vmnet_0\n"
        "30.000000000 esx1 ifconfig: eth1 up 10.2.0.4/8\n"
        "30.000000000 esx1 ifconfig: eth2 up 63.93.12.47/8\n");
  CHECK_THROWS_WITH_AS(w.con->boot(sim_time::from_s(31)), "console of \"esx1\": booted twice", host::console_error);
}

namespace {
/// After the NIC of eth0 was reassigned to the VMkernel (it is now vmnic0 [SEED]): a host
/// with vmnic0 wired to a station and no console NIC.
struct shared_world : world {
  host::host_id h;
  std::optional<host::console> con;
  shared_world() {
    h = add_host("esx1", 1);
    station_at(h, 0);
    con.emplace(hs, nics, h);
    con->set_shared(0);
    sim.run_until(sim_time::from_ms(100));  // the NIC sees its carrier
  }
};
constexpr std::string_view ifcfg_eth0 = "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=192.168.1.20\nNETMASK=255.255.255.0\nONBOOT=yes\n";
}  // namespace

TEST_CASE("console: sharing eth0") {
  shared_world w;
  w.con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth0", std::string(ifcfg_eth0));
  CHECK(w.con->allocation() == std::vector<std::pair<std::string, host::nic_owner>>{{"vmnic0", host::nic_owner::shared}});
  SUBCASE("the seed's steps: alias commented out, rc.local loads the module and ifup eth0") {
    w.con->set_file("/etc/modules.conf", "# alias eth0 e100\n");
    w.con->set_file("/etc/rc.d/rc.local", "insmod vmxnet_console devName=\"vmnic0\"\nifup eth0\n");
    w.con->boot(sim_time::from_s(1));
    CHECK(w.con->management() == host::mui_state::running);
    CHECK(w.con->find_eth(0)->target == "vmnic0");
    // ONBOOT=yes tried eth0 before rc.local created it: logged, then rc.local did it.
    CHECK(w.con->messages_text().find("Device eth0 does not seem to be present") != std::string::npos);
  }
  SUBCASE("modules.conf alias eth0 vmxnet_console with its options") {
    w.con->set_file("/etc/modules.conf", "alias eth0 vmxnet_console\noptions vmxnet_console devName=vmnic0 tagName=cos\n");
    w.con->boot(sim_time::from_s(1));
    CHECK(w.con->management() == host::mui_state::running);
    CHECK(w.con->run("grep cos /var/log/messages", sim_time::from_s(2)).output ==
          "1.000000000 esx1 kernel: cos eth0 vmnic0\n");
  }
  SUBCASE("wrong: NIC reassigned but modules.conf still says alias eth0 e100 and no rc.local") {
    w.con->set_file("/etc/modules.conf", "alias eth0 e100\n");
    w.con->boot(sim_time::from_s(1));
    CHECK(w.con->management() == host::mui_state::no_eth0);
    CHECK(w.con->eth_devices().empty());
    const auto t = w.con->messages_text();
    CHECK(t.find("esx1 kernel: eth0: no e100 device found") != std::string::npos);
    CHECK(t.find("Bringing up interface eth0:  [FAILED]") != std::string::npos);
  }
  SUBCASE("wrong: options line missing") {
    w.con->set_file("/etc/modules.conf", "alias eth0 vmxnet_console\n");
    w.con->boot(sim_time::from_s(1));
    CHECK(w.con->management() == host::mui_state::no_eth0);
  }
  SUBCASE("no carrier on vmnic0: eth0 up but unreachable") {
    w.con->set_file("/etc/modules.conf", "alias eth0 vmxnet_console\noptions vmxnet_console devName=vmnic0\n");
    w.con->boot(sim_time::from_s(1));
    w.links.set_carrier(0, false);
    w.sim.run_until(sim_time::from_s(2));
    CHECK(w.con->poll(sim_time::from_s(2)) == host::mui_state::eth0_no_carrier);
  }
}

TEST_CASE("console: findnic command line") {
  console_world w;
  w.con->boot(sim_time::zero());
  auto r = w.run("findnic -f -c 3 vmnic1 10.0.0.5 10.0.0.1", 50);
  CHECK(r.status == 0);
  CHECK(r.output == "started\n");
  REQUIRE(w.net.finds.size() == 1);
  CHECK(w.net.finds[0].vmnic == 1);
  CHECK(w.net.finds[0].flood);
  CHECK(w.net.finds[0].count == 3);
  CHECK(w.net.finds[0].interval == host::findnic_flood_interval);
  CHECK(w.run("findnic -i 2 vmnic0 10.0.0.5 10.0.0.1").status == 0);
  CHECK(w.net.finds[1].interval == sim_time::from_s(2));
  CHECK(w.net.finds[1].count == host::findnic_default_count);
  CHECK(w.run("findnic vmnic0 10.0.0.5").output ==
        "Usage: findnic [-f] [-i seconds] [-c count] <nic-name> <local-ip> <remote-ip>\n");
  CHECK(w.run("findnic vmnic9 10.0.0.5 10.0.0.1").output == "findnic: vmnic9: no such VMkernel network adapter\n");
  CHECK(w.run("findnic -x vmnic0 10.0.0.5 10.0.0.1").status == 1);
  CHECK(w.run("findnic -i 0 vmnic0 10.0.0.5 10.0.0.1").status == 1);
  CHECK(w.run("findnic vmnic0 10.0.0.5 255.255.255.255").output == "findnic: 255.255.255.255: bad remote address\n");
  CHECK(w.net.finds.size() == 2);
}

TEST_CASE("console: the Management Interface's changes, not-booted before boot") {
  console_world w;
  CHECK(w.con->management() == host::mui_state::not_booted);
  CHECK(w.con->poll(sim_time::from_s(1)) == host::mui_state::not_booted);
  CHECK(w.run("ifconfig lo down", 1).status == 0);  // before boot: no service to change
  CHECK(w.con->management_changes().empty());
  w.con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth0",
                  "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=192.168.10.5\nNETMASK=255.255.255.0\nONBOOT=yes\n");
  w.con->boot(sim_time::from_s(2));
  CHECK(w.run("ifconfig lo down", 3'000'000'000).status == 0);
  CHECK(w.run("ifconfig lo up", 4'000'000'000).status == 0);
  const auto& c = w.con->management_changes();
  REQUIRE(c.size() == 4);
  CHECK(c[0].at == sim_time::from_s(2));
  CHECK(c[0].from == host::mui_state::not_booted);
  CHECK(c[0].to == host::mui_state::eth0_down);
  CHECK(c[1].to == host::mui_state::running);
  CHECK(c[2].at == sim_time::from_s(3));
  CHECK(c[2].to == host::mui_state::loopback_down);
  CHECK(c[3].at == sim_time::from_s(4));
  CHECK(c[3].from == host::mui_state::loopback_down);
  CHECK(c[3].to == host::mui_state::running);
}

TEST_CASE("console: rmmod vmxnet_console") {
  console_world w;
  CHECK(w.run("rmmod vmxnet_console").output == "rmmod: module vmxnet_console is not loaded\n");
  CHECK(w.run("insmod vmxnet_console devName=\"vmnic1;vmnet_0\"").status == 0);  // eth0, eth1
  CHECK(w.run("ifconfig eth1 up 10.2.0.4", 10).status == 0);
  const auto busy = w.run("rmmod vmxnet_console", 20);
  CHECK(busy.status == 1);
  CHECK(busy.output == "vmxnet_console: eth1 is up\nrmmod: vmxnet_console: Device or resource busy\n");
  CHECK(w.con->eth_devices().size() == 2);
  CHECK(w.run("ifconfig eth1 down", 30).status == 0);
  CHECK(w.run("rmmod vmxnet_console", 40).status == 0);
  CHECK(w.con->eth_devices().empty());
  CHECK(!w.con->module_loaded());
  CHECK(w.net.changes.back() == "40 eth1 removed");
  CHECK(w.run("ifconfig eth1").output == "eth1: error fetching interface information: Device not found\n");
  // Loading it again works: the module is gone, the names free.
  CHECK(w.run("insmod vmxnet_console devName=vmnic0", 50).status == 0);
  REQUIRE(w.con->find_eth(0) != nullptr);
  CHECK(w.con->find_eth(0)->target == "vmnic0");
  CHECK(w.run("rmmod e100").output == "rmmod: module e100 is not loaded\n");
  CHECK(w.run("rmmod").output == "Usage: rmmod [-as] module ...\n");
}

TEST_CASE("console: GATEWAY of ifcfg-ethN, and the shell's no-op commands") {
  console_world w;
  SUBCASE("on the subnet") {
    w.con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth0",
                    "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=192.168.10.5\nNETMASK=255.255.255.0\nGATEWAY=192.168.10.1\n");
    w.con->boot(sim_time::zero());
    CHECK(w.run("ifup eth0", 10).status == 0);
    CHECK(w.con->find_eth(0)->gateway->to_string() == "192.168.10.1");
    CHECK(w.net.changes.back() == "10 eth0 up 192.168.10.5/24");
    // A new address drops the route through the interface.
    CHECK(w.run("ifconfig eth0 up 10.1.1.1", 20).status == 0);
    CHECK(!w.con->find_eth(0)->gateway);
  }
  SUBCASE("off the subnet: refused as route(8) refuses it") {
    w.con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth0",
                    "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=192.168.10.5\nNETMASK=255.255.255.0\nGATEWAY=10.0.0.1\n");
    w.con->boot(sim_time::zero());
    const auto r = w.run("ifup eth0", 10);
    CHECK(r.status == 1);
    CHECK(r.output == "SIOCADDRT: Network is unreachable\n");
    CHECK(!w.con->find_eth(0)->gateway);
  }
  SUBCASE("malformed") {
    CHECK_THROWS_WITH_AS(host::parse_ifcfg("IPADDR=10.0.0.2\nGATEWAY=10.0.0\n", "ifcfg-eth0"),
                         "ifcfg-eth0:2: GATEWAY=10.0.0: not a unicast IPv4 address", host::console_error);
  }
  SUBCASE("no-op commands") {
    CHECK(w.run("touch /var/lock/subsys/local").status == 0);
    CHECK(w.run("true").status == 0);
    CHECK(w.run(":").status == 0);
    CHECK(w.run("echo starting vmxnet_console").output == "starting vmxnet_console\n");
    CHECK(w.run("modinfo vmxnet_console").output == "bash: modinfo: command not found\n");
  }
}
