// TrimSlack: gives back a vector's growth slack once it is well above what the vector holds.
// Per-target tables (series keys, cache order) reach a steady size after a scrape or two,
// and doubling growth would otherwise keep up to twice that for the life of the target.
// Small vectors are left alone, so that a table that changes a little every round is not
// reallocated every round.
#pragma once

#include <cstddef>

namespace metricsd {

template <typename Vector>
void TrimSlack(Vector& v) {
  constexpr std::size_t kKeepBelow = 64;
  if (v.capacity() > kKeepBelow && v.capacity() > v.size() + v.size() / 2) {
    v.shrink_to_fit();
  }
}

}  // namespace metricsd
