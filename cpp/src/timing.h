// Block times: saturating arithmetic (hostile Timecodes near 2^63 must not overflow) and the
// conversion of TimecodeScale ticks to milliseconds.
#pragma once

#include <cstdint>

namespace kvs {

// a + b and a - b clamped to the int64 range.
std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b);
std::int64_t SaturatingSub(std::int64_t a, std::int64_t b);

// Absolute time of `ticks` in milliseconds, exact when the scale is a multiple or divisor of 1 ms.
// Results outside the int64 range (only from hostile Timecode/TimecodeScale values) saturate.
std::int64_t ToMillis(std::int64_t ticks, std::uint64_t timecode_scale);

}  // namespace kvs
