// JSON Schema -> Grammar (grammar layer): compiles the subset of JSON Schema that OpenAI's
// structured outputs accept into grammar nodes. Supported: type (one or a list), properties
// (generated in schema order), required, additionalProperties (true/false; extra properties are
// never generated), items, minItems, maxItems, minLength, maxLength, enum, const, anyOf whose
// alternatives start with different characters, and the annotations title, description, default,
// examples, $schema, $id, $comment; minimum/maximum/exclusiveMinimum/exclusiveMaximum only at
// or beyond +-1e15 (what every generated number satisfies, e.g. zod's int bounds), narrower ones
// are refused. Every other keyword is an error naming it and where it is
// ("unsupported JSON Schema keyword 'pattern' at #/properties/zip"), never silently ignored.
// Schemas arrive as ordered_json so that properties keep the order the client wrote them in.
#pragma once

#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/expected.h"
#include "grammar/grammar.h"

namespace frugal {

struct SchemaOptions {
  // OpenAI's strict mode: every object must say "additionalProperties": false.
  bool strict = false;
};

// Adds the schema's nodes to `grammar` (not yet finalized) and returns the value node's index.
Expected<int32_t> compile_json_schema(const nlohmann::ordered_json& schema, const SchemaOptions& options,
                                      Grammar& grammar);

// A finalized grammar whose documents are exactly one value of `schema`.
Expected<std::shared_ptr<const Grammar>> json_schema_grammar(const nlohmann::ordered_json& schema,
                                                             const SchemaOptions& options);

}  // namespace frugal
