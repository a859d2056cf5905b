// handler "sha256", written with the axle C++ SDK's coroutines: POST /sha256
// answers the lowercase hex SHA-256 of the request body and a newline. On a
// route with stream_body = true the body is hashed piece by piece as it
// arrives, so memory stays bounded whatever its size.
#include <axle/sdk/handler.hpp>

#include <openssl/evp.h>

#include <memory>
#include <string>

namespace {

using DigestContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

class Sha256 {
 public:
  static constexpr const char *name = "sha256";
  static constexpr const char *version = "1.0.0";
  static constexpr const char *description = "Answers the hex SHA-256 of the request body (streamed with stream_body = true)";

  struct Route {
    axle::sdk::Task handle(axle::sdk::Exchange &ex) const {
      DigestContext ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
      if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw axle::sdk::Error(AXLE_ERR_NOMEM, "EVP_DigestInit_ex failed");
      for (;;) {
        axle::sdk::BodyChunk chunk = co_await ex.body();
        if (EVP_DigestUpdate(ctx.get(), chunk.data.data(), chunk.data.size()) != 1)
          throw axle::sdk::Error(AXLE_ERR_INTERNAL, "EVP_DigestUpdate failed");
        if (chunk.last) break;
      }
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      if (EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1)
        throw axle::sdk::Error(AXLE_ERR_INTERNAL, "EVP_DigestFinal_ex failed");
      static constexpr char hex[] = "0123456789abcdef";
      std::string text;
      for (unsigned int i = 0; i < len; ++i) {
        text += hex[digest[i] >> 4];
        text += hex[digest[i] & 0xf];
      }
      text += '\n';
      ex.header("Content-Type", "text/plain; charset=utf-8");
      ex.reply(text);
    }
  };

  Route route_init(const axle::sdk::RouteConfig &) { return Route{}; }
};

}  // namespace

AXLE_SDK_HANDLER_MODULE(Sha256)
