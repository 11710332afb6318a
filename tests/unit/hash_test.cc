#include "ledger/hash.h"

#include <gtest/gtest.h>

namespace gongshe::ledger {
namespace {

// FIPS 180-2 test vectors.
TEST(Sha256, KnownVectors) {
  EXPECT_EQ(ToHex(Sha256(AsBytes(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, PartsEqualConcatenation) {
  EXPECT_EQ(Sha256({AsBytes("ab"), AsBytes(""), AsBytes("c")}), Sha256(AsBytes("abc")));
}

TEST(HashFromBytes, RequiresExactly32Bytes) {
  Bytes b(32, 7);
  ASSERT_TRUE(HashFromBytes(b).has_value());
  b.push_back(1);
  EXPECT_FALSE(HashFromBytes(b).has_value());
  EXPECT_FALSE(HashFromBytes({}).has_value());
}

}  // namespace
}  // namespace gongshe::ledger
