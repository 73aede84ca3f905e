#include "relabel/go_text.h"

#include <algorithm>

namespace metricsd::go_text {
namespace {

constexpr bool IsAscii(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

void AppendRune(char32_t rune, std::string& out) {
  if (rune < 0x80) {
    out.push_back(static_cast<char>(rune));
  } else if (rune < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (rune >> 6)));
    out.push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  } else if (rune < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (rune >> 12)));
    out.push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (rune >> 18)));
    out.push_back(static_cast<char>(0x80 | ((rune >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  }
}

template <char32_t (*kMap)(char32_t) noexcept>
void AppendMapped(std::string_view text, std::string& out) {
  if (IsAscii(text)) {
    for (char c : text) {
      out.push_back(static_cast<char>(kMap(static_cast<unsigned char>(c))));
    }
    return;
  }
  for (std::size_t pos = 0; pos < text.size();) {
    const DecodedRune decoded = DecodeRune(text, pos);
    AppendRune(kMap(decoded.rune), out);
    pos += decoded.width;
  }
}

}  // namespace

DecodedRune DecodeRune(std::string_view text, std::size_t pos) noexcept {
  if (pos >= text.size()) {
    return {kRuneError, 0};
  }
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) {
    return {lead, 1};
  }
  // Go accepts only the shortest form, no surrogates and nothing above U+10FFFF: the
  // second byte's range depends on the lead byte.
  std::size_t width;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  char32_t rune;
  if (lead >= 0xC2 && lead <= 0xDF) {
    width = 2;
    rune = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    width = 3;
    rune = lead & 0x0F;
    low = lead == 0xE0 ? 0xA0 : 0x80;
    high = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    width = 4;
    rune = lead & 0x07;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return {kRuneError, 1};
  }
  if (pos + width > text.size()) {
    return {kRuneError, 1};
  }
  for (std::size_t i = 1; i < width; ++i) {
    const unsigned char next = byte(i);
    const unsigned char min = i == 1 ? low : 0x80;
    const unsigned char max = i == 1 ? high : 0xBF;
    if (next < min || next > max) {
      return {kRuneError, 1};
    }
    rune = rune << 6 | (next & 0x3F);
  }
  return {rune, width};
}

void AppendLower(std::string_view text, std::string& out) { AppendMapped<LowerRune>(text, out); }
void AppendUpper(std::string_view text, std::string& out) { AppendMapped<UpperRune>(text, out); }

}  // namespace metricsd::go_text
