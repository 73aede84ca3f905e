// Raw loopback TCP clients for the server tests: connect (optionally with a small receive
// window, to play a slow reader), read until the server closes, one request per connection.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "core/unique_fd.h"

namespace metricsd::testing {

// `receive_buffer` > 0 shrinks the socket's receive window, to play a slow reader.
inline UniqueFd Connect(int port, int receive_buffer = 0) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (receive_buffer > 0) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return UniqueFd();
  }
  return fd;
}

// Reads until the peer closes the connection (or 10 s pass without data).
inline std::string ReadUntilClosed(const UniqueFd& fd) {
  std::string reply;
  char buf[4096];
  for (;;) {
    pollfd p{.fd = fd.get(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 10000) != 1) {
      break;
    }
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    reply.append(buf, static_cast<std::size_t>(n));
  }
  return reply;
}

// Sends raw bytes on a new connection and reads until the server closes it (or 10 s pass).
inline std::string Exchange(int port, const std::string& request) {
  UniqueFd fd = Connect(port);
  if (!fd.valid()) {
    return "";
  }
  ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
  return ReadUntilClosed(fd);
}

}  // namespace metricsd::testing
