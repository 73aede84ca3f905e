#include "collectors/textfile_collector.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "collectors/limit_check.h"
#include "core/unique_fd.h"
#include "formats/exposition_parser.h"
#include "formats/family_collector.h"

namespace metricsd {

namespace {

// The families this collector writes itself, under either naming: a file may not define them.
bool IsOwnFamily(std::string_view name) {
  for (std::string_view prefix : {"metricsd", "node"}) {
    if (name.starts_with(prefix) && (name.substr(prefix.size()) == "_textfile_mtime_seconds" ||
                                     name.substr(prefix.size()) == "_textfile_scrape_error")) {
      return true;
    }
  }
  return false;
}

constexpr std::string_view kSuffix = ".prom";
// The parser's timestamp for samples that carry none: anything else was written in the file.
constexpr std::int64_t kNoTimestamp = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

struct DirCloser {
  void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

std::int64_t MtimeNs(const struct stat& st) noexcept {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * kNanosPerSecond + st.st_mtim.tv_nsec;
}

std::int64_t RealtimeNs() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * kNanosPerSecond + now.tv_nsec;
}

std::string Errno(std::string_view what) {
  return fmt::format("{}: {}", what, std::strerror(errno));
}

// The family form of one file, with what makes the file broken besides invalid lines.
class FileVisitor final : public SampleVisitor {
 public:
  FileVisitor(std::vector<MetricFamily>& out, LimitCheck& limits)
      : families_(out), limits_(limits) {}

  void OnSample(const FamilyView& family, std::string_view name, std::span<const LabelView> labels,
                double value, std::int64_t timestamp_ms, std::string_view series) override {
    if (timestamp_ms != kNoTimestamp) {
      ++timestamped_;
    }
    (void)limits_.Admit(name, labels);
    families_.OnSample(family, name, labels, value, timestamp_ms, series);
  }
  void OnHelpAfterSamples(const FamilyView& family) override {
    families_.OnHelpAfterSamples(family);
  }

  std::size_t timestamped() const noexcept { return timestamped_; }

 private:
  FamilyCollector families_;
  LimitCheck& limits_;
  std::size_t timestamped_ = 0;
};

// A series' identity across files: name and labels, separated by a byte that UTF-8 never holds.
void SeriesKey(const Sample& sample, std::string& key) {
  key.assign(sample.name);
  for (const Label& label : sample.labels) {
    key += '\xff';
    key += label.name;
    key += '\xff';
    key += label.value;
  }
}

}  // namespace

TextfileCollector::TextfileCollector(config::TextfileOptions options, config::MetricNaming naming,
                                     config::ScrapeLimits limits)
    : options_(std::move(options)), naming_(naming), limits_(limits) {}

void TextfileCollector::Parse(std::string_view body, const std::string& path,
                              ParsedFile& file) const {
  file.families.clear();
  if (limits_.line_length_limit != 0 && body.size() > limits_.line_length_limit) {
    if (std::size_t longest = LongestLine(body); longest > limits_.line_length_limit) {
      file.error = fmt::format("line_length_limit exceeded: a line of {} bytes, limit {}", longest,
                               limits_.line_length_limit);
      return;
    }
  }
  LimitCheck limits(limits_);
  FileVisitor visitor(file.families, limits);
  ParseStats stats;
  ParsePrometheusText(body, kNoTimestamp, visitor, stats);
  if (stats.invalid_lines != 0) {
    file.error =
        fmt::format("{} invalid line(s), the first at {}", stats.invalid_lines, stats.first_error);
  } else if (visitor.timestamped() != 0) {
    // As node_exporter: the samples are this host's state now, so a file's own timestamps
    // would only make them disappear as stale or arrive out of order.
    file.error = fmt::format("{} sample(s) with their own timestamp, which textfiles may not have",
                             visitor.timestamped());
  } else if (limits.exceeded() != nullptr) {
    file.error = limits.error();
  }
  if (!file.error.empty()) {
    file.families.clear();
    return;
  }
  for (MetricFamily& family : file.families) {
    if (family.help.empty()) {
      family.help = "Metric read from " + path;
    }
  }
}

void TextfileCollector::Load(int dir_fd, const std::string& name, const std::string& path,
                             const struct stat& listed, ParsedFile& file) {
  if (auto old = files_.find(name); old != files_.end()) {
    const ParsedFile& was = old->second;
    if (was.reusable && was.device == listed.st_dev && was.inode == listed.st_ino &&
        was.size == listed.st_size && was.mtime_ns == MtimeNs(listed)) {
      file = std::move(old->second);
      return;
    }
  }
  const auto keep = [&file](const struct stat& st) {
    file.device = st.st_dev;
    file.inode = st.st_ino;
    file.size = st.st_size;
    file.mtime_ns = MtimeNs(st);
  };
  const std::size_t max_bytes = options_.max_file_bytes;
  const auto too_big = [&](std::int64_t size) {
    file.error =
        fmt::format("{} bytes, more than collector.textfile.max_file_bytes ({})", size, max_bytes);
    file.reusable = true;  // whatever its mtime: only a change of size can make it fit
  };
  keep(listed);
  if (static_cast<std::uint64_t>(listed.st_size) > max_bytes) {
    too_big(listed.st_size);
    return;
  }
  // Symlinks are followed, as node_exporter does; O_NONBLOCK: a FIFO put in place after the
  // listing must not hang the tick.
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    file.error = Errno(fd.valid() ? "fstat" : "open");
    return;
  }
  keep(st);
  if (!S_ISREG(st.st_mode)) {
    file.error = "not a regular file";
    return;
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    too_big(st.st_size);
    return;
  }
  // One byte more than the limit, so that a file that grew since fstat is seen as too big.
  buffer_.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t used = 0;
  for (;;) {
    if (used == buffer_.size()) {
      if (used > max_bytes) {
        break;
      }
      buffer_.resize(std::min(buffer_.size() * 2, max_bytes + 1));
    }
    const ssize_t n = ::read(fd.get(), buffer_.data() + used, buffer_.size() - used);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      file.error = Errno("read");
      return;
    }
    if (n == 0) {
      break;
    }
    used += static_cast<std::size_t>(n);
  }
  if (used > max_bytes) {
    too_big(static_cast<std::int64_t>(used));
    file.reusable = false;
    return;
  }
  // A write in the same clock tick as this read can leave size and mtime as they were, so a
  // file this fresh is read again next tick (what git calls "racily clean").
  file.reusable = RealtimeNs() - file.mtime_ns > kNanosPerSecond;
  Parse(std::string_view(buffer_.data(), used), path, file);
}

CollectResult TextfileCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  std::map<std::string, std::string> problems;  // path -> why, the first problem of each
  std::map<std::string, ParsedFile> loaded;
  std::vector<std::pair<std::string, double>> mtimes;  // path -> whole seconds, per file used
  const std::string& dir_path = options_.directory;

  UniqueDir dir(::opendir(dir_path.c_str()));
  std::vector<std::string> names;
  if (!dir) {
    problems.emplace(dir_path, Errno("cannot open the directory"));
  } else {
    for (;;) {
      errno = 0;
      const dirent* entry = ::readdir(dir.get());
      if (entry == nullptr) {
        if (errno != 0) {
          problems.emplace(dir_path, Errno("cannot list the directory"));
        }
        break;
      }
      const std::string_view name = entry->d_name;
      if (name.ends_with(kSuffix)) {
        names.emplace_back(name);
      }
    }
  }
  std::sort(names.begin(), names.end());

  std::vector<MetricFamily>& out = result.families;
  std::unordered_map<std::string, std::size_t> family_index;  // name -> position in out
  std::unordered_set<std::string> series;
  std::string key;
  std::size_t regular = 0;
  for (const std::string& name : names) {
    const std::string path = dir_path.ends_with('/') ? dir_path + name : dir_path + '/' + name;
    struct stat listed {};
    if (::fstatat(::dirfd(dir.get()), name.c_str(), &listed, 0) != 0) {
      const int error = errno;
      struct stat link {};
      // Gone since the listing: not an error. A symlink to nothing is.
      if (error != ENOENT ||
          ::fstatat(::dirfd(dir.get()), name.c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = error;
        problems.emplace(path, Errno("stat"));
      }
      continue;
    }
    if (!S_ISREG(listed.st_mode)) {
      continue;  // directories, FIFOs and sockets named *.prom are not textfiles
    }
    if (++regular > options_.max_files) {
      problems.emplace(dir_path,
                       fmt::format("more than collector.textfile.max_files ({}) *.prom files; "
                                   "skipped from {} on",
                                   options_.max_files, path));
      break;
    }
    ParsedFile& file = loaded[name];
    Load(::dirfd(dir.get()), name, path, listed, file);
    if (!file.error.empty()) {
      problems.emplace(path, file.error);
      continue;
    }
    mtimes.emplace_back(path, static_cast<double>(file.mtime_ns / kNanosPerSecond));
    for (const MetricFamily& family : file.families) {
      if (IsOwnFamily(family.name)) {
        problems.emplace(path, fmt::format("family {} is the textfile collector's own; its "
                                           "samples here are skipped",
                                           family.name));
        continue;
      }
      auto [at, added] = family_index.try_emplace(family.name, out.size());
      if (added) {
        MetricFamily& merged = out.emplace_back();
        merged.name = family.name;
        merged.help = family.help;
        merged.type = family.type;
      } else if (out[at->second].type != family.type) {
        problems.emplace(path, fmt::format("family {} has type {} here but {} in an earlier file; "
                                           "its samples here are skipped",
                                           family.name, MetricTypeName(family.type),
                                           MetricTypeName(out[at->second].type)));
        continue;
      }
      MetricFamily& merged = out[at->second];
      for (const Sample& sample : family.samples) {
        SeriesKey(sample, key);
        if (!series.insert(key).second) {
          problems.emplace(path, fmt::format("series {} was already read (from this or an earlier "
                                             "file); the later samples are skipped",
                                             sample.name));
          continue;
        }
        Sample& taken = merged.samples.emplace_back(sample);
        taken.timestamp_ms = ctx.wall_ms;
      }
    }
  }
  std::erase_if(out, [](const MetricFamily& family) { return family.samples.empty(); });

  std::vector<std::string_view> prefixes;
  if (naming_ != config::MetricNaming::kNodeExporter) {
    prefixes.push_back("metricsd");
  }
  if (naming_ != config::MetricNaming::kMetricsd) {
    prefixes.push_back("node");
  }
  for (std::string_view prefix : prefixes) {
    FamilyBuilder mtime(std::string(prefix) + "_textfile_mtime_seconds",
                        "Unix time of the last change of each textfile used, in whole seconds.",
                        MetricType::kGauge, ctx.wall_ms);
    for (const auto& [path, seconds] : mtimes) {
      mtime.Add(seconds, Labels{Label{"file", path}});
    }
    if (!mtime.empty()) {
      out.push_back(mtime.Build());
    }
    out.push_back(FamilyBuilder(std::string(prefix) + "_textfile_scrape_error",
                                "1 if the textfile directory could not be read or a file in it "
                                "was not used whole, 0 otherwise.",
                                MetricType::kGauge, ctx.wall_ms)
                      .Add(problems.empty() ? 0.0 : 1.0)
                      .Build());
  }

  if (!problems.empty()) {
    const auto& [where, why] = *problems.begin();
    result.message = problems.size() == 1
                         ? fmt::format("{}: {}", where, why)
                         : fmt::format("{}: {} (and {} more)", where, why, problems.size() - 1);
  }
  files_ = std::move(loaded);
  Report(std::move(problems));
  return result;
}

void TextfileCollector::Report(std::map<std::string, std::string> problems) {
  for (const auto& [where, why] : problems) {
    if (auto was = problems_.find(where); was == problems_.end() || was->second != why) {
      spdlog::warn("textfile: {}: {}", where, why);
    }
  }
  for (const auto& [where, why] : problems_) {
    if (!problems.contains(where)) {
      spdlog::info("textfile: {}: no longer a problem (fixed or removed)", where);
    }
  }
  problems_ = std::move(problems);
}

}  // namespace metricsd
