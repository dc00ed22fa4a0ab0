#pragma once
/// TCP on the endpoint stack: sessions (a client and a server connection on two endpoints
/// of one traffic::endpoint_set) running a bulk transfer or request/response, with their
/// reports. The endpoint set's IPv4 protocol-6 hook feeds a per-endpoint connection table;
/// segments leave through endpoint_set::send_ip (ARP, routing, checksums in software or by
/// the NIC); each session has one pending event of kind "tcp/timer" at the earliest of its
/// connections' and application's deadlines (and its start time).
///
/// TSO (tso_mode::automatic): a connection hands super-segments of up to 64 KiB when its
/// endpoint's NIC offers TSO (endpoint_set::nic_caps: a NIC of attach_nic, or what the
/// owner offers, e.g. a VM's vNIC with host_set::vnic_capabilities, for a bond the caps
/// every member has [AG2]); the NIC segments them. Otherwise segments are MSS-sized. The
/// choice follows the capabilities during a session (checked after every event; a change
/// is logged): a member without TSO joining the bond turns TSO off.
///
/// Per segment: no heap allocation (frames from the pool), no virtual call (the engine
/// calls the session's concrete sink, tcp::output_sink). Demultiplexing is a scan of the
/// endpoint's few connections.
/// A segment for no connection (or for a session not started yet) is counted
/// (no_connection) and, unless it is a RST, answered with a RST as a CLOSED connection
/// does (RFC 9293 3.10.7.1; rsts_sent). Not modelled: ephemeral port reuse rules (ports are
/// fixed per session).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/traffic/endpoint.hpp"
#include "vnetsim/traffic/tcp.hpp"
#include "vnetsim/traffic/tcp_app.hpp"

namespace vnetsim::tcp {

using session_id = std::uint32_t;

/// Whether a connection hands TSO super-segments.
enum class tso_mode : std::uint8_t {
  automatic,  ///< when the endpoint's NIC (every bond member) offers TSO
  on,         ///< always (a NIC without TSO segments in software, counted as such)
  off,
};

/// Client port when session_config::client_port is 0: 49152 + session id (the IANA
/// dynamic range, RFC 6335 6).
inline constexpr std::uint16_t first_dynamic_port = 49152;
/// Server port when 0: 5001, iperf's.
inline constexpr std::uint16_t default_server_port = 5001;

struct session_config {
  std::string name;
  traffic::endpoint_id client = 0;
  traffic::endpoint_id server = 0;
  std::uint16_t client_port = 0;
  std::uint16_t server_port = 0;
  config client_tcp;
  config server_tcp;
  tso_mode tso = tso_mode::automatic;
  /// The client opens at this time (the server listens from then).
  sim_time start = sim_time::zero();
};

struct bulk_session_config : session_config {
  bulk_config app;
};

struct rr_session_config : session_config {
  rr_config app;
};

/// A session's report: the application's, with both connections' counters.
struct session_report {
  std::string name;
  app_report app;
  stats client;
  stats server;
  state client_state = state::closed;
  state server_state = state::closed;
  std::uint64_t tx_dropped = 0;  ///< segments send_ip refused or the pool could not hold
};

/// Counters of the set.
struct tcp_set_counters {
  std::uint64_t segments_in = 0;
  std::uint64_t no_connection = 0;  ///< no session has the four-tuple
  std::uint64_t rsts_sent = 0;      ///< RSTs answering those (RFC 9293 3.10.7.1)
  std::uint64_t bad_segments = 0;   ///< truncated or bad checksum
};

class tcp_set {
 public:
  /// Registers the "tcp/timer" kind. The endpoint set must outlive this.
  tcp_set(kernel::simulator& sim, traffic::endpoint_set& eps, const kernel::rng_streams& streams);
  tcp_set(const tcp_set&) = delete;
  tcp_set& operator=(const tcp_set&) = delete;
  ~tcp_set();

  /// Adds a session; throws tcp_error naming it and the rule broken (empty or duplicate
  /// name, unknown or equal endpoints, a four-tuple already used, a start in the past, an
  /// invalid TCP configuration). ISS values come from the stream "tcp/<name>".
  session_id add_tcp_bulk(const bulk_session_config& cfg);
  session_id add_tcp_rr(const rr_session_config& cfg);

  session_report report(session_id s) const;
  const connection& client(session_id s) const;
  const connection& server(session_id s) const;
  std::optional<session_id> find(std::string_view name) const;
  std::size_t size() const noexcept { return sessions_.size(); }
  const tcp_set_counters& counters() const noexcept { return counters_; }
  /// State changes and timer events of every connection, in order ("<time> tcp ...").
  const std::vector<std::string>& log() const noexcept { return log_; }
  /// Stop a bulk session's writing or a request/response session's next request.
  void stop(session_id s);

 private:
  struct session;
  /// One session end's output (tcp::output_sink): frames through the endpoint set,
  /// delivery to the application, log lines. A concrete type: the engine's member templates
  /// are instantiated for it (tcp.cpp, tcp_app.cpp) and call it directly.
  struct side_sink {
    tcp_set* set = nullptr;
    session* s = nullptr;
    int side = 0;

    void transmit(sim_time now, const wire::tcp_repr& seg, std::uint64_t off, std::uint32_t len,
                  std::uint16_t tso_mss);
    void deliver(sim_time now, std::uint64_t off, std::uint32_t len);
    void acked(sim_time, std::uint64_t) noexcept {}
    void state_changed(state, state, sim_time) noexcept {}
    void log(sim_time now, std::string_view line);
  };

  session_id add(const session_config& cfg, std::unique_ptr<session> s);
  session& at(session_id s);
  const session& at(session_id s) const;
  void after(session& s);
  void transmit(session& s, int side, const wire::tcp_repr& seg, std::uint64_t off,
                std::uint32_t len, std::uint16_t tso_mss);
  /// Answers a segment for no connection with a RST (RFC 9293 3.10.7.1).
  void reset_unknown(traffic::endpoint_id ep, const wire::ipv4_address& src,
                     const wire::ipv4_address& dst, const wire::tcp_repr& seg);
  static void on_rx(void* ctx, traffic::endpoint_id ep, const wire::ipv4_address& src,
                    const wire::ipv4_address& dst, dev::frame_ref frame, std::size_t l4_offset);
  static void on_timer(void* ctx, kernel::simulator& sim, const kernel::event& ev);

  struct binding {
    std::uint16_t local_port = 0;
    wire::ipv4_address remote;
    std::uint16_t remote_port = 0;
    session_id s = 0;
    int side = 0;
  };

  kernel::simulator* sim_;
  traffic::endpoint_set* eps_;
  const kernel::rng_streams* streams_;
  kernel::event_kind timer_kind_ = 0;
  std::vector<std::unique_ptr<session>> sessions_;
  std::vector<std::vector<binding>> bindings_;  // by endpoint id
  tcp_set_counters counters_;
  std::vector<std::string> log_;
};

}  // namespace vnetsim::tcp
