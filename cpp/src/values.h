// Decoding of EBML leaf values and of the text values KVS puts in tags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace kvs {

// Big-endian unsigned integer of 0-8 bytes; nullopt for a longer one.
std::optional<std::uint64_t> ReadUnsigned(const std::uint8_t* data, std::size_t size);
// IEEE float of 0, 4 or 8 bytes; nullopt otherwise.
std::optional<double> ReadFloat(const std::uint8_t* data, std::size_t size);
// A string with its trailing NUL padding removed, as the Matroska spec says readers must.
std::string ReadString(const std::uint8_t* data, std::size_t size);
// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(const std::string& text);
// `text` with every byte that starts no well-formed UTF-8 sequence replaced by U+FFFD.
std::string ToValidUtf8(const std::string& text);
// "1511852109.126" (seconds, any number of decimals) to milliseconds, exactly, without floating point.
std::optional<std::int64_t> ParseSecondsAsMillis(const std::string& text);
// A decimal integer such as "15858"; nullopt for anything else.
std::optional<std::int64_t> ParseInteger(const std::string& text);

}  // namespace kvs
