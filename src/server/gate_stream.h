// GateStream: the cpp-httplib Stream a gate lane serves one request on (server layer). Reads come
// from the request the gate already read and validated; writes go to the client's non-blocking
// socket, waiting at most `write_timeout` for each bit of progress, and fail once the client hung up.
// Threading contract: used by the one lane thread serving the request.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <string_view>

#include "server/client_link.h"

namespace frugal {

struct SocketPeer {
  std::string remote_ip;
  int remote_port = 0;
  std::string local_ip;
  int local_port = 0;
};

// Writes all of `bytes` to the non-blocking socket `fd`; false on an error, on `stall` without
// progress (*timed_out set) or once `link` (may be null) says the client is gone.
bool write_all(int fd, std::string_view bytes, std::chrono::milliseconds stall, const ClientLink* link,
               bool* timed_out = nullptr);

class GateStream final : public httplib::Stream {
 public:
  GateStream(int fd, std::string request, const ClientLink& link, std::chrono::milliseconds write_timeout,
             const SocketPeer& peer)
      : fd_(fd), request_(std::move(request)), link_(link), write_timeout_(write_timeout), peer_(peer) {}

  bool is_readable() const override { return read_pos_ < request_.size(); }
  bool is_writable() const override { return !failed_ && !link_.gone(); }
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = peer_.remote_ip;
    port = peer_.remote_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = peer_.local_ip;
    port = peer_.local_port;
  }
  socket_t socket() const override { return fd_; }

  bool failed() const { return failed_; }
  bool timed_out() const { return timed_out_; }

 private:
  int fd_;
  std::string request_;  // the normalized request (HttpRequestReader::normalized)
  size_t read_pos_ = 0;
  const ClientLink& link_;
  std::chrono::milliseconds write_timeout_;
  SocketPeer peer_;
  bool failed_ = false;
  bool timed_out_ = false;
};

}  // namespace frugal
