#include "serve_models.h"

#include <map>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "model/kv_store.h"
#include "tokenizer/chat_template.h"

namespace frugal::cli {
namespace {

// The engine's automatic KV budget takes this share of available memory (llm_engine.cc); several
// engines take it together.
constexpr double kAutoKvShareOfAvailableMemory = 0.25;

int64_t available_memory_bytes() {
  const long pages = sysconf(_SC_AVPHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size : 0;
}

// What one engine wants: every running sequence at full context.
int64_t kv_wanted_bytes(const Model& model, const ServeEngineFlags& flags) {
  const int64_t context = flags.ctx_size > 0 ? flags.ctx_size : model.config().n_ctx_train;
  return std::max<int64_t>(1, int64_t{flags.max_running} * context * KvStore::bytes_per_row(model.config()));
}

// Each model's share of the one budget (one model: the flag as given, the engine fits it).
std::vector<int64_t> kv_shares(const std::vector<ServingModel>& models, const ServeEngineFlags& flags) {
  if (models.size() == 1) return {flags.kv_mem_bytes};
  std::vector<int64_t> wanted;
  int64_t sum_wanted = 0;
  for (const ServingModel& model : models) {
    wanted.push_back(kv_wanted_bytes(*model.loaded.model, flags));
    sum_wanted += wanted.back();
  }
  const int64_t total = flags.kv_mem_bytes > 0
                            ? flags.kv_mem_bytes
                            : std::min<int64_t>(sum_wanted, static_cast<int64_t>(available_memory_bytes() *
                                                                                  kAutoKvShareOfAvailableMemory));
  return split_kv_budget(total, wanted);
}

}  // namespace

EngineOptions engine_options_for(const ServeEngineFlags& flags, int64_t kv_mem_bytes, const SpecOptions& speculation) {
  EngineOptions options;
  options.speculation = speculation;
  options.num_threads = flags.threads;
  options.kv_mem_bytes = kv_mem_bytes;
  options.max_running = flags.max_running;
  options.max_waiting = flags.max_waiting;
  options.step_token_budget = flags.step_token_budget;
  options.max_context = flags.ctx_size;
  options.prefix_caching = !flags.no_prefix_cache;
  options.usd_per_hour = flags.usd_per_hour;
  return options;
}

// `--draft PATH` pairs with the only model, `--draft-for NAME=PATH` with the model NAME. --spec
// applies to every model: ngram needs no draft; draft mode applies to the models that have one.
Status attach_drafts(std::vector<ServingModel>& models, const ServeEngineFlags& flags) {
  std::map<std::string, std::string> draft_of;
  if (!flags.spec.medusa_path.empty() && models.size() != 1) {
    return invalid_argument("--medusa: Medusa heads belong to one model; serve that model alone");
  }
  if (!flags.spec.draft_path.empty()) {
    if (models.size() != 1) return invalid_argument("--draft: with several models write --draft-for NAME=PATH");
    draft_of[models.front().spec.name] = flags.spec.draft_path;
  }
  for (const std::string& value : flags.drafts) {
    const size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
      return invalid_argument("--draft-for expects NAME=PATH, got '" + value + "'");
    }
    if (!draft_of.emplace(value.substr(0, eq), value.substr(eq + 1)).second) {
      return invalid_argument("--draft-for: model '" + value.substr(0, eq) + "' has two drafts");
    }
  }
  for (ServingModel& model : models) {
    SpecFlags spec = flags.spec;
    spec.draft_path.clear();
    auto it = draft_of.find(model.spec.name);
    if (it != draft_of.end()) {
      spec.draft_path = it->second;
      draft_of.erase(it);
    } else if (spec.mode == "draft") {
      spec.mode = "off";
    }
    auto setup = resolve_spec_flags(spec, *model.loaded.model);
    if (!setup) return Status(setup.error().code(), "model '" + model.spec.name + "': " + setup.error().message());
    model.speculation = setup->options;
    model.draft = std::move(setup->draft);
  }
  if (!draft_of.empty()) return invalid_argument("--draft-for: no served model is named '" + draft_of.begin()->first + "'");
  return Status::ok();
}

Expected<std::vector<ServingModel>> start_models(const std::vector<ModelSpec>& specs, const ServeEngineFlags& flags,
                                                 MetricsRegistry* registry) {
  std::vector<ServingModel> models;
  for (const ModelSpec& spec : specs) {
    auto loaded = load_model(spec.path);
    if (!loaded) return loaded.error();
    auto defaults = read_sampling_defaults(loaded->model->file());
    if (!defaults) return Status(defaults.error().code(), "model '" + spec.name + "': " + defaults.error().message());
    if (!defaults->empty()) {
      std::printf("frugal: model \"%s\": recommended settings from its GGUF (used where a request gives none): %s\n",
                  spec.name.c_str(), defaults->describe().c_str());
    }
    models.push_back(ServingModel{spec, std::move(*loaded), *defaults, nullptr, {}, nullptr});
  }
  Status drafts = attach_drafts(models, flags);
  if (!drafts.is_ok()) return drafts;
  if (models.empty()) return models;  // video only
  const std::vector<int64_t> shares = kv_shares(models, flags);
  for (size_t model_idx = 0; model_idx < models.size(); ++model_idx) {
    ServingModel& model = models[model_idx];
    if (models.size() > 1 && shares[model_idx] <= 0) {
      return invalid_argument("--kv-mem: model '" + model.spec.name + "' gets no KV memory from the shared budget");
    }
    auto engine = LlmEngine::create(*model.loaded.model, *model.loaded.tokenizer,
                                    engine_options_for(flags, shares[model_idx], model.speculation), registry,
                                    model.draft.get());
    if (!engine) return Status(engine.error().code(), "model '" + model.spec.name + "': " + engine.error().message());
    model.engine = std::move(*engine);
  }
  return models;
}

std::unique_ptr<ModelRouter> make_router(const std::vector<ServingModel>& models, std::vector<RouteSpec> routes,
                                         const ServeEngineFlags& flags, std::unique_ptr<OverflowClient> overflow,
                                         MetricsRegistry* registry) {
  std::vector<ServedModel> served;
  for (const ServingModel& model : models) {
    ServedModel entry;
    entry.name = model.spec.name;
    entry.engine = model.engine.get();
    entry.tokenizer = model.loaded.tokenizer.get();
    entry.model = model.loaded.model.get();
    entry.sampling_defaults = model.sampling_defaults;
    auto chat_template = model.loaded.model->file().get_string_or("tokenizer.chat_template", "");
    entry.chat_format = detect_chat_format(chat_template ? *chat_template : "");
    std::error_code error;
    const auto file_bytes = std::filesystem::file_size(model.spec.path, error);
    entry.weight_bytes = error ? 0 : static_cast<int64_t>(file_bytes);  // ~ the bytes a decoded token reads
    entry.max_running = flags.max_running;
    served.push_back(std::move(entry));
  }
  return std::make_unique<ModelRouter>(std::move(served), std::move(routes), flags.usd_per_hour, std::move(overflow),
                                       registry);
}

}  // namespace frugal::cli
