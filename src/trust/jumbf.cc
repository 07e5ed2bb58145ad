#include "trust/jumbf.h"

#include <cstring>

namespace frugal::trust {

namespace {

void put_u32(Bytes& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

JumbfType jumbf_type(std::string_view fourcc) {
  // <4cc> 0011 0010 8000 00AA00389B71
  JumbfType t = {0, 0, 0, 0, 0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
  for (size_t i = 0; i < 4 && i < fourcc.size(); ++i) t[i] = static_cast<uint8_t>(fourcc[i]);
  return t;
}

Bytes make_box(std::string_view type, std::span<const uint8_t> payload) {
  Bytes out;
  out.reserve(8 + payload.size());
  put_u32(out, static_cast<uint32_t>(8 + payload.size()));
  for (size_t i = 0; i < 4; ++i) out.push_back(i < type.size() ? static_cast<uint8_t>(type[i]) : ' ');
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes description_box(const JumbfType& type, std::string_view label) {
  Bytes payload(type.begin(), type.end());
  payload.push_back(0x03);  // requestable | label present
  payload.insert(payload.end(), label.begin(), label.end());
  payload.push_back(0);
  return make_box("jumd", payload);
}

Bytes superbox_payload(const JumbfType& type, std::string_view label, std::span<const Bytes> contents) {
  Bytes out = description_box(type, label);
  for (const Bytes& c : contents) out.insert(out.end(), c.begin(), c.end());
  return out;
}

Bytes superbox(const JumbfType& type, std::string_view label, std::span<const Bytes> contents) {
  return make_box("jumb", superbox_payload(type, label, contents));
}

Bytes cbor_assertion_payload(std::string_view label, std::span<const uint8_t> cbor) {
  const Bytes content = make_box("cbor", cbor);
  return superbox_payload(jumbf_type("cbor"), label, std::span<const Bytes>(&content, 1));
}

}  // namespace frugal::trust
