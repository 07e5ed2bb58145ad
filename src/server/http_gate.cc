#include "server/http_gate.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/logging.h"
#include "server/error_mapping.h"
#include "server/gate_stream.h"
#include "server/lane_pool.h"

namespace frugal {
namespace {

using Clock = std::chrono::steady_clock;

// How often deadlines are checked; also the event loop's longest sleep.
constexpr std::chrono::milliseconds kTick{50};
// A connection being closed after an error response is drained (not reset, so the client reads the
// response) for at most this long.
constexpr std::chrono::milliseconds kLinger{2000};
// A connection over a cap has this long to send its request head (it can only be a probe).
constexpr std::chrono::milliseconds kRestrictedHeadTimeout{2000};
// Bytes read from one connection per wakeup, so one fast sender cannot hold the loop.
constexpr size_t kReadBudgetBytes = 256 * 1024;

thread_local ClientLink* t_client_link = nullptr;

enum class Phase { kIdle, kHead, kBody, kBusy, kLingering };

struct Connection {
  int fd = -1;
  std::atomic<bool> responded{false};  // the lane has written its response (a close now is no hang-up)
  SocketPeer peer;
  Phase phase = Phase::kIdle;
  HttpRequestReader reader;
  Clock::time_point deadline;
  bool restricted = false;  // over a connection cap: probes only, then closed
  bool in_epoll = true;
  size_t requests_served = 0;
  std::shared_ptr<ClientLink> link = std::make_shared<ClientLink>();
};

struct Completion {
  std::shared_ptr<Connection> conn;
  bool keep_alive = false;
};

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

// A complete response carrying an OpenAI error body.
std::string error_response(int status, const std::string& code, const std::string& message, bool close,
                           int retry_after_seconds = 0) {
  ApiError error;
  error.http_status = status;
  error.type = status >= 500 ? "server_error" : "invalid_request_error";
  error.message = message;
  error.code = code;
  const std::string body = api_error_body(error);
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (retry_after_seconds > 0) out += "Retry-After: " + std::to_string(retry_after_seconds) + "\r\n";
  out += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
  return out + body;
}

bool is_json_content(const HttpHead& head) {
  const std::optional<std::string_view> type = head.header("Content-Type");
  if (!type) return false;
  std::string lower(*type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.rfind("application/json", 0) == 0;
}

std::string address_text(const sockaddr_storage& addr, int* port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    *port = ntohs(v4->sin_port);
  } else {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    *port = ntohs(v6->sin6_port);
  }
  std::string out(text);
  if (out.rfind("::ffff:", 0) == 0 && out.find('.') != std::string::npos) out = out.substr(7);  // v4-mapped
  return out;
}

struct GateMetrics {
  GaugeFamily* open = nullptr;
  CounterFamily* refused = nullptr;    // reason
  CounterFamily* timeouts = nullptr;   // phase
  CounterFamily* rejected = nullptr;   // status
  CounterFamily* hangups = nullptr;
};

GateMetrics register_gate_metrics(MetricsRegistry& registry) {
  GateMetrics m;
  m.open = registry.gauge("frugal_http_connections", "Client connections open");
  m.refused = registry.counter("frugal_http_connections_refused_total",
                               "Requests answered 503 because their connection was over a cap; "
                               "reason=connection_cap|address_cap|hard_limit",
                               {"reason"});
  m.timeouts = registry.counter("frugal_http_timeouts_total",
                                "Connections closed by a deadline; phase=idle|header|body|write", {"phase"});
  m.rejected = registry.counter("frugal_http_rejected_requests_total",
                                "Requests the front end refused before routing (bad framing, limits), by status",
                                {"status"});
  m.hangups = registry.counter("frugal_http_client_hangups_total",
                               "Clients that hung up while their request was being served (its engine work is "
                               "cancelled at once)");
  return m;
}

}  // namespace

GateLane gate_lane_of(std::string_view /*method*/, std::string_view path) {
  if (path == "/health") return GateLane::kHealth;
  if (path == "/metrics") return GateLane::kMetrics;
  return GateLane::kApi;
}

ClientLink* current_client_link() { return t_client_link; }

struct HttpGate::Impl {
  HttpGateOptions options;
  GateServe serve;
  GateMetrics metrics;
  bool has_metrics = false;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  size_t hard_ceiling = 0;
  std::string local_ip;
  int local_port = 0;
  std::unordered_map<int, std::shared_ptr<Connection>> connections;
  std::unordered_map<std::string, size_t> per_address;
  std::mutex completions_mutex;
  std::vector<Completion> completions;
  std::atomic<bool> stopping{false};
  bool accept_paused = false;
  std::unique_ptr<LanePool> api_lane;
  std::unique_ptr<LanePool> health_lane;
  std::unique_ptr<LanePool> metrics_lane;
  std::vector<int> reparse;  // kept-alive connections with a pipelined request already buffered

  void count(CounterFamily* family, const std::vector<std::string>& labels = {}) {
    if (has_metrics) family->with(labels).inc();
  }
  void update_open_gauge() {
    if (has_metrics) metrics.open->with().set(static_cast<double>(connections.size()));
  }
  void wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof(one));
  }
  void set_events(Connection& conn, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = conn.fd;
    if (conn.in_epoll) {
      ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, conn.fd, &ev);
    } else {
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, conn.fd, &ev);
      conn.in_epoll = true;
    }
  }
  void remove_events(Connection& conn) {
    if (!conn.in_epoll) return;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, conn.fd, nullptr);
    conn.in_epoll = false;
  }

  void accept_all();
  void on_event(int fd, uint32_t events);
  void read_some(const std::shared_ptr<Connection>& conn);
  void advance(const std::shared_ptr<Connection>& conn, HttpRequestReader::Progress progress);
  void dispatch(const std::shared_ptr<Connection>& conn);
  void serve_on_lane(const std::shared_ptr<Connection>& conn, std::string request, bool keep_alive, bool json_too_deep,
                     const std::string& depth_message);
  void finish(const Completion& done);
  void respond_and_close(Connection& conn, const std::string& response);
  void close_now(int fd);
  void check_deadlines();
  void drain_completions();
  void answer_health(const std::shared_ptr<Connection>& conn);
  void parse_buffered();
};

HttpGate::HttpGate(HttpGateOptions options, GateServe serve, MetricsRegistry* registry) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->serve = std::move(serve);
  if (registry != nullptr) {
    impl_->metrics = register_gate_metrics(*registry);
    impl_->has_metrics = true;
  }
}

HttpGate::~HttpGate() {
  stop();
  Impl& impl = *impl_;
  if (impl.api_lane) impl.api_lane->shutdown();
  for (const auto& [fd, conn] : impl.connections) ::close(fd);
  for (int fd : {impl.listen_fd, impl.epoll_fd, impl.wake_fd}) {
    if (fd >= 0) ::close(fd);
  }
}

Status HttpGate::bind() {
  Impl& impl = *impl_;
  const std::string where = impl.options.host + ":" + std::to_string(impl.options.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(impl.options.port);
  if (::getaddrinfo(impl.options.host.c_str(), port_text.c_str(), &hints, &found) != 0 || found == nullptr) {
    return unavailable("cannot listen on " + where + " (unknown host)");
  }
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, kListenBacklog) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return unavailable("cannot listen on " + where + " (address in use or not available)");
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  impl.local_ip = address_text(addr, &impl.local_port);
  port_ = impl.local_port;
  impl.listen_fd = fd;
  impl.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  impl.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl.epoll_fd < 0 || impl.wake_fd < 0) return unavailable(std::string("epoll/eventfd: ") + std::strerror(errno));
  for (int watched : {impl.listen_fd, impl.wake_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = watched;
    ::epoll_ctl(impl.epoll_fd, EPOLL_CTL_ADD, watched, &ev);
  }
  // The hard ceiling stays below the descriptors this process may open (sockets of other kinds,
  // model files and the engine's own need some).
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  const size_t wanted = impl.options.max_connections + impl.options.max_connections / 4 + 16;
  const size_t fd_room = files.rlim_cur > 128 ? static_cast<size_t>(files.rlim_cur) - 128 : 16;
  impl.hard_ceiling = std::min(wanted, fd_room);
  if (impl.hard_ceiling < wanted) {
    log_warn("HTTP front end: the open-file limit (" + std::to_string(files.rlim_cur) + ") caps connections at " +
             std::to_string(impl.hard_ceiling));
  }
  impl.api_lane = std::make_unique<LanePool>(std::max<size_t>(1, impl.options.num_api_threads));
  impl.health_lane = std::make_unique<LanePool>(1);
  impl.metrics_lane = std::make_unique<LanePool>(1);
  return Status::ok();
}

void HttpGate::run() {
  Impl& impl = *impl_;
  running_.store(true);
  epoll_event events[256];
  auto next_check = Clock::now() + kTick;
  while (!impl.stopping.load()) {
    const int n = ::epoll_wait(impl.epoll_fd, events, 256, impl.reparse.empty() ? static_cast<int>(kTick.count()) : 0);
    for (int event_idx = 0; event_idx < n; ++event_idx) {
      const int fd = events[event_idx].data.fd;
      if (fd == impl.listen_fd) {
        impl.accept_all();
      } else if (fd == impl.wake_fd) {
        uint64_t value = 0;
        [[maybe_unused]] const ssize_t r = ::read(impl.wake_fd, &value, sizeof(value));
      } else {
        impl.on_event(fd, events[event_idx].events);
      }
    }
    impl.drain_completions();
    impl.parse_buffered();
    if (Clock::now() >= next_check) {
      impl.check_deadlines();
      next_check = Clock::now() + kTick;
    }
  }
  // Stopping: nobody new gets in; requests being served finish (their clients are told they are
  // gone, so a stalled write gives up), then every connection closes.
  ::epoll_ctl(impl.epoll_fd, EPOLL_CTL_DEL, impl.listen_fd, nullptr);
  for (const auto& [fd, conn] : impl.connections) {
    if (conn->phase == Phase::kBusy) conn->link->mark_gone();
  }
  impl.api_lane->shutdown();
  impl.health_lane->shutdown();
  impl.metrics_lane->shutdown();
  impl.drain_completions();
  std::vector<int> fds;
  for (const auto& [fd, conn] : impl.connections) fds.push_back(fd);
  for (int fd : fds) impl.close_now(fd);
  running_.store(false);
}

void HttpGate::stop() {
  if (impl_->stopping.exchange(true)) return;
  if (impl_->wake_fd >= 0) impl_->wake();
}

void HttpGate::Impl::accept_all() {
  for (int accepted = 0; accepted < 256; ++accepted) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: stop accepting for a tick rather than spin on a readable listener.
        epoll_event ev{};
        ev.data.fd = listen_fd;
        ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
        accept_paused = true;
      }
      break;
    }
    auto conn = std::make_shared<Connection>();
    conn->fd = fd;
    conn->peer.remote_ip = address_text(addr, &conn->peer.remote_port);
    conn->peer.local_ip = local_ip;
    conn->peer.local_port = local_port;
    conn->reader = HttpRequestReader(options.limits);
    if (connections.size() >= hard_ceiling) {
      const std::string response =
          error_response(503, "server_overloaded", "The server has too many open connections; retry later", true, 1);
      [[maybe_unused]] const ssize_t n = ::send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      count(metrics.refused, {"hard_limit"});
      continue;
    }
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    size_t& from_address = per_address[conn->peer.remote_ip];
    conn->restricted = connections.size() >= options.max_connections || from_address >= options.max_connections_per_address;
    ++from_address;
    conn->deadline = Clock::now() + (conn->restricted ? std::min(options.idle_timeout, kRestrictedHeadTimeout)
                                                      : options.idle_timeout);
    conn->in_epoll = false;
    set_events(*conn, EPOLLIN | EPOLLRDHUP);
    connections.emplace(fd, std::move(conn));
  }
  update_open_gauge();
}

void HttpGate::Impl::on_event(int fd, uint32_t events) {
  auto it = connections.find(fd);
  if (it == connections.end()) return;
  std::shared_ptr<Connection> conn = it->second;
  if (conn->phase == Phase::kBusy) {
    // Only a hang-up is watched while a request is served.
    if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
      remove_events(*conn);
      if (conn->link->mark_gone() && !conn->responded.load()) count(metrics.hangups);
    }
    return;
  }
  if (conn->phase == Phase::kLingering) {
    char sink[16384];
    for (size_t drained = 0; drained < kReadBudgetBytes; drained += sizeof(sink)) {
      const ssize_t r = ::recv(fd, sink, sizeof(sink), 0);
      if (r > 0) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
      return close_now(fd);  // EOF or error: the client has read what it will
    }
    return;
  }
  read_some(conn);
}

void HttpGate::Impl::read_some(const std::shared_ptr<Connection>& conn) {
  char buffer[16384];
  for (size_t total = 0; total < kReadBudgetBytes;) {
    const ssize_t r = ::recv(conn->fd, buffer, sizeof(buffer), 0);
    if (r == 0) return close_now(conn->fd);  // the client closed (mid-request or idle)
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return close_now(conn->fd);
    }
    total += static_cast<size_t>(r);
    advance(conn, conn->reader.feed(std::string_view(buffer, static_cast<size_t>(r))));
    if (conn->phase == Phase::kBusy || conn->phase == Phase::kLingering) return;
  }
}

// Moves a reading connection on after the reader has parsed what arrived.
void HttpGate::Impl::advance(const std::shared_ptr<Connection>& conn, HttpRequestReader::Progress progress) {
  Connection& c = *conn;
  if (progress == HttpRequestReader::Progress::kError) {
    const HttpReadError& error = c.reader.error();
    count(metrics.rejected, {std::to_string(error.http_status)});
    return respond_and_close(c, error_response(error.http_status, error.code, error.message, true));
  }
  const auto now = Clock::now();
  if (c.phase == Phase::kIdle && c.reader.started()) {
    c.phase = Phase::kHead;
    c.deadline = now + (c.restricted ? kRestrictedHeadTimeout : options.header_timeout);
  }
  if (c.phase == Phase::kHead && c.reader.head_done()) {
    const HttpHead& head = c.reader.head();
    if (c.restricted && gate_lane_of(head.method, head.path) == GateLane::kApi) {
      const bool by_address = connections.size() < options.max_connections;
      count(metrics.refused, {by_address ? "address_cap" : "connection_cap"});
      return respond_and_close(
          c, error_response(503, "too_many_connections",
                            by_address ? "Too many connections from this address; retry later"
                                       : "The server has too many open connections; retry later",
                            true, 1));
    }
    c.phase = Phase::kBody;
    c.deadline = now + options.body_timeout;
    if (head.expect_continue && progress != HttpRequestReader::Progress::kComplete) {
      const std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
      [[maybe_unused]] const ssize_t n = ::send(c.fd, interim.data(), interim.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }
  if (progress == HttpRequestReader::Progress::kComplete) dispatch(conn);
}

void HttpGate::Impl::dispatch(const std::shared_ptr<Connection>& conn) {
  Connection& c = *conn;
  const HttpHead& head = c.reader.head();
  const GateLane lane = gate_lane_of(head.method, head.path);
  if (lane == GateLane::kHealth && options.health && (head.method == "GET" || head.method == "HEAD")) {
    return answer_health(conn);
  }
  c.phase = Phase::kBusy;
  set_events(c, EPOLLRDHUP);  // a hang-up; the next request is read after this one's response
  const bool keep_alive = head.keep_alive && !c.restricted && ++c.requests_served < HttpGate::kMaxRequestsPerConnection;
  // The nesting check runs on the lane's thread: the loop never walks a body.
  const bool json = is_json_content(head);
  std::string request = c.reader.normalized();
  auto task = [this, conn, request = std::move(request), keep_alive, json]() mutable {
    std::optional<std::string> too_deep;
    if (json) too_deep = check_json_depth(conn->reader.body(), options.max_json_depth);
    serve_on_lane(conn, std::move(request), keep_alive, too_deep.has_value(), too_deep.value_or(""));
  };
  switch (lane) {
    case GateLane::kHealth: return health_lane->post(std::move(task));
    case GateLane::kMetrics: return metrics_lane->post(std::move(task));
    case GateLane::kApi: return api_lane->post(std::move(task));
  }
}

void HttpGate::Impl::serve_on_lane(const std::shared_ptr<Connection>& conn, std::string request, bool keep_alive,
                                   bool json_too_deep, const std::string& depth_message) {
  ClientLink& link = *conn->link;
  bool keep = keep_alive && !stopping.load();
  bool timed_out = false;
  if (json_too_deep) {
    count(metrics.rejected, {"400"});
    const std::string response = error_response(400, "json_too_deep", depth_message, !keep);
    keep = write_all(conn->fd, response, options.write_timeout, &link, &timed_out) && keep;
  } else {
    t_client_link = &link;
    GateStream stream(conn->fd, std::move(request), link, options.write_timeout, conn->peer);
    bool connection_closed = false;
    const bool ok = serve(stream, /*close_connection=*/!keep, connection_closed);
    keep = keep && ok && !connection_closed && !stream.failed();
    timed_out = stream.timed_out();
    t_client_link = nullptr;
    // A write that failed (not stalled) found the peer gone before the event loop saw the hang-up
    // (a stream writing as the client closes): the same hang-up, counted once whoever sees it first.
    if (stream.failed() && !timed_out && link.mark_gone()) count(metrics.hangups);
  }
  conn->responded.store(true);
  link.clear_hooks();
  if (timed_out) count(metrics.timeouts, {"write"});
  {
    std::lock_guard<std::mutex> lock(completions_mutex);
    completions.push_back(Completion{conn, keep && !link.gone()});
  }
  wake();
}

void HttpGate::Impl::drain_completions() {
  std::vector<Completion> done;
  {
    std::lock_guard<std::mutex> lock(completions_mutex);
    done.swap(completions);
  }
  for (const Completion& completion : done) finish(completion);
  if (accept_paused) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
    accept_paused = false;
  }
}

// A request has been answered: the connection reads its next request, or closes.
void HttpGate::Impl::finish(const Completion& done) {
  Connection& c = *done.conn;
  if (connections.find(c.fd) == connections.end()) return;
  if (c.link->gone() || stopping.load()) return close_now(c.fd);
  if (!done.keep_alive) {
    ::shutdown(c.fd, SHUT_WR);
    c.phase = Phase::kLingering;
    c.deadline = Clock::now() + kLinger;
    set_events(c, EPOLLIN | EPOLLRDHUP);
    return;
  }
  c.reader.next_request();
  c.link = std::make_shared<ClientLink>();
  c.responded.store(false);
  c.phase = Phase::kIdle;
  c.deadline = Clock::now() + options.idle_timeout;
  set_events(c, EPOLLIN | EPOLLRDHUP);
  if (c.reader.buffered_bytes() > 0) reparse.push_back(c.fd);  // a pipelined request: next loop turn
}

// Pipelined requests already buffered, one per connection per loop turn (never recursively).
void HttpGate::Impl::parse_buffered() {
  std::vector<int> fds;
  fds.swap(reparse);
  for (int fd : fds) {
    auto it = connections.find(fd);
    if (it == connections.end() || it->second->phase != Phase::kIdle) continue;
    std::shared_ptr<Connection> conn = it->second;
    advance(conn, conn->reader.parse());
  }
}

// GET/HEAD /health on the loop: a small response written without blocking; a client that does not
// read its probes' answers (the socket buffer is full) is disconnected.
void HttpGate::Impl::answer_health(const std::shared_ptr<Connection>& conn) {
  const HttpHead& head = conn->reader.head();
  const auto [status, body] = options.health();
  const bool keep_alive = head.keep_alive && !conn->restricted && !stopping.load();
  std::string response = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Service Unavailable") +
                         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                         (keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
  if (head.method == "GET") response += body;
  const ssize_t sent = ::send(conn->fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent != static_cast<ssize_t>(response.size())) return close_now(conn->fd);
  finish(Completion{conn, keep_alive});
}

// Sends a final response (small: it fits the socket buffer of a fresh connection), then drains
// what the client still sends for a moment so that closing does not reset the connection before
// the client has read the response.
void HttpGate::Impl::respond_and_close(Connection& conn, const std::string& response) {
  [[maybe_unused]] const ssize_t n = ::send(conn.fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(conn.fd, SHUT_WR);
  conn.phase = Phase::kLingering;
  conn.deadline = Clock::now() + kLinger;
  set_events(conn, EPOLLIN | EPOLLRDHUP);
}

void HttpGate::Impl::close_now(int fd) {
  auto it = connections.find(fd);
  if (it == connections.end()) return;
  Connection& conn = *it->second;
  remove_events(conn);
  ::close(fd);
  auto address = per_address.find(conn.peer.remote_ip);
  if (address != per_address.end() && --address->second == 0) per_address.erase(address);
  connections.erase(it);
  update_open_gauge();
}

void HttpGate::Impl::check_deadlines() {
  const auto now = Clock::now();
  std::vector<std::shared_ptr<Connection>> expired;
  for (const auto& [fd, conn] : connections) {
    if (conn->phase != Phase::kBusy && now >= conn->deadline) expired.push_back(conn);
  }
  for (const std::shared_ptr<Connection>& conn : expired) {
    switch (conn->phase) {
      case Phase::kIdle:
        count(metrics.timeouts, {"idle"});
        close_now(conn->fd);
        break;
      case Phase::kHead:
      case Phase::kBody: {
        const bool head = conn->phase == Phase::kHead;
        count(metrics.timeouts, {head ? "header" : "body"});
        respond_and_close(*conn, error_response(408, head ? "header_timeout" : "body_timeout",
                                                head ? "The request head did not arrive in time"
                                                     : "The request body did not arrive in time",
                                                true));
        break;
      }
      case Phase::kLingering:
        close_now(conn->fd);
        break;
      case Phase::kBusy:
        break;
    }
  }
}

}  // namespace frugal
