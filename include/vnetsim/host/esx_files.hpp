#pragma once
/// Importers for a real ESX Server 2.x host's configuration files [AG2][SEED]:
/// /etc/vmware/hwconfig, /etc/vmware/netmap.conf and /etc/vmware/devnames.conf, into a
/// plain host description a scenario (or a test) builds a host_set and a console from.
///
/// Formats:
/// - hwconfig: `key = "value"` lines [AG2][SEED]; `#` comments and blank lines ignored;
///   keys other than the ones below are kept in `other` (an ESX hwconfig holds many).
///   Networking keys read:
///   - `nicteam.bondN.load_balance_mode` (out-mac | out-ip), `nicteam.bondN.home_link`
///     (vmnicK), `nicteam.bondN.switch_failover_threshold` (0 or >= 2) [AG2][SEED];
///   - `nicteam.vmnicK.team = "bondN"`: bond membership. UNVERIFIED: the form commonly
///     reported for 2.x hwconfig files; no source in reference/ gives it.
///   - `device.B.S.F.owner` (COS | VMK | SHARED), `device.B.S.F.name`, `device.B.S.F.class`
///     (the PCI class, "0200" = Ethernet controller, PCI Local Bus spec class codes):
///     device allocation. The key spelling and the owner values are UNVERIFIED (commonly
///     reported 2.x form); a device without `class` 0200 is not a NIC and is skipped.
/// - netmap.conf: `networkN.name = "Label"` and `networkN.device = "bondK" | "vmnicK" |
///   "vmnet_K"`; the exact syntax is UNVERIFIED in [AG2]: any other line is an error.
/// - devnames.conf: `BBB:SS.F nic vmnicN` [AG2] (bus zero-padded to 3 digits, slot to 2);
///   lines of other classes (e.g. `vmhba0`) are kept in `other_devices`.
/// Every malformed line throws esx_file_error "<file>:<line>: <rule>"; cross-file errors
/// (a network naming a bond nobody defines) name the line that refers.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/host/console.hpp"

namespace vnetsim::host {

class esx_file_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct pci_address {
  unsigned bus = 0, slot = 0, function = 0;
  friend bool operator==(const pci_address&, const pci_address&) = default;
  friend auto operator<=>(const pci_address&, const pci_address&) = default;
  /// "002:04.0" (devnames.conf form [AG2]).
  std::string to_string() const;
};

/// A key = "value" line with where it came from.
struct located_value {
  std::string value;
  unsigned line = 0;
};

struct hwconfig_file {
  std::map<std::string, located_value, std::less<>> keys;  ///< every key, in key order
};
/// Parses key = "value" lines (value quoted or bare). Duplicate keys are an error.
hwconfig_file parse_hwconfig(std::string_view text, std::string_view file = "/etc/vmware/hwconfig");

struct devnames_entry {
  pci_address pci;
  std::string cls;   ///< "nic", "scsi", ...
  std::string name;  ///< "vmnic0"
  unsigned line = 0;
};
std::vector<devnames_entry> parse_devnames(std::string_view text,
                                           std::string_view file = "/etc/vmware/devnames.conf");

struct netmap_entry {
  unsigned network = 0;  ///< N of networkN
  std::string label;
  std::string device;    ///< bondK, vmnicK or vmnet_K
  unsigned line = 0;
};
std::vector<netmap_entry> parse_netmap(std::string_view text, std::string_view file = "/etc/vmware/netmap.conf");

/// The imported host.
struct esx_host_description {
  struct nic {
    pci_address pci;
    std::string name;     ///< vmnicN (VMkernel/shared), or "eth@BBB:SS.F" for a console NIC
    std::string model;    ///< device.B.S.F.name, if given
    nic_owner owner = nic_owner::vmkernel;
  };
  struct bond {
    unsigned number = 0;
    std::vector<unsigned> vmnics;                 ///< in vmnic order
    std::map<std::string, std::string> options;   ///< nicteam.bondN.<key> -> value
  };
  struct network {
    std::string label;
    std::string device;
  };
  std::vector<nic> nics;          ///< PCI order
  std::vector<bond> bonds;        ///< bond number order
  std::vector<network> networks;  ///< networkN order
  std::vector<devnames_entry> other_devices;
  std::map<std::string, std::string> other_keys;  ///< hwconfig keys not used
  /// Console files when given (validated).
  std::optional<std::string> modules_conf;
  std::optional<std::string> rc_local;
};

struct esx_files {
  std::string hwconfig, netmap, devnames;
  std::optional<std::string> modules_conf, rc_local;
  /// File names for messages.
  std::string hwconfig_name = "/etc/vmware/hwconfig";
  std::string netmap_name = "/etc/vmware/netmap.conf";
  std::string devnames_name = "/etc/vmware/devnames.conf";
  std::string modules_conf_name = std::string(modules_conf_path);
  std::string rc_local_name = std::string(rc_local_path);
};

/// Parses and cross-checks the files; throws esx_file_error (file:line) on any problem.
esx_host_description import_esx_files(const esx_files& files);

}  // namespace vnetsim::host
