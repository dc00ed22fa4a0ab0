#include "vnetsim/scenario/console_binding.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "vnetsim/scenario/world.hpp"

namespace vnetsim::scenario {

namespace {

/// Marks the periodic watch event (a console NIC's owner event carries nic | up << 32).
constexpr std::uint64_t periodic_watch = std::uint64_t{1} << 63;

/// The first line of a command's output (for the timeline).
std::string first_line(std::string_view s) {
  const auto nl = s.find('\n');
  return std::string(s.substr(0, nl));
}

bool state_matches(std::string_view want, host::mui_state s) {
  if (want == "lost") return s != host::mui_state::running;
  return want == host::to_string(s);
}

}  // namespace

console_binding::console_binding(world& w) : w_(&w) {
  watch_kind_ = w.sim().register_kind("scenario/console-watch", &console_binding::on_watch, this);
}

console_binding::~console_binding() = default;

console_binding::bound* console_binding::find(std::string_view host) {
  for (auto& b : consoles_) {
    if (b->name == host) return b.get();
  }
  return nullptr;
}
const console_binding::bound* console_binding::find(std::string_view host) const {
  for (const auto& b : consoles_) {
    if (b->name == host) return b.get();
  }
  return nullptr;
}

void console_binding::add(host::host_id id, const host_spec& h) {
  const console_spec& spec = *h.console;
  const std::string at = h.pointer.empty() ? "" : h.pointer + "/console: ";
  auto b = std::make_unique<bound>();
  b->host = id;
  b->name = h.name;
  b->spec = spec;
  const auto index = static_cast<std::uint32_t>(consoles_.size());
  try {
    b->con = std::make_unique<host::console>(w_->hosts(), w_->nics(), id);
    b->stack = std::make_unique<traffic::console_stack>(w_->sim(), w_->hosts(), w_->endpoints(), *b->con);
    for (const auto& n : spec.nics) {
      dev::nic_config cfg = n.nic;
      cfg.owner_kind = watch_kind_;  // a link change re-evaluates the Management Interface at once
      cfg.owner_target = index;
      const dev::nic_id nic = w_->nics().add(fmt::format("{}/{}", h.name, n.name), cfg);
      b->con->add_console_nic(nic, n.driver);
      b->nics.push_back(nic);
    }
    for (unsigned v : spec.shared) b->con->set_shared(v);
    for (const auto& [path, text] : spec.files) b->con->set_file(path, text);
  } catch (const std::invalid_argument& x) {
    throw scenario_error(fmt::format("{}host \"{}\" console: {}", at, h.name, x.what()));
  }
  if (by_host_.size() <= id) by_host_.resize(id + 1, -1);
  by_host_[id] = static_cast<std::int32_t>(index);
  for (std::size_t k = 0; k < spec.pings.size(); ++k) {
    const auto& g = spec.pings[k];
    b->pings.push_back({g.name, "", "", g.count, std::nullopt});
    w_->sim().schedule_at(g.start, [this, index, k](kernel::simulator&) { start_ping(index, k); });
  }
  if (spec.boot) {
    w_->sim().schedule_at(*spec.boot, [this, index](kernel::simulator&) { boot(index); });
  }
  consoles_.push_back(std::move(b));
}

std::optional<dev::nic_id> console_binding::console_nic(host::host_id id, std::uint32_t port) const {
  if (id >= by_host_.size() || by_host_[id] < 0 || port < console_nic_port_base) return std::nullopt;
  const bound& b = *consoles_[static_cast<std::size_t>(by_host_[id])];
  const std::uint32_t k = port - console_nic_port_base;
  if (k >= b.nics.size()) return std::nullopt;
  return b.nics[k];
}

dev::endpoint console_binding::nic_endpoint(host::host_id id, dev::nic_id nic) const {
  return consoles_.at(static_cast<std::size_t>(by_host_.at(id)))->stack->nic_endpoint(nic);
}

void console_binding::boot(std::size_t index) {
  bound& b = *consoles_[index];
  const sim_time now = w_->sim().now();
  const std::size_t before = b.con->history().size();
  // The files were checked when the scenario was loaded; a console_error here is an API
  // misuse (boot twice), reported, not thrown mid-run.
  try {
    b.con->boot(now);
  } catch (const host::console_error& e) {
    log_.push_back({now, "boot_failed", fmt::format("{}: {}", b.name, e.what())});
    log_host_.push_back(index);
    return;
  }
  log_.push_back({now, "boot", fmt::format("{}: service console booted ({} boot commands)", b.name,
                                           b.con->history().size() - before)});
  log_host_.push_back(index);
  for (std::size_t i = before; i < b.con->history().size(); ++i) {
    const auto& h = b.con->history()[i];
    if (h.result.status != 0) {
      log_.push_back({now, "command_failed",
                      fmt::format("{}# {} (boot): exit {}: {}", b.name, h.line, h.result.status,
                                  first_line(h.result.output))});
      log_host_.push_back(index);
    }
  }
  poll(b);
  if (!b.watch.valid() || !w_->sim().pending(b.watch)) {
    b.watch = w_->sim().schedule_at(now + b.spec.watch, watch_kind_, static_cast<std::uint32_t>(index), periodic_watch);
  }
}

void console_binding::poll(bound& b) { (void)b.con->poll(w_->sim().now()); }

void console_binding::on_watch(void* ctx, kernel::simulator& sim, const kernel::event& ev) {
  auto& self = *static_cast<console_binding*>(ctx);
  bound& b = *self.consoles_[ev.target];
  self.poll(b);
  if (ev.arg == periodic_watch) {
    b.watch = sim.schedule_at(sim.now() + b.spec.watch, self.watch_kind_, ev.target, periodic_watch);
  }
}

void console_binding::check_action(const action_spec& a) const {
  if (a.kind != action_kind::console) return;
  if (find(a.target) == nullptr) {
    throw scenario_error(fmt::format("timeline console: host \"{}\" has no service console", a.target));
  }
}

void console_binding::run_action(const action_spec& a) {
  bound* b = find(a.target);
  run_command(*b, a.value, "timeline");
}

void console_binding::run_command(bound& b, std::string_view line, std::string_view why) {
  const sim_time now = w_->sim().now();
  const auto index = static_cast<std::size_t>(by_host_[b.host]);
  const host::command_result r = b.con->run(line, now);
  std::string detail = fmt::format("{}# {} (exit {})", b.name, line, r.status);
  if (!r.output.empty()) detail += ": " + first_line(r.output);
  if (w_->trace_ != nullptr) w_->trace_line(fmt::format("{} {} console {}", now, why, detail));
  log_.push_back({now, r.status == 0 ? "command" : "command_failed", std::move(detail)});
  log_host_.push_back(index);
  poll(b);
}

void console_binding::start_ping(std::size_t index, std::size_t k) {
  bound& b = *consoles_[index];
  const console_ping_spec& g = b.spec.pings[k];
  console_ping_run& run = b.pings[k];
  const sim_time now = w_->sim().now();
  const auto ep = b.stack->endpoint(g.eth);
  const host::eth_device* e = b.con->find_eth(g.eth);
  if (!ep || e == nullptr || !e->ip) {
    run.note = fmt::format("eth{} had no address at {}: no probe sent", g.eth, now);
    log_.push_back({now, "ping_not_started", fmt::format("{}: console ping {}: {}", b.name, g.name, run.note)});
    log_host_.push_back(index);
    return;
  }
  traffic::ping_config c;
  c.name = fmt::format("{}/console/{}", b.name, g.name);
  c.src = *ep;
  c.dst = g.to;
  c.start = now;
  c.interval = g.interval;
  c.timeout = g.timeout;
  c.count = g.count;
  try {
    run.ping = w_->endpoints().add_ping(c);
    run.series = c.name;
  } catch (const std::invalid_argument& x) {
    run.note = x.what();
    log_.push_back({now, "ping_not_started", fmt::format("{}: console ping {}: {}", b.name, g.name, x.what())});
    log_host_.push_back(index);
    return;
  }
  log_.push_back({now, "ping", fmt::format("{}: console ping {} from eth{} ({}) to {}, {} probes", b.name, g.name, g.eth,
                                           e->ip->to_string(), g.to.to_string(), g.count)});
  log_host_.push_back(index);
}

void console_binding::check_expectation(const expectation_spec& e) const {
  if (e.kind == expectation_kind::management) {
    if (find(e.target) == nullptr) {
      throw scenario_error(fmt::format("expectation {}: host \"{}\" has no service console", e.name, e.target));
    }
    if (e.mode != "at" && e.mode != "never_lost" && e.mode != "lost") {
      throw scenario_error(fmt::format("expectation {}: management mode \"{}\" is not at, never_lost or lost", e.name,
                                       e.mode));
    }
    if ((e.mode == "at") != e.at.has_value() || (e.mode == "lost" && !e.by)) {
      throw scenario_error(fmt::format("expectation {}: management \"{}\" needs {}", e.name, e.mode,
                                       e.mode == "at" ? "\"at\" only" : "\"by\""));
    }
    return;
  }
  for (const auto& b : consoles_) {
    for (const auto& g : b->spec.pings) {
      if (g.name == e.target) return;
    }
  }
  throw scenario_error(fmt::format("expectation {}: no console ping named \"{}\"", e.name, e.target));
}

std::string console_binding::management_now(std::string_view target) {
  bound* b = find(target);
  return std::string(host::to_string(b->con->poll(w_->sim().now())));
}

std::uint64_t console_binding::ping_lost(const console_ping_run& r) const {
  if (!r.ping) return r.count;
  std::uint64_t n = 0;
  for (const auto& pr : w_->endpoints().ping_results(*r.ping)) {
    if (pr.status == traffic::probe_status::timed_out || pr.status == traffic::probe_status::not_sent) ++n;
  }
  return n;
}

expectation_result console_binding::evaluate(const expectation_spec& e,
                                             const std::optional<std::string>& at_measured) const {
  expectation_result r;
  r.name = e.name;
  if (e.kind == expectation_kind::console_ping_loss) {
    const console_ping_run* run = nullptr;
    std::string host;
    for (const auto& b : consoles_) {
      for (const auto& p : b->pings) {
        if (p.name == e.target) {
          run = &p;
          host = b->name;
        }
      }
    }
    const auto lost = static_cast<std::int64_t>(ping_lost(*run));
    r.text = fmt::format("console ping {} on host {}: probes without a reply", e.target, host);
    r.measured = run->ping ? std::to_string(lost) : fmt::format("{} (not started: {})", lost, run->note);
    r.bound = fmt::format("{} {}", to_string(e.op), e.value);
    r.pass = compare(e.op, lost, e.value);
    return r;
  }
  const bound& b = *find(e.target);
  const auto& changes = b.con->management_changes();
  // The state at time t: the last change at or before t (before boot: not running).
  const auto state_at = [&](sim_time t) -> std::optional<host::mui_state> {
    std::optional<host::mui_state> s;
    for (const auto& c : changes) {
      if (c.at <= t) s = c.to;
    }
    return s;
  };
  const auto name = [](std::optional<host::mui_state> s) {
    return s ? std::string(host::to_string(*s)) : std::string("not booted");
  };
  if (e.mode == "at") {
    r.text = fmt::format("host {} management interface {} at t = {}", e.target, e.state, *e.at);
    r.bound = fmt::format("{} at {}", e.state, *e.at);
    if (!at_measured) {
      r.measured = "not reached (the run ended earlier)";
      return r;
    }
    r.measured = *at_measured;
    r.pass = e.state == "lost" ? *at_measured != "running" : *at_measured == e.state;
    return r;
  }
  if (e.mode == "never_lost") {
    r.text = fmt::format("host {} management interface running from t = {} to the end", e.target, e.after);
    r.bound = fmt::format("running throughout [{}, end]", e.after);
    const auto s0 = state_at(e.after);
    if (s0 != host::mui_state::running) {
      r.measured = fmt::format("{} at {}", name(s0), e.after);
      return r;
    }
    for (const auto& c : changes) {
      if (c.at > e.after && c.to != host::mui_state::running) {
        r.measured = fmt::format("lost at {} ({})", c.at, host::to_string(c.to));
        return r;
      }
    }
    r.measured = "running throughout";
    r.pass = true;
    return r;
  }
  // "lost": stops running at a time in (after, by], for reason `state` when given.
  const std::string reason = e.state.empty() ? "lost" : e.state;
  r.text = fmt::format("host {} management interface lost{} after t = {}", e.target,
                       e.state.empty() ? "" : fmt::format(" ({})", e.state), e.after);
  r.bound = fmt::format("lost in ({}, {}]", e.after, *e.by);
  const auto s0 = state_at(e.after);
  for (const auto& c : changes) {
    if (c.at <= e.after || c.from != host::mui_state::running) continue;
    r.measured = fmt::format("lost at {} ({})", c.at, host::to_string(c.to));
    r.pass = c.at <= *e.by && state_matches(reason, c.to);
    return r;
  }
  r.measured = s0 == host::mui_state::running ? "running throughout" : fmt::format("not running at {} ({})", e.after, name(s0));
  return r;
}

std::vector<timeline_entry> console_binding::timeline() const {
  std::vector<timeline_entry> out;
  for (const auto& l : log_) out.push_back({l.at, "console", l.what, l.detail});
  for (const auto& b : consoles_) {
    for (const auto& c : b->con->management_changes()) {
      out.push_back({c.at, "console", "management",
                     fmt::format("{}: management interface {}=>{}", b->name, host::to_string(c.from),
                                 host::to_string(c.to))});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const timeline_entry& a, const timeline_entry& b) { return a.at < b.at; });
  return out;
}

const host::console* console_binding::console_of(host::host_id id) const noexcept {
  if (id >= by_host_.size() || by_host_[id] < 0) return nullptr;
  return consoles_[static_cast<std::size_t>(by_host_[id])]->con.get();
}

const traffic::console_stack* console_binding::stack_of(host::host_id id) const noexcept {
  if (id >= by_host_.size() || by_host_[id] < 0) return nullptr;
  return consoles_[static_cast<std::size_t>(by_host_[id])]->stack.get();
}

const std::vector<console_binding::console_ping_run>& console_binding::pings_of(host::host_id id) const {
  return consoles_.at(static_cast<std::size_t>(by_host_.at(id)))->pings;
}

}  // namespace vnetsim::scenario
