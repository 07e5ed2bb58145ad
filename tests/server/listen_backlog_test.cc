// The HTTP server's accept queue is deep enough for a burst of clients. httplib's default backlog
// is 5: 64 streams opening at once while the engine keeps both cores busy overflowed it, Linux
// dropped the handshakes it could not queue, and clients whose connection was given up saw their
// request answered with a reset ("transport: Read" in `frugal loadgen`). The backlog of a listening
// socket is read back from the kernel over NETLINK_SOCK_DIAG (what `ss -lt` shows as Send-Q).
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "server/fake_engine.h"
#include "server/http_server.h"
#include "server/server_test_util.h"

namespace frugal {
namespace {

// The maximum accept-queue length of the IPv4 TCP socket listening on `port`, or nullopt when no
// such socket is found (or the diag socket cannot be used: the caller fails on that too).
std::optional<uint32_t> listen_backlog(uint16_t port) {
  const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return std::nullopt;
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request.sdiag_family = AF_INET;
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = 1u << 10;  // TCP_LISTEN
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  std::optional<uint32_t> backlog;
  if (::sendto(fd, &message, sizeof(message), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    ::close(fd);
    return std::nullopt;
  }
  alignas(nlmsghdr) char buffer[16384];
  for (int reads = 0; reads < 1000; ++reads) {  // bounded: a dump ends with NLMSG_DONE
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    bool done = false;
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
        done = true;
        break;
      }
      const auto* diag = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      if (ntohs(diag->id.idiag_sport) == port) backlog = diag->idiag_wqueue;  // listeners: max backlog
    }
    if (done) break;
  }
  ::close(fd);
  return backlog;
}

TEST(ListenBacklog, TheKernelReadsBackABacklogItWasGiven) {
  // The reader itself, on a socket whose backlog this test sets.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 37), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::optional<uint32_t> backlog = listen_backlog(ntohs(addr.sin_port));
  ::close(fd);
  ASSERT_TRUE(backlog.has_value()) << "no listening socket found over NETLINK_SOCK_DIAG";
  EXPECT_EQ(*backlog, 37u);
}

TEST(ListenBacklog, TheServerQueuesABurstOfConnections) {
  testing::FakeEngine engine(testing::FakeEngineOptions{});
  MetricsRegistry registry;
  HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.model_name = "test-model";
  HttpServer server(engine, testing::test_tokenizer(), &registry, options);
  const Status status = server.start_background();
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  const std::optional<uint32_t> backlog = listen_backlog(static_cast<uint16_t>(server.port()));
  ASSERT_TRUE(backlog.has_value()) << "no listening socket found over NETLINK_SOCK_DIAG";
  // At least as deep as the streams the server runs by default, with room for the ones queued.
  EXPECT_GE(*backlog, 1024u);
  server.shutdown(std::chrono::milliseconds(0));
}

}  // namespace
}  // namespace frugal
