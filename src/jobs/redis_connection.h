// RedisConnection: one synchronous hiredis connection with bounded timeouts and bounded reconnects
// (jobs layer; the Redis Streams job store's transport, docs/design/video-service.md).
// Every command has a deadline (connect and reply timeouts): a dead or unreachable Redis is a
// kUnavailable value after at most `reconnect_attempts` tries with backoff, never a hang or a crash.
// Threading contract: not thread-safe; the owner serialises calls (RedisJobStore holds a mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.h"

struct redisContext;
struct redisReply;

namespace frugal::jobs {

// redis://HOST[:PORT][/DB]; PORT defaults to 6379, DB to 0.
struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string text;  // as given, for messages
};
Expected<RedisAddress> parse_redis_url(const std::string& url);

struct RedisTimeouts {
  int64_t connect_ms = 2000;
  int64_t command_ms = 5000;   // one reply, at most
  int reconnect_attempts = 3;  // per command, after the connection broke; 100 ms, 400 ms, 1.6 s apart
};

// A parsed reply: a tree of strings, integers, arrays and nil (hiredis's reply, copied).
struct RedisValue {
  enum class Kind { kNil, kString, kInteger, kArray, kStatus, kError };
  Kind kind = Kind::kNil;
  std::string text;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisValue> elements;  // kArray
  bool is_nil() const { return kind == Kind::kNil; }
  // The text of a string/status, the digits of an integer, "" otherwise.
  std::string str() const;
};

class RedisConnection {
 public:
  // Connects, selects the database and PINGs; kUnavailable with Redis's or the socket's reason.
  static Expected<std::unique_ptr<RedisConnection>> connect(const RedisAddress& address, const RedisTimeouts& timeouts);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Runs one command. A broken connection is reopened and the command sent again (bounded), so a
  // command may run twice when only its reply was lost: the job store's scripts are written to be
  // repeatable. kUnavailable when Redis cannot be reached; kInternal for an error reply.
  Expected<RedisValue> command(const std::vector<std::string>& argv);
  // EVAL of `script` with no KEYS and `args` as ARGV.
  Expected<RedisValue> eval(const std::string& script, const std::vector<std::string>& args);

  const RedisAddress& address() const { return address_; }

 private:
  RedisConnection(RedisAddress address, RedisTimeouts timeouts) : address_(std::move(address)), timeouts_(timeouts) {}
  Status open();
  void close();

  RedisAddress address_;
  RedisTimeouts timeouts_;
  redisContext* context_ = nullptr;
};

}  // namespace frugal::jobs
