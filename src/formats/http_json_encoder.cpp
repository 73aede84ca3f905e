#include "formats/http_json_encoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <span>
#include <vector>

namespace metricsd::formats {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendUnicodeEscape(std::string& out, unsigned code) {
  out += "\\u";
  out += kHex[(code >> 12) & 0xf];
  out += kHex[(code >> 8) & 0xf];
  out += kHex[(code >> 4) & 0xf];
  out += kHex[code & 0xf];
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t len = 0;
  unsigned lo = 0x80;
  unsigned hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    lo = c == 0xe0 ? 0xa0 : 0x80;
    hi = c == 0xed ? 0x9f : 0xbf;  // no UTF-16 surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    lo = c == 0xf0 ? 0x90 : 0x80;
    hi = c == 0xf4 ? 0x8f : 0xbf;
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  if (byte(i + 1) < lo || byte(i + 1) > hi) {
    return 0;
  }
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) {
      return 0;
    }
  }
  return len;
}

bool LabelsSortedUnique(std::span<const LabelView> labels) {
  for (std::size_t i = 1; i < labels.size(); ++i) {
    if (!(labels[i - 1].name < labels[i].name)) {
      return false;
    }
  }
  return true;
}

void AppendLabels(std::string& out, std::span<const LabelView> labels,
                  std::vector<const LabelView*>& scratch, EncodeStats& stats) {
  out += '{';
  bool first = true;
  auto emit = [&](const LabelView& l) {
    if (!first) {
      out += ',';
    }
    first = false;
    AppendJsonString(out, l.name);
    out += ':';
    AppendJsonString(out, l.value);
  };
  if (LabelsSortedUnique(labels)) {
    for (const LabelView& l : labels) {
      emit(l);
    }
  } else {
    // A JSON object cannot repeat a key: sort, keep the last of equal names.
    scratch.clear();
    for (const LabelView& l : labels) {
      scratch.push_back(&l);
    }
    std::stable_sort(scratch.begin(), scratch.end(),
                     [](const LabelView* a, const LabelView* b) { return a->name < b->name; });
    for (std::size_t i = 0; i < scratch.size(); ++i) {
      if (i + 1 < scratch.size() && scratch[i + 1]->name == scratch[i]->name) {
        ++stats.duplicate_labels_dropped;
        continue;
      }
      emit(*scratch[i]);
    }
  }
  out += '}';
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t len = Utf8SequenceLength(text, i);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      std::string_view seq = text.substr(i, len);
      // U+2028 and U+2029 break JavaScript parsers; Go escapes them.
      if (seq == "\xe2\x80\xa8" || seq == "\xe2\x80\xa9") {
        AppendUnicodeEscape(out, seq[2] == '\xa8' ? 0x2028 : 0x2029);
      } else {
        out += seq;
      }
      i += len;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '<':
      case '>':
      case '&':
        AppendUnicodeEscape(out, c);
        break;
      default:
        if (c < 0x20) {
          AppendUnicodeEscape(out, c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void AppendJsonNumber(std::string& out, double value) {
  char buf[64];
  double abs = std::fabs(value);
  std::to_chars_result r;
  if (abs != 0 && (abs < 1e-6 || abs >= 1e21)) {
    r = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
    // Go writes "1e-07" as "1e-7": drop a leading zero of a two-digit exponent.
    char* e = std::find(buf, r.ptr, 'e');
    if (e + 3 < r.ptr && e[2] == '0' && r.ptr - (e + 2) == 2) {
      e[2] = e[3];
      --r.ptr;
    }
  } else {
    r = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  }
  out.append(buf, r.ptr);
}

void EncodeHttpJson(const SampleRange& samples, std::int64_t timestamp_s, std::string& out,
                    EncodeStats& stats) {
  out.clear();
  out.reserve(64 + samples.size() * 96);
  out += "{\"timestamp\":";
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof(buf), timestamp_s).ptr);
  out += ",\"metrics\":[";
  std::vector<const LabelView*> scratch;
  bool first = true;
  const SampleViews& views = *samples.views;
  for (std::size_t i = samples.begin; i < samples.end; ++i) {
    const SampleViews::Entry& s = views.samples[i];
    if (!std::isfinite(s.value)) {
      ++stats.samples_skipped_non_finite;
      continue;
    }
    if (!first) {
      out += ',';
    }
    first = false;
    out += "{\"name\":";
    AppendJsonString(out, s.name);
    out += ",\"value\":";
    AppendJsonNumber(out, s.value);
    out += ",\"type\":";
    AppendJsonString(out, MetricTypeName(views.families[s.family].type));
    out += ",\"labels\":";
    AppendLabels(out, views.LabelsOf(s), scratch, stats);
    out += '}';
    ++stats.samples_written;
  }
  out += "]}";
}

}  // namespace metricsd::formats
