#pragma once
// Captured frames that more than one wire test (and bench/wire_control_bench.cpp) reads:
// one copy of each, with where it comes from and what tshark says of it.
#include "vnetsim/wire/bytes.hpp"

namespace vnetsim::wire::test {

// Gratuitous ARP from 00:50:56:01:02:03 in VLAN 100 with PCP 5 (TCI 0xa064), padded to the
// 64-byte minimum. tshark decodes it as "802.1Q Virtual LAN, PRI: 5, DEI: 0, ID: 100",
// Type ARP.
inline constexpr auto tagged_garp = make_bytes(
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // dst broadcast
    0x00, 0x50, 0x56, 0x01, 0x02, 0x03,  // src
    0x81, 0x00, 0xa0, 0x64,              // TPID 0x8100, PCP 5, DEI 0, VID 100
    0x08, 0x06,                          // ARP
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,  // Ethernet/IPv4, request
    0x00, 0x50, 0x56, 0x01, 0x02, 0x03, 0x0a, 0x00, 0x00, 0x05,  // sha, spa 10.0.0.5
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x05,  // tha, tpa 10.0.0.5
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);                   // padding
static_assert(tagged_garp.size() == 60);

// Cisco 802.1D Configuration BPDU from switch 00:1c:0e:87:85:00 (port MAC ..:85:04), as in
// PcapPlusPlus Tests/Packet++Test/PacketExamples/StpConf.dat (whose test documents the
// tshark decoding); padded to 60 bytes as on the wire.
// tshark: "IEEE 802.3 Ethernet, Length: 38", "DSAP: Spanning Tree BPDU (0x42)",
// "Control field: U, func=UI (0x03)"; Root Identifier 32768 / 100 / 00:1c:0e:87:78:00,
// Root Path Cost 4, Bridge Identifier 32768 / 100 / 00:1c:0e:87:85:00, Port identifier
// 0x8004, Message Age 1, Max Age 20, Hello Time 2, Forward Delay 15.
inline constexpr auto config_frame = make_bytes(
    0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x0e, 0x87, 0x85, 0x04,  // dst, src
    0x00, 0x26,                                                              // length 38
    0x42, 0x42, 0x03,                                                        // LLC
    0x00, 0x00,                                      // protocol id
    0x00,                                            // version 0 (STP)
    0x00,                                            // type: Configuration
    0x00,                                            // flags
    0x80, 0x64, 0x00, 0x1c, 0x0e, 0x87, 0x78, 0x00,  // root id
    0x00, 0x00, 0x00, 0x04,                          // root path cost
    0x80, 0x64, 0x00, 0x1c, 0x0e, 0x87, 0x85, 0x00,  // bridge id
    0x80, 0x04,                                      // port id
    0x01, 0x00,                                      // message age 1 s
    0x14, 0x00,                                      // max age 20 s
    0x02, 0x00,                                      // hello 2 s
    0x0f, 0x00,                                      // forward delay 15 s
    0, 0, 0, 0, 0, 0, 0, 0);                         // padding
static_assert(config_frame.size() == 60);

// RST BPDU as in PcapPlusPlus PacketExamples/StpRapid.dat (flags 0x3d, root 24576/1/
// 00:0d:65:ad:f6:00, cost 10, bridge 32768/1/00:0b:fd:86:0f:00, port 0x8001, ages 1/20/2/15).
// tshark: "BPDU flags: 0x3d, Forwarding, Learning, Port Role: Designated, Topology Change".
inline constexpr auto rst_bpdu = make_bytes(
    0x00, 0x00, 0x02, 0x02, 0x3d,
    0x60, 0x01, 0x00, 0x0d, 0x65, 0xad, 0xf6, 0x00,
    0x00, 0x00, 0x00, 0x0a,
    0x80, 0x01, 0x00, 0x0b, 0xfd, 0x86, 0x0f, 0x00,
    0x80, 0x01, 0x01, 0x00, 0x14, 0x00, 0x02, 0x00, 0x0f, 0x00,
    0x00);  // version 1 length

}  // namespace vnetsim::wire::test
