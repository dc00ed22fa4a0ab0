// Workload C on ns-3 (bench/compare, issue 9), as far as ns-3.37 can model it. ns-3 has no
// virtualization host, virtual switch or NIC team, so the closest equivalent is:
// - each VM is an ns-3 node with the internet stack, on its own CsmaChannel to the host
//   node (vnetsim: the vNIC hands the frame to the virtual switch in memory, no link);
// - the out-mac bond of 4 members becomes 4 BridgeNetDevices on the host node, VM i on
//   bridge i mod 4, each bridge with one uplink (out-mac pins each source MAC to one
//   member; ns-3 has no bonding, and 4 uplinks on one bridge would loop: no spanning
//   tree). Uplinks 0-1 go to switch A, 2-3 to switch B; A and B are joined by a trunk;
//   one sink node on each switch. Every channel is 10 Gb/s with 500 ns delay and
//   half-duplex (ns-3 CSMA); vnetsim's links are full-duplex.
// VM i sends UDP (1000 payload bytes, UdpClient) to sink i mod 2; the VMs share an
// aggregate rate (default 1,000,000 packets/s). Prints one "key=value" line; frames =
// UDP packets received by the sinks.
#include <ns3/applications-module.h>
#include <ns3/bridge-module.h>
#include <ns3/core-module.h>
#include <ns3/csma-module.h>
#include <ns3/internet-module.h>
#include <ns3/network-module.h>

#include "compare_common.hpp"

namespace {

std::uint64_t g_hops = 0;

void on_phy_rx_end(ns3::Ptr<const ns3::Packet>) { ++g_hops; }

}  // namespace

int main(int argc, char** argv) {
  const auto vms = static_cast<std::uint32_t>(bench_compare::arg_u64(argc, argv, "--vms", 64));
  const std::uint64_t pps = bench_compare::arg_u64(argc, argv, "--pps", 1'000'000);
  const std::uint64_t ms = bench_compare::arg_u64(argc, argv, "--seconds-ms", 1000);
  if (vms < 1 || pps < vms || ms == 0) {
    std::fprintf(stderr, "ns3_host: --vms >= 1, --pps >= --vms, --seconds-ms >= 1\n");
    return 2;
  }
  const double t_setup = bench_compare::wall_s();
  ns3::Config::SetDefault("ns3::ArpL3Protocol::RequestJitter",
                          ns3::StringValue("ns3::ConstantRandomVariable[Constant=0.0]"));
  constexpr std::uint32_t members = 4;
  ns3::NodeContainer vm_nodes;
  vm_nodes.Create(vms);
  ns3::NodeContainer host_node;
  host_node.Create(1);
  ns3::NodeContainer switches;
  switches.Create(2);
  ns3::NodeContainer sinks;
  sinks.Create(2);
  ns3::CsmaHelper csma;
  csma.SetChannelAttribute("DataRate", ns3::DataRateValue(ns3::DataRate("10Gbps")));
  csma.SetChannelAttribute("Delay", ns3::TimeValue(ns3::NanoSeconds(500)));
  csma.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize", ns3::StringValue("1000p"));

  ns3::NetDeviceContainer all;  // every device, for the hop count
  ns3::NetDeviceContainer vm_devs;
  std::vector<ns3::NetDeviceContainer> group_ports(members);
  std::vector<ns3::NetDeviceContainer> sw_ports(2);
  for (std::uint32_t i = 0; i < vms; ++i) {
    auto pair = csma.Install(ns3::NodeContainer(vm_nodes.Get(i), host_node.Get(0)));
    vm_devs.Add(pair.Get(0));
    group_ports[i % members].Add(pair.Get(1));
    all.Add(pair);
  }
  for (std::uint32_t m = 0; m < members; ++m) {
    const std::uint32_t s = m < 2 ? 0 : 1;
    auto pair = csma.Install(ns3::NodeContainer(host_node.Get(0), switches.Get(s)));
    group_ports[m].Add(pair.Get(0));
    sw_ports[s].Add(pair.Get(1));
    all.Add(pair);
  }
  {
    auto pair = csma.Install(ns3::NodeContainer(switches.Get(0), switches.Get(1)));
    sw_ports[0].Add(pair.Get(0));
    sw_ports[1].Add(pair.Get(1));
    all.Add(pair);
  }
  ns3::NetDeviceContainer sink_devs;
  for (std::uint32_t s = 0; s < 2; ++s) {
    auto pair = csma.Install(ns3::NodeContainer(sinks.Get(s), switches.Get(s)));
    sink_devs.Add(pair.Get(0));
    sw_ports[s].Add(pair.Get(1));
    all.Add(pair);
  }
  ns3::BridgeHelper bridge;
  for (std::uint32_t m = 0; m < members; ++m) bridge.Install(host_node.Get(0), group_ports[m]);
  for (std::uint32_t s = 0; s < 2; ++s) bridge.Install(switches.Get(s), sw_ports[s]);

  ns3::InternetStackHelper stack;
  stack.Install(vm_nodes);
  stack.Install(sinks);
  ns3::Ipv4AddressHelper addr;
  addr.SetBase("10.1.0.0", "255.255.0.0");
  ns3::Ipv4InterfaceContainer sink_ifs = addr.Assign(sink_devs);
  addr.Assign(vm_devs);

  const double stop_s = static_cast<double>(ms) / 1000.0;
  const std::uint64_t per_vm = pps / vms;
  const std::uint64_t interval_ns = 1'000'000'000ULL / per_vm;
  std::vector<ns3::Ptr<ns3::UdpServer>> servers;
  std::uint64_t sent = 0;
  for (std::uint32_t i = 0; i < vms; ++i) {
    const auto port = static_cast<std::uint16_t>(5001 + i);
    ns3::UdpServerHelper server(port);
    auto s = server.Install(sinks.Get(i % 2));
    servers.push_back(ns3::DynamicCast<ns3::UdpServer>(s.Get(0)));
    ns3::UdpClientHelper client(sink_ifs.GetAddress(i % 2), port);
    const std::uint64_t start_ns = interval_ns * i / vms;
    const std::uint64_t count = (ms * 1'000'000ULL - start_ns + interval_ns - 1) / interval_ns;
    sent += count;
    client.SetAttribute("MaxPackets", ns3::UintegerValue(static_cast<std::uint32_t>(count)));
    client.SetAttribute("Interval", ns3::TimeValue(ns3::NanoSeconds(static_cast<std::int64_t>(interval_ns))));
    client.SetAttribute("PacketSize", ns3::UintegerValue(1000));
    auto c = client.Install(vm_nodes.Get(i));
    c.Start(ns3::NanoSeconds(static_cast<std::int64_t>(start_ns)));
    c.Stop(ns3::Seconds(stop_s));
  }
  for (std::uint32_t i = 0; i < all.GetN(); ++i) {
    all.Get(i)->TraceConnectWithoutContext("PhyRxEnd", ns3::MakeCallback(&on_phy_rx_end));
  }
  ns3::Simulator::Stop(ns3::Seconds(stop_s + 0.001));
  const double t0 = bench_compare::wall_s();
  const double c0 = bench_compare::cpu_s();
  ns3::Simulator::Run();
  const double secs = bench_compare::wall_s() - t0;
  const double cpu_secs = bench_compare::cpu_s() - c0;
  std::uint64_t delivered = 0;
  for (const auto& s : servers) delivered += s->GetReceived();
  const auto events = static_cast<double>(ns3::Simulator::GetEventCount());
  const double sim_s = static_cast<double>(ms) / 1000.0;
  std::printf("side=ns3 workload=C vms=%u sent=%llu delivered=%llu lost=%llu frame_hops=%llu events=%.0f "
              "seconds=%.6f cpu_seconds=%.6f setup_seconds=%.6f frames_per_s=%.0f frame_hops_per_s=%.0f events_per_packet=%.2f "
              "real_time_factor=%.2f peak_rss_kib=%ld\n",
              vms, static_cast<unsigned long long>(sent), static_cast<unsigned long long>(delivered),
              static_cast<unsigned long long>(sent > delivered ? sent - delivered : 0),
              static_cast<unsigned long long>(g_hops), events, secs, cpu_secs, t0 - t_setup,
              static_cast<double>(delivered) / secs, static_cast<double>(g_hops) / secs,
              events / static_cast<double>(delivered), sim_s / secs, bench_compare::peak_rss_kib());
  ns3::Simulator::Destroy();
  return 0;
}
