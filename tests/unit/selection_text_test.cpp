// The kernel's query analysis: words, folding, stop words, and the FreeDict dictionaries
// (the real files from Debian's dict-freedict-spa-eng / eng-spa, which install-deps.sh installs).

#include <gtest/gtest.h>

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "process.hpp"
#include "selection/bilingual_dictionary.hpp"
#include "selection/text_analysis.hpp"

namespace ck = ctxmgr::kernel;

namespace {

using V = std::vector<std::string>;

TEST(SelectionText, WordsAreRunsOfLettersAndDigits) {
  EXPECT_EQ(ck::split_words("¿Cómo migrar la facturación? (v2.0) e-mail"),
            (V{"Cómo", "migrar", "la", "facturación", "v2", "0", "e", "mail"}));
  EXPECT_EQ(ck::split_words("  ,;  "), V{});
  EXPECT_EQ(ck::split_words("naïve café"), (V{"naïve", "café"}));
}

TEST(SelectionText, FoldingLowersAndDropsAccents) {
  EXPECT_EQ(ck::fold_word("Facturación"), "facturacion");
  EXPECT_EQ(ck::fold_word("PINGÜINO"), "pinguino");
  EXPECT_EQ(ck::fold_word("Año"), "ano");
  EXPECT_EQ(ck::fold_word("Straße"), "strasse");     // full case folding
  EXPECT_EQ(ck::fold_word("\xff\xfe"), "\xff\xfe");  // invalid UTF-8 comes back as it was
}

TEST(SelectionText, StopWordsOfBothLanguages) {
  for (const char* w : {"de", "la", "the", "of", "y", "and", "que", "como"}) {
    EXPECT_TRUE(ck::is_stop_word(w)) << w;
  }
  for (const char* w : {"factura", "invoice", "backup", "migrar"}) {
    EXPECT_FALSE(ck::is_stop_word(w)) << w;
  }
}

TEST(BilingualDictionary, DebiansFreeDictTranslatesBothWays) {
  ck::BilingualDictionary d;
  ASSERT_TRUE(d.load("/usr/share/dictd/freedict-spa-eng").ok());
  ASSERT_TRUE(d.load("/usr/share/dictd/freedict-eng-spa").ok());
  EXPECT_GT(d.size(), 5000u);
  EXPECT_EQ(d.translate("seguridad", 5), (V{"safety", "security"}));
  EXPECT_EQ(d.translate("invoice", 5), V{"cuenta"});
  EXPECT_EQ(d.translate("invoices", 5), V{"cuenta"});  // a plural finds its singular
  EXPECT_EQ(d.translate("seguridad", 1), V{"safety"});
  EXPECT_TRUE(d.translate("zzzz", 5).empty());
  // Translations keep their accents (the storage's Spanish stemmer needs them).
  const auto error = d.translate("error", 5);
  EXPECT_NE(std::find(error.begin(), error.end(), "equivocación"), error.end());
}

TEST(BilingualDictionary, ABrokenDictionaryIsRefusedWithItsName) {
  const auto dir = ctxmgr::test::make_temp_dir();
  ck::BilingualDictionary d;
  auto missing = d.load(dir + "/none");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("none.index: cannot read"), std::string::npos);
  // A valid gzip body, an index entry pointing past its end.
  {
    gzFile f = gzopen((dir + "/bad.dict.dz").c_str(), "wb");
    gzputs(f, "casa\nhouse\n");
    gzclose(f);
    std::ofstream(dir + "/bad.index") << "casa\tA\tL\nperro\tz\tz\n";
  }
  auto bad = d.load(dir + "/bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("bad.index:2: malformed entry"), std::string::npos)
      << bad.error().message();
  std::filesystem::remove_all(dir);
}

}  // namespace
