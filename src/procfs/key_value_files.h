// Parsers for the small "KEY=value" files a host describes itself with. Pure.
//
// os-release(5): shell-style assignments. A value may be double-quoted (backslash escapes
// \" \\ \$ \` are honoured), single-quoted (literal) or bare; blank lines and lines starting
// with '#' are comments; an optional leading "export " is ignored.
//
// udev's device database (/run/udev/data/b<major>:<minor>): only the "E:KEY=value" property
// lines are kept; values are taken literally.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace metricsd::procfs {

using KeyValues = std::map<std::string, std::string, std::less<>>;

KeyValues ParseOsRelease(std::string_view text);
KeyValues ParseUdevProperties(std::string_view text);

}  // namespace metricsd::procfs
