#pragma once
/// The service console of an ESX Server 2.x host [SEED][AG2]: the management operating
/// system's network devices (eth0, eth1, ... and lo), device allocation, the vmxnet_console
/// module, the commands and files an administrator uses (ifconfig, ifup/ifdown,
/// /etc/modules.conf, /etc/rc.d/rc.local, ifcfg-ethN, findnic), a simulated
/// /var/log/messages and the VMware Management Interface as a service whose state follows
/// the console's network configuration.
///
/// Device allocation [SEED][AG2]: each physical NIC is assigned to the console (it has no
/// vmnic name; the console's Linux driver drives it: add_console_nic), to the VMkernel
/// (a vmnicN of host_set), or shared (a VMkernel vmnic the console reaches through
/// vmxnet_console; ESX 2.x shares a NIC exactly this way [SEED]). allocation() lists them.
///
/// eth devices: a console NIC becomes ethN when its driver is loaded (at boot, through the
/// `alias ethN <driver>` lines of /etc/modules.conf; without a modules.conf every console
/// NIC gets the next free ethN in order of addition). vmxnet_console creates one ethN per
/// devName entry, in list order, numbered after the existing eth devices [SEED]; each is a
/// vNIC (type vmxnet) of a pseudo-VM named "console" on the vswitch whose device is the
/// name (vmnicN, bondN, vmnet_N). A vmnic bound to no vswitch and in no bond gets a
/// vswitch labelled with its name (in ESX 2.x an unbonded vmnic is a network of its own).
/// The console's IP stack is not in this layer (host is above traffic): a console_net
/// attached with set_net() is told of each created device and each configuration change
/// (set-up/command time only, never per frame; traffic/console_stack.hpp implements it).
///
/// Commands (run(), one shell line, no pipes): insmod, rmmod vmxnet_console, ifconfig, ifup,
/// ifdown, findnic, grep PATTERN /var/log/messages; touch, echo, true and `:` (found in
/// rc.local files, no effect on the network) succeed and do nothing else.
/// rmmod vmxnet_console removes every eth device the module created (their vNICs stay
/// connected to their virtual switches but deliver nothing: the stack checks the vNIC);
/// refused while one of them is up ("Device or resource busy", as Linux refuses to unload a
/// module in use). A command never throws for what a user typed: it returns
/// the exit status and the output a host would print (usage and runtime errors included).
/// A host limit hit while creating a device (a full virtual switch) is an exit status too;
/// the devices created before it by the same insmod stay (ESX's behaviour here is unknown).
/// boot() validates every file first and throws console_error naming file:line on a
/// malformed line, so a scenario fails at load time, not half-way.
///
/// Boot order (Red Hat 7.2-style init, the console's base [AG2]): lo up; the console NICs
/// of `alias ethN <driver>` lines; then `ifup ethN` for each ifcfg-ethN with ONBOOT=yes in
/// ascending N (an absent ethN is looked up in modules.conf: `alias ethN vmxnet_console`
/// loads the module with the `options vmxnet_console ...` line); then each line of
/// /etc/rc.d/rc.local. Every step is logged to /var/log/messages.
///
/// Management Interface: running only while lo is up [SEED] and eth0 exists, is up with an
/// address and has carrier (console NIC link up; a vmxnet device: its vmnic link up, or any
/// bond member link up; a vmnet_N device never reaches outside the host). Evaluated after
/// every command and boot, and on poll() (before boot: not-booted, and poll() keeps it so);
/// each change is logged "A=>B" with the time and kept in management_changes().
///
/// Errors: console_error for API misuse and malformed files (names the console, the file
/// and line, the rule).

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/dev/nic.hpp"
#include "vnetsim/host/host.hpp"
#include "vnetsim/kernel/sim_time.hpp"
#include "vnetsim/wire/ipv4.hpp"

namespace vnetsim::host {

class console_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Well-known console paths [SEED].
inline constexpr std::string_view modules_conf_path = "/etc/modules.conf";
inline constexpr std::string_view rc_local_path = "/etc/rc.d/rc.local";
inline constexpr std::string_view ifcfg_dir = "/etc/sysconfig/network-scripts/";
inline constexpr std::string_view messages_path = "/var/log/messages";
/// The module that shares VMkernel devices with the console [SEED].
inline constexpr std::string_view vmxnet_console_module = "vmxnet_console";
/// findnic defaults. The guide gives -f (flood) and -i <seconds> [AG2]; the probe count
/// (-c, default 5), the 1 s default interval and the flood interval (10 ms, ping(8) -f's
/// rate when replies are slow) are vnetsim's: UNVERIFIED.
inline constexpr unsigned findnic_default_count = 5;
inline constexpr sim_time findnic_default_interval = sim_time::from_s(1);
inline constexpr sim_time findnic_flood_interval = sim_time::from_ms(10);

/// Who drives a physical NIC (device allocation [SEED][AG2]).
enum class nic_owner : std::uint8_t { console, vmkernel, shared };
std::string_view to_string(nic_owner o) noexcept;

/// The Management Interface's state (a service of the console [SEED]).
enum class mui_state : std::uint8_t {
  not_booted,       ///< before boot(): nothing runs yet
  running,
  loopback_down,    ///< lo down: "does not function properly" until `ifconfig lo up` [SEED]
  no_eth0,          ///< no eth0 device (alias missing, module not loaded, ...)
  eth0_down,        ///< eth0 exists but is down or has no address
  eth0_no_carrier,  ///< eth0 up, but its NIC/uplinks have no link (or it is a vmnet_N)
};
std::string_view to_string(mui_state s) noexcept;

/// One console eth device.
struct eth_device {
  enum class backing : std::uint8_t { console_nic, vmxnet };
  unsigned number = 0;                ///< N of ethN
  backing kind = backing::console_nic;
  std::string target;                 ///< driver name (console NIC) or vmnicN / bondN / vmnet_N
  std::optional<dev::nic_id> nic;     ///< console NIC
  std::optional<vnic_id> vnic;        ///< vmxnet device
  std::optional<vswitch_id> vswitch;  ///< vmxnet device
  bool up = false;
  std::optional<wire::ipv4_address> ip;
  unsigned prefix_len = 0;
  /// Default gateway (GATEWAY= of its ifcfg-ethN, set by ifup; ifconfig leaves it).
  std::optional<wire::ipv4_address> gateway;
  std::string name() const { return "eth" + std::to_string(number); }
};

/// A findnic request (validated); the console_net runs it.
struct findnic_request {
  unsigned vmnic = 0;
  wire::ipv4_address local;
  wire::ipv4_address remote;
  unsigned count = findnic_default_count;
  sim_time interval = findnic_default_interval;
  bool flood = false;
};

/// One change of the Management Interface's state.
struct mui_change {
  sim_time at;
  mui_state from = mui_state::not_booted;
  mui_state to = mui_state::not_booted;
};

/// One line of /var/log/messages.
struct log_line {
  sim_time at;
  std::string text;  ///< "<host> <source>: <message>"
};

class console;

/// The console's IP stack, attached by a layer below (see the file comment). Called at
/// set-up and command time only.
class console_net {
 public:
  virtual ~console_net() = default;
  /// How frames delivered to the vmxnet device that becomes eth `number` are announced.
  virtual delivery_config delivery_for(unsigned number) = 0;
  /// eth `number` was created, or its up/address state changed, at `now`.
  virtual void eth_changed(const console& c, unsigned number, sim_time now) = 0;
  /// Runs findnic; returns the first output line (e.g. what it starts).
  virtual std::string findnic(const console& c, const findnic_request& r, sim_time now) = 0;
};

/// A command's result.
struct command_result {
  int status = 0;
  std::string output;
};

class console {
 public:
  /// The console of host `h`. Keeps references to hs and nics.
  console(host_set& hs, dev::nic_set& nics, host_id h);
  console(const console&) = delete;
  console& operator=(const console&) = delete;

  // ---- set-up ----

  /// A physical NIC allocated to the console, driven by Linux driver `driver` (e.g. "e100",
  /// "e1000", "bcm5700"). The NIC must belong to the console's nic_set and must not be a
  /// vmnic of the host.
  void add_console_nic(dev::nic_id nic, std::string_view driver);
  /// Marks vmnicN as shared (VMkernel NIC the console is meant to reach [SEED]).
  void set_shared(unsigned vmnic);
  void set_net(console_net* net) noexcept { net_ = net; }

  /// Files (path -> content). set_file replaces; the files are read when a command or
  /// boot needs them.
  void set_file(std::string_view path, std::string content);
  std::optional<std::string_view> file(std::string_view path) const;

  /// Validates the files, then boots (see the file comment). Throws console_error
  /// (file:line) before changing anything. Booting twice is an error.
  void boot(sim_time now);
  /// Runs one command line at `now`.
  command_result run(std::string_view line, sim_time now);
  /// Re-evaluates the Management Interface (after link changes) at `now`.
  mui_state poll(sim_time now);

  // ---- inspection ----

  host_id host() const noexcept { return host_; }
  std::string_view host_name() const;
  const std::vector<eth_device>& eth_devices() const noexcept { return eth_; }
  const eth_device* find_eth(unsigned number) const noexcept;
  bool loopback_up() const noexcept { return lo_up_; }
  bool module_loaded() const noexcept { return module_loaded_; }
  mui_state management() const noexcept { return mui_; }
  /// Every change of the Management Interface's state, in time order.
  const std::vector<mui_change>& management_changes() const noexcept { return mui_changes_; }
  /// Physical NICs and who drives them: ("vmnic0", vmkernel), ("<nic name>", console), ...
  std::vector<std::pair<std::string, nic_owner>> allocation() const;
  const std::vector<log_line>& messages() const noexcept { return log_; }
  /// /var/log/messages as text: "<seconds.nanoseconds> <line>\n" per line, in order.
  std::string messages_text() const;
  /// Every command run, with its result (for the report).
  struct history_entry {
    sim_time at;
    std::string line;
    command_result result;
  };
  const std::vector<history_entry>& history() const noexcept { return history_; }
  host_set& hosts() const noexcept { return *hs_; }
  dev::nic_set& nics() const noexcept { return *nics_; }
  /// Whether eth `number` currently has carrier (see the file comment).
  bool carrier(const eth_device& e) const;

 private:
  struct console_nic {
    dev::nic_id nic = 0;
    std::string driver;
    std::optional<unsigned> eth;
  };

  void log(sim_time now, std::string_view source, std::string_view text);
  eth_device* eth_at(unsigned number) noexcept;
  void changed(unsigned number, sim_time now);
  void update_mui(sim_time now);
  command_result dispatch(const std::string& cmd, const std::vector<std::string>& args, sim_time now);
  command_result insmod(const std::vector<std::string>& args, sim_time now);
  command_result rmmod(const std::vector<std::string>& args, sim_time now);
  command_result ifconfig(const std::vector<std::string>& args, sim_time now);
  command_result ifup(const std::vector<std::string>& args, sim_time now);
  command_result ifdown(const std::vector<std::string>& args, sim_time now);
  command_result findnic(const std::vector<std::string>& args, sim_time now);
  command_result grep(const std::vector<std::string>& args) const;
  /// `modprobe ethN` as ifup does: the modules.conf alias. nullopt = loaded; else the error.
  std::optional<std::string> load_alias(unsigned number, sim_time now);
  /// Loads vmxnet_console with devName/tagName values. Status + output.
  command_result load_vmxnet(std::string_view dev_names, std::optional<std::string> tag, sim_time now);
  std::optional<unsigned> bind_console_nic(unsigned number, std::string_view driver, sim_time now);
  std::string show(const eth_device& e) const;

  host_set* hs_;
  dev::nic_set* nics_;
  host_id host_;
  console_net* net_ = nullptr;
  std::vector<console_nic> console_nics_;
  std::vector<unsigned> shared_;
  std::map<std::string, std::string, std::less<>> files_;
  std::vector<eth_device> eth_;
  std::optional<vm_id> console_vm_;
  bool lo_up_ = false;
  bool booted_ = false;
  bool module_loaded_ = false;
  mui_state mui_ = mui_state::not_booted;
  std::vector<mui_change> mui_changes_;
  std::vector<log_line> log_;
  std::vector<history_entry> history_;
};

/// The seed's troubleshooting case "the Ethernet device cannot be detected" [SEED]: a
/// virtual Ethernet device (a VM's, or a vmxnet_console eth device) configured with
/// `device` (vmnicN, bondN, vmnet_N) cannot be brought up when the vmnic does not exist,
/// is already assigned to a bond, or the bond/vmnet has no virtual switch. Returns the
/// message ("Ethernet device cannot be detected: vmnic1 is already assigned to bond0 ...")
/// or nullopt when the device is usable.
std::optional<std::string> ethernet_device_problem(const host_set& hs, host_id h, std::string_view device);

// ---- file formats (exposed for the importers and tests) ----

/// /etc/modules.conf: `alias <name> <module>` and `options <module> <args>` lines;
/// `#` comments and blank lines ignored; other directives (`post-install`, `above`, ...) are
/// kept but ignored. Throws console_error "<file>:<line>: ..." on a malformed alias/options line.
struct modules_conf {
  std::map<std::string, std::string, std::less<>> aliases;   ///< "eth0" -> "vmxnet_console"
  std::map<std::string, std::string, std::less<>> options;   ///< module -> argument text
};
modules_conf parse_modules_conf(std::string_view text, std::string_view file = modules_conf_path);

/// /etc/sysconfig/network-scripts/ifcfg-ethN: KEY=VALUE lines (values optionally quoted),
/// `#` comments. The keys used: DEVICE, BOOTPROTO (static|none|dhcp), IPADDR, NETMASK,
/// ONBOOT (yes|no), GATEWAY (a unicast address); others (BROADCAST, NETWORK, ...) are kept. Throws console_error
/// "<file>:<line>: ..." on a line that is not KEY=VALUE, a bad address or netmask, a
/// BOOTPROTO or ONBOOT value outside the lists, or a static config without IPADDR.
struct ifcfg {
  std::string device;
  std::string bootproto = "none";
  std::optional<wire::ipv4_address> ipaddr;
  std::optional<unsigned> prefix_len;  ///< from NETMASK
  std::optional<wire::ipv4_address> gateway;
  bool onboot = false;
  std::map<std::string, std::string, std::less<>> keys;
};
ifcfg parse_ifcfg(std::string_view text, std::string_view file);

/// Splits a shell line into words: whitespace separates, "..." and '...' quote, `#` starts
/// a comment outside quotes. Throws console_error on an unterminated quote.
std::vector<std::string> split_shell_words(std::string_view line);
/// vmxnet_console's devName list: entries separated by ';' (the seed's example) or ','
/// (its text says "comma-separated") [SEED]: both accepted, mixed too. Empty entries are
/// an error (nullopt).
std::optional<std::vector<std::string>> split_dev_names(std::string_view list);
/// A netmask as a prefix length (contiguous ones only), nullopt otherwise.
std::optional<unsigned> netmask_prefix(wire::ipv4_address mask) noexcept;
/// The classful default prefix Linux gives an address set without a netmask (class A /8,
/// B /16, C /24; Linux net/ipv4/devinet.c inet_abc_len).
unsigned classful_prefix(wire::ipv4_address ip) noexcept;

}  // namespace vnetsim::host
