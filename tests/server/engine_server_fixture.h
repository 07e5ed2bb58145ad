// Test fixture shared by the server tests that run the real engine in-process: the small test
// model (tests/data/models/small-q8_0.gguf) behind an LlmEngine and an HttpServer on 127.0.0.1
// (port 0), and an HTTP client to it with a 30 s read timeout. A test's SetUp calls start() with
// its engine and server options; TearDown shuts the server down (bounded) before the engine.
#pragma once

#include <httplib.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "engine/llm_engine.h"
#include "server/http_server.h"
#include "server/server_test_util.h"

namespace frugal::testing {

class EngineServerTest : public ::testing::Test {
 protected:
  // Loads the model, creates the engine and starts the server as model "small" on port 0 (both
  // forced). Call it as ASSERT_NO_FATAL_FAILURE(start(...)).
  void start(const EngineOptions& engine_options, HttpServerOptions options) {
    auto model = Model::load(data_path("models/small-q8_0.gguf"));
    ASSERT_TRUE(model) << model.error().to_string();
    model_ = std::move(*model);
    auto tokenizer = Tokenizer::from_gguf(model_->file());
    ASSERT_TRUE(tokenizer);
    tokenizer_ = std::make_unique<Tokenizer>(std::move(*tokenizer));
    auto engine = LlmEngine::create(*model_, *tokenizer_, engine_options, &registry_);
    ASSERT_TRUE(engine) << engine.error().to_string();
    engine_ = std::move(*engine);
    options.port = 0;
    options.model_name = "small";
    server_ = std::make_unique<HttpServer>(*engine_, *tokenizer_, &registry_, options);
    ASSERT_TRUE(server_->start_background().is_ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(30, 0);
  }
  void TearDown() override {
    if (server_) server_->shutdown(std::chrono::milliseconds(1000));
    server_.reset();
    engine_.reset();
  }

  // The value of an unlabelled sample in /metrics; -1 if absent.
  double metric(const std::string& name) {
    auto res = client_->Get("/metrics");
    if (!res) return -1;
    const std::string key = "\n" + name + " ";
    const size_t pos = res->body.find(key);
    return pos == std::string::npos ? -1 : std::stod(res->body.substr(pos + key.size()));
  }
  httplib::Result post(const std::string& path, const nlohmann::json& body) {
    return client_->Post(path.c_str(), body.dump(), "application/json");
  }

  MetricsRegistry registry_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<LlmEngine> engine_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace frugal::testing
