// Coarser resolutions (15 and 60 minutes) from stored intervals: a pure function.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "gw/core/records.hpp"
#include "gw/core/time.hpp"

namespace gw {

/// One value per quantity (active, reactive, voltage L1..L3), in canonical units.
using QuantityValues = std::array<std::optional<double>, 5>;

/// The values of an interval, in the order of gw::Quantity.
QuantityValues values_of(const IntervalRecord& r);

/// One end-stamped bucket of a coarser resolution.
struct Bucket {
    SysS end;
    QuantityValues values;  ///< per quantity, the mean of the parts that have it
    Quality quality = Quality::gemeten;
    int parts = 0;  ///< stored intervals inside the bucket
};

/// Groups the intervals of one meter (ascending by end) into buckets of `bucket_s` seconds
/// (a multiple of `interval_s` that divides 3600), stamped by their end like the intervals.
/// Only buckets that lie wholly in [`from`, `to`] are made. A bucket's values are the means
/// of its parts' unrounded values; its quality is the worst of its parts, and `onvolledig`
/// when a part is missing.
std::vector<Bucket> resample(const std::vector<IntervalRecord>& intervals, int interval_s,
                             int bucket_s, SysMs from, SysS to);

}  // namespace gw
