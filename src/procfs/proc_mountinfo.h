// Parser for /proc/<pid>/mountinfo, one line at a time, allocation-free: every field is a
// view into the caller's text, still escaped the kernel's way (space, tab, newline and
// backslash as \040 \011 \012 \134); UnescapeMountField() undoes that. Pure; thread-safe.
//
// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
// (1)(2)(3)   (4)   (5)      (6)      (7...)  (-) (8)  (9)          (10)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace metricsd::procfs {

struct MountinfoLine {
  std::uint32_t mount_id = 0;
  std::uint32_t parent_id = 0;
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::string_view root;         // the directory of the filesystem that is mounted
  std::string_view mount_point;  // escaped
  std::string_view mount_options;
  std::string_view fstype;  // "fuse.sshfs" etc. kept whole
  std::string_view source;  // escaped; "none" or a pseudo name for virtual filesystems
  std::string_view super_options;
};

bool ParseMountinfoLine(std::string_view line, MountinfoLine& out) noexcept;

// Decodes the kernel's \ooo octal escapes.
std::string UnescapeMountField(std::string_view field);

}  // namespace metricsd::procfs
