#pragma once
/// The service consoles of a scenario's hosts, bound into a scenario::world (owned by it;
/// the world calls these hooks from add_host, add_link, schedule, expect and evaluate).
///
/// Per host with a `console` section (scenario/console_model.hpp):
/// - a host::console with its console NICs (nic_set names "<host>/<nic>", link ends
///   "<host>:<nic>"), its shared vmnics and its files, and a traffic::console_stack that
///   gives each addressed eth device an endpoint ("<host>/console/ethN");
/// - boot at `boot` (an event; never when `boot` is false): lo, drivers, ifcfg ONBOOT,
///   rc.local, as host::console::boot does;
/// - `console` timeline actions run one command line at their time; what the command prints
///   and its exit status go into the timeline and the report (a mistyped command is the
///   console's error message, never an exception);
/// - the Management Interface watch: the console's state is re-evaluated after every
///   command, on every link change of a console NIC (its owner event) and every `watch`
///   (default 10 ms; a vmnic's link change, which the host owns, is seen at most that late),
///   and by a `management` expectation's check at its `at` (which reads the state at t
///   exactly, so a change not yet seen by the watch is logged then);
/// - console commands go to the trace (world::set_trace) as "<t> timeline console <line>";
/// - console pings start at their time from the eth device's current endpoint (series name
///   "<host>/console/<ping>" in the endpoint_set); an eth device with no address then sends
///   nothing and every probe counts as lost.
///
/// Expectations: `management` (state at a time; never lost after a time; lost in a window,
/// optionally for a given reason) and `console_ping_loss`.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/host/console.hpp"
#include "vnetsim/scenario/model.hpp"
#include "vnetsim/traffic/console_stack.hpp"

namespace vnetsim::scenario {

class world;
struct timeline_entry;
struct expectation_result;

class console_binding {
 public:
  explicit console_binding(world& w);
  ~console_binding();
  console_binding(const console_binding&) = delete;
  console_binding& operator=(const console_binding&) = delete;

  /// Binds host `h`'s console (h.console must be set). Throws scenario_error naming
  /// h.pointer on a configuration the host layer refuses.
  void add(host::host_id id, const host_spec& h);
  /// The console NIC of link end port `port` (>= console_nic_port_base) of host `id`.
  std::optional<dev::nic_id> console_nic(host::host_id id, std::uint32_t port) const;
  /// The link endpoint of a console NIC (arrivals go to the console's stack).
  dev::endpoint nic_endpoint(host::host_id id, dev::nic_id nic) const;

  /// Checks a `console` action (build time); run_action runs it at its time.
  void check_action(const action_spec& a) const;
  void run_action(const action_spec& a);
  /// Checks a management / console_ping_loss expectation (build time).
  void check_expectation(const expectation_spec& e) const;
  /// The Management Interface's state of host `target` now ("running", "eth0-down", ...).
  std::string management_now(std::string_view target);
  /// Evaluates an expectation at the end; `at_measured` is what check_at measured (if done).
  expectation_result evaluate(const expectation_spec& e, const std::optional<std::string>& at_measured) const;

  /// Boots, commands, command output and Management Interface changes, in time order.
  std::vector<timeline_entry> timeline() const;

  // ---- read side (the report) ----
  struct console_ping_run {
    std::string name;       ///< as in the scenario
    std::string series;     ///< endpoint_set ping name, "" when it could not start
    std::string note;       ///< why it did not start
    std::uint32_t count = 0;
    std::optional<traffic::ping_id> ping;
  };
  std::size_t size() const noexcept { return consoles_.size(); }
  /// The console of host `id`, nullptr when it has none.
  const host::console* console_of(host::host_id id) const noexcept;
  const traffic::console_stack* stack_of(host::host_id id) const noexcept;
  const std::vector<console_ping_run>& pings_of(host::host_id id) const;
  /// Probes of a console ping without a reply (all of them if it never started).
  std::uint64_t ping_lost(const console_ping_run& r) const;

 private:
  struct bound {
    host::host_id host = 0;
    std::string name;
    console_spec spec;
    std::vector<dev::nic_id> nics;  // console_spec::nics order
    std::unique_ptr<host::console> con;
    std::unique_ptr<traffic::console_stack> stack;
    std::vector<console_ping_run> pings;
    kernel::event_handle watch{};
  };
  struct log_entry {
    sim_time at;
    std::string what;
    std::string detail;
  };

  static void on_watch(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  bound* find(std::string_view host);
  const bound* find(std::string_view host) const;
  void boot(std::size_t index);
  void start_ping(std::size_t index, std::size_t ping);
  void poll(bound& b);
  void run_command(bound& b, std::string_view line, std::string_view why);

  world* w_;
  kernel::event_kind watch_kind_ = 0;
  std::vector<std::unique_ptr<bound>> consoles_;
  std::vector<std::int32_t> by_host_;  // host id -> index in consoles_ (-1: none)
  std::vector<log_entry> log_;
  std::vector<std::size_t> log_host_;  // log_ index -> consoles_ index
};

}  // namespace vnetsim::scenario
