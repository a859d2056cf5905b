// Reason phrases for the status line.
#pragma once

#include <cstdint>
#include <string_view>

namespace axle::http {

std::string_view reason_phrase(uint16_t status);

}  // namespace axle::http
