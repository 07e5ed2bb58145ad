// GgufFile typed metadata getters: kNotFound when a key is missing, kInvalidArgument naming the
// key and both types when the stored type does not convert.
#include <limits>
#include <string>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_reader_internal.h"

namespace frugal {
namespace {

using gguf_internal::display_name;

bool is_signed_type(GgufValueType type) {
  return type == GgufValueType::kInt8 || type == GgufValueType::kInt16 || type == GgufValueType::kInt32 ||
         type == GgufValueType::kInt64;
}

Status missing(std::string_view key) { return not_found("gguf: key " + display_name(key) + " not found"); }

Status wrong_type(std::string_view key, const GgufValue& value, std::string_view expected) {
  std::string stored(gguf_value_type_name(value.type));
  if (value.type == GgufValueType::kArray) stored += " of " + std::string(gguf_value_type_name(value.array_type));
  return invalid_argument("gguf: key " + display_name(key) + " has type " + stored + ", expected " +
                          std::string(expected));
}

Status out_of_range_value(std::string_view key, const GgufValue& value, std::string_view expected) {
  return invalid_argument("gguf: key " + display_name(key) + ": value " + value.to_string() + " does not fit " +
                          std::string(expected));
}

// Integer → uint64 when non-negative.
Expected<uint64_t> as_uint(std::string_view key, const GgufValue& value) {
  if (!value.is_integer()) return wrong_type(key, value, "an unsigned integer");
  if (!is_signed_type(value.type)) return value.u64;
  if (value.i64 < 0) return out_of_range_value(key, value, "an unsigned integer");
  return static_cast<uint64_t>(value.i64);
}

// Integer → int64 when it fits.
Expected<int64_t> as_int(std::string_view key, const GgufValue& value) {
  if (!value.is_integer()) return wrong_type(key, value, "an integer");
  if (is_signed_type(value.type)) return value.i64;
  if (value.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return out_of_range_value(key, value, "int64");
  }
  return static_cast<int64_t>(value.u64);
}

Expected<double> as_float(std::string_view key, const GgufValue& value) {
  if (value.is_float()) return value.f64;
  if (!value.is_integer()) return wrong_type(key, value, "a number");
  return is_signed_type(value.type) ? static_cast<double>(value.i64) : static_cast<double>(value.u64);
}

}  // namespace

Expected<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return missing(key);
  if (value->type != GgufValueType::kString) return wrong_type(key, *value, "string");
  return value->str;
}

Expected<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return missing(key);
  return as_uint(key, *value);
}

Expected<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return missing(key);
  return as_int(key, *value);
}

Expected<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return missing(key);
  return as_float(key, *value);
}

Expected<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return missing(key);
  if (value->type != GgufValueType::kBool) return wrong_type(key, *value, "bool");
  return value->u64 != 0;
}

Expected<std::vector<std::string>> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return missing(key);
  if (value->type != GgufValueType::kArray || value->array_type != GgufValueType::kString) {
    return wrong_type(key, *value, "array of string");
  }
  std::vector<std::string> out;
  out.reserve(value->array.size());
  for (const auto& elem : value->array) out.push_back(elem.str);
  return out;
}

Expected<std::vector<double>> GgufFile::get_float_array(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return missing(key);
  if (value->type != GgufValueType::kArray) return wrong_type(key, *value, "array of numbers");
  std::vector<double> out;
  out.reserve(value->array.size());
  for (const auto& elem : value->array) {
    auto x = as_float(key, elem);
    if (!x) return wrong_type(key, *value, "array of numbers");
    out.push_back(*x);
  }
  return out;
}

Expected<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return missing(key);
  if (value->type != GgufValueType::kArray) return wrong_type(key, *value, "array of integers");
  std::vector<int64_t> out;
  out.reserve(value->array.size());
  for (const auto& elem : value->array) {
    if (!elem.is_integer()) return wrong_type(key, *value, "array of integers");
    auto x = as_int(key, elem);
    if (!x) return x.error();
    out.push_back(*x);
  }
  return out;
}

Expected<uint64_t> GgufFile::get_uint_or(std::string_view key, uint64_t fallback) const {
  return has(key) ? get_uint(key) : Expected<uint64_t>(fallback);
}

Expected<double> GgufFile::get_float_or(std::string_view key, double fallback) const {
  return has(key) ? get_float(key) : Expected<double>(fallback);
}

Expected<bool> GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  return has(key) ? get_bool(key) : Expected<bool>(fallback);
}

Expected<std::string> GgufFile::get_string_or(std::string_view key, std::string fallback) const {
  return has(key) ? get_string(key) : Expected<std::string>(std::move(fallback));
}

}  // namespace frugal
