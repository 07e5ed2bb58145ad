#include "trust/llama_guard.h"

#include <cctype>

namespace frugal::trust {
namespace {

std::string trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_code(const std::string& item) {
  if (item.size() < 2 || item.size() > 3 || (item[0] != 'S' && item[0] != 's')) return false;
  for (size_t char_idx = 1; char_idx < item.size(); ++char_idx) {
    if (!std::isdigit(static_cast<unsigned char>(item[char_idx]))) return false;
  }
  return item[1] != '0';
}

}  // namespace

const std::vector<std::string>& llama_guard_categories() {
  static const std::vector<std::string> kCategories = {
      "S1: Violent Crimes.",         "S2: Non-Violent Crimes.", "S3: Sex Crimes.",      "S4: Child Exploitation.",
      "S5: Defamation.",             "S6: Specialized Advice.", "S7: Privacy.",         "S8: Intellectual Property.",
      "S9: Indiscriminate Weapons.", "S10: Hate.",              "S11: Self-Harm.",      "S12: Sexual Content.",
      "S13: Elections.",             "S14: Code Interpreter Abuse."};
  return kCategories;
}

GuardPrompt format_llama_guard_prompt(std::string_view user_message) {
  GuardPrompt guard;
  std::string& prompt = guard.text;
  prompt =
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
      "Task: Check if there is unsafe content in 'User' messages in conversations according our safety policy "
      "with the below categories.\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\n";
  for (const std::string& category : llama_guard_categories()) prompt += category + "\n";
  prompt += "<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\nUser: ";
  guard.message_begin = prompt.size();
  prompt += trim(user_message);
  guard.message_end = prompt.size();
  prompt +=
      "\n\n<END CONVERSATION>\n\n"
      "Provide your safety assessment for ONLY THE LAST User message in the above conversation:\n"
      " - First line must read 'safe' or 'unsafe'.\n"
      " - If unsafe, a second line must include a comma-separated list of violated categories."
      "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  return guard;
}

GuardAnswer parse_llama_guard_answer(std::string_view answer) {
  GuardAnswer parsed;
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= answer.size()) {
    const size_t end = answer.find('\n', start);
    const std::string line = trim(answer.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (!line.empty()) lines.push_back(line);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (lines.empty()) return parsed;
  const std::string first = lower(lines[0]);
  if (first == "safe") {
    parsed.outcome = GuardOutcome::kSafe;
    return parsed;
  }
  if (first != "unsafe") return parsed;
  parsed.outcome = GuardOutcome::kUnsafe;
  if (lines.size() < 2) return parsed;
  size_t item_start = 0;
  const std::string& codes = lines[1];
  while (item_start <= codes.size()) {
    const size_t comma = codes.find(',', item_start);
    std::string item = trim(std::string_view(codes).substr(item_start, comma == std::string::npos ? std::string::npos : comma - item_start));
    if (is_code(item)) {
      item[0] = 'S';
      parsed.codes.push_back(item);
    }
    if (comma == std::string::npos) break;
    item_start = comma + 1;
  }
  return parsed;
}

}  // namespace frugal::trust
