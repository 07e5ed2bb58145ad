#include "bench_spec.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "engine/llm_engine.h"

namespace frugal::cli {
namespace {

using Clock = std::chrono::steady_clock;

const char* const kDefaultPrompts[] = {
    "And the LORD said unto Moses,",
    "In the beginning God created the heaven and the earth.",
    "The LORD is my shepherd; I shall not want.",
    "Blessed are the meek: for they shall inherit the earth.",
};

struct Arm {
  std::string name;
  bool speculate = false;
  SpecOptions options;         // when speculating
  const Model* draft = nullptr;  // kDraft
};
// Tokens of the untimed warm-up request each engine runs first.
constexpr int64_t kWarmupTokens = 48;

struct Sample {
  double tokens_per_s = 0;
  double proposed = 0, accepted = 0;
  double verifications = 0, verified_tokens = 0;  // tokens per verification = verified_tokens / verifications
};

double counter(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? 0.0 : std::stod(text.substr(at + name.size() + 2));
}

// One run: `concurrency` greedy requests of n_gen tokens; generated tokens / wall seconds from the
// first token of any request to the last event (prefill excluded: this measures decoding).
// Single-stream (concurrency 1, the built-in prompts): the four prompts one after another, each
// timed the same way, summed: one prompt is one greedy text, and acceptance varies by text.
Expected<Sample> run_once(const LoadedModel& loaded, const Arm& arm, const SpecBenchArgs& args, int64_t n_gen,
                          int concurrency) {
  EngineOptions options;
  options.num_threads = args.threads;
  options.max_running = std::max(concurrency, 1);
  if (arm.speculate) options.speculation = arm.options;
  MetricsRegistry registry;
  auto engine = LlmEngine::create(*loaded.model, *loaded.tokenizer, options, &registry, arm.draft);
  if (!engine) return engine.error();
  const auto make_request = [&](int i, int64_t max_tokens) {
    EngineRequest request;
    const std::string text = args.prompt.empty() ? kDefaultPrompts[i % 4] : args.prompt;
    request.prompt = loaded.tokenizer->encode(text + (i >= 4 ? " " + std::to_string(i) : ""), true, false);
    request.sampling.temperature = 0.0f;
    request.max_tokens = max_tokens;
    request.ignore_eos = true;
    return request;
  };
  // Submits `concurrency` requests of max_tokens each and reads them to the end; on_text sees
  // every text event.
  const auto serve = [&](int64_t max_tokens, int first_prompt,
                         const std::function<void(const GenerationEvent&)>& on_text) -> Status {
    std::vector<std::shared_ptr<RequestStream>> streams;
    for (int i = 0; i < concurrency; ++i) {
      auto stream = (*engine)->submit(make_request(first_prompt + i, max_tokens));
      if (!stream) return stream.error();
      streams.push_back(*stream);
    }
    for (auto& stream : streams) {
      for (;;) {
        auto event = stream->pop(std::chrono::milliseconds(100));
        if (!event) continue;
        if (event->kind == GenerationEvent::Kind::kError) return event->error;
        if (event->kind == GenerationEvent::Kind::kFinished) break;
        on_text(*event);
      }
    }
    return Status::ok();
  };
  // Warm-up (untimed, every arm): a server's engine has run requests before, so the timed ones
  // start from its measured step costs, draft acceptance and (load-aware) on/off figures for this
  // batch size rather than from cold priors. The same concurrency, shorter requests.
  Status st = serve(kWarmupTokens, 0, [](const GenerationEvent&) {});
  if (!st.is_ok()) return st;
  const double proposed_before = counter(registry.render(), "frugal_spec_proposed_tokens_total");
  const double accepted_before = counter(registry.render(), "frugal_spec_accepted_tokens_total");
  const double verifications_before = counter(registry.render(), "frugal_spec_tokens_per_verification_count");
  const double verified_before = counter(registry.render(), "frugal_spec_tokens_per_verification_sum");
  const int rounds = concurrency == 1 && args.prompt.empty() ? 4 : 1;
  double seconds = 0;
  int64_t generated = 0;  // after each request's first token
  for (int round = 0; round < rounds; ++round) {
    std::optional<Clock::time_point> first;
    int64_t round_generated = 0;
    st = serve(n_gen, round, [&](const GenerationEvent& event) {
      if (!first && !event.token_ids.empty()) first = Clock::now();
      round_generated += static_cast<int64_t>(event.token_ids.size());
    });
    if (!st.is_ok()) return st;
    seconds += first ? std::chrono::duration<double>(Clock::now() - *first).count() : 0;
    generated += std::max<int64_t>(0, round_generated - concurrency);
  }
  (*engine)->shutdown(std::chrono::milliseconds(0));
  const std::string text = registry.render();
  Sample sample;
  sample.tokens_per_s = seconds > 0 ? static_cast<double>(generated) / seconds : 0;
  sample.proposed = counter(text, "frugal_spec_proposed_tokens_total") - proposed_before;
  sample.accepted = counter(text, "frugal_spec_accepted_tokens_total") - accepted_before;
  sample.verifications = counter(text, "frugal_spec_tokens_per_verification_count") - verifications_before;
  sample.verified_tokens = counter(text, "frugal_spec_tokens_per_verification_sum") - verified_before;
  return sample;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int run_spec_bench(const SpecBenchArgs& args) {
  if (args.repetitions < 1) return report_error(invalid_argument("-r must be at least 1"));
  for (const int c : args.concurrency) {
    if (c < 1 || c > 1024) return report_error(invalid_argument("--concurrency must be in [1, 1024]"));
  }
  for (const int64_t n : args.n_gen) {
    if (n < 1) return report_error(invalid_argument("-n must be at least 1 with --draft/--spec"));
  }
  auto loaded = load_model(args.model_path);
  if (!loaded) return report_error(loaded.error());
  // --spec all: off / draft / n-gram / Medusa (each always on); otherwise off / always / load-aware
  // for the one mode given.
  std::vector<SpecSetup> setups;
  std::vector<Arm> arms(1);
  arms[0].name = "off";
  const bool all = args.spec.mode == "all";
  const char* const modes[] = {"draft", "ngram", "medusa"};
  for (int i = 0; i < (all ? 3 : 1); ++i) {
    const std::string mode = modes[i];
    SpecFlags flags = args.spec;
    if (all) {
      flags.mode = mode;
      if (mode != "draft") flags.draft_path.clear();
      if (mode != "medusa") flags.medusa_path.clear();
    }
    auto setup = resolve_spec_flags(flags, *loaded->model);
    if (!setup) return report_error(setup.error());
    if (setup->options.mode == SpecMode::kOff) return report_error(invalid_argument("--spec off: nothing to compare"));
    setups.push_back(std::move(*setup));
  }
  for (const SpecSetup& setup : setups) {
    Arm arm{.name = all ? std::string(spec_mode_name(setup.options.mode)) : "always", .speculate = true,
            .options = setup.options, .draft = setup.draft.get()};
    arm.options.load_aware = false;
    arms.push_back(arm);
    if (!all) {
      arm.name = "load-aware";
      arm.options.load_aware = true;
      arms.push_back(arm);
    }
  }
  size_t draft_arm = arms.size();  // --spec all: the draft arm's index
  for (size_t i = 0; i < arms.size(); ++i) {
    if (arms[i].name == "draft") draft_arm = i;
  }
  if (!args.json) {
    std::printf("| %-10s | %5s | %11s | %10s | %10s | %10s | %8s | %10s | %8s |\n", "spec", "conc", "test", "t/s median",
                "t/s min", "t/s max", "vs off", "accepted", "tok/verify");
  }
  for (const int concurrency : args.concurrency) {
    for (const int64_t n_gen : args.n_gen) {
      std::vector<std::vector<Sample>> samples(arms.size());
      for (int rep = 0; rep < args.repetitions; ++rep) {
        for (size_t arm = 0; arm < arms.size(); ++arm) {
          auto sample = run_once(*loaded, arms[arm], args, n_gen, concurrency);
          if (!sample) return report_error(sample.error());
          samples[arm].push_back(*sample);
        }
      }
      for (size_t arm = 0; arm < arms.size(); ++arm) {
        std::vector<double> tps;
        double proposed = 0, accepted = 0, verifications = 0, verified = 0;
        for (const Sample& s : samples[arm]) {
          tps.push_back(s.tokens_per_s);
          proposed += s.proposed;
          accepted += s.accepted;
          verifications += s.verifications;
          verified += s.verified_tokens;
        }
        const double per_verify = verifications > 0 ? verified / verifications : 0;
        const double med = median(tps);
        // vs off: the median over repetitions of this arm's tok/s over "off"'s in the same
        // repetition (the arms of a repetition run back to back, so a slow spell of a shared
        // machine cancels out of the ratio).
        std::vector<double> ratios;
        for (size_t rep = 0; rep < samples[arm].size(); ++rep) {
          const double off = samples[0][rep].tokens_per_s;
          if (off > 0) ratios.push_back(samples[arm][rep].tokens_per_s / off);
        }
        const double ratio = median(ratios);
        // --spec all: the same paired ratio against the draft arm (the bar for Medusa).
        double vs_draft = 0;
        if (all && draft_arm < arms.size()) {
          std::vector<double> draft_ratios;
          for (size_t rep = 0; rep < samples[arm].size(); ++rep) {
            const double draft = samples[draft_arm][rep].tokens_per_s;
            if (draft > 0) draft_ratios.push_back(samples[arm][rep].tokens_per_s / draft);
          }
          vs_draft = median(draft_ratios);
        }
        const double acceptance = proposed > 0 ? accepted / proposed : 0;
        const std::string test = "tg" + std::to_string(n_gen);
        if (args.json) {
          nlohmann::json row{{"model", args.model_path}, {"draft", args.spec.draft_path},
                             {"medusa", args.spec.medusa_path},
                             {"spec_mode", arms[arm].speculate ? std::string(spec_mode_name(arms[arm].options.mode)) : "off"},
                             {"arm", arms[arm].name}, {"tokens_per_verification", per_verify}, {"concurrency", concurrency}, {"n_gen", n_gen},
                             {"threads", args.threads}, {"tokens_per_s_median", med},
                             {"tokens_per_s_min", *std::min_element(tps.begin(), tps.end())},
                             {"tokens_per_s_max", *std::max_element(tps.begin(), tps.end())},
                             {"speedup_vs_off", ratio}, {"acceptance_rate", acceptance},
                             {"proposed_tokens", proposed}};
          if (all) row["speedup_vs_draft"] = vs_draft;
          std::printf("%s\n", row.dump().c_str());
        } else {
          std::printf("| %-10s | %5d | %11s | %10.1f | %10.1f | %10.1f | %7.2fx | %9.1f%% | %8.2f |\n",
                      arms[arm].name.c_str(), concurrency, test.c_str(), med, *std::min_element(tps.begin(), tps.end()),
                      *std::max_element(tps.begin(), tps.end()), ratio, 100 * acceptance, per_verify);
          if (all && arms[arm].name == "medusa") {
            std::printf("medusa vs draft: %.2fx (median over repetitions of medusa t/s / draft t/s in the same repetition)\n",
                        vs_draft);
          }
        }
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

}  // namespace frugal::cli
