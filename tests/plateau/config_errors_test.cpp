// Bad configuration: `plateau topology` exits 2 with a message naming the file, the line and the
// problem. One test per case, each run through the real binary.
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.hpp"

namespace plateau::testing {
namespace {

// A small valid network; each test breaks one thing.
const char* kValid = R"(
[network]
name = "test"

[[site]]
id = "hub"
name = "省政府"
kind = "hub"
segment = "09710"

[[site]]
id = "haidong"
name = "海东地区"
kind = "subcentre"
parent = "hub"
number = "09722001"
segment = "09722"

[[site]]
id = "minhe"
name = "民和县"
kind = "county"
parent = "haidong"
number = "09722101"

[[link]]
id = "hub-haidong"
from = "hub"
to = "haidong"
up_kbps = 8000
down_kbps = 8000

[[link]]
id = "haidong-minhe"
from = "haidong"
to = "minhe"
up_kbps = 2000
down_kbps = 2000

[[mcu]]
id = "mcu-hub"
site = "hub"
ports = 64
)";

class BadConfig : public ::testing::Test {
 protected:
  RunResult RunWith(const std::string& text) {
    path_ = dir_.path() + "/network.toml";
    std::ofstream(path_) << text;
    return RunCommand({PlateauBinary(), "topology", "--config", path_});
  }
  static std::string Replace(std::string s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  }
  void ExpectError(const RunResult& r, const std::string& line, const std::string& problem) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(path_ + ":" + line + ":"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(problem), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(BadConfig, ValidBaseLoads) {
  auto r = RunWith(kValid);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("民和县"), std::string::npos);
}

// An unterminated string: the line, and the TOML parser's problem (toml++ 3.3, Debian 12) as the
// operator reads it, not just a line number.
TEST_F(BadConfig, MalformedTomlNamesLine) {
  auto r = RunWith(Replace(kValid, "kind = \"county\"", "kind = \"county"));
  ExpectError(r, "22", "Error while parsing string: unescaped control characters");
}

TEST_F(BadConfig, UnknownParent) {
  auto r = RunWith(Replace(kValid, "parent = \"haidong\"", "parent = \"haidongg\""));
  ExpectError(r, "19", "names parent \"haidongg\", which is not a site");
}

TEST_F(BadConfig, ParentCycle) {
  // haidong -> minhe -> haidong, and both off the hub's tree.
  std::string s = Replace(kValid, "kind = \"subcentre\"\nparent = \"hub\"",
                          "kind = \"subcentre\"\nparent = \"minhe\"");
  auto r = RunWith(s);
  ExpectError(r, "11", "cycle");
}

TEST_F(BadConfig, DuplicateId) {
  auto r = RunWith(Replace(kValid, "id = \"minhe\"", "id = \"haidong\""));
  ExpectError(r, "19", "site id \"haidong\" is used twice");
}

TEST_F(BadConfig, DuplicateNumber) {
  auto r = RunWith(Replace(kValid, "number = \"09722101\"", "number = \"09722001\""));
  ExpectError(r, "19", "number 09722001 of site \"minhe\" is already used by \"haidong\"");
}

TEST_F(BadConfig, CountyNotUnderSubcentre) {
  std::string s = Replace(kValid, "parent = \"haidong\"\nnumber", "parent = \"hub\"\nnumber");
  s = Replace(s, "from = \"haidong\"\nto = \"minhe\"", "from = \"hub\"\nto = \"minhe\"");
  auto r = RunWith(s);
  ExpectError(r, "19", "county \"minhe\" must be under a sub-centre");
}

TEST_F(BadConfig, ZeroCapacity) {
  auto r = RunWith(Replace(kValid, "up_kbps = 2000", "up_kbps = 0"));
  ExpectError(r, "33", "needs a positive capacity");
}

TEST_F(BadConfig, NegativeCapacity) {
  auto r = RunWith(Replace(kValid, "down_kbps = 8000", "down_kbps = -8000"));
  ExpectError(r, "26", "needs a positive capacity");
}

TEST_F(BadConfig, ZeroMcuPorts) {
  auto r = RunWith(Replace(kValid, "ports = 64", "ports = 0"));
  ExpectError(r, "40", "needs a positive port count");
}

TEST_F(BadConfig, UnknownKeyIsNotIgnored) {
  auto r = RunWith(Replace(kValid, "ports = 64", "ports = 64\nport = 3"));
  ExpectError(r, "44", "unknown key \"port\"");
}

// A profile whose reservation does not cover its own packets would let admission promise a link
// more than it can carry. sd-1m at the old 1.05: 664 reserved, 697 needed.
const char* kThinProfile = R"(
[[profile]]
id = "sd-1m"
width = 640
height = 360
video_kbps = 600
audio_kbps = 32
overhead = 1.05
)";

TEST_F(BadConfig, ProfileReservingLessThanItsMediaNeeds) {
  auto r = RunWith(std::string(kValid) + kThinProfile);
  ExpectError(r, "45",
              "profile \"sd-1m\" reserves 664 kbit/s per stream but its media needs 697 (video "
              "600 + audio 32 + RTP/SRTP/UDP/IP headers); raise overhead to at least 1.11");
  // The suggested factor is enough.
  r = RunWith(std::string(kValid) + Replace(kThinProfile, "1.05", "1.11"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(BadConfig, ProfileNeedsItsPicture) {
  auto r = RunWith(std::string(kValid) + Replace(kThinProfile, "width = 640\n", ""));
  ExpectError(r, "45", "[[profile]]: missing \"width\"");
  // The tier name of older configurations is gone: the profile is its own tier.
  r = RunWith(std::string(kValid) +
              Replace(kThinProfile, "overhead = 1.05", "overhead = 1.11\ntier = \"2m\""));
  ExpectError(r, "52", "unknown key \"tier\"");
}

TEST_F(BadConfig, MissingFile) {
  auto r = RunCommand({PlateauBinary(), "topology", "--config", dir_.path() + "/nope.toml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope.toml: cannot open the file"), std::string::npos) << r.err;
}

TEST_F(BadConfig, ServeRefusesBadConfigToo) {
  RunWith(Replace(kValid, "up_kbps = 2000", "up_kbps = -1"));
  auto r = RunCommand({PlateauBinary(), "serve", "--config", path_, "--data", dir_.path() + "/data",
                       "--listen", "127.0.0.1:" + std::to_string(FreePort())});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("needs a positive capacity"), std::string::npos) << r.err;
  // Start-up refuses a profile that reserves less than its media needs.
  RunWith(std::string(kValid) + kThinProfile);
  r = RunCommand({PlateauBinary(), "serve", "--config", path_, "--data", dir_.path() + "/data",
                  "--listen", "127.0.0.1:" + std::to_string(FreePort())});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("raise overhead to at least 1.11"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace plateau::testing
