// The speculative-decoding flags shared by `frugal run`, `bench` and `serve` (tools layer):
// --draft MODEL, --medusa HEADS, --spec draft|ngram|medusa|off, --spec-k N, --medusa-tree N, --spec-always.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "core/expected.h"
#include "engine/speculation.h"
#include "model/model.h"

namespace frugal::cli {

struct SpecFlags {
  std::string draft_path;
  std::string medusa_path;   // --medusa: Medusa heads (kMedusa)
  int32_t medusa_tree_nodes = 5;  // SpecOptions default
  std::string mode;       // "" = draft when --draft is given, else off
  int32_t max_draft_tokens = 6;
  bool always_on = false;  // disables the load-aware switch
};

void add_spec_flags(CLI::App& app, SpecFlags& flags);

struct SpecSetup {
  SpecOptions options;
  std::unique_ptr<Model> draft;  // set for mode kDraft
};

// Validates the flags and loads the draft model (same vocabulary as `target`).
Expected<SpecSetup> resolve_spec_flags(const SpecFlags& flags, const Model& target);

}  // namespace frugal::cli
