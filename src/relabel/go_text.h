// The pieces of Go's text handling that relabeling results depend on, reproduced so that
// metricsd relabels byte for byte as Prometheus (built with Go 1.19) does: UTF-8 decoding
// with Go's treatment of invalid bytes, and strings.ToLower/ToUpper. Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace metricsd::go_text {

inline constexpr char32_t kRuneError = 0xFFFD;

struct DecodedRune {
  char32_t rune;
  std::size_t width;  // 1 for an invalid byte (decoded as kRuneError), 0 at the end
};

// utf8.DecodeRuneInString(text[pos:]).
DecodedRune DecodeRune(std::string_view text, std::size_t pos) noexcept;

// unicode.IsLetter(r) || unicode.IsDigit(r): what a `$name` reference in a replacement
// template may hold, besides '_'.
bool IsLetterOrDigit(char32_t rune) noexcept;

// unicode.ToLower / unicode.ToUpper: simple (one rune to one rune) case mapping.
char32_t LowerRune(char32_t rune) noexcept;
char32_t UpperRune(char32_t rune) noexcept;

// strings.ToLower / strings.ToUpper, appended to `out`. Invalid UTF-8 becomes U+FFFD when
// the text is not pure ASCII, as in Go.
void AppendLower(std::string_view text, std::string& out);
void AppendUpper(std::string_view text, std::string& out);

}  // namespace metricsd::go_text
