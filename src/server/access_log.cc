#include "server/access_log.h"

#include <httplib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/utc_time.h"

namespace frugal {
namespace {

using json = nlohmann::json;

struct AccessNote {
  bool started = false;
  std::chrono::steady_clock::time_point start;
  std::optional<std::string> model;
  Usage usage;
  int64_t streamed_bytes = 0;
};

thread_local AccessNote t_note;

}  // namespace

void access_note_begin() {
  t_note = AccessNote{};
  t_note.started = true;
  t_note.start = std::chrono::steady_clock::now();
}

void access_note_usage(std::string_view model, const Usage& usage) {
  t_note.model = std::string(model);
  t_note.usage.prompt_tokens += usage.prompt_tokens;
  t_note.usage.completion_tokens += usage.completion_tokens;
  t_note.usage.cost_usd += usage.cost_usd;
}

void access_note_bytes(size_t bytes) { t_note.streamed_bytes += static_cast<int64_t>(bytes); }

AccessNoteView access_note_view() { return AccessNoteView{t_note.model, t_note.usage}; }

Expected<std::unique_ptr<AccessLog>> AccessLog::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) return unavailable("cannot open access log " + path + ": " + std::strerror(errno));
  return std::unique_ptr<AccessLog>(new AccessLog(file));
}

AccessLog::~AccessLog() { std::fclose(file_); }

void AccessLog::write_line(const std::string& json_object) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(json_object.data(), 1, json_object.size(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);
}

void install_access_log(httplib::Server& server, AccessLog& log) {
  server.set_logger([&log](const httplib::Request& req, const httplib::Response& res) {
    AccessNote note = t_note;
    t_note = AccessNote{};
    json line;
    line["time"] = utc_now_iso();
    line["method"] = req.method;
    line["path"] = req.path;
    line["status"] = res.status;
    line["latency_ms"] = note.started ? json(std::chrono::duration<double, std::milli>(
                                                 std::chrono::steady_clock::now() - note.start)
                                                 .count())
                                      : json(nullptr);
    line["bytes"] = res.body.empty() ? note.streamed_bytes : static_cast<int64_t>(res.body.size());
    line["model"] = note.model ? json(*note.model) : json(nullptr);
    line["prompt_tokens"] = note.model ? json(note.usage.prompt_tokens) : json(nullptr);
    line["completion_tokens"] = note.model ? json(note.usage.completion_tokens) : json(nullptr);
    line["cost_usd"] = note.model ? json(note.usage.cost_usd) : json(nullptr);
    line["client"] = req.remote_addr + ":" + std::to_string(req.remote_port);
    // Behind a proxy (deploy/nginx): the id it assigned and the original client, to join the logs.
    if (req.has_header("X-Request-Id")) line["request_id"] = req.get_header_value("X-Request-Id");
    if (req.has_header("X-Forwarded-For")) line["forwarded_for"] = req.get_header_value("X-Forwarded-For");
    log.write_line(line.dump(-1, ' ', false, json::error_handler_t::replace));
  });
}

}  // namespace frugal
