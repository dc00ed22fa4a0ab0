// Uses the installed headers and library the way an outside project does.
#include <cstdio>

#include <vnetsim/kernel/simulator.hpp>
#include <vnetsim/wire/ethernet.hpp>

int main() {
  using namespace vnetsim::literals;
  vnetsim::kernel::simulator sim;
  int fired = 0;
  sim.schedule_in(2_s, [&fired](vnetsim::kernel::simulator&) { ++fired; });
  sim.run();
  const auto m = vnetsim::wire::mac_address::parse("00:50:56:00:00:01");
  if (fired != 1 || sim.now() != 2_s || !m || m->oui() != 0x005056) {
    std::puts("consumer: unexpected result");
    return 1;
  }
  std::puts("consumer: vnetsim found, linked and run");
  return 0;
}
