// Content-Type from a file name's extension: /etc/mime.types (Debian package
// media-types) read once when the module instance is created, with a
// built-in table of common types for a missing file or extension.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace axle::static_handler {

class MimeTypes {
 public:
  // Reads a mime.types file ("type ext ext ..." per line, '#' comments).
  // False (and the table stays empty) when the file cannot be read; the
  // built-in table then answers alone.
  bool load(const char *path);

  // The media type for `file_name` by its last extension (case-insensitive);
  // text types carry "; charset=utf-8". application/octet-stream if unknown.
  // The view lives as long as this table.
  std::string_view lookup(std::string_view file_name) const;

  size_t size() const { return by_extension_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Lower-case extension -> type. Bounded by the file's size cap (mime.cpp).
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> by_extension_;
};

}  // namespace axle::static_handler
