#include "storage/s3_xml.h"

#include <cstdlib>

namespace frugal::storage::s3xml {
namespace {

// Position just after the opening tag "<tag>" or "<tag attr...>" at or after `from`; npos if none.
size_t find_open(std::string_view xml, std::string_view tag, size_t from, size_t* open_at) {
  const std::string needle = "<" + std::string(tag);
  for (size_t pos = xml.find(needle, from); pos != std::string_view::npos; pos = xml.find(needle, pos + 1)) {
    const size_t after = pos + needle.size();
    if (after >= xml.size()) return std::string_view::npos;
    const char next = xml[after];
    if (next != '>' && next != ' ' && next != '\t' && next != '\n' && next != '\r') continue;  // <KeyCount> vs <Key>
    const size_t close = xml.find('>', after);
    if (close == std::string_view::npos) return std::string_view::npos;
    if (xml[close - 1] == '/') continue;  // <tag/>: empty, no closing tag to find
    if (open_at != nullptr) *open_at = pos;
    return close + 1;
  }
  return std::string_view::npos;
}

}  // namespace

std::vector<std::string_view> elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string closing = "</" + std::string(tag) + ">";
  size_t from = 0;
  while (from < xml.size()) {
    const size_t inner = find_open(xml, tag, from, nullptr);
    if (inner == std::string_view::npos) break;
    const size_t end = xml.find(closing, inner);
    if (end == std::string_view::npos) break;  // truncated: stop, keep what was whole
    out.push_back(xml.substr(inner, end - inner));
    from = end + closing.size();
  }
  return out;
}

std::string first_text(std::string_view xml, std::string_view tag) {
  const std::string closing = "</" + std::string(tag) + ">";
  const size_t inner = find_open(xml, tag, 0, nullptr);
  if (inner == std::string_view::npos) return "";
  const size_t end = xml.find(closing, inner);
  if (end == std::string_view::npos) return "";
  return unescape(xml.substr(inner, end - inner));
}

std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    const size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += text[i];
      continue;
    }
    const std::string_view entity = text.substr(i + 1, semi - i - 1);
    char decoded = 0;
    if (entity == "amp") decoded = '&';
    else if (entity == "lt") decoded = '<';
    else if (entity == "gt") decoded = '>';
    else if (entity == "quot") decoded = '"';
    else if (entity == "apos") decoded = '\'';
    else if (entity.size() >= 2 && entity[0] == '#') {
      const bool hex = entity[1] == 'x' || entity[1] == 'X';
      const std::string digits(entity.substr(hex ? 2 : 1));
      char* end = nullptr;
      const long value = std::strtol(digits.c_str(), &end, hex ? 16 : 10);
      if (!digits.empty() && *end == '\0' && value > 0 && value < 128) decoded = static_cast<char>(value);
    }
    if (decoded == 0) {
      out += text[i];
      continue;
    }
    out += decoded;
    i = semi;
  }
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

}  // namespace frugal::storage::s3xml
