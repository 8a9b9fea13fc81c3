#pragma once
// A minimal blocking HTTP/1.1 GET for tests, over a plain socket: independent of the server's
// library (cpp-httplib), so a test of /metrics checks what goes over the wire.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <string>

namespace locus::testing {

struct HttpGetResult {
  int status = -1;  // -1: no HTTP answer (connection refused, timeout, garbage)
  std::string content_type;
  std::string body;
  std::string error;
};

// METHOD http://ADDRESS/path (ADDRESS "HOST:PORT") with an empty body, Connection: close; gives
// up after `timeout_s`. `headers`: more request header lines, each ending in "\r\n".
inline HttpGetResult httpRequest(const std::string& method, const std::string& address,
                                 const std::string& path, int timeout_s = 10,
                                 const std::string& headers = "") {
  HttpGetResult r;
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    r.error = "no port in " + address;
    return r;
  }
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* ai = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &ai) != 0 || !ai) {
    r.error = "cannot resolve " + address;
    return r;
  }
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  bool connected = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
  freeaddrinfo(ai);
  if (!connected) {
    if (fd >= 0) close(fd);
    r.error = "cannot connect to " + address;
    return r;
  }
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + address +
                        (method == "GET" || method == "HEAD" ? "" : "\r\nContent-Length: 0") +
                        "\r\nConnection: close\r\n" + headers + "\r\n";
  for (size_t done = 0; done < request.size();) {
    ssize_t n = send(fd, request.data() + done, request.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      r.error = "send failed";
      return r;
    }
    done += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[16384];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) {
    r.error = "not an HTTP answer: '" + raw.substr(0, 80) + "'";
    return r;
  }
  r.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  std::string head = raw.substr(0, head_end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto at = head.find("\r\ncontent-type:"); at != std::string::npos) {
    auto start = raw.find_first_not_of(' ', at + 15);
    r.content_type = raw.substr(start, raw.find("\r\n", start) - start);
  }
  r.body = raw.substr(head_end + 4);
  return r;
}

inline HttpGetResult httpGet(const std::string& address, const std::string& path,
                             int timeout_s = 10) {
  return httpRequest("GET", address, path, timeout_s);
}

}  // namespace locus::testing
