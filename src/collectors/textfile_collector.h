// TextfileCollector: the *.prom files that scripts and cron jobs write into one directory,
// with node_exporter 1.5's textfile semantics (docs/textfile.md).
//
// Each tick lists the directory (not recursively), takes the regular files (symlinks are
// followed) whose names end in ".prom", in byte order of their names, at most `max_files`,
// and parses each as Prometheus text. A file is used whole or not at all: one invalid line,
// one sample with its own timestamp, a scrape limit exceeded (the global scrape.* limits), or
// a size above `max_file_bytes` makes it broken, and none of its samples are used. The good
// files' families are merged by name; every sample gets the tick's time. A series already
// taken from an earlier file (or earlier in the same file) is dropped, and so is a family
// whose type differs from the one an earlier file gave it; the rest of that file is used.
//
// Besides the files' own samples: <prefix>_textfile_mtime_seconds{file="<path>"} per file
// used, and <prefix>_textfile_scrape_error, 1 when the directory could not be read or any
// file was broken, too big, beyond `max_files` or in conflict; prefix "metricsd", "node" or
// both, after `naming`. Problems are logged once per change, not every tick, and the first
// one is the result's message. Collect() never fails as a whole and never throws.
//
// The directory is used as given (as seen by metricsd, not below HOST_ROOT). A file is
// re-parsed only when its device, inode, size or mtime changed, and not when its mtime was
// within a second of the last read (a write in the same clock tick could leave all four
// unchanged). Not thread-safe (one Collect() at a time).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "config/options.h"

namespace metricsd {

class TextfileCollector final : public Collector {
 public:
  TextfileCollector(config::TextfileOptions options, config::MetricNaming naming,
                    config::ScrapeLimits limits);

  std::string_view name() const override { return "textfile"; }
  CollectResult Collect(const CollectContext& ctx) override;

 private:
  // What one file held when it was last read.
  struct ParsedFile {
    dev_t device = 0;
    ino_t inode = 0;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
    bool reusable = false;  // the file was not written within a second of the read
    std::string error;      // non-empty: broken, none of its samples are used
    std::vector<MetricFamily> families;
  };

  // Fills `file` with the file `name` of the directory open as `dir_fd`, as listed with
  // `listed` (stat, symlinks followed): from the last tick's when unchanged.
  void Load(int dir_fd, const std::string& name, const std::string& path, const struct stat& listed,
            ParsedFile& file);
  void Parse(std::string_view body, const std::string& path, ParsedFile& file) const;
  void Report(std::map<std::string, std::string> problems);

  config::TextfileOptions options_;
  config::MetricNaming naming_;
  config::ScrapeLimits limits_;
  std::map<std::string, ParsedFile> files_;      // by file name; those of the last tick
  std::map<std::string, std::string> problems_;  // path -> problem, as last logged
  std::string buffer_;                           // reused for each file's bytes
};

}  // namespace metricsd
