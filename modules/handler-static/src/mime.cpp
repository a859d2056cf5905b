#include "mime.h"

#include <fstream>

namespace axle::static_handler {
namespace {

struct MimeEntry {
  std::string_view extension;  // lower case, without the dot
  std::string_view type;
};

// Common types, for a host without /etc/mime.types or an extension it lacks.
constexpr MimeEntry kTypes[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"bmp", "image/bmp"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
};

constexpr std::string_view kDefaultType = "application/octet-stream";
constexpr std::string_view kCharset = "; charset=utf-8";
// /etc/mime.types is about 60 KiB; a file far larger is not a mime.types and
// is refused rather than held.
constexpr std::streamsize kMaxFileBytes = 1 << 20;
// Longest extension looked up; longer ones are unknown types.
constexpr size_t kMaxExtension = 32;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return out;
}

}  // namespace

bool MimeTypes::load(const char *path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), kMaxFileBytes + 1);
  if (in.gcount() > kMaxFileBytes) return false;
  text.resize(static_cast<size_t>(in.gcount()));

  std::string_view rest(text);
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::string_view type;
    while (!line.empty()) {
      while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
      size_t end = 0;
      while (end < line.size() && !is_space(line[end])) ++end;
      const std::string_view word = line.substr(0, end);
      line.remove_prefix(end);
      if (word.empty()) break;
      if (type.empty()) {
        // A type that could not sit in a header line is skipped with its extensions.
        if (word.find('/') == std::string_view::npos || word.find_first_of("\"\\") != std::string_view::npos) break;
        type = word;
        continue;
      }
      if (word.size() > kMaxExtension) continue;
      std::string value(type);
      if (type.starts_with("text/")) value += kCharset;
      // The first line naming an extension wins, as in the file's own convention.
      by_extension_.try_emplace(to_lower(word), std::move(value));
    }
  }
  return true;
}

std::string_view MimeTypes::lookup(std::string_view file_name) const {
  const size_t slash = file_name.rfind('/');
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  const size_t dot = file_name.rfind('.');
  // No dot, or a dot file such as ".profile": no extension.
  if (dot == std::string_view::npos || dot == 0) return kDefaultType;
  const std::string_view ext = file_name.substr(dot + 1);
  if (ext.empty() || ext.size() > kMaxExtension) return kDefaultType;
  char lower[kMaxExtension];
  for (size_t i = 0; i < ext.size(); ++i) {
    char c = ext[i];
    lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
  }
  const std::string_view key(lower, ext.size());
  if (auto it = by_extension_.find(key); it != by_extension_.end()) return it->second;
  for (const MimeEntry &e : kTypes)
    if (e.extension == key) return e.type;
  return kDefaultType;
}

}  // namespace axle::static_handler
