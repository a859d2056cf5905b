#include "http/response.h"

#include <unistd.h>

namespace axle::http {

void Response::reset() {
  drop_body();
  status = 0;
  header_lines.clear();
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
