#include "http/response.h"

#include <unistd.h>

namespace axle::http {

void Response::reset() {
  drop_body();
  status = 0;
  close = false;
  header_lines.clear();
}

void Response::take_from(Response &other) {
  status = other.status;
  close = other.close;
  header_lines = other.header_lines;
  body = other.body;
  data = other.data;
  len = other.len;
  owned_block = other.owned_block;
  owned_size = other.owned_size;
  release = other.release;
  release_arg = other.release_arg;
  prebuilt_head_len = other.prebuilt_head_len;
  file_fd = other.file_fd;
  file_offset = other.file_offset;
  file_length = other.file_length;
  // other no longer owns the body: reset it without releasing anything.
  other.body = Body::None;
  other.owned_block = nullptr;
  other.release = nullptr;
  other.file_fd = -1;
  other.reset();
}

void Response::drop_body() {
  if (body == Body::None) return;  // nothing set: nothing to release
  if (owned_block) memory.free(owned_block, owned_size);
  if (release) release(release_arg);
  if (file_fd >= 0) ::close(file_fd);
  body = Body::None;
  data = nullptr;
  len = 0;
  owned_block = nullptr;
  owned_size = 0;
  release = nullptr;
  release_arg = nullptr;
  prebuilt_head_len = 0;
  file_fd = -1;
  file_offset = file_length = 0;
}

}  // namespace axle::http
