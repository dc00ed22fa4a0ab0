#include "vnetsim/wire/ethernet.hpp"

namespace vnetsim::wire {

std::optional<ethernet_repr> ethernet_repr::parse(const_bytes buf) noexcept {
  auto v = ethernet_frame_const::checked(buf);
  if (!v) return std::nullopt;
  return parse(*v);
}

}  // namespace vnetsim::wire
