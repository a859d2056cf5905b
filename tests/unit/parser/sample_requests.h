// Requests shared by the parser vectors, the fuzz seeds and the parser
// micro-benchmark, so all three measure and check the same bytes.
#pragma once

#include <string_view>

namespace axle::test {

inline constexpr std::string_view kShortRequest = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";

// What a desktop Chrome sends for a same-origin script: ~600 bytes, 15 fields.
inline constexpr std::string_view kBrowserRequest =
    "GET /static/app/main.js?v=3f9a2c7 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"118\", \"Google Chrome\";v=\"118\", \"Not=A?Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/118.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Referer: https://www.example.com/products/list?page=2\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
    "Cookie: session=5f2b8c0e9a7d4e31b6c2; theme=dark; _ga=GA1.1.1234567890.1700000000\r\n"
    "\r\n";

}  // namespace axle::test
