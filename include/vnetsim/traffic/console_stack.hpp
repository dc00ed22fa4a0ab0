#pragma once
/// The service console's IP stack: binds each eth device of a host::console to an
/// endpoint_set endpoint (host is above traffic, so the console itself holds no stack; this
/// class implements host::console_net and is attached with console::set_net).
///
/// - A console NIC (host::eth_device::backing::console_nic): its link arrivals come here
///   (nic_endpoint() for link_set::add, kind "console/nic-arrive"), pass nic_set::receive,
///   then go to the eth device's current endpoint; sends go to nic_set::transmit.
/// - A vmxnet_console device: a vNIC of host_set (delivery kind "console/vnic-rx", target =
///   eth number, arg = vnic); sends go to host_set::vnic_transmit.
/// - An eth device that is down (ifconfig down / ifdown), or has no address, neither sends
///   nor receives: frames are counted (dropped_down) and released.
/// - Each distinct address an eth device is given makes one endpoint (an endpoint's address
///   is fixed): the first is named "<host>/console/ethN", later ones "<host>/console/ethN#k".
///   An eth device's default gateway is GATEWAY= of its ifcfg-ethN (set by ifup; an endpoint
///   per address and gateway); without one it reaches its connected subnets only
///   (GATEWAY= of /etc/sysconfig/network is not modelled).
/// - findnic [AG2]: a probe endpoint "<host>/findnic/<k>" with the local address whose
///   frames leave through nic_set::transmit on exactly the named vmnic (bypassing the bond's
///   choice, so the named card is the one that sends) and whose replies come back through a
///   vNIC of the console on that vmnic's virtual switch; a ping series
///   "<host>/findnic/<k>" of `count` probes. findnic_summary() prints the result.
///
/// Per frame: no allocation, no virtual call (function pointers and event kinds only).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vnetsim/host/console.hpp"
#include "vnetsim/traffic/endpoint.hpp"

namespace vnetsim::traffic {

struct console_stack_counters {
  std::uint64_t rx_frames = 0;     ///< handed to an endpoint
  std::uint64_t tx_frames = 0;     ///< handed to the NIC or the vswitch
  std::uint64_t dropped_down = 0;  ///< rx or tx on an eth device that is down / unaddressed
  std::uint64_t tx_refused = 0;    ///< the NIC or vswitch refused the frame
};

class console_stack final : public host::console_net {
 public:
  /// Registers the two event kinds; attach with `c.set_net(&stack)` (done here).
  console_stack(kernel::simulator& sim, host::host_set& hs, endpoint_set& eps, host::console& c,
                endpoint_config defaults = {});
  console_stack(const console_stack&) = delete;
  console_stack& operator=(const console_stack&) = delete;

  /// The link endpoint of a console NIC (pass to link_set::add, then nic_set::attach).
  dev::endpoint nic_endpoint(dev::nic_id nic) const;
  /// The current endpoint of eth `number` (nullopt: never addressed).
  std::optional<endpoint_id> endpoint(unsigned number) const noexcept;
  const console_stack_counters& counters() const noexcept { return c_; }

  /// findnic runs so far, with their ping series.
  struct findnic_run {
    host::findnic_request req;
    endpoint_id ep = 0;
    ping_id ping = 0;
  };
  const std::vector<findnic_run>& findnic_runs() const noexcept { return runs_; }
  /// "findnic vmnic1 10.0.0.5 -> 10.0.0.1: 3/3 replies" (replies so far).
  std::string findnic_summary(std::size_t run) const;

  // host::console_net
  host::delivery_config delivery_for(unsigned number) override;
  void eth_changed(const host::console& c, unsigned number, sim_time now) override;
  std::string findnic(const host::console& c, const host::findnic_request& r, sim_time now) override;

 private:
  struct eth_rec {
    std::vector<endpoint_id> eps;  // every endpoint ever made for it
    std::optional<endpoint_id> current;
    bool active = false;           // up with an address
    std::optional<dev::nic_id> nic;
    std::optional<host::vnic_id> vnic;
  };
  struct probe_rec {
    dev::nic_id nic = 0;
    endpoint_id ep = 0;
  };

  eth_rec& eth(unsigned number);
  static void on_vnic_rx(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_nic_arrive(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_probe_rx(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void tx(void* ctx, std::uint32_t port, dev::frame_ref frame);
  static void probe_tx(void* ctx, std::uint32_t port, dev::frame_ref frame);

  kernel::simulator* sim_;
  host::host_set* hs_;
  endpoint_set* eps_;
  host::console* con_;
  endpoint_config defaults_;
  kernel::event_kind vnic_kind_ = 0;
  kernel::event_kind nic_kind_ = 0;
  kernel::event_kind probe_kind_ = 0;
  std::vector<eth_rec> eth_;                 // by eth number
  std::vector<std::int32_t> nic_eth_;        // nic id -> eth number (-1: none)
  std::vector<probe_rec> probes_;
  std::vector<findnic_run> runs_;
  console_stack_counters c_;
};

}  // namespace vnetsim::traffic
