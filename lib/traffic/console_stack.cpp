#include "vnetsim/traffic/console_stack.hpp"

#include <fmt/format.h>

namespace vnetsim::traffic {

console_stack::console_stack(kernel::simulator& sim, host::host_set& hs, endpoint_set& eps, host::console& c,
                             endpoint_config defaults)
    : sim_(&sim), hs_(&hs), eps_(&eps), con_(&c), defaults_(std::move(defaults)) {
  vnic_kind_ = sim.register_kind("console/vnic-rx", &console_stack::on_vnic_rx, this);
  nic_kind_ = sim.register_kind("console/nic-arrive", &console_stack::on_nic_arrive, this);
  probe_kind_ = sim.register_kind("console/findnic-rx", &console_stack::on_probe_rx, this);
  c.set_net(this);
}

console_stack::eth_rec& console_stack::eth(unsigned number) {
  if (number >= eth_.size()) eth_.resize(number + 1);
  return eth_[number];
}

dev::endpoint console_stack::nic_endpoint(dev::nic_id nic) const { return con_->nics().endpoint_for(nic, nic_kind_); }

std::optional<endpoint_id> console_stack::endpoint(unsigned number) const noexcept {
  if (number >= eth_.size()) return std::nullopt;
  return eth_[number].current;
}

host::delivery_config console_stack::delivery_for(unsigned number) {
  host::delivery_config d;
  d.kind = vnic_kind_;
  d.target = number;
  return d;
}

void console_stack::eth_changed(const host::console& c, unsigned number, sim_time) {
  const host::eth_device* e = c.find_eth(number);
  if (e == nullptr) {  // removed (rmmod vmxnet_console): nothing in or out any more
    if (number < eth_.size()) {
      eth_[number].active = false;
      eth_[number].vnic.reset();
    }
    return;
  }
  eth_rec& r = eth(number);
  r.nic = e->nic;
  r.vnic = e->vnic;
  if (e->nic) {
    if (*e->nic >= nic_eth_.size()) nic_eth_.resize(*e->nic + 1, -1);
    nic_eth_[*e->nic] = static_cast<std::int32_t>(number);
  }
  r.active = e->up && e->ip.has_value();
  if (!e->ip) return;
  // Reuse the endpoint with this address and prefix, else make one.
  for (endpoint_id ep : r.eps) {
    const auto& cfg = eps_->config(ep);
    if (cfg.ip == *e->ip && cfg.prefix_len == e->prefix_len && cfg.gateway == e->gateway) {
      r.current = ep;
      return;
    }
  }
  endpoint_config cfg = defaults_;
  cfg.name = r.eps.empty() ? fmt::format("{}/console/{}", c.host_name(), e->name())
                           : fmt::format("{}/console/{}#{}", c.host_name(), e->name(), r.eps.size() + 1);
  cfg.mac = e->nic ? c.nics().config(*e->nic).mac : hs_->vnic_mac(*e->vnic);
  cfg.ip = *e->ip;
  cfg.prefix_len = e->prefix_len;
  cfg.gateway = e->gateway;
  const endpoint_id ep = eps_->add(cfg);
  eps_->attach_custom(ep, &console_stack::tx, this, number);
  r.eps.push_back(ep);
  r.current = ep;
}

void console_stack::tx(void* ctx, std::uint32_t port, dev::frame_ref frame) {
  auto& self = *static_cast<console_stack*>(ctx);
  eth_rec& r = self.eth_[port];
  if (!r.active) {
    ++self.c_.dropped_down;
    return;
  }
  bool ok = false;
  if (r.nic) {
    ok = self.con_->nics().transmit(*r.nic, std::move(frame)) == dev::nic_tx_result::sent;
  } else if (r.vnic) {
    ok = self.hs_->vnic_transmit(*r.vnic, std::move(frame)) == host::tx_result::sent;
  }
  ++(ok ? self.c_.tx_frames : self.c_.tx_refused);
}

void console_stack::on_vnic_rx(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<console_stack*>(ctx);
  dev::frame_ref f = self.hs_->take_delivery(static_cast<host::vnic_id>(ev.arg));
  if (!f) return;
  // A vNIC of a removed device (rmmod) delivers nothing, even if its number was reused.
  if (ev.target >= self.eth_.size() || !self.eth_[ev.target].active ||
      self.eth_[ev.target].vnic != std::optional<host::vnic_id>(static_cast<host::vnic_id>(ev.arg))) {
    ++self.c_.dropped_down;
    return;
  }
  ++self.c_.rx_frames;
  self.eps_->receive(*self.eth_[ev.target].current, std::move(f));
}

void console_stack::on_nic_arrive(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<console_stack*>(ctx);
  auto a = self.con_->nics().links().take_arrival(ev.target);
  if (!a.frame) return;
  dev::frame_ref f = self.con_->nics().receive(a.device, std::move(a.frame));
  if (!f) return;
  const std::int32_t n = a.device < self.nic_eth_.size() ? self.nic_eth_[a.device] : -1;
  if (n < 0 || !self.eth_[static_cast<std::size_t>(n)].active) {
    ++self.c_.dropped_down;
    return;
  }
  ++self.c_.rx_frames;
  self.eps_->receive(*self.eth_[static_cast<std::size_t>(n)].current, std::move(f));
}

void console_stack::probe_tx(void* ctx, std::uint32_t port, dev::frame_ref frame) {
  auto& self = *static_cast<console_stack*>(ctx);
  const bool ok = self.con_->nics().transmit(self.probes_[port].nic, std::move(frame)) == dev::nic_tx_result::sent;
  ++(ok ? self.c_.tx_frames : self.c_.tx_refused);
}

void console_stack::on_probe_rx(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<console_stack*>(ctx);
  dev::frame_ref f = self.hs_->take_delivery(static_cast<host::vnic_id>(ev.arg));
  if (!f) return;
  ++self.c_.rx_frames;
  self.eps_->receive(self.probes_[ev.target].ep, std::move(f));
}

std::string console_stack::findnic(const host::console& c, const host::findnic_request& r, sim_time now) {
  const host::host_id h = c.host();
  const std::string vmnic = fmt::format("vmnic{}", r.vmnic);
  // The virtual switch the replies come back through: the bond's, the vmnic's, or a new one.
  std::optional<host::vswitch_id> vs;
  if (const auto b = hs_->vmnic_bond(h, r.vmnic)) {
    vs = hs_->find_vswitch_by_device(h, fmt::format("bond{}", *b));
  } else {
    vs = hs_->find_vswitch_by_device(h, vmnic);
    if (!vs && !hs_->find_vswitch(h, vmnic)) vs = hs_->add_vswitch(h, vmnic, host::vmnic_binding{r.vmnic});
  }
  if (!vs) return fmt::format("findnic: {}: no virtual switch carries it: replies cannot be received\n", vmnic);
  auto vm = hs_->find_vm(h, "console");
  if (!vm) vm = hs_->add_vm(h, "console");
  const auto k = static_cast<std::uint32_t>(probes_.size());
  host::vnic_config vc;
  vc.network = std::string(hs_->vswitch_label(*vs));
  vc.delivery.kind = probe_kind_;
  vc.delivery.target = k;
  const host::vnic_id vnic = hs_->add_vnic(*vm, vc);
  endpoint_config cfg = defaults_;
  cfg.name = fmt::format("{}/findnic/{}", c.host_name(), k);
  cfg.mac = hs_->vnic_mac(vnic);
  cfg.ip = r.local;
  cfg.prefix_len = 0;  // everything on-link: findnic ARPs for the remote address directly
  cfg.gateway.reset();
  const endpoint_id ep = eps_->add(cfg);
  eps_->attach_custom(ep, &console_stack::probe_tx, this, k);
  probes_.push_back({*hs_->vmnic_nic(h, r.vmnic), ep});
  ping_config pc;
  pc.name = cfg.name;
  pc.src = ep;
  pc.dst = r.remote;
  pc.start = now;
  pc.interval = r.interval;
  pc.count = r.count;
  const ping_id p = eps_->add_ping(pc);
  runs_.push_back({r, ep, p});
  return fmt::format("findnic: {} is {}; pinging {} {} times every {}\n", vmnic, r.local.to_string(), r.remote.to_string(),
                     r.count, r.interval);
}

std::string console_stack::findnic_summary(std::size_t run) const {
  const findnic_run& f = runs_.at(run);
  unsigned replied = 0;
  for (const auto& p : eps_->ping_results(f.ping)) replied += p.status == probe_status::replied;
  return fmt::format("findnic vmnic{} {} -> {}: {}/{} replies", f.req.vmnic, f.req.local.to_string(),
                     f.req.remote.to_string(), replied, f.req.count);
}

}  // namespace vnetsim::traffic
