#include "spec_flags.h"

#include "engine/medusa_heads.h"

namespace frugal::cli {

void add_spec_flags(CLI::App& app, SpecFlags& flags) {
  app.add_option("--draft", flags.draft_path, "Draft model for speculative decoding (same vocabulary)");
  app.add_option("--spec", flags.mode,
                 "Speculation: draft (default with --draft), ngram (draftless), medusa (default with --medusa), off; "
                 "bench also takes all (off / draft / ngram / medusa side by side)");
  app.add_option("--medusa", flags.medusa_path, "Medusa heads for the model (GGUF from tools/train/medusa.py)");
  app.add_option("--medusa-tree", flags.medusa_tree_nodes, "Medusa candidate-tree nodes verified per step")
      ->capture_default_str();
  app.add_option("--spec-k", flags.max_draft_tokens, "Most tokens proposed per step (adapted per sequence)")
      ->capture_default_str();
  app.add_flag("--spec-always", flags.always_on, "Speculate on every decode step (no load-aware switch)");
}

Expected<SpecSetup> resolve_spec_flags(const SpecFlags& flags, const Model& target) {
  SpecSetup setup;
  std::string mode_text = flags.mode;
  if (mode_text.empty()) mode_text = !flags.draft_path.empty() ? "draft" : !flags.medusa_path.empty() ? "medusa" : "off";
  auto mode = parse_spec_mode(mode_text);
  if (!mode) return mode.error();
  setup.options.mode = *mode;
  setup.options.max_draft_tokens = flags.max_draft_tokens;
  setup.options.load_aware = !flags.always_on;
  if (*mode == SpecMode::kDraft) {
    if (flags.draft_path.empty()) return invalid_argument("--spec draft needs --draft MODEL");
    auto draft = Model::load(flags.draft_path);
    if (!draft) return draft.error();
    if ((*draft)->config().n_vocab != target.config().n_vocab) {
      return invalid_argument("the draft model's vocabulary (" + std::to_string((*draft)->config().n_vocab) +
                              " tokens) differs from the target's (" + std::to_string(target.config().n_vocab) + ")");
    }
    setup.draft = std::move(*draft);
  } else if (!flags.draft_path.empty()) {
    return invalid_argument("--draft is given but --spec is " + mode_text);
  }
  setup.options.medusa_tree_nodes = flags.medusa_tree_nodes;
  if (*mode == SpecMode::kMedusa) {
    if (flags.medusa_path.empty()) return invalid_argument("--spec medusa needs --medusa FILE");
    if (flags.medusa_tree_nodes < 1 || flags.medusa_tree_nodes > 64) return invalid_argument("--medusa-tree must be in [1, 64]");
    auto heads = MedusaHeads::load(flags.medusa_path, target);
    if (!heads) return heads.error();
    setup.options.medusa = std::move(*heads);
  } else if (!flags.medusa_path.empty()) {
    return invalid_argument("--medusa is given but --spec is " + mode_text);
  }
  return setup;
}

}  // namespace frugal::cli
