// GgufValue: type names, builders and the human-readable rendering used by `frugal inspect`.
#include <charconv>
#include <cstdio>
#include <string>
#include <utility>

#include "core/check.h"
#include "gguf/gguf_reader.h"

namespace frugal {
namespace {

bool is_uint_type(GgufValueType type) {
  return type == GgufValueType::kUint8 || type == GgufValueType::kUint16 ||
         type == GgufValueType::kUint32 || type == GgufValueType::kUint64;
}

bool is_int_type(GgufValueType type) {
  return type == GgufValueType::kInt8 || type == GgufValueType::kInt16 ||
         type == GgufValueType::kInt32 || type == GgufValueType::kInt64;
}

// Quotes a string, escaping quotes, backslashes and control bytes so that any token prints on
// one line. Bytes >= 0x80 pass through (UTF-8 text stays readable).
void append_quoted(std::string* out, const std::string& text) {
  out->push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", byte);
          *out += buf;
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Shortest text that round-trips; a float32 value prints as a float ("1e-05", not "9.99e-06...").
void append_float(std::string* out, double value, bool is_float32) {
  char buf[64];
  const auto res = is_float32 ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(value))
                              : std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, res.ptr);
}

void append_value(std::string* out, const GgufValue& value, size_t max_elems) {
  switch (value.type) {
    case GgufValueType::kUint8:
    case GgufValueType::kUint16:
    case GgufValueType::kUint32:
    case GgufValueType::kUint64: *out += std::to_string(value.u64); return;
    case GgufValueType::kInt8:
    case GgufValueType::kInt16:
    case GgufValueType::kInt32:
    case GgufValueType::kInt64: *out += std::to_string(value.i64); return;
    case GgufValueType::kFloat32: append_float(out, value.f64, true); return;
    case GgufValueType::kFloat64: append_float(out, value.f64, false); return;
    case GgufValueType::kBool: *out += value.u64 != 0 ? "true" : "false"; return;
    case GgufValueType::kString: append_quoted(out, value.str); return;
    case GgufValueType::kArray: break;
  }
  out->push_back('[');
  const size_t n_shown = value.array.size() <= max_elems ? value.array.size() : max_elems;
  for (size_t elem_idx = 0; elem_idx < n_shown; ++elem_idx) {
    if (elem_idx > 0) *out += ", ";
    append_value(out, value.array[elem_idx], max_elems);
  }
  if (n_shown < value.array.size()) {
    if (n_shown > 0) *out += ", ";
    *out += "... (" + std::to_string(value.array.size()) + " total)";
  }
  out->push_back(']');
}

}  // namespace

std::string_view gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8: return "uint8";
    case GgufValueType::kInt8: return "int8";
    case GgufValueType::kUint16: return "uint16";
    case GgufValueType::kInt16: return "int16";
    case GgufValueType::kUint32: return "uint32";
    case GgufValueType::kInt32: return "int32";
    case GgufValueType::kFloat32: return "float32";
    case GgufValueType::kBool: return "bool";
    case GgufValueType::kString: return "string";
    case GgufValueType::kArray: return "array";
    case GgufValueType::kUint64: return "uint64";
    case GgufValueType::kInt64: return "int64";
    case GgufValueType::kFloat64: return "float64";
  }
  return "unknown";
}

bool GgufValue::is_integer() const { return is_uint_type(type) || is_int_type(type); }

bool GgufValue::is_float() const {
  return type == GgufValueType::kFloat32 || type == GgufValueType::kFloat64;
}

std::string GgufValue::to_string(size_t max_elems) const {
  std::string out;
  append_value(&out, *this, max_elems);
  return out;
}

GgufValue GgufValue::make_uint(GgufValueType type, uint64_t value) {
  CHECK(is_uint_type(type), "GgufValue::make_uint: not an unsigned integer type");
  GgufValue v;
  v.type = type;
  v.u64 = value;
  return v;
}

GgufValue GgufValue::make_int(GgufValueType type, int64_t value) {
  CHECK(is_int_type(type), "GgufValue::make_int: not a signed integer type");
  GgufValue v;
  v.type = type;
  v.i64 = value;
  return v;
}

GgufValue GgufValue::make_float(GgufValueType type, double value) {
  CHECK(type == GgufValueType::kFloat32 || type == GgufValueType::kFloat64,
        "GgufValue::make_float: not a float type");
  GgufValue v;
  v.type = type;
  v.f64 = value;
  return v;
}

GgufValue GgufValue::make_bool(bool value) {
  GgufValue v;
  v.type = GgufValueType::kBool;
  v.u64 = value ? 1 : 0;
  return v;
}

GgufValue GgufValue::make_string(std::string value) {
  GgufValue v;
  v.type = GgufValueType::kString;
  v.str = std::move(value);
  return v;
}

GgufValue GgufValue::make_array(GgufValueType elem_type, std::vector<GgufValue> elems) {
  for (const auto& elem : elems) {
    CHECK(elem.type == elem_type, "GgufValue::make_array: element type differs from elem_type");
  }
  GgufValue v;
  v.type = GgufValueType::kArray;
  v.array_type = elem_type;
  v.array = std::move(elems);
  return v;
}

}  // namespace frugal
