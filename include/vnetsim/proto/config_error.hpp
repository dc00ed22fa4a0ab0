#pragma once
/// The one exception type the protocol engines (bond, beacon, LACP, RSTP) throw for a rejected
/// configuration. Each engine's namespace derives a `config_error` that fixes the component
/// name, so callers can catch one engine's errors or, through this base, any engine's.
///
/// Invariant: what() is "<component>: <parameter> = <value>: <rule>".

#include <stdexcept>
#include <string>
#include <string_view>

namespace vnetsim::proto {

/// A rejected configuration: which component and parameter, the value given, and the rule it breaks.
class config_error : public std::invalid_argument {
 public:
  config_error(std::string_view component, std::string parameter, std::string value,
               std::string rule);
  const std::string& parameter() const noexcept { return parameter_; }
  const std::string& value() const noexcept { return value_; }
  const std::string& rule() const noexcept { return rule_; }

 private:
  std::string parameter_;
  std::string value_;
  std::string rule_;
};

}  // namespace vnetsim::proto
