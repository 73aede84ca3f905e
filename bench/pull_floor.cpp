// The floor under endpoint_load.sh's "CPU per /metrics pull": the least a server can do per
// request on this machine. It answers every request on a kept-alive connection with a fixed
// body of BYTES bytes, with the same system calls as metricsd's server (poll, recv, one
// sendmsg; no per-request /proc read) and no work at all in user space. What a pull of
// metricsd costs above this is metricsd's own; the rest is the kernel's loopback TCP and the
// machine's wake-ups.
//   pull_floor PORT BYTES     (serves 127.0.0.1:PORT until killed)
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PORT BYTES\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::size_t bytes = std::strtoul(argv[2], nullptr, 10);
  std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
      "Content-Length: " +
      std::to_string(bytes) + "\r\n\r\n";
  response.append(bytes, 'x');

  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 16) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  std::string request;
  char buf[4096];
  for (;;) {
    int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      continue;
    }
    request.clear();
    for (;;) {
      pollfd p{conn, POLLIN, 0};
      if (::poll(&p, 1, -1) < 0) {
        break;
      }
      ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      request.append(buf, static_cast<std::size_t>(n));
      // One answer per complete request head (the client sends no bodies).
      std::size_t end;
      while ((end = request.find("\r\n\r\n")) != std::string::npos) {
        request.erase(0, end + 4);
        msghdr msg{};
        iovec iov{response.data(), response.size()};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        if (::sendmsg(conn, &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(response.size())) {
          break;  // a short send is not expected for the sizes measured here
        }
      }
    }
    ::close(conn);
  }
}
