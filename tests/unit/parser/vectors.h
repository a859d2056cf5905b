// The one table of parser vectors every parser module must pass. Also read
// by tests/fuzz to write its seed corpus.
#pragma once

#include <axle/parser.h>

#include <cstdint>
#include <string>
#include <vector>

namespace axle::test {

struct ExpectedHeader {
  std::string name;
  std::string value;
};

struct Limits {
  uint32_t max_head_bytes = 8192;
  uint32_t max_target_bytes = 2048;
  uint32_t max_headers = 64;
  uint32_t header_capacity = 64;  // entries the caller gives the parser
};

struct RequestVector {
  std::string name;
  std::string input;
  axle_parse_result_t result = AXLE_PARSE_COMPLETE;
  uint16_t error_status = 0;  // when result is ERROR
  // When result is COMPLETE:
  size_t consumed = 0;
  std::string method, target, path, query;
  uint8_t version_minor = 1;
  std::vector<ExpectedHeader> headers;
  Limits limits;
};

struct ChunkSizeVector {
  std::string name;
  std::string input;
  axle_parse_result_t result;
  uint64_t chunk_size = 0;  // when COMPLETE
  size_t consumed = 0;      // when COMPLETE
};

struct TrailerVector {
  std::string name;
  std::string input;
  size_t max_bytes;
  axle_parse_result_t result;
  size_t consumed = 0;  // when COMPLETE
};

const std::vector<RequestVector> &request_vectors();
const std::vector<ChunkSizeVector> &chunk_size_vectors();
const std::vector<TrailerVector> &trailer_vectors();

}  // namespace axle::test
