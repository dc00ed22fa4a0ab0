#include "vnetsim/wire/ethernet.hpp"

// Everything in ethernet.hpp is constexpr and inline; this file keeps the header compiled
// on its own, with the project's warnings.
