#include "vnetsim/kernel/simulator.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "alloc_counter.hpp"
#include "vnetsim/kernel/rng.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using vnetsim::kernel::simulator;

namespace {
struct recorder {
  std::vector<std::string> log;
  static void on_event(void* ctx, simulator& sim, const kernel::event& ev) {
    auto* self = static_cast<recorder*>(ctx);
    self->log.push_back(fmt::format("{} t{} a{}", sim.now(), ev.target, ev.arg));
  }
};
}  // namespace

TEST_CASE("simulator dispatches registered kinds to their handler with target and arg") {
  simulator sim;
  recorder rec;
  const auto k = sim.register_kind("probe", &recorder::on_event, &rec);
  CHECK(sim.kind_name(k) == "probe");
  sim.schedule_at(2_s, k, 3, 30);
  sim.schedule_in(1_s, k, 1, 10);
  sim.schedule_at(2_s, k, 4, 40);
  sim.run();
  CHECK(rec.log == std::vector<std::string>{"1s t1 a10", "2s t3 a30", "2s t4 a40"});
  CHECK(sim.now() == 2_s);
  CHECK(sim.events_run() == 3);
}

TEST_CASE("simulator runs inline callbacks and same-time events first in, first out") {
  simulator sim;
  std::vector<int> order;
  sim.schedule_at(1_s, [&order](simulator& s) {
    order.push_back(1);
    // Scheduled now, at the current time: runs after everything already queued for 1 s.
    s.schedule_in(0_s, [&order](simulator&) { order.push_back(4); });
  });
  sim.schedule_at(1_s, [&order](simulator&) { order.push_back(2); });
  sim.schedule_at(1_s, [&order](simulator&) { order.push_back(3); });
  sim.run();
  CHECK(order == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("simulator run_until stops at the boundary and sets now") {
  simulator sim;
  std::vector<sim_time> fired;
  for (auto t : {1_s, 2_s, 3_s, 5_s}) {
    sim.schedule_at(t, [&fired](simulator& s) { fired.push_back(s.now()); });
  }
  sim.run_until(3_s);  // inclusive
  CHECK(fired == std::vector<sim_time>{1_s, 2_s, 3_s});
  CHECK(sim.now() == 3_s);
  sim.run_until(4_s);
  CHECK(sim.now() == 4_s);
  // After looking ahead to 5 s and stopping at 4 s, 4.5 s is still schedulable and runs first.
  sim.schedule_at(4500_ms, [&fired](simulator& s) { fired.push_back(s.now()); });
  sim.run_for(10_s);
  CHECK(fired == std::vector<sim_time>{1_s, 2_s, 3_s, 4500_ms, 5_s});
  CHECK(sim.now() == 14_s);
}

TEST_CASE("simulator stop returns after the current event") {
  simulator sim;
  int runs = 0;
  sim.schedule_at(1_s, [&runs](simulator& s) {
    ++runs;
    s.stop();
  });
  sim.schedule_at(2_s, [&runs](simulator&) { ++runs; });
  sim.run();
  CHECK(runs == 1);
  CHECK(sim.now() == 1_s);
  CHECK(sim.pending_events() == 1);
  sim.run();  // resumes
  CHECK(runs == 2);
}

TEST_CASE("simulator cancel through a handle, including an inline callback") {
  simulator sim;
  int runs = 0;
  auto h = sim.schedule_at(1_s, [&runs](simulator&) { ++runs; });
  auto h2 = sim.schedule_at(2_s, [&runs](simulator&) { runs += 10; });
  CHECK(sim.cancel(h));
  CHECK_FALSE(sim.cancel(h));
  sim.run();
  CHECK(runs == 10);
  CHECK_FALSE(sim.cancel(h2));  // ran already
}

TEST_CASE("simulator destroys pending callables and releases cancelled ones") {
  // A shared_ptr captured by the callable counts the live copies.
  auto token = std::make_shared<int>(0);
  {
    simulator sim;
    auto h = sim.schedule_at(1_s, [token](simulator&) {});
    sim.schedule_at(2_s, [token](simulator&) {});
    CHECK(token.use_count() == 3);
    sim.cancel(h);
    CHECK(token.use_count() == 2);
  }
  CHECK(token.use_count() == 1);
}

TEST_CASE("simulator rejects precondition violations with a message naming the values") {
  simulator sim;
  sim.schedule_at(5_s, [](simulator&) {});
  sim.run();
  CHECK_THROWS_WITH_AS(sim.schedule_at(4_s, [](simulator&) {}),
                       "schedule_at(4s): the time is before now (5s)", kernel::schedule_error);
  CHECK_THROWS_WITH_AS(sim.schedule_in(-(1_ms), [](simulator&) {}),
                       "schedule_in(-0.001s): the delay is negative", kernel::schedule_error);
  CHECK_THROWS_WITH_AS(sim.schedule_at(6_s, 9, 0, 0),
                       "schedule_at(6s, kind 9): the kind is not registered", kernel::schedule_error);
  CHECK_THROWS_AS(sim.schedule_at(6_s, 0, 0, 0), kernel::schedule_error);  // kind 0 is internal
  CHECK_THROWS_WITH_AS(sim.run_until(1_s), "run_until(1s): the time is before now (5s)",
                       kernel::schedule_error);
  CHECK_THROWS_AS(sim.register_kind("x", nullptr, nullptr), kernel::schedule_error);
}

TEST_CASE("simulator runs are reproducible: same seed, same trace") {
  // A small random workload with ties, cancels and self-scheduling; the trace of
  // (time, seq, arg) must be identical run to run and change with the seed.
  auto trace = [](std::uint64_t seed) {
    simulator sim;
    kernel::rng r(seed);
    std::string out;
    struct ctx_t {
      kernel::rng* r;
      std::string* out;
      std::vector<kernel::event_handle> handles;
      kernel::event_kind kind = 0;
    } ctx{&r, &out, {}, 0};
    ctx.kind = sim.register_kind(
        "step",
        [](void* p, simulator& s, const kernel::event& ev) {
          auto& c = *static_cast<ctx_t*>(p);
          *c.out += fmt::format("{}/{}/{};", s.now(), ev.seq, ev.arg);
          if (s.events_run() > 3000) return;
          for (int i = 0; i < 2; ++i) {
            const auto d = sim_time::from_us(static_cast<std::int64_t>(c.r->uniform_below(5)) * 100);
            c.handles.push_back(s.schedule_in(d, c.kind, 0, ev.arg * 2 + static_cast<unsigned>(i)));
          }
          if (c.r->bernoulli(0.3)) s.cancel(c.handles[c.r->uniform_below(c.handles.size())]);
        },
        &ctx);
    sim.schedule_at(0_s, ctx.kind, 0, 1);
    sim.run();
    return out;
  };
  const auto a = trace(7);
  CHECK(a.size() > 10000);
  CHECK(trace(7) == a);
  CHECK(trace(8) != a);
}

TEST_CASE("simulator allocates nothing per event once warmed up") {
  // A hold model: 1000 pending events of a registered kind plus an inline callback every
  // 100 events; after a warm-up, 200,000 more events must not call operator new.
  simulator sim;
  struct hold {
    kernel::rng r{3};
    kernel::event_kind kind = 0;
    std::uint64_t fired = 0;
    static void fire(void* p, simulator& s, const kernel::event&) {
      auto& h = *static_cast<hold*>(p);
      ++h.fired;
      s.schedule_in(h.r.exponential(1_ms), h.kind, 0);
      if (h.fired % 100 == 0) {
        auto cancelled = s.schedule_in(2_ms, [](simulator&) {});
        s.schedule_in(h.r.exponential(1_ms), [&h](simulator&) { ++h.fired; });
        s.cancel(cancelled);
      }
    }
  } h;
  h.kind = sim.register_kind("hold", &hold::fire, &h);
  for (int i = 0; i < 1000; ++i) sim.schedule_in(h.r.exponential(1_ms), h.kind, 0);
  sim.run_for(2_s);  // warm-up: buckets, slots and cells reach their working size
  const auto before = vnetsim::test::allocation_count();
  const auto fired_before = h.fired;
  sim.run_for(200_ms);
  const auto allocated = vnetsim::test::allocation_count() - before;
  CHECK(h.fired - fired_before > 150'000);
  CHECK(allocated == 0);
}

TEST_CASE("simulator re-arming one event at a time keeps order around run_until stops") {
  // A link-like device re-arms its one pending event 300 ns ahead while a far timer is
  // pending: the queue's run takes each push directly. run_until stops between two
  // re-arms, and an event scheduled at the stop time runs before the next re-arm.
  simulator sim;
  recorder rec;
  struct rearm {
    recorder* rec;
    kernel::event_kind kind = 0;
    int left = 5;
    static void fire(void* p, simulator& s, const kernel::event& ev) {
      auto& self = *static_cast<rearm*>(p);
      recorder::on_event(self.rec, s, ev);
      if (--self.left > 0) s.schedule_in(300_ns, self.kind, ev.target, ev.arg + 1);
    }
  } dev{&rec};
  dev.kind = sim.register_kind("rearm", &rearm::fire, &dev);
  const auto other = sim.register_kind("rec", &recorder::on_event, &rec);
  sim.schedule_at(1_ms, other, 9, 0);
  sim.schedule_at(100_ns, dev.kind, 1, 0);
  sim.run_until(500_ns);  // runs 100 and 400; 700 is pending
  CHECK(sim.now() == 500_ns);
  sim.schedule_at(500_ns, other, 2, 0);
  sim.schedule_at(700_ns, other, 3, 0);  // a tie with the pending re-arm: after it
  sim.run();
  CHECK(rec.log == std::vector<std::string>{"0.0000001s t1 a0", "0.0000004s t1 a1", "0.0000005s t2 a0",
                                            "0.0000007s t1 a2", "0.0000007s t3 a0", "0.000001s t1 a3",
                                            "0.0000013s t1 a4", "0.001s t9 a0"});
}
