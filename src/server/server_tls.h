// TLS for the built-in server's own endpoint, as an interface: the server drives it from its
// poll loop, the network module implements it with OpenSSL (http/tls_server.h), so OpenSSL
// is loaded only when server.tls is configured and a pull-only agent stays small.
#pragma once

#include <cstddef>
#include <memory>

namespace metricsd {

// One TLS session over one accepted, non-blocking socket. The handshake happens inside the
// first Read/Write calls. Used from the server thread only.
class TlsStream {
 public:
  // What the session waits for before the call that returned it can make progress.
  enum class Want { kNothing, kRead, kWrite };
  struct Io {
    std::size_t bytes = 0;
    bool open = true;  // false: closed by the peer, or a TLS/socket error (drop the connection)
    Want want = Want::kNothing;
  };

  virtual ~TlsStream() = default;
  // Up to `size` bytes of plaintext; bytes == 0 with `want` set means "poll, then retry".
  virtual Io Read(char* buffer, std::size_t size) = 0;
  // Writes up to `size` bytes; a partial write leaves the rest to a later call.
  virtual Io Write(const char* data, std::size_t size) = 0;
  // Plaintext already decrypted and buffered inside the session (poll() cannot see it).
  virtual bool HasBufferedInput() const = 0;
  // The client presented a certificate that chains to the configured client CA.
  virtual bool PeerCertificateVerified() const = 0;
};

class ServerTls {
 public:
  virtual ~ServerTls() = default;
  // A session for a socket just accepted; null when none could be made (out of memory).
  // Picks up certificate, key and client CA files replaced on disk (checked at most once a
  // second), so a rotated certificate needs no restart. Server thread only.
  virtual std::unique_ptr<TlsStream> Accept(int fd) = 0;
};

}  // namespace metricsd
