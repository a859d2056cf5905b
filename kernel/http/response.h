// What a handler built for one request, before the engine serializes it.
// One Response per worker is reused for every request it serves.
#pragma once

#include "host_api.h"
#include "http/memory.h"

#include <cstdint>
#include <string>

namespace axle::http {

class Response : public axle_response_t {
 public:
  enum class Body : uint8_t { None, Owned, Lent, File, Prebuilt };

  explicit Response(Memory &memory) : memory(memory) {}
  // Clears everything for the next request, releasing what was not taken.
  void reset();
  // Forgets the body only (status and header lines stay), releasing it.
  void drop_body();
  // Moves everything other holds into this (empty) response; other is reset.
  void take_from(Response &other);

  Memory &memory;
  uint16_t status = 0;
  bool close = false;        // the handler asked to close the connection after it
  std::string header_lines;  // "Name: value\r\n"..., capacity reused
  Body body = Body::None;
  // Owned: an allocator block (ptr, size) holding len bytes.
  // Lent / Prebuilt: module bytes plus their release hook.
  const char *data = nullptr;
  size_t len = 0;
  void *owned_block = nullptr;
  size_t owned_size = 0;
  axle_release_fn release = nullptr;
  void *release_arg = nullptr;
  size_t prebuilt_head_len = 0;
  int file_fd = -1;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
};

}  // namespace axle::http
