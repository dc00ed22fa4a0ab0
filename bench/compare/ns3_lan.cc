// Workload B on ns-3 (bench/compare, issue 9): H hosts (default 8), each linked to one
// learning switch by its own 1 Gb/s channel with 500 ns delay; host i sends UDP to host
// (i + H/2) mod H at 20,000 packets/s of 1000 payload bytes for 10 s.
// The closest ns-3.37 equivalent of a switched full-duplex LAN: ns-3's learning switch
// (BridgeNetDevice) needs devices that support SendFrom, which PointToPointNetDevice does
// not, so every host-switch link is a two-device CsmaChannel. That channel is half-duplex
// (one frame at a time in both directions together); vnetsim's links are full-duplex.
// At 20 kpps x 1042-byte frames each direction of a link is 17 % busy, so the shared
// channel is about a third busy and nothing is lost either way. The BridgeNetDevice
// forwards in zero time (vnetsim's switch latency is set to 0 to match). Hosts use ns-3's
// internet stack (ARP without request jitter, IPv4, UDP) with UdpClient / UdpServer (12-byte sequence header
// inside the payload). A frame-hop is one frame received at the far end of one channel
// (the CSMA devices' MacRx trace, promiscuous frames included).
// Prints one "key=value" line.
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
  const auto hosts = static_cast<std::uint32_t>(bench_compare::arg_u64(argc, argv, "--hosts", 8));
  const std::uint64_t pps = bench_compare::arg_u64(argc, argv, "--pps", 20'000);
  const auto payload = static_cast<std::uint32_t>(bench_compare::arg_u64(argc, argv, "--payload", 1000));
  const std::uint64_t ms = bench_compare::arg_u64(argc, argv, "--seconds-ms", 10'000);
  const std::string sched = bench_compare::arg_str(argc, argv, "--scheduler", "ns3::MapScheduler");
  if (hosts < 2 || hosts % 2 != 0 || pps == 0 || ms == 0) {
    std::fprintf(stderr, "ns3_lan: --hosts must be even and >= 2, --pps and --seconds-ms >= 1\n");
    return 2;
  }
  const double t_setup = bench_compare::wall_s();
  ns3::ObjectFactory f;
  f.SetTypeId(sched);
  ns3::Simulator::SetScheduler(f);
  // ns-3's ARP waits Uniform[0, 10] ms before each request (ArpL3Protocol::RequestJitter)
  // and holds 3 packets meanwhile, so at 20 kpps ~100 packets per host would be lost at
  // start; vnetsim's ARP (traffic::endpoint) sends at once. Turn the jitter off.
  ns3::Config::SetDefault("ns3::ArpL3Protocol::RequestJitter",
                          ns3::StringValue("ns3::ConstantRandomVariable[Constant=0.0]"));

  ns3::NodeContainer host_nodes;
  host_nodes.Create(hosts);
  ns3::NodeContainer sw_node;
  sw_node.Create(1);
  ns3::CsmaHelper csma;
  csma.SetChannelAttribute("DataRate", ns3::DataRateValue(ns3::DataRate("1Gbps")));
  csma.SetChannelAttribute("Delay", ns3::TimeValue(ns3::NanoSeconds(500)));
  ns3::NetDeviceContainer host_devs;
  ns3::NetDeviceContainer sw_ports;
  for (std::uint32_t i = 0; i < hosts; ++i) {
    ns3::NetDeviceContainer pair = csma.Install(ns3::NodeContainer(host_nodes.Get(i), sw_node.Get(0)));
    host_devs.Add(pair.Get(0));
    sw_ports.Add(pair.Get(1));
  }
  ns3::BridgeHelper bridge;
  bridge.Install(sw_node.Get(0), sw_ports);
  ns3::InternetStackHelper stack;
  stack.Install(host_nodes);
  ns3::Ipv4AddressHelper addr;
  addr.SetBase("10.0.0.0", "255.255.0.0");
  ns3::Ipv4InterfaceContainer ifs = addr.Assign(host_devs);

  const double stop_s = static_cast<double>(ms) / 1000.0;
  const auto count = static_cast<std::uint32_t>(pps * ms / 1000);
  std::vector<ns3::Ptr<ns3::UdpServer>> servers;
  for (std::uint32_t i = 0; i < hosts; ++i) {
    const std::uint32_t d = (i + hosts / 2) % hosts;
    ns3::UdpServerHelper server(5001);
    ns3::ApplicationContainer s = server.Install(host_nodes.Get(d));
    s.Start(ns3::Seconds(0));
    servers.push_back(ns3::DynamicCast<ns3::UdpServer>(s.Get(0)));
    ns3::UdpClientHelper client(ifs.GetAddress(d), 5001);
    client.SetAttribute("MaxPackets", ns3::UintegerValue(count));
    client.SetAttribute("Interval", ns3::TimeValue(ns3::NanoSeconds(static_cast<std::int64_t>(1'000'000'000 / pps))));
    client.SetAttribute("PacketSize", ns3::UintegerValue(payload));
    ns3::ApplicationContainer c = client.Install(host_nodes.Get(i));
    c.Start(ns3::Seconds(0));
    c.Stop(ns3::Seconds(stop_s));
  }
  for (std::uint32_t i = 0; i < host_devs.GetN(); ++i) {
    host_devs.Get(i)->TraceConnectWithoutContext("PhyRxEnd", ns3::MakeCallback(&on_phy_rx_end));
    sw_ports.Get(i)->TraceConnectWithoutContext("PhyRxEnd", ns3::MakeCallback(&on_phy_rx_end));
  }
  ns3::Simulator::Stop(ns3::Seconds(stop_s + 0.001));
  const double t0 = bench_compare::wall_s();
  const double c0 = bench_compare::cpu_s();
  ns3::Simulator::Run();
  const double secs = bench_compare::wall_s() - t0;
  const double cpu_secs = bench_compare::cpu_s() - c0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  for (const auto& s : servers) {
    delivered += s->GetReceived();
    lost += s->GetLost();
    if (std::getenv("NS3_LAN_DEBUG") != nullptr) std::fprintf(stderr, "server rx=%llu lost=%u\n", static_cast<unsigned long long>(s->GetReceived()), static_cast<unsigned>(s->GetLost()));
  }
  const auto sent = static_cast<std::uint64_t>(hosts) * count;
  const auto events = static_cast<double>(ns3::Simulator::GetEventCount());
  std::printf("side=ns3 workload=B hosts=%u sent=%llu delivered=%llu lost=%llu frame_hops=%llu "
              "events=%.0f seconds=%.6f cpu_seconds=%.6f setup_seconds=%.6f packets_per_s=%.0f frame_hops_per_s=%.0f "
              "events_per_packet=%.2f peak_rss_kib=%ld\n",
              hosts, static_cast<unsigned long long>(sent), static_cast<unsigned long long>(delivered),
              static_cast<unsigned long long>(sent - delivered), static_cast<unsigned long long>(g_hops), events,
              secs, cpu_secs, t0 - t_setup, static_cast<double>(delivered) / secs, static_cast<double>(g_hops) / secs,
              events / static_cast<double>(delivered), bench_compare::peak_rss_kib());
  (void)lost;
  ns3::Simulator::Destroy();
  return 0;
}
