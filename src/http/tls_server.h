// ServerTls with OpenSSL: TLS (and mTLS) for the server's own endpoint. Lives in the network
// module (net/net_api.h), so OpenSSL is loaded only when server.tls is configured.
//
// The context is built from server.tls: the certificate chain and key, the lowest version,
// and with a client CA the client-certificate policy (node_exporter's client_auth_type
// names). `request_only` asks for a certificate without failing the handshake when there is
// none: the server then requires one per request, so that probes can be exempted.
// Certificate, key and CA files are stat()ed at most once a second on accept; a change
// rebuilds the context for new connections (a rebuild that fails keeps the old one and is
// logged), so a rotated certificate needs no restart.
#pragma once

#include <memory>
#include <string_view>

#include "config/options.h"
#include "core/result.h"
#include "server/server_tls.h"

namespace metricsd::http {

// Fails, naming the key under key_prefix ("server.tls.key_file: ..."), when the files do
// not make a usable context.
Result<std::unique_ptr<ServerTls>> MakeServerTls(const config::ServerTlsOptions& options,
                                                 bool request_only, std::string_view key_prefix);

}  // namespace metricsd::http
