// End to end: the real herbtrace-ledger binary creates a log, signs the sample huangqi chain with
// a grower's and a trader's keys, appends it with the signatures checked, proves an entry, audits
// the ledger, and then finds one altered byte on disk and names the entry.
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "storage/key_codec.h"
#include "storage/ledger_db.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace herbtrace {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::TempDir;
using ::testing::HasSubstr;

using ToolRun = ::herbtrace::testing::CommandResult;

ToolRun Tool(const std::string& args) {
  return ::herbtrace::testing::RunCommand(absl::StrCat(HERBTRACE_LEDGER_TOOL, " ", args));
}

class LedgerToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Tool(absl::StrCat("init --dir ", Ledger())).exit_code, 0);
    for (const char* party : {"grower", "trader"}) {
      ToolRun keygen = Tool(absl::StrCat("keygen --key ", Key(party)));
      ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
      ToolRun sign = Tool(absl::StrCat("sign --key ", Key(party), " --in ", HERBTRACE_SOURCE_DIR,
                                   "/deploy/samples/", party, "-huangqi.events.txtpb --out ",
                                   Events(party)));
      ASSERT_EQ(sign.exit_code, 0) << sign.output;
    }
  }

  std::string Ledger() const { return (dir_.path() / "ledger").string(); }
  std::string Key(const std::string& party) const {
    return (dir_.path() / (party + ".pem")).string();
  }
  std::string Events(const std::string& party) const {
    return (dir_.path() / (party + ".bin")).string();
  }
  std::string TrustBoth() const {
    return absl::StrCat(" --trust ", Key("grower"), ".pub,", Key("trader"), ".pub");
  }
  ToolRun AppendBoth() {
    ToolRun grower = Tool(absl::StrCat("append --dir ", Ledger(), " --in ", Events("grower"), TrustBoth()));
    ToolRun trader = Tool(absl::StrCat("append --dir ", Ledger(), " --in ", Events("trader"), TrustBoth()));
    return ToolRun{grower.exit_code != 0 ? grower.exit_code : trader.exit_code,
               grower.output + trader.output};
  }

  TempDir dir_;
};

TEST_F(LedgerToolTest, AppendsProvesAndAuditsTheHuangqiChain) {
  ToolRun append = AppendBoth();
  ASSERT_EQ(append.exit_code, 0) << append.output;
  EXPECT_THAT(append.output, HasSubstr("appended 3, rejected 0; log size 3"));
  EXPECT_THAT(append.output, HasSubstr("appended 1, rejected 0; log size 4"));

  ToolRun prove = Tool(absl::StrCat("prove --dir ", Ledger(), " --seq 3"));
  ASSERT_EQ(prove.exit_code, 0) << prove.output;
  EXPECT_THAT(prove.output, HasSubstr("verified: entry 3 is in the tree of size 4 signed by the log"));

  ToolRun entry = Tool(absl::StrCat("entry --dir ", Ledger(), " --seq 0"));
  ASSERT_EQ(entry.exit_code, 0) << entry.output;
  EXPECT_THAT(entry.output, HasSubstr("herb_code: \"HUANGQI\""));
  EXPECT_THAT(entry.output, HasSubstr("东区-3号地"));

  ToolRun audit = Tool(absl::StrCat("audit --dir ", Ledger()));
  ASSERT_EQ(audit.exit_code, 0) << audit.output;
  EXPECT_THAT(audit.output, HasSubstr("audit passed: 4 entries"));
  EXPECT_THAT(audit.output, HasSubstr("signed checkpoint at size 4 matches"));
}

TEST_F(LedgerToolTest, AppendingAgainIsIdempotent) {
  ASSERT_EQ(AppendBoth().exit_code, 0);
  ToolRun again = AppendBoth();
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("appended 3, rejected 0; log size 4"));
  EXPECT_THAT(again.output, HasSubstr("appended 1, rejected 0; log size 4"));
}

TEST_F(LedgerToolTest, RejectsEventsSignedByAnUntrustedKeyAndWritesNothing) {
  ToolRun append = Tool(absl::StrCat("append --dir ", Ledger(), " --in ", Events("trader"),
                                 " --trust ", Key("grower"), ".pub"));
  EXPECT_EQ(append.exit_code, 1);
  EXPECT_THAT(append.output, HasSubstr("signed_event.key_id"));
  EXPECT_THAT(append.output, HasSubstr("is not trusted"));
  EXPECT_THAT(append.output, HasSubstr("appended 0, rejected 1; log size 0"));
}

TEST_F(LedgerToolTest, RejectsAnEventWhoseSignedBytesWereAlteredAndWritesNothing) {
  std::string bytes = ::herbtrace::testing::ReadFileOrDie(Events("trader"));
  // The payload starts after the length prefix and the SignedEvent's field header: flip a byte
  // well inside it.
  bytes[20] ^= 0x01;
  std::ofstream(Events("trader"), std::ios::binary | std::ios::trunc) << bytes;
  ToolRun append = Tool(absl::StrCat("append --dir ", Ledger(), " --in ", Events("trader"), TrustBoth()));
  EXPECT_EQ(append.exit_code, 1);
  EXPECT_THAT(append.output, HasSubstr("signature"));
  EXPECT_THAT(append.output, HasSubstr("appended 0, rejected 1; log size 0"));
}

TEST_F(LedgerToolTest, AuditFindsOneAlteredByteOnDiskAndNamesTheEntry) {
  ASSERT_EQ(AppendBoth().exit_code, 0);
  {
    auto db = storage::LedgerDb::Open(Ledger() + "/db", storage::LedgerDb::Options());
    ASSERT_THAT(db, IsOk());
    std::string bytes = **(*db)->Get(storage::Cf::kEntries, storage::BigEndian64(1));
    bytes[bytes.size() / 2] ^= 0x04;
    ASSERT_TRUE((*db)->db().Put(rocksdb::WriteOptions(), (*db)->cf(storage::Cf::kEntries),
                                storage::BigEndian64(1), bytes).ok());
  }
  ToolRun audit = Tool(absl::StrCat("audit --dir ", Ledger()));
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_THAT(audit.output, HasSubstr("AUDIT FAILED at entry 1"));
  EXPECT_THAT(audit.output, HasSubstr("entries verified before the break: 1"));
}

}  // namespace
}  // namespace herbtrace
