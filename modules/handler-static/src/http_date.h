// HTTP-date (RFC 9110 section 5.6.7): formatting and parsing, locale-free
// and without the process time zone, so workers can call it concurrently.
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

namespace axle::static_handler {

// Length of an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr size_t kHttpDateLen = 29;

// Writes the IMF-fixdate of `t` (seconds since the epoch, UTC) into out[0..29).
// False if the year does not fit in four digits.
bool format_http_date(int64_t t, char out[kHttpDateLen]);

// Parses any of the three forms a recipient must accept: IMF-fixdate,
// RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
// ("Sun Nov  6 08:49:37 1994"). False on anything else.
bool parse_http_date(std::string_view text, int64_t &out);

}  // namespace axle::static_handler
