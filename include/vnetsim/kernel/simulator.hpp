#pragma once
/// The simulator loop: the clock, the pending events and how each kind of event is run.
///
/// Two ways to schedule work, both allocation-free once warmed up:
/// - by kind: register a plain handler function once per kind at set-up; events carry a
///   target id and a 64-bit argument, and the loop calls the kind's handler (one indirect
///   call, no virtual dispatch). This is what devices use on the per-frame path.
/// - by callable: any nothrow-movable callable of up to `inline_callback_size` bytes,
///   stored inline in a recycled cell (no std::function, no heap). For set-up, scripted
///   faults and tests.
///
/// Precondition errors (scheduling before now, an unregistered kind, a callable too
/// large) throw `kernel::schedule_error` naming the call and the values.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "vnetsim/kernel/event_queue.hpp"
#include "vnetsim/kernel/sim_time.hpp"

namespace vnetsim::kernel {

class simulator;

class schedule_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Handler for a registered kind: `ctx` is the pointer given at registration.
using event_handler = void (*)(void* ctx, simulator& sim, const event& ev);

/// Capacity of an inline callback cell; larger callables are rejected at compile time.
inline constexpr std::size_t inline_callback_size = 48;

class simulator {
 public:
  simulator();
  simulator(const simulator&) = delete;
  simulator& operator=(const simulator&) = delete;
  ~simulator();

  /// Registers a kind of event at set-up and returns its id. O(1).
  event_kind register_kind(std::string_view name, event_handler fn, void* ctx);
  std::string_view kind_name(event_kind k) const;

  /// Schedules an event of a registered kind at absolute time `t` >= now(). O(1) amortized.
  [[gnu::always_inline]] event_handle schedule_at(sim_time t, event_kind kind, std::uint32_t target,
                                                 std::uint64_t arg = 0) {
    // One unsigned compare rejects both kind 0 (callbacks) and unregistered kinds.
    if (t < now_ || static_cast<std::uint32_t>(kind) - 1u >= handler_limit_) [[unlikely]] {
      throw_bad_schedule(t, kind);
    }
    return queue_.push(t, kind, target, arg);
  }
  /// Schedules `delay` >= 0 after now(). O(1) amortized.
  [[gnu::always_inline]] event_handle schedule_in(sim_time delay, event_kind kind, std::uint32_t target,
                                                 std::uint64_t arg = 0) {
    return schedule_at(checked_later(delay, "schedule_in"), kind, target, arg);
  }

  /// Schedules a callable `f(simulator&)` at absolute time `t` >= now(). O(1) amortized.
  template <class F>
  event_handle schedule_at(sim_time t, F&& f) {
    using fn = std::decay_t<F>;
    static_assert(sizeof(fn) <= inline_callback_size,
                  "callable too large for an inline callback cell: capture less, or use a kind");
    static_assert(alignof(fn) <= alignof(std::max_align_t));
    static_assert(std::is_nothrow_move_constructible_v<fn>);
    static_assert(std::is_invocable_v<fn&, simulator&>);
    check_not_past(t, "schedule_at");
    const std::uint32_t cell = acquire_cell();
    callback_cell& c = cells_[cell];
    ::new (static_cast<void*>(c.storage)) fn(std::forward<F>(f));
    c.invoke = [](void* p, simulator& s) { (*static_cast<fn*>(p))(s); };
    c.destroy = [](void* p) noexcept { static_cast<fn*>(p)->~fn(); };
    return queue_.push(t, callback_kind, 0, cell);
  }
  template <class F>
  event_handle schedule_in(sim_time delay, F&& f) {
    return schedule_at(checked_later(delay, "schedule_in"), std::forward<F>(f));
  }

  /// Cancels a pending event; false if it already ran or was cancelled. O(1).
  bool cancel(event_handle h) noexcept;
  bool pending(event_handle h) const noexcept { return queue_.pending(h); }

  /// Runs events in (time, seq) order until none are left or stop() is called.
  void run();
  /// Runs every event with time <= `end`, then sets now() to `end` (unless stopped
  /// earlier). Events scheduled during the run at times <= end run too.
  void run_until(sim_time end);
  /// Runs for `d` of simulated time from now().
  void run_for(sim_time d) { run_until(checked_later(d, "run_for")); }
  /// Makes run()/run_until() return after the event being run. Callable from a handler.
  void stop() noexcept { stopped_ = true; }
  bool stopped() const noexcept { return stopped_; }

  sim_time now() const noexcept { return now_; }
  /// Events run so far: each popped event is run, so the queue's count is the count (one
  /// counter fewer to bump per event). O(1).
  std::uint64_t events_run() const noexcept { return queue_.popped(); }
  std::size_t pending_events() const noexcept { return queue_.size(); }
  const event_queue& queue() const noexcept { return queue_; }
  /// Pre-sizes the queue and the callback cells; see event_queue::reserve.
  void reserve(std::size_t events, std::size_t callbacks = 0);

 private:
  static constexpr event_kind callback_kind = 0;

  struct callback_cell {
    alignas(std::max_align_t) std::byte storage[inline_callback_size];
    void (*invoke)(void*, simulator&) = nullptr;
    void (*destroy)(void*) noexcept = nullptr;  // non-null while the cell holds a callable
    std::uint32_t next_free = 0;
  };
  struct handler_entry {  // what the per-event dispatch reads, 16 bytes
    event_handler fn;
    void* ctx;
  };

  void check_not_past(sim_time t, const char* what) const {
    if (t < now_) [[unlikely]] throw_past(t, what);
  }
  sim_time checked_later(sim_time delay, const char* what) const {
    if (delay < sim_time::zero() || delay > sim_time::max() - now_) [[unlikely]] {
      throw_bad_delay(delay, what);
    }
    return now_ + delay;
  }
  [[noreturn]] void throw_past(sim_time t, const char* what) const;
  [[noreturn]] void throw_bad_delay(sim_time delay, const char* what) const;
  [[noreturn]] void throw_bad_schedule(sim_time t, event_kind kind) const;
  std::uint32_t acquire_cell();
  void release_cell(std::uint32_t cell) noexcept;
  /// One indirect call for every kind, callbacks included (kind 0's handler runs the
  /// cell): no test of the kind on the way.
  void dispatch(const event& ev) {
    now_ = ev.time;
    const handler_entry& h = handlers_[ev.kind];
    h.fn(h.ctx, *this, ev);
  }
  void run_callback(std::uint32_t cell);
  /// Kind 0's handler: runs the inline callback in cell `ev.arg`.
  static void callback_handler(void* ctx, simulator& sim, const event& ev);

  event_queue queue_;
  std::vector<handler_entry> handlers_;
  std::uint32_t handler_limit_ = 0;  // handlers_.size() - 1: registered kinds are 1..this
  std::vector<std::string> kind_names_;
  std::deque<callback_cell> cells_;  // deque: a running callback's cell never moves
  std::uint32_t free_cell_ = no_cell;
  static constexpr std::uint32_t no_cell = 0xffff'ffffu;
  sim_time now_;
  bool stopped_ = false;
};

}  // namespace vnetsim::kernel
