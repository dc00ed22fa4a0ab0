#include "vnetsim/kernel/simulator.hpp"

#include <fmt/format.h>

namespace vnetsim::kernel {

simulator::simulator() {
  // Kind 0 runs inline callbacks (schedule_at rejects it for kind-based scheduling).
  handlers_.push_back(handler_entry{&simulator::callback_handler, nullptr});
  kind_names_.emplace_back("callback");
}

simulator::~simulator() {
  for (auto& c : cells_) {
    if (c.destroy != nullptr) c.destroy(c.storage);
  }
}

event_kind simulator::register_kind(std::string_view name, event_handler fn, void* ctx) {
  if (fn == nullptr) {
    throw schedule_error(fmt::format("register_kind(\"{}\"): the handler is null", name));
  }
  if (handlers_.size() > 0xffff) {
    throw schedule_error(fmt::format("register_kind(\"{}\"): more than 65535 kinds", name));
  }
  handlers_.push_back(handler_entry{fn, ctx});
  kind_names_.emplace_back(name);
  handler_limit_ = static_cast<std::uint32_t>(handlers_.size() - 1);
  return static_cast<event_kind>(handlers_.size() - 1);
}

std::string_view simulator::kind_name(event_kind k) const {
  return k < kind_names_.size() ? std::string_view(kind_names_[k]) : std::string_view("unregistered");
}

void simulator::throw_past(sim_time t, const char* what) const {
  throw schedule_error(fmt::format("{}({}): the time is before now ({})", what, t, now_));
}

void simulator::throw_bad_delay(sim_time delay, const char* what) const {
  if (delay < sim_time::zero()) {
    throw schedule_error(fmt::format("{}({}): the delay is negative", what, delay));
  }
  throw schedule_error(fmt::format("{}({}): now + delay overflows sim_time", what, delay));
}

void simulator::throw_bad_schedule(sim_time t, event_kind kind) const {
  if (t < now_) throw_past(t, "schedule_at");
  throw schedule_error(fmt::format("schedule_at({}, kind {}): the kind is not registered", t, kind));
}

bool simulator::cancel(event_handle h) noexcept {
  const auto ev = queue_.cancel(h);
  if (!ev) return false;
  if (ev->kind == callback_kind) release_cell(static_cast<std::uint32_t>(ev->arg));
  return true;
}

std::uint32_t simulator::acquire_cell() {
  if (free_cell_ != no_cell) {
    const std::uint32_t cell = free_cell_;
    free_cell_ = cells_[cell].next_free;
    return cell;
  }
  cells_.emplace_back();
  return static_cast<std::uint32_t>(cells_.size() - 1);
}

void simulator::release_cell(std::uint32_t cell) noexcept {
  callback_cell& c = cells_[cell];
  c.destroy(c.storage);
  c.destroy = nullptr;
  c.invoke = nullptr;
  c.next_free = free_cell_;
  free_cell_ = cell;
}

void simulator::callback_handler(void*, simulator& sim, const event& ev) {
  sim.run_callback(static_cast<std::uint32_t>(ev.arg));
}

void simulator::run_callback(std::uint32_t cell) {
  callback_cell& c = cells_[cell];
  // Release the cell even if the callable throws, so a failed run leaks nothing.
  struct releaser {
    simulator* s;
    std::uint32_t cell;
    ~releaser() { s->release_cell(cell); }
  } guard{this, cell};
  c.invoke(c.storage, *this);
}

void simulator::run() {
  stopped_ = false;
  event ev;
  while (!stopped_ && queue_.pop_until(sim_time::max(), ev)) dispatch(ev);
}

void simulator::run_until(sim_time end) {
  check_not_past(end, "run_until");
  stopped_ = false;
  event ev;
  while (!stopped_) {
    if (!queue_.pop_until(end, ev)) {
      now_ = end;
      break;
    }
    dispatch(ev);
  }
}

void simulator::reserve(std::size_t events, std::size_t callbacks) {
  queue_.reserve(events);
  // Grow the cell pool to `callbacks` cells, all on the free list.
  while (cells_.size() < callbacks) {
    cells_.emplace_back();
    cells_.back().next_free = free_cell_;
    free_cell_ = static_cast<std::uint32_t>(cells_.size() - 1);
  }
}

}  // namespace vnetsim::kernel
