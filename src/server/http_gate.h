// HttpGate: the event-driven front end that owns every client socket (server layer).
//
// One event-loop thread (epoll) accepts connections and reads each request through an
// HttpRequestReader under deadlines: the head must arrive within header_timeout of its first byte,
// the body within body_timeout of the head, and a kept-alive connection may idle for idle_timeout.
// Holding a connection costs a socket and a few hundred bytes, never a thread, so idle and slow
// ("slow-loris") clients cannot starve anyone. Connections beyond max_connections overall or
// max_connections_per_address from one address are still read, but only /health and /metrics are
// served on them: anything else gets 503 (probes must keep working while the server is full).
// Beyond a hard ceiling a new connection gets 503 at once.
//
// A complete request is handed to a lane: API requests to a pool of num_api_threads workers,
// /metrics to its own dedicated thread; GET /health is answered by the event loop itself (a few
// hundred bytes, written without blocking), so neither load nor hostile clients delay a probe. The lane's thread runs `serve` (cpp-httplib's routing, see RoutedServer) on a GateStream
// that reads the buffered request and writes to the socket; meanwhile the event loop watches the
// socket for a hang-up and fires the request's ClientLink, which cancels its engine work at once.
// The next request on the connection (pipelined ones included) is read only after the response.
//
// Threading contract: bind() then run() on one thread; stop() from any thread, once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"
#include "metrics/metrics.h"
#include "server/client_link.h"
#include "server/http_request_reader.h"
#include "server/json_limits.h"

namespace httplib {
class Stream;
}

namespace frugal {

struct HttpGateOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: an ephemeral port
  HttpRequestLimits limits;
  std::chrono::milliseconds header_timeout{10'000};  // first byte of a request -> end of its head
  std::chrono::milliseconds body_timeout{30'000};    // end of the head -> end of the body
  std::chrono::milliseconds idle_timeout{5'000};     // a kept-alive connection with no request
  std::chrono::milliseconds write_timeout{30'000};   // a response write that makes no progress
  size_t max_connections = 2048;                     // beyond: probes only (503 for the rest)
  size_t max_connections_per_address = 256;          // from one client address; beyond: probes only
  size_t num_api_threads = 32;                       // API requests served at once (streams hold one)
  size_t max_json_depth = kMaxJsonDepth;             // application/json bodies nesting deeper -> 400
  // GET/HEAD /health, answered by the event loop itself (no thread hand-off, so a probe waits for
  // nothing but the loop): the status and JSON body. Unset: /health goes to its own lane thread.
  std::function<std::pair<int, std::string>()> health;
};

enum class GateLane { kApi, kHealth, kMetrics };

// Which lane serves a request (by method and path, before routing).
GateLane gate_lane_of(std::string_view method, std::string_view path);

// Serves one request read from `stream` and writes its response there (cpp-httplib's
// Server::process_request). Returns false when the connection must close.
using GateServe = std::function<bool(httplib::Stream& stream, bool close_connection, bool& connection_closed)>;

// The ClientLink of the request the calling thread is serving (nullptr outside the gate's lanes).
ClientLink* current_client_link();

class HttpGate {
 public:
  // `registry` may be null; else the gate registers its frugal_http_* families there.
  HttpGate(HttpGateOptions options, GateServe serve, MetricsRegistry* registry);
  ~HttpGate();
  HttpGate(const HttpGate&) = delete;
  HttpGate& operator=(const HttpGate&) = delete;

  // Binds and listens (backlog kListenBacklog); errors: kUnavailable.
  Status bind();
  int port() const { return port_; }
  // The event loop, until stop(): then open connections are closed and the lanes' threads joined
  // (requests being served finish first).
  void run();
  bool running() const { return running_.load(); }
  void stop();

  // The listener's accept queue (the kernel caps it at net.core.somaxconn): deep enough for a burst
  // of clients opening streams at once while the engine keeps every core busy.
  static constexpr int kListenBacklog = 1024;
  // Requests served on one kept-alive connection before it is closed (announced in the Keep-Alive
  // response header).
  static constexpr size_t kMaxRequestsPerConnection = 1000;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<bool> running_{false};
};

}  // namespace frugal
