#include "jobs/redis_connection.h"

#include <hiredis/hiredis.h>

#include <chrono>
#include <charconv>
#include <thread>

namespace frugal::jobs {
namespace {

timeval to_timeval(int64_t ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

RedisValue copy_reply(const redisReply* reply) {
  RedisValue value;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      value.kind = RedisValue::Kind::kString;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      value.kind = RedisValue::Kind::kStatus;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      value.kind = RedisValue::Kind::kError;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      value.kind = RedisValue::Kind::kInteger;
      value.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      value.kind = RedisValue::Kind::kArray;
      for (size_t i = 0; i < reply->elements; ++i) value.elements.push_back(copy_reply(reply->element[i]));
      break;
    default:
      break;
  }
  return value;
}

bool parse_int(const std::string& text, int& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

}  // namespace

std::string RedisValue::str() const {
  if (kind == Kind::kInteger) return std::to_string(integer);
  if (kind == Kind::kString || kind == Kind::kStatus) return text;
  return "";
}

Expected<RedisAddress> parse_redis_url(const std::string& url) {
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0) return invalid_argument("job store URL '" + url + "': expected redis://HOST[:PORT][/DB]");
  RedisAddress address;
  address.text = url;
  std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    const std::string db = rest.substr(slash + 1);
    if (!db.empty() && (!parse_int(db, address.db) || address.db < 0)) {
      return invalid_argument("job store URL '" + url + "': the database must be a number, not '" + db + "'");
    }
    rest = rest.substr(0, slash);
  }
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    if (!parse_int(port, address.port) || address.port <= 0 || address.port > 65535) {
      return invalid_argument("job store URL '" + url + "': bad port '" + port + "'");
    }
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return invalid_argument("job store URL '" + url + "': no host");
  address.host = rest;
  return address;
}

Expected<std::unique_ptr<RedisConnection>> RedisConnection::connect(const RedisAddress& address,
                                                                    const RedisTimeouts& timeouts) {
  std::unique_ptr<RedisConnection> connection(new RedisConnection(address, timeouts));
  if (Status s = connection->open(); !s) return s;
  return connection;
}

RedisConnection::~RedisConnection() { close(); }

void RedisConnection::close() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

Status RedisConnection::open() {
  close();
  const std::string where = "Redis at " + address_.host + ":" + std::to_string(address_.port);
  context_ = redisConnectWithTimeout(address_.host.c_str(), address_.port, to_timeval(timeouts_.connect_ms));
  if (context_ == nullptr) return unavailable(where + ": cannot allocate a connection");
  if (context_->err != 0) {
    const std::string why = context_->errstr;
    close();
    return unavailable(where + " is unreachable: " + why);
  }
  if (redisSetTimeout(context_, to_timeval(timeouts_.command_ms)) != REDIS_OK) {
    close();
    return unavailable(where + ": cannot set the reply timeout");
  }
  std::vector<std::vector<std::string>> hello = {{"PING"}};
  if (address_.db != 0) hello.push_back({"SELECT", std::to_string(address_.db)});
  for (const auto& argv : hello) {
    std::vector<const char*> parts;
    std::vector<size_t> lengths;
    for (const std::string& arg : argv) {
      parts.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(redisCommandArgv(context_, static_cast<int>(parts.size()), parts.data(), lengths.data()));
    if (reply == nullptr) {
      const std::string why = context_->errstr;
      close();
      return unavailable(where + " does not answer: " + why);
    }
    const RedisValue value = copy_reply(reply);
    freeReplyObject(reply);
    if (value.kind == RedisValue::Kind::kError) {
      close();
      return unavailable(where + ": " + argv[0] + ": " + value.text);
    }
  }
  return Status::ok();
}

Expected<RedisValue> RedisConnection::command(const std::vector<std::string>& argv) {
  std::vector<const char*> parts;
  std::vector<size_t> lengths;
  for (const std::string& arg : argv) {
    parts.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  Status last = unavailable("Redis at " + address_.text + ": not connected");
  int64_t backoff_ms = 100;
  for (int attempt = 0; attempt <= timeouts_.reconnect_attempts; ++attempt) {
    if (context_ == nullptr) {
      if (attempt > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
        backoff_ms *= 4;
      }
      if (Status s = open(); !s) {
        last = s;
        continue;
      }
    }
    auto* reply = static_cast<redisReply*>(redisCommandArgv(context_, static_cast<int>(parts.size()), parts.data(), lengths.data()));
    if (reply == nullptr) {  // I/O error or timeout: this connection is unusable now
      last = unavailable("Redis at " + address_.host + ":" + std::to_string(address_.port) + ": " + context_->errstr);
      close();
      continue;
    }
    RedisValue value = copy_reply(reply);
    freeReplyObject(reply);
    if (value.kind == RedisValue::Kind::kError) {
      // LOADING / MASTERDOWN / BUSY: Redis is up but cannot answer yet; retried like a broken link.
      if (value.text.rfind("LOADING", 0) == 0 || value.text.rfind("BUSY", 0) == 0 ||
          value.text.rfind("MASTERDOWN", 0) == 0) {
        last = unavailable("Redis at " + address_.text + ": " + value.text);
        close();
        continue;
      }
      return internal_error("Redis " + argv[0] + ": " + value.text);
    }
    return value;
  }
  return last;
}

Expected<RedisValue> RedisConnection::eval(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"EVAL", script, "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  return command(argv);
}

}  // namespace frugal::jobs
