#include "vnetsim/proto/config_error.hpp"

#include <utility>

#include <fmt/format.h>

namespace vnetsim::proto {

config_error::config_error(std::string_view component, std::string parameter, std::string value,
                           std::string rule)
    : std::invalid_argument(fmt::format("{}: {} = {}: {}", component, parameter, value, rule)),
      parameter_(std::move(parameter)),
      value_(std::move(value)),
      rule_(std::move(rule)) {}

}  // namespace vnetsim::proto
