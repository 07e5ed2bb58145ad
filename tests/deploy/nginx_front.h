// Test helper (tests/deploy): the shipped deploy/nginx/frugal.conf run by a real nginx (Debian's
// package) on loopback in front of `frugal serve` nodes. The shipped file is used as it is, with
// only its deployment lines replaced: the upstream `server frugal-api-N:8080` lines (-> the nodes'
// 127.0.0.1 ports), the `listen 8080` line (-> 127.0.0.1:a free port) and the log folder (-> the
// test's). A minimal main nginx.conf around it plays Debian's /etc/nginx/nginx.conf (with its
// `gzip on`). Every wait is bounded; the destructor stops nginx.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/loopback_port.h"
#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal::testing {

inline std::filesystem::path repo_root() {
  return std::filesystem::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path();
}

// Debian's nginx binary ("" when it is not installed).
inline std::string find_nginx() {
  for (const char* path : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

// Replaces the deployment lines of the shipped config. On a file whose shape changed (not exactly
// one `server frugal-api-N:8080 ` line per node, not one `listen 8080;`), returns "" and says why.
inline std::string render_frugal_conf(const std::string& shipped, const std::vector<int>& node_ports, int listen_port,
                                      const std::string& log_dir, std::string* why) {
  std::string text = shipped;
  const auto replace_once = [&](const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
      *why = "expected exactly one '" + from + "' in deploy/nginx/frugal.conf";
      return false;
    }
    text.replace(at, from.size(), to);
    return true;
  };
  for (size_t node_idx = 0; node_idx < node_ports.size(); ++node_idx) {
    if (!replace_once("    server frugal-api-" + std::to_string(node_idx + 1) + ":8080 ",
                      "    server 127.0.0.1:" + std::to_string(node_ports[node_idx]) + " ")) {
      return "";
    }
  }
  if (text.find("    server frugal-api-") != std::string::npos) {
    *why = "deploy/nginx/frugal.conf names more upstream nodes than the test starts";
    return "";
  }
  if (!replace_once("    listen 8080;", "    listen 127.0.0.1:" + std::to_string(listen_port) + ";")) return "";
  if (!replace_once("access_log /var/log/nginx/", "access_log " + log_dir + "/")) return "";
  return text;
}

class NginxFront {
 public:
  // `dir`: an empty folder for the configs, logs, pid and temp files.
  explicit NginxFront(std::string dir) : dir_(std::move(dir)) {}
  ~NginxFront() { stop(); }
  NginxFront(const NginxFront&) = delete;
  NginxFront& operator=(const NginxFront&) = delete;

  // Renders the shipped config for these nodes, checks it with `nginx -t` and starts nginx on a
  // free loopback port (a few tries: the port can be taken between probing and binding). False
  // with *why on failure.
  bool start(const std::string& nginx, const std::vector<int>& node_ports, std::string* why) {
    const std::string shipped = read_text_file((repo_root() / "deploy" / "nginx" / "frugal.conf").string());
    if (shipped.empty()) {
      *why = "deploy/nginx/frugal.conf is missing";
      return false;
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_loopback_port();
      const std::string conf = render_frugal_conf(shipped, node_ports, port_, dir_, why);
      if (conf.empty()) return false;
      std::ofstream(dir_ + "/frugal.conf") << conf;
      write_main_conf();
      const CommandResult test = run_command(nginx + " -t -q -p '" + dir_ + "' -e '" + dir_ + "/error.log' -c '" +
                                             dir_ + "/nginx.conf' 2>&1");
      if (test.exit_code != 0) {
        *why = "nginx -t rejected the rendered config:\n" + test.output;
        return false;
      }
      spawn(nginx);
      if (wait_until_listening()) return true;
      stop();
    }
    *why = "nginx did not start listening:\n" + error_log();
    return false;
  }

  // SIGTERM (nginx's fast shutdown: the master stops its workers), SIGKILL after 5 s.
  void stop() { child_.stop(5000); }

  int port() const { return port_; }
  std::string access_log() const { return read_text_file(dir_ + "/frugal-access.log"); }
  std::string error_log() const { return read_text_file(dir_ + "/error.log"); }
  std::string rendered() const { return read_text_file(dir_ + "/frugal.conf"); }

 private:
  // What Debian's /etc/nginx/nginx.conf provides around conf.d/*.conf, including its `gzip on`
  // (here also for the types a stream has: the shipped stream location must switch it off).
  void write_main_conf() const {
    std::ofstream main(dir_ + "/nginx.conf");
    main << "worker_processes 1;\n"
         << (geteuid() == 0 ? "user root;\n" : "")
         << "pid " << dir_ << "/nginx.pid;\n"
         << "error_log " << dir_ << "/error.log info;\n"
         << "events { worker_connections 256; }\n"
         << "http {\n"
         << "  default_type application/octet-stream;\n"
         << "  gzip on;\n"
         << "  gzip_types text/event-stream application/json;\n";
    for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
      main << "  " << temp << "_temp_path " << dir_ << "/tmp_" << temp << ";\n";
    }
    main << "  include " << dir_ << "/frugal.conf;\n"
         << "}\n";
  }

  void spawn(const std::string& nginx) {
    child_.start({nginx, "-p", dir_, "-e", dir_ + "/error.log", "-c", dir_ + "/nginx.conf", "-g", "daemon off;"},
                 dir_ + "/nginx.out");
  }

  // Bounded: up to 5 s for the port to accept a connection, false if nginx exited first.
  bool wait_until_listening() {
    return child_.wait_until([&] {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port_));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      ::close(fd);
      return up;
    }, 5000, 25);
  }

  std::string dir_;
  ChildProcess child_;
  int port_ = 0;
};

}  // namespace frugal::testing
