// Content-Type from a file name's extension.
#pragma once

#include <string_view>

namespace axle::static_handler {

// The media type for `file_name` by its last extension (case-insensitive);
// text types carry "; charset=utf-8". application/octet-stream if unknown.
std::string_view content_type_for(std::string_view file_name);

}  // namespace axle::static_handler
