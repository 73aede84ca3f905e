// Parsers added for the node_exporter profile: every meminfo field, vmstat, the intr total,
// os-release and udev's device database.
#include <gtest/gtest.h>

#include "procfs/key_value_files.h"
#include "procfs/proc_meminfo.h"
#include "procfs/proc_stat.h"
#include "procfs/proc_vmstat.h"

namespace metricsd::procfs {
namespace {

TEST(ProcMeminfoFields, EveryLineInOrderWithUnits) {
  std::vector<MeminfoField> fields;
  ParseMeminfoFields(
      "MemTotal:       16000000 kB\nActive(anon):  5 kB\nHugePages_Total:   4\nbroken line\n"
      "NoValue:\n",
      fields);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].name, "MemTotal");
  EXPECT_EQ(fields[0].value, 16000000ull * 1024);
  EXPECT_TRUE(fields[0].in_kb);
  EXPECT_EQ(fields[1].name, "Active(anon)");
  EXPECT_EQ(fields[2].name, "HugePages_Total");
  EXPECT_EQ(fields[2].value, 4u);
  EXPECT_FALSE(fields[2].in_kb);
}

TEST(ProcVmstat, NameValueLines) {
  std::vector<VmstatField> fields;
  ParseVmstat("nr_free_pages 12\npgfault 18446744073709551615\nbad\nx -1\n", fields);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[1].name, "pgfault");
  EXPECT_EQ(fields[1].value, 18446744073709551615ull);
}

TEST(ProcStat, InterruptTotalIsTheFirstNumberOfIntr) {
  ProcStat stat;
  ASSERT_TRUE(ParseProcStat("cpu 1 2 3 4 5 6 7 8 0 0\nintr 139115 0 0 5\nctxt 7\n", stat));
  EXPECT_EQ(stat.interrupts, 139115u);
  EXPECT_EQ(stat.context_switches, 7u);
}

TEST(OsRelease, QuotingCommentsAndExport) {
  KeyValues kv = ParseOsRelease(
      "# comment\n\nNAME=\"Debian GNU/Linux\"\nID=debian\nVERSION='12 (bookworm)'\n"
      "export BUILD_ID=\"a\\\"b\\\\c\"\nHOME_URL=\"https://www.debian.org/\"\nBARE=one\\ two\n"
      "=novalue\nnoequals\n");
  EXPECT_EQ(kv["NAME"], "Debian GNU/Linux");
  EXPECT_EQ(kv["ID"], "debian");
  EXPECT_EQ(kv["VERSION"], "12 (bookworm)");
  EXPECT_EQ(kv["BUILD_ID"], "a\"b\\c");
  EXPECT_EQ(kv["HOME_URL"], "https://www.debian.org/");
  EXPECT_EQ(kv["BARE"], "one two");
  EXPECT_EQ(kv.size(), 6u);
}

TEST(UdevProperties, OnlyPropertyLines) {
  KeyValues kv = ParseUdevProperties(
      "S:disk/by-id/x\nW:1\nE:ID_MODEL=Disk=Model\nE:ID_SERIAL_SHORT=\nE:broken\nG:systemd\n");
  EXPECT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv["ID_MODEL"], "Disk=Model");
  EXPECT_EQ(kv["ID_SERIAL_SHORT"], "");
}

}  // namespace
}  // namespace metricsd::procfs
