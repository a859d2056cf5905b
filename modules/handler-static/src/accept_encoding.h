// Content-coding negotiation for precompressed variants (RFC 9110 section
// 12.5.3): which of the variants beside a file the request's Accept-Encoding
// allows, free of I/O so the rules read in one place.
#pragma once

#include <cstdint>
#include <string_view>

namespace axle::static_handler {

// A precompressed variant: a file named <file><suffix> beside <file>.
struct Variant {
  uint8_t bit;              // in a variants mask
  std::string_view suffix;  // file name suffix, e.g. ".br"
  std::string_view coding;  // Content-Encoding token
};

// In preference order at equal q: br, then zstd, then gzip.
inline constexpr Variant kVariants[] = {
    {1u << 0, ".br", "br"},
    {1u << 1, ".zst", "zstd"},
    {1u << 2, ".gz", "gzip"},
};

// choose_encoding's answers besides an index into kVariants.
inline constexpr int kIdentity = -1;
inline constexpr int kNoneAcceptable = -2;

// Picks what to send for a file whose variants present are `available` (a
// mask of Variant::bit). `header` is the Accept-Encoding value, or nullptr
// when the request has none (then identity: a client that sent nothing gets
// the plain file). q-values are honoured, "*" covers codings not named,
// "x-gzip" is gzip, q=0 refuses a coding; identity is acceptable unless
// "identity;q=0" or "*;q=0" without an identity entry. Higher q wins; at
// equal q a variant beats identity (it is the smaller body) and br > zstd >
// gzip; identity not weighed by the client (not named, no "*") loses to any
// acceptable variant. Returns an index into kVariants, kIdentity, or kNoneAcceptable when
// identity is refused and no variant present is acceptable. A malformed
// element (bad q) is skipped.
int choose_encoding(const std::string_view *header, uint8_t available);

}  // namespace axle::static_handler
