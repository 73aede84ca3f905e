#include "formats/json_app.h"

#include <charconv>
#include <exception>
#include <string>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

namespace metricsd {
namespace {

// SAX consumer that flattens while nlohmann's (iterative, non-recursive) parser reads, so
// neither a DOM nor a deep C++ stack is ever built.
class Flattener {
 public:
  using json = nlohmann::json;

  Flattener(std::string_view prefix, std::int64_t timestamp_ms, const JsonAppLimits& limits,
            std::vector<MetricFamily>& out)
      : prefix_size_(prefix.size()), timestamp_ms_(timestamp_ms), limits_(limits), out_(out) {
    name_.assign(prefix);
  }

  bool null() {
    (void)BeginValue();
    return true;
  }
  bool boolean(bool value) { return Scalar(value ? 1.0 : 0.0); }
  bool number_integer(json::number_integer_t value) { return Scalar(static_cast<double>(value)); }
  bool number_unsigned(json::number_unsigned_t value) { return Scalar(static_cast<double>(value)); }
  bool number_float(json::number_float_t value, const json::string_t& /*raw*/) {
    return Scalar(value);
  }
  bool string(json::string_t& /*value*/) {
    (void)BeginValue();
    return true;
  }
  bool binary(json::binary_t& /*value*/) {
    (void)BeginValue();
    return true;
  }
  bool start_object(std::size_t /*elements*/) { return StartContainer(false); }
  bool start_array(std::size_t /*elements*/) { return StartContainer(true); }
  bool end_object() { return EndContainer(); }
  bool end_array() { return EndContainer(); }

  bool key(json::string_t& key) {
    if (Skipping()) {
      return true;
    }
    name_.resize(frames_.back().base_size);
    if (name_.size() > prefix_size_) {
      name_.push_back('_');
    }
    // Append at most a little more than the limit: a 1 MB key must not cost 1 MB per value.
    std::size_t room =
        limits_.max_name_length + 1 - std::min(name_.size(), limits_.max_name_length);
    name_.append(key, 0, std::min(key.size(), room));
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                   const nlohmann::detail::exception& error) {
    error_ = error.what();
    return false;
  }

  const std::string& error() const noexcept { return error_; }
  std::size_t samples() const noexcept { return samples_; }
  std::size_t skipped() const noexcept { return skipped_; }

 private:
  struct Frame {
    std::size_t base_size;  // name_ length of the container itself
    bool array;
    std::size_t next_index;
  };

  bool Skipping() const noexcept { return depth_ > frames_.size(); }

  // Sets name_ for the value that starts now; false when it has no name (top level) or lies
  // in a skipped subtree.
  bool BeginValue() {
    if (Skipping() || frames_.empty()) {
      return false;
    }
    Frame& frame = frames_.back();
    if (frame.array) {
      name_.resize(frame.base_size);
      if (name_.size() > prefix_size_) {
        name_.push_back('_');
      }
      char digits[24];
      auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), frame.next_index++);
      name_.append(digits, end);
    }
    return true;
  }

  bool StartContainer(bool array) {
    (void)BeginValue();
    ++depth_;
    if (depth_ > frames_.size() + 1) {
      return true;  // already inside a skipped subtree
    }
    if (depth_ > limits_.max_depth) {
      ++skipped_;
      return true;
    }
    frames_.push_back(Frame{name_.size(), array, 0});
    return true;
  }

  bool EndContainer() {
    if (depth_ == frames_.size() && !frames_.empty()) {
      frames_.pop_back();
    }
    if (depth_ > 0) {
      --depth_;
    }
    return true;
  }

  bool Scalar(double value) {
    if (!BeginValue()) {
      return true;
    }
    if (name_.size() > limits_.max_name_length) {
      ++skipped_;
      return true;
    }
    std::string name = name_;
    SanitizeMetricName(name);
    auto it = index_.find(name);
    if (it != index_.end()) {
      out_[it->second].samples.front().value = value;
      return true;
    }
    if (samples_ >= limits_.max_samples) {
      ++skipped_;
      return true;
    }
    MetricFamily& family = out_.emplace_back();
    family.type = MetricType::kGauge;
    family.samples.push_back(Sample{name, {}, value, timestamp_ms_});
    family.name = name;
    index_.emplace(std::move(name), out_.size() - 1);
    ++samples_;
    return true;
  }

  const std::size_t prefix_size_;
  const std::int64_t timestamp_ms_;
  const JsonAppLimits& limits_;
  std::vector<MetricFamily>& out_;

  std::string name_;  // prefix + path of the current value
  std::vector<Frame> frames_;
  std::size_t depth_ = 0;  // open containers, including skipped ones
  std::unordered_map<std::string, std::size_t> index_;
  std::size_t samples_ = 0;
  std::size_t skipped_ = 0;
  std::string error_;
};

}  // namespace

Status ParseJsonApp(std::string_view body, std::string_view prefix, std::int64_t timestamp_ms,
                    std::vector<MetricFamily>& out, ParseStats& stats,
                    const JsonAppLimits& limits) {
  const std::size_t first = out.size();
  Flattener flattener(prefix, timestamp_ms, limits, out);
  bool ok = false;
  std::string error;
  try {
    ok = nlohmann::json::sax_parse(body.begin(), body.end(), &flattener);
    error = flattener.error();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!ok) {
    out.resize(first);
    ++stats.invalid_lines;
    std::string message = "invalid JSON: " + (error.empty() ? std::string("parse error") : error);
    if (stats.first_error.empty()) {
      stats.first_error = message;
    }
    return Error{std::move(message)};
  }
  stats.samples += flattener.samples();
  stats.invalid_lines += flattener.skipped();
  if (flattener.skipped() > 0 && stats.first_error.empty()) {
    stats.first_error = "values skipped: nested too deep, name too long or too many samples";
  }
  return Status::Ok();
}

}  // namespace metricsd
