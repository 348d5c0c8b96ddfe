// Block times: saturating arithmetic (hostile Timecodes near 2^63 must not overflow) and the
// conversion of TimecodeScale ticks to milliseconds. Inline: they run for every frame.
#pragma once

#include <cstdint>
#include <limits>

namespace kvs {

constexpr std::int64_t kMaxTicks = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinTicks = std::numeric_limits<std::int64_t>::min();

// a + b and a - b clamped to the int64 range.
inline std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b) {
  if (b > 0 && a > kMaxTicks - b) return kMaxTicks;
  if (b < 0 && a < kMinTicks - b) return kMinTicks;
  return a + b;
}

inline std::int64_t SaturatingSub(std::int64_t a, std::int64_t b) {
  if (b < 0 && a > kMaxTicks + b) return kMaxTicks;
  if (b > 0 && a < kMinTicks + b) return kMinTicks;
  return a - b;
}

// Absolute time of `ticks` in milliseconds, exact when the scale is a multiple or divisor of 1 ms.
// Results outside the int64 range (only from hostile Timecode/TimecodeScale values) saturate.
inline std::int64_t ToMillis(std::int64_t ticks, std::uint64_t timecode_scale) {
  constexpr std::uint64_t kNsPerMs = 1000000;
  if (timecode_scale % kNsPerMs == 0) {
    const std::uint64_t factor = timecode_scale / kNsPerMs;
    const std::uint64_t magnitude = ticks < 0 ? 0 - static_cast<std::uint64_t>(ticks) : static_cast<std::uint64_t>(ticks);
    if (magnitude > static_cast<std::uint64_t>(kMaxTicks) / factor) return ticks < 0 ? kMinTicks : kMaxTicks;
    return ticks * static_cast<std::int64_t>(factor);
  }
  if (kNsPerMs % timecode_scale == 0) {
    // Floor division, written so that ticks = INT64_MIN is not negated.
    const std::int64_t divisor = static_cast<std::int64_t>(kNsPerMs / timecode_scale);
    const std::int64_t quotient = ticks / divisor;
    return ticks % divisor < 0 ? quotient - 1 : quotient;
  }
  const long double ms = static_cast<long double>(ticks) * timecode_scale / kNsPerMs;
  if (ms >= static_cast<long double>(kMaxTicks)) return kMaxTicks;
  if (ms <= static_cast<long double>(kMinTicks)) return kMinTicks;
  return static_cast<std::int64_t>(ms);
}

// Time in ms of lace `k` of a block at `ticks`, the laces `step_ns` (DefaultDuration) apart: the block's
// time plus k steps is summed in ns and converted once, the way ToMillis converts the block's own time
// (truncating; flooring for a scale that divides 1 ms). Lace 0 is ToMillis(ticks, timecode_scale) exactly.
// Converting the block first and adding whole ms per step would lose up to a ms: with TimestampScale
// 20833 ns and DefaultDuration 10.667 ms, lace 1 of a block at 84.998 ms is at 95.665 ms, not 94.
inline std::int64_t LaceMillis(std::int64_t ticks, std::uint64_t timecode_scale, std::uint64_t step_ns,
                               std::uint64_t k) {
  constexpr std::uint64_t kNsPerMs = 1000000;
  const std::int64_t block_ms = ToMillis(ticks, timecode_scale);
  if (k == 0 || step_ns == 0) return block_ms;
  if (timecode_scale % kNsPerMs != 0 && kNsPerMs % timecode_scale != 0) {
    const long double ms = (static_cast<long double>(ticks) * timecode_scale +
                            static_cast<long double>(step_ns) * static_cast<long double>(k)) / kNsPerMs;
    if (ms >= static_cast<long double>(kMaxTicks)) return kMaxTicks;
    if (ms <= static_cast<long double>(kMinTicks)) return kMinTicks;
    return static_cast<std::int64_t>(ms);
  }
  // Exact in integers: the block's ns past its whole ms (none when the scale is whole ms), plus k steps.
  std::uint64_t block_rest_ns = 0;
  if (timecode_scale < kNsPerMs) {
    const auto per_ms = static_cast<std::int64_t>(kNsPerMs / timecode_scale);
    std::int64_t rest_ticks = ticks % per_ms;
    if (rest_ticks < 0) rest_ticks += per_ms;  // ToMillis floors here
    block_rest_ns = static_cast<std::uint64_t>(rest_ticks) * timecode_scale;
  }
  // k < 2^8 (a block holds at most 256 laces) and step < 2^64: each product stays far below 2^63.
  const std::uint64_t offset_ms = k * (step_ns / kNsPerMs) + (block_rest_ns + k * (step_ns % kNsPerMs)) / kNsPerMs;
  return SaturatingAdd(block_ms, static_cast<std::int64_t>(offset_ms));
}

// ToMillis with its divisions done once per TimecodeScale rather than per frame: PrepareMillis when
// the scale is set, then ToMillisPrepared for each frame (equal to ToMillis(ticks, scale)).
struct MillisFactor {
  std::int64_t factor = 1;         // ms per tick when the scale is a whole number of ms, else 0
  std::int64_t limit = kMaxTicks;  // the largest |ticks| whose product fits
};

inline MillisFactor PrepareMillis(std::uint64_t timecode_scale) {
  constexpr std::uint64_t kNsPerMs = 1000000;
  if (timecode_scale % kNsPerMs != 0) return MillisFactor{0, 0};
  const auto factor = static_cast<std::int64_t>(timecode_scale / kNsPerMs);
  return MillisFactor{factor, kMaxTicks / factor};
}

inline std::int64_t ToMillisPrepared(std::int64_t ticks, std::int64_t factor, std::int64_t limit,
                                     std::uint64_t timecode_scale) {
  if (factor == 1) return ticks;  // 1 ms ticks: the Matroska default and what KVS writes
  if (factor == 0) return ToMillis(ticks, timecode_scale);
  if (ticks > limit) return kMaxTicks;
  if (ticks < -limit) return kMinTicks;
  return ticks * factor;
}

}  // namespace kvs
