#pragma once
/// Applications on tcp::connection, for what a failover does to users: a bulk transfer
/// (N bytes, or until stopped) and request/response (request size, response size, think
/// time). Each reports goodput over time in fixed bins, the longest stall (the largest time
/// without delivery progress while data was outstanding), and the sender's retransmissions
/// and RTO events.
///
/// Engines like the connection (STYLE.md): no scheduler inside. The owner calls
/// - on_delivered() from the receiving connection's sink::deliver (only records);
/// - pump() after every event of the connection the app writes on (on_segment, on_timer,
///   and once the connection is ESTABLISHED), which writes and closes;
/// - on_timer() at next_deadline() (request/response think time).
/// Per segment: O(1), no heap allocation (goodput bins are reserved for `expected_duration`
/// and grow once per bin beyond it).

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vnetsim/kernel/sim_time.hpp"
#include "vnetsim/traffic/tcp.hpp"

namespace vnetsim::tcp {

/// Delivery progress over time. Bin i counts the bytes delivered in [i*bin, (i+1)*bin).
class progress_meter {
 public:
  /// Throws tcp_error unless bin > 0.
  explicit progress_meter(sim_time bin, sim_time expected_duration = sim_time::from_s(60));

  /// Data became outstanding (the stall clock runs from here if it was not running).
  void start(sim_time now);
  /// `bytes` were delivered.
  void progress(sim_time now, std::uint64_t bytes);
  /// Nothing is outstanding any more: the current gap ends here.
  void stop(sim_time now);

  sim_time bin() const noexcept { return bin_; }
  std::span<const std::uint64_t> bins() const noexcept { return bins_; }
  /// Bin i as bits per second of goodput.
  double goodput_bps(std::size_t i) const noexcept;
  std::uint64_t bytes() const noexcept { return bytes_; }
  /// The longest stall up to `now` (a gap still open at `now` counts up to now), and when
  /// it began.
  sim_time longest_stall(sim_time now) const noexcept;
  std::optional<sim_time> longest_stall_start(sim_time now) const noexcept;

 private:
  void note_gap(sim_time now) noexcept;

  sim_time bin_;
  std::vector<std::uint64_t> bins_;
  std::uint64_t bytes_ = 0;
  bool outstanding_ = false;
  sim_time last_;  // last progress (or start) while outstanding
  sim_time longest_;
  std::optional<sim_time> longest_start_;
};

/// What an application reports.
struct app_report {
  std::uint64_t bytes_delivered = 0;
  sim_time bin;
  std::vector<std::uint64_t> goodput_bytes;  ///< per bin
  sim_time longest_stall;
  std::optional<sim_time> longest_stall_start;
  std::uint64_t retransmissions = 0;  ///< the writing connection's tcpRetransSegs
  std::uint64_t rto_events = 0;
  std::uint64_t fast_recoveries = 0;
  bool complete = false;
  std::optional<sim_time> completed_at;
  std::uint64_t transactions = 0;  ///< request/response only
  sim_time max_transaction_time;   ///< request/response only
};

struct bulk_config {
  /// Bytes to send; 0 sends until stop().
  std::uint64_t bytes = 0;
  /// Close the connection once every byte is written.
  bool close_when_done = true;
  sim_time bin = sim_time::from_ms(100);
  sim_time expected_duration = sim_time::from_s(60);
};

/// A bulk transfer: the sender writes as fast as the send buffer takes.
class bulk_app {
 public:
  explicit bulk_app(const bulk_config& cfg);

  /// After every event of the sending connection: top up the send buffer; close when done.
  template <output_sink Sink>
  void pump(connection& sender, sim_time now, Sink& out) {
    pump_impl<sink_for<Sink>>(sender, now, out);
  }
  /// The receiving connection's sink::deliver.
  void on_delivered(sim_time now, std::uint64_t offset, std::uint32_t len);
  /// Stop writing; what is written is still delivered (and the connection closed when
  /// close_when_done).
  template <output_sink Sink>
  void stop(connection& sender, sim_time now, Sink& out) {
    stop_impl<sink_for<Sink>>(sender, now, out);
  }

  bool complete() const noexcept { return complete_; }
  const progress_meter& meter() const noexcept { return meter_; }
  app_report report(const connection& sender, sim_time now) const;

 private:
  template <output_sink Sink>
  void pump_impl(connection& sender, sim_time now, Sink& out);
  template <output_sink Sink>
  void stop_impl(connection& sender, sim_time now, Sink& out);
  bulk_config cfg_;
  progress_meter meter_;
  std::uint64_t target_;  // bytes to write
  bool started_ = false, closed_ = false, complete_ = false;
  std::optional<sim_time> completed_at_;
};

struct rr_config {
  std::uint32_t request_bytes = 100;
  std::uint32_t response_bytes = 10'000;
  /// Time from a complete response to the next request.
  sim_time think_time = sim_time::from_ms(10);
  /// Transactions to run; 0 runs until stop().
  std::uint64_t transactions = 0;
  sim_time bin = sim_time::from_ms(100);
  sim_time expected_duration = sim_time::from_s(60);
};

/// Request/response. The client writes a request, the server answers each complete
/// request with a response, the client waits think_time after a complete response.
/// Stalls are measured at the client: from a request to its response's last byte.
class rr_app {
 public:
  explicit rr_app(const rr_config& cfg);

  /// After every event of the client connection (and once ESTABLISHED).
  template <output_sink Sink>
  void pump_client(connection& client, sim_time now, Sink& out) {
    pump_client_impl<sink_for<Sink>>(client, now, out);
  }
  /// After every event of the server connection.
  template <output_sink Sink>
  void pump_server(connection& server, sim_time now, Sink& out) {
    pump_server_impl<sink_for<Sink>>(server, now, out);
  }
  /// The client's sink::deliver (response bytes) and the server's (request bytes).
  void on_client_delivered(sim_time now, std::uint64_t offset, std::uint32_t len);
  void on_server_delivered(sim_time now, std::uint64_t offset, std::uint32_t len);
  /// The next think-time expiry; the owner then calls on_timer() and pump_client().
  std::optional<sim_time> next_deadline() const noexcept { return next_request_; }
  void on_timer(sim_time now) noexcept;
  void stop() noexcept { stopped_ = true; }

  std::uint64_t transactions() const noexcept { return done_; }
  const progress_meter& meter() const noexcept { return meter_; }
  app_report report(const connection& client, const connection& server, sim_time now) const;

 private:
  template <output_sink Sink>
  void pump_client_impl(connection& client, sim_time now, Sink& out);
  template <output_sink Sink>
  void pump_server_impl(connection& server, sim_time now, Sink& out);
  rr_config cfg_;
  progress_meter meter_;
  std::optional<sim_time> next_request_;
  bool request_due_ = false, stopped_ = false, closed_ = false;
  bool in_transaction_ = false;
  sim_time request_at_;
  sim_time max_transaction_;
  std::uint64_t done_ = 0;              // complete transactions
  std::uint64_t response_received_ = 0; // bytes of the current response
  std::uint64_t request_written_ = 0;   // bytes of the current request still to write
  std::uint64_t server_delivered_ = 0;  // request bytes received by the server
  std::uint64_t server_owed_ = 0;       // response bytes the server still has to write
  std::uint64_t server_answered_ = 0;   // requests answered
};

}  // namespace vnetsim::tcp
