#include "wire_bio.h"

#include <algorithm>
#include <cstring>

namespace axle::tls {
namespace {

WireIo *io_of(BIO *b) { return static_cast<WireIo *>(BIO_get_data(b)); }

int wire_write(BIO *b, const char *data, size_t len, size_t *written) {
  WireIo *io = io_of(b);
  io->write(io->arg, data, len);
  *written = len;
  return 1;
}

int wire_read(BIO *b, char *out, size_t len, size_t *read) {
  WireIo *io = io_of(b);
  BIO_clear_retry_flags(b);
  size_t n = 0;
  if (io->kept_pos < io->kept.size()) {
    n = std::min(len, io->kept.size() - io->kept_pos);
    std::memcpy(out, io->kept.data() + io->kept_pos, n);
    io->kept_pos += n;
    if (io->kept_pos == io->kept.size()) std::string().swap(io->kept), io->kept_pos = 0;  // read: free it
  }
  if (n < len && io->lent_len > 0) {
    const size_t k = std::min(len - n, io->lent_len);
    std::memcpy(out + n, io->lent, k);
    io->lent += k;
    io->lent_len -= k;
    n += k;
  }
  if (n == 0) {
    BIO_set_retry_read(b);  // no more bytes yet: SSL_ERROR_WANT_READ
    return 0;
  }
  *read = n;
  return 1;
}

long wire_ctrl(BIO *b, int cmd, long, void *) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // every write already reached the sink
    case BIO_CTRL_PENDING:
      return static_cast<long>(io_of(b)->unread());
    default:
      return 0;
  }
}

int wire_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD *method() {
  static BIO_METHOD *const m = [] {
    BIO_METHOD *bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "axle wire");
    BIO_meth_set_write_ex(bm, wire_write);
    BIO_meth_set_read_ex(bm, wire_read);
    BIO_meth_set_ctrl(bm, wire_ctrl);
    BIO_meth_set_create(bm, wire_create);
    return bm;
  }();
  return m;
}

}  // namespace

void WireIo::keep_rest() {
  if (lent_len > 0) {
    if (kept_pos > 0) kept.erase(0, kept_pos), kept_pos = 0;
    kept.append(lent, lent_len);
  }
  lent = nullptr;
  lent_len = 0;
}

BIO *wire_bio_new(WireIo *io) {
  BIO_METHOD *m = method();
  BIO *b = m ? BIO_new(m) : nullptr;
  if (b) BIO_set_data(b, io);
  return b;
}

}  // namespace axle::tls
