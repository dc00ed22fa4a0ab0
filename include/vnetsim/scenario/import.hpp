#pragma once
/// `simulate import`: a real ESX Server 2.x host's configuration files (host/esx_files.hpp:
/// /etc/vmware/hwconfig, netmap.conf, devnames.conf, and optionally the console's
/// /etc/modules.conf and /etc/rc.d/rc.local) turned into a scenario skeleton that the
/// loader accepts and the JSON Schema validates, for a user to add faults and expectations to.
///
/// The skeleton: one host with
/// - vmnics 0..N-1 from devnames.conf (`nic vmnicN` lines; the numbers must be contiguous).
///   The files give no MAC address: vmnicN gets the locally administered 02:00:00:00:00:NN
///   (IEEE Std 802-2014 8.4, U/L bit set) and console NIC k 02:00:00:00:01:kk; speed 1 Gbps
///   (not in the files either);
/// - bonds from `nicteam.vmnicK.team` with their `nicteam.bondN.*` options;
/// - one virtual switch per netmap.conf network, labelled with its name (characters a
///   scenario name cannot hold, ' ', ':' and '/', become '_'), bound to its device; no port
///   groups (the files do not define any);
/// - a `console` section when hwconfig allocates NICs to the console (`owner = "COS"`,
///   named cos0, cos1, ... in PCI order, driver from modules.conf's `alias ethK <driver>`
///   for the K-th one, else the placeholder "e100"), shares the vmnics with owner SHARED,
///   and carries modules.conf, rc.local and the ifcfg-ethN files as given;
/// - an external switch "sw1" with one port per physical NIC, each NIC linked to the next port.
/// No timeline and no expectations: that is the user's part.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vnetsim/host/esx_files.hpp"

namespace vnetsim::scenario {

/// A console interface file: its name as given (for messages) and its text. The base
/// name must be ifcfg-ethN (it goes to /etc/sysconfig/network-scripts/).
struct ifcfg_file {
  std::string name;
  std::string text;
};

/// The skeleton as JSON text (two-space indent, keys in a fixed order, final newline).
/// Throws host::esx_file_error ("<file>:<line>: <rule>") on malformed or inconsistent files,
/// and on a host name a scenario cannot use.
std::string import_scenario(const host::esx_files& files, std::string_view host_name = "esx1",
                            const std::vector<ifcfg_file>& ifcfgs = {});

}  // namespace vnetsim::scenario
