// The service console's IP stack on a real network: pings to the console through its own
// NIC and through vmxnet_console, management connectivity lost by a wrong eth0 share, and
// findnic through a chosen vmnic [SEED][AG2].
#include "vnetsim/traffic/console_stack.hpp"

#include "vnetsim/host/host.hpp"
#include "worlds.hpp"

using namespace vnetsim;

namespace {

/// Switch port 0: the management station 10.0.0.1 (endpoint 0). Host esx1: vmnic0 on port
/// 1, vmnic1 unwired; the console NIC (e100) on port 2 when `console_nic`.
struct console_net_world : test::net_world {
  host::host_set hs{sim, pool, links, nics, streams};
  host::host_id h = hs.add_host("esx1");
  std::optional<host::console> con;
  std::optional<traffic::console_stack> stack;
  traffic::endpoint_id station = 0;

  explicit console_net_world(bool console_nic) {
    station = add(test::ep_config(0));
    dev::nic_config nc;
    nc.mac = wire::mac_address::from_u64(0x0200'0000'0001ULL);
    const auto vmnic0 = hs.add_vmnic(h, nc);
    nc.mac = wire::mac_address::from_u64(0x0200'0000'0002ULL);
    hs.add_vmnic(h, nc);
    const auto l1 = links.add("vmnic0-sw", {}, hs.uplink_endpoint(vmnic0), sws.endpoint(sw, 1));
    nics.attach(vmnic0, l1, dev::link_side::a);
    sws.attach(sw, 1, l1, dev::link_side::b);
    con.emplace(hs, nics, h);
    stack.emplace(sim, hs, eps, *con);
    if (console_nic) {
      nc.mac = wire::mac_address::from_u64(0x0200'0000'0100ULL);
      const auto cn = nics.add("esx1/cos0", nc);
      con->add_console_nic(cn, "e100");
      const auto l2 = links.add("cos0-sw", {}, stack->nic_endpoint(cn), sws.endpoint(sw, 2));
      nics.attach(cn, l2, dev::link_side::a);
      sws.attach(sw, 2, l2, dev::link_side::b);
    } else {
      con->set_shared(0);
    }
  }
  traffic::ping_id ping_console(std::string name, sim_time start, std::uint32_t count, std::string_view ip = "10.0.0.10") {
    traffic::ping_config pc;
    pc.name = std::move(name);
    pc.src = station;
    pc.dst = *wire::ipv4_address::parse(ip);
    pc.start = start;
    pc.count = count;
    return eps.add_ping(pc);
  }
  std::vector<traffic::probe_status> statuses(traffic::ping_id p) const {
    std::vector<traffic::probe_status> r;
    for (const auto& x : eps.ping_results(p)) r.push_back(x.status);
    return r;
  }
};

constexpr auto ok = traffic::probe_status::replied;
constexpr auto lost = traffic::probe_status::timed_out;
constexpr std::string_view ifcfg_eth0 = "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=10.0.0.10\nNETMASK=255.255.255.0\nONBOOT=yes\n";

}  // namespace

TEST_CASE("console_stack: the console's own eth0, then ifconfig eth0 down") {
  console_net_world w(true);
  w.con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth0", std::string(ifcfg_eth0));
  w.con->boot(sim_time::zero());
  CHECK(w.con->management() == host::mui_state::running);
  REQUIRE(w.stack->endpoint(0));
  CHECK(w.eps.name(*w.stack->endpoint(0)) == "esx1/console/eth0");
  const auto p = w.ping_console("mgmt", sim_time::from_s(1), 4);
  w.sim.run_until(sim_time::from_ms(2500));
  CHECK(w.con->run("ifconfig eth0 down", w.sim.now()).status == 0);
  CHECK(w.con->management() == host::mui_state::eth0_down);
  w.sim.run_until(sim_time::from_s(10));
  CHECK(w.statuses(p) == std::vector{ok, ok, lost, lost});
  CHECK(w.stack->counters().dropped_down >= 2);
  // Second probe (ARP resolved): 98-byte echo frames (14 + 20 + 8 + 56), each way two
  // 1 Gb/s hops of (98 + 8 preamble + 4 FCS + 12 gap) x 8 = 976 ns + 500 ns delay, and one
  // switch forwarding latency of 5 us: 2 x (2 x 1476 + 5000) = 15904 ns. The first one
  // also waited for an ARP exchange each way (60-byte frames: 1172 ns per hop).
  CHECK(w.eps.ping_results(p)[1].rtt.ns() == 15904);
  CHECK(w.eps.ping_results(p)[0].rtt.ns() == 30592);
}

TEST_CASE("console_stack: sharing eth0 through vmxnet_console (right and wrong)") {
  SUBCASE("modules.conf alias eth0 vmxnet_console: management reachable through vmnic0") {
    console_net_world w(false);
    w.con->set_file("/etc/modules.conf", "alias eth0 vmxnet_console\noptions vmxnet_console devName=vmnic0\n");
    w.con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth0", std::string(ifcfg_eth0));
    w.con->boot(sim_time::zero());
    CHECK(w.con->management() == host::mui_state::running);
    const auto p = w.ping_console("mgmt", sim_time::from_s(1), 3);
    w.sim.run_until(sim_time::from_s(10));
    CHECK(w.statuses(p) == std::vector{ok, ok, ok});
    CHECK(w.hs.vswitch_device(*w.con->find_eth(0)->vswitch) == "vmnic0");
  }
  SUBCASE("NIC reassigned, alias eth0 e100 left in modules.conf: management lost") {
    console_net_world w(false);
    w.con->set_file("/etc/modules.conf", "alias eth0 e100\n");
    w.con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth0", std::string(ifcfg_eth0));
    w.con->boot(sim_time::zero());
    CHECK(w.con->management() == host::mui_state::no_eth0);
    const auto p = w.ping_console("mgmt", sim_time::from_s(1), 3);
    w.sim.run_until(sim_time::from_s(10));
    CHECK(w.statuses(p) == std::vector{lost, lost, lost});
    // At the server: the seed's commands bring it back.
    CHECK(w.con->run("insmod vmxnet_console devName=\"vmnic0\"", w.sim.now()).status == 0);
    CHECK(w.con->run("ifup eth0", w.sim.now()).status == 0);
    CHECK(w.con->management() == host::mui_state::running);
    const auto q = w.ping_console("again", sim_time::from_s(11), 2);
    w.sim.run_until(sim_time::from_s(20));
    CHECK(w.statuses(q) == std::vector{ok, ok});
  }
}

TEST_CASE("console_stack: vmnet_0 and a second address") {
  console_net_world w(true);
  w.hs.add_vswitch(w.h, "Internal", std::monostate{});
  w.con->boot(sim_time::zero());
  CHECK(w.con->run("insmod vmxnet_console devName=\"vmnic0;vmnet_0\" tagName=share", sim_time::zero()).status == 0);
  CHECK(w.con->run("ifconfig eth1 up 10.0.0.20 netmask 255.255.255.0", sim_time::zero()).status == 0);
  CHECK(w.con->run("ifconfig eth2 up 192.168.5.1 netmask 255.255.255.0", sim_time::zero()).status == 0);
  CHECK(w.con->run("ifconfig eth1 up 10.0.0.21 netmask 255.255.255.0", sim_time::from_ms(1)).status == 0);
  CHECK(w.eps.name(*w.stack->endpoint(1)) == "esx1/console/eth1#2");
  CHECK(w.eps.name(*w.stack->endpoint(2)) == "esx1/console/eth2");
  const auto old_addr = w.ping_console("old", sim_time::from_s(1), 1, "10.0.0.20");
  const auto new_addr = w.ping_console("new", sim_time::from_s(1), 1, "10.0.0.21");
  w.sim.run_until(sim_time::from_s(5));
  CHECK(w.statuses(old_addr) == std::vector{lost});
  CHECK(w.statuses(new_addr) == std::vector{ok});
}

TEST_CASE("console_stack: findnic tells which card is cabled") {
  console_net_world w(true);
  w.con->boot(sim_time::zero());
  auto r = w.con->run("findnic -c 3 vmnic0 10.0.0.50 10.0.0.1", sim_time::from_s(1));
  CHECK(r.status == 0);
  CHECK(r.output == "findnic: vmnic0 is 10.0.0.50; pinging 10.0.0.1 3 times every 1s\n");
  r = w.con->run("findnic -c 3 vmnic1 10.0.0.51 10.0.0.1", sim_time::from_s(1));
  CHECK(r.status == 0);
  w.sim.run_until(sim_time::from_s(10));
  REQUIRE(w.stack->findnic_runs().size() == 2);
  CHECK(w.stack->findnic_summary(0) == "findnic vmnic0 10.0.0.50 -> 10.0.0.1: 3/3 replies");
  CHECK(w.stack->findnic_summary(1) == "findnic vmnic1 10.0.0.51 -> 10.0.0.1: 0/3 replies");
  CHECK(w.stack->counters().tx_refused >= 1);  // vmnic1 has no link
}
