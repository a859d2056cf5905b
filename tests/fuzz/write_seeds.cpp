// Writes the shared parser vectors (tests/unit/parser) as libFuzzer seed
// files into the directory given as argv[1], each with the fuzzer's leading
// "default limits" byte.
#include <cstdio>
#include <string>

#include "vectors.h"

namespace {

bool write_seed(const std::string &dir, const std::string &name, const std::string &payload) {
  const std::string path = dir + "/" + name;
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::perror(path.c_str());
    return false;
  }
  const std::string input = std::string(1, '\0') + payload;
  const bool ok = std::fwrite(input.data(), 1, input.size(), f) == input.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  int n = 0;
  bool ok = true;
  for (const auto &v : axle::test::request_vectors()) ok &= write_seed(dir, "request-" + std::to_string(n++), v.input);
  for (const auto &v : axle::test::chunk_size_vectors()) ok &= write_seed(dir, "chunk-" + std::to_string(n++), v.input);
  for (const auto &v : axle::test::trailer_vectors()) ok &= write_seed(dir, "trailer-" + std::to_string(n++), v.input);
  std::printf("wrote %d seeds to %s\n", n, dir.c_str());
  return ok ? 0 : 1;
}
