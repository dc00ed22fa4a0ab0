#include "vnetsim/traffic/tcp_app.hpp"

#include "vnetsim/traffic/tcp_set.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace vnetsim::tcp {

namespace {

/// The most one send() call is asked to take (send buffers are far smaller).
constexpr std::uint64_t max_write = 1u << 30;

bool writable(state s) noexcept { return s == state::established || s == state::close_wait; }

}  // namespace

// --- progress_meter ---------------------------------------------------------------------

progress_meter::progress_meter(sim_time bin, sim_time expected_duration) : bin_(bin) {
  if (bin <= sim_time::zero()) {
    throw tcp_error(fmt::format("tcp::progress_meter: bin {} must be > 0", bin));
  }
  if (expected_duration > sim_time::zero()) {
    bins_.reserve(static_cast<std::size_t>(expected_duration / bin) + 1);
  }
}

void progress_meter::start(sim_time now) {
  if (outstanding_) return;
  outstanding_ = true;
  last_ = now;
}

void progress_meter::progress(sim_time now, std::uint64_t bytes) {
  const auto i = static_cast<std::size_t>(std::max<sim_time::rep>(now / bin_, 0));
  if (i >= bins_.size()) bins_.resize(i + 1, 0);
  bins_[i] += bytes;
  bytes_ += bytes;
  if (outstanding_) {
    note_gap(now);
    last_ = now;
  }
}

void progress_meter::stop(sim_time now) {
  if (!outstanding_) return;
  note_gap(now);
  outstanding_ = false;
}

void progress_meter::note_gap(sim_time now) noexcept {
  if (now - last_ > longest_) {
    longest_ = now - last_;
    longest_start_ = last_;
  }
}

double progress_meter::goodput_bps(std::size_t i) const noexcept {
  if (i >= bins_.size()) return 0.0;
  return static_cast<double>(bins_[i]) * 8.0 / bin_.seconds();
}

sim_time progress_meter::longest_stall(sim_time now) const noexcept {
  return outstanding_ ? std::max(longest_, now - last_) : longest_;
}

std::optional<sim_time> progress_meter::longest_stall_start(sim_time now) const noexcept {
  if (outstanding_ && now - last_ > longest_) return last_;
  return longest_start_;
}

namespace {

app_report base_report(const progress_meter& m, sim_time now) {
  app_report r;
  r.bytes_delivered = m.bytes();
  r.bin = m.bin();
  r.goodput_bytes.assign(m.bins().begin(), m.bins().end());
  r.longest_stall = m.longest_stall(now);
  r.longest_stall_start = m.longest_stall_start(now);
  return r;
}

void add_sender(app_report& r, const connection& c) {
  r.retransmissions += c.counters().tcpRetransSegs;
  r.rto_events += c.counters().rto_events;
  r.fast_recoveries += c.counters().fast_recoveries;
}

}  // namespace

// --- bulk_app ---------------------------------------------------------------------------

bulk_app::bulk_app(const bulk_config& cfg)
    : cfg_(cfg),
      meter_(cfg.bin, cfg.expected_duration),
      target_(cfg.bytes == 0 ? std::numeric_limits<std::uint64_t>::max() : cfg.bytes) {}

template <output_sink Sink>
void bulk_app::pump_impl(connection& sender, sim_time now, Sink& out) {
  if (closed_ || !writable(sender.current_state())) return;
  if (sender.bytes_written() < target_) {
    const std::uint64_t want = std::min(target_ - sender.bytes_written(), max_write);
    if (sender.send(static_cast<std::size_t>(want), now, out) != 0 && !started_) {
      started_ = true;
      meter_.start(now);
    }
  }
  if (sender.bytes_written() == target_ && cfg_.close_when_done) {
    closed_ = true;
    sender.close(now, out);
  }
}

void bulk_app::on_delivered(sim_time now, std::uint64_t /*offset*/, std::uint32_t len) {
  meter_.progress(now, len);
  if (meter_.bytes() >= target_ && !complete_) {
    complete_ = true;
    completed_at_ = now;
    meter_.stop(now);
  }
}

template <output_sink Sink>
void bulk_app::stop_impl(connection& sender, sim_time now, Sink& out) {
  target_ = sender.bytes_written();
  if (meter_.bytes() >= target_ && !complete_) {
    complete_ = true;
    completed_at_ = now;
    meter_.stop(now);
  }
  pump(sender, now, out);
}

app_report bulk_app::report(const connection& sender, sim_time now) const {
  app_report r = base_report(meter_, now);
  add_sender(r, sender);
  r.complete = complete_;
  r.completed_at = completed_at_;
  return r;
}

// --- rr_app -----------------------------------------------------------------------------

rr_app::rr_app(const rr_config& cfg) : cfg_(cfg), meter_(cfg.bin, cfg.expected_duration) {
  if (cfg.request_bytes == 0 || cfg.response_bytes == 0) {
    throw tcp_error("tcp::rr_app: request_bytes and response_bytes must be > 0");
  }
  if (cfg.think_time < sim_time::zero()) throw tcp_error("tcp::rr_app: think_time must be >= 0");
  request_due_ = true;
}

template <output_sink Sink>
void rr_app::pump_client_impl(connection& client, sim_time now, Sink& out) {
  if (closed_ || !writable(client.current_state())) return;
  const bool more = !stopped_ && (cfg_.transactions == 0 || done_ < cfg_.transactions);
  if (!in_transaction_ && request_due_ && more) {
    request_due_ = false;
    in_transaction_ = true;
    request_at_ = now;
    request_written_ = cfg_.request_bytes;
    response_received_ = 0;
    meter_.start(now);
  }
  if (request_written_ != 0) {
    request_written_ -= client.send(static_cast<std::size_t>(request_written_), now, out);
  }
  if (!in_transaction_ && !more) {
    closed_ = true;
    client.close(now, out);
  }
}

template <output_sink Sink>
void rr_app::pump_server_impl(connection& server, sim_time now, Sink& out) {
  const state s = server.current_state();
  if (!writable(s)) return;
  while (server_owed_ != 0) {
    const std::size_t n =
        server.send(static_cast<std::size_t>(std::min(server_owed_, max_write)), now, out);
    if (n == 0) break;
    server_owed_ -= n;
  }
  if (s == state::close_wait && server_owed_ == 0) server.close(now, out);
}

void rr_app::on_client_delivered(sim_time now, std::uint64_t /*offset*/, std::uint32_t len) {
  meter_.progress(now, len);
  response_received_ += len;
  if (in_transaction_ && response_received_ >= cfg_.response_bytes) {
    response_received_ -= cfg_.response_bytes;
    in_transaction_ = false;
    ++done_;
    max_transaction_ = std::max(max_transaction_, now - request_at_);
    meter_.stop(now);
    if (cfg_.think_time == sim_time::zero()) {
      request_due_ = true;
    } else {
      next_request_ = now + cfg_.think_time;
    }
  }
}

void rr_app::on_server_delivered(sim_time /*now*/, std::uint64_t /*offset*/, std::uint32_t len) {
  server_delivered_ += len;
  const std::uint64_t complete = server_delivered_ / cfg_.request_bytes;
  server_owed_ += (complete - server_answered_) * cfg_.response_bytes;
  server_answered_ = complete;
}

void rr_app::on_timer(sim_time now) noexcept {
  if (next_request_ && *next_request_ <= now) {
    next_request_.reset();
    request_due_ = true;
  }
}

app_report rr_app::report(const connection& client, const connection& server,
                          sim_time now) const {
  app_report r = base_report(meter_, now);
  add_sender(r, client);
  add_sender(r, server);
  r.transactions = done_;
  r.max_transaction_time = max_transaction_;
  r.complete = cfg_.transactions != 0 && done_ >= cfg_.transactions;
  return r;
}

// The two output types (tcp.hpp output_sink); tcp_set's is private to it (explicit
// instantiations are exempt from access checks).
#define VNETSIM_TCP_APPS_FOR(S)                                           \
  template void bulk_app::pump_impl<S>(connection&, sim_time, S&);             \
  template void bulk_app::stop_impl<S>(connection&, sim_time, S&);             \
  template void rr_app::pump_client_impl<S>(connection&, sim_time, S&);        \
  template void rr_app::pump_server_impl<S>(connection&, sim_time, S&);
VNETSIM_TCP_APPS_FOR(sink)
VNETSIM_TCP_APPS_FOR(tcp_set::side_sink)
#undef VNETSIM_TCP_APPS_FOR

}  // namespace vnetsim::tcp
