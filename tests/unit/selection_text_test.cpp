// The kernel's query analysis: words, folding, stop words, and the FreeDict dictionaries
// (the real files from Debian's dict-freedict-spa-eng / eng-spa, which install-deps.sh installs).

#include <gtest/gtest.h>

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "process.hpp"
#include "selection/apertium_lexicon.hpp"
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

TEST(BilingualDictionary, AddedPairsReadBothWaysAndEnglishInflectionsFindTheirWord) {
  ck::BilingualDictionary d;
  d.add("presupuesto", "budget");
  d.add("entrenar", "train");
  d.add("factura", "invoice");
  d.add("de", "of");                      // a stop word: left out
  d.add("copia de seguridad", "backup");  // not one word: left out
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.translate("presupuestos", 5), V{"budget"});
  EXPECT_EQ(d.translate("budget", 5), V{"presupuesto"});
  EXPECT_EQ(d.translate("budgeting", 5), V{"presupuesto"});  // -ing
  EXPECT_EQ(d.translate("trained", 5), V{"entrenar"});       // -ed
  EXPECT_EQ(d.translate("invoiced", 5), V{"factura"});       // -ed after an e
  EXPECT_TRUE(d.translate("backup", 5).empty());
  EXPECT_TRUE(d.translate("ed", 5).empty());  // no stem left: nothing is stripped
}

// Debian's apertium-eng-spa (install-deps.sh installs it), read through lttoolbox.
const char* const kApertiumSpaEng = "/usr/share/apertium/apertium-eng-spa/spa-eng.autobil.bin";

TEST(ApertiumLexicon, DebiansSpanishEnglishDictionaryTranslatesTechnicalWordsBothWays) {
  ck::BilingualDictionary d;
  auto n = ck::load_apertium_bidix(CTXMGR_APERTIUM_MODULE, kApertiumSpaEng, d);
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_GT(*n, 20000u);
  EXPECT_GT(d.size(), 15000u);  // Spanish headwords (a headword may have several translations)
  auto has = [&](std::string_view word, const std::string& translation) {
    const auto t = d.translate(std::string(word), 10);
    return std::find(t.begin(), t.end(), translation) != t.end();
  };
  // Words FreeDict lacks, Spanish to English and back; accents kept.
  EXPECT_TRUE(has("despliegue", "deployment"));
  EXPECT_TRUE(has("privacidad", "privacy"));
  EXPECT_TRUE(has("formacion", "training"));
  EXPECT_TRUE(has("milestones", "hito"));
  EXPECT_TRUE(has("deployment", "despliegue"));
  EXPECT_TRUE(has("bill", "factura"));
  // Numbers and patterns are not words: none of them comes in.
  EXPECT_TRUE(d.translate("9", 5).empty());
}

TEST(ApertiumLexicon, ReadOnFirstUseAndAFileThatFailsThenIsLeftOut) {
  const auto dir = ctxmgr::test::make_temp_dir();
  std::ofstream(dir + "/gone.bin") << "LTTB";  // passes the start-up check, then fails to read
  const ck::ApertiumLexicon lexicon(CTXMGR_APERTIUM_MODULE, {dir + "/gone.bin", kApertiumSpaEng});
  const auto t = lexicon.translate("despliegue", 5);
  EXPECT_NE(std::find(t.begin(), t.end(), "deployment"), t.end());
  EXPECT_TRUE(ck::check_apertium_bidix(dir + "/gone.bin").ok());
  EXPECT_TRUE(ck::check_apertium_bidix(kApertiumSpaEng).ok());
  std::filesystem::remove_all(dir);
}

// Without the module (a build or package that left it out), the dictionaries are refused with
// the module's path, and selection goes on without them (ApertiumLexicon logs the error).
TEST(ApertiumLexicon, AMissingModuleIsRefusedWithItsPathAndTranslatesNothing) {
  const auto dir = ctxmgr::test::make_temp_dir();
  const std::string module = dir + "/ctxmgr-apertium.so";
  ck::BilingualDictionary d;
  auto n = ck::load_apertium_bidix(module, kApertiumSpaEng, d);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message().find("Apertium dictionaries need " + module), std::string::npos)
      << n.error().message();
  EXPECT_EQ(d.size(), 0u);
  const ck::ApertiumLexicon lexicon(module, {kApertiumSpaEng});
  EXPECT_TRUE(lexicon.translate("despliegue", 5).empty());
  std::filesystem::remove_all(dir);
}

TEST(ApertiumLexicon, AFileThatIsNoTransducerIsRefusedWithItsName) {
  const auto dir = ctxmgr::test::make_temp_dir();
  ck::BilingualDictionary d;
  auto missing = ck::load_apertium_bidix(CTXMGR_APERTIUM_MODULE, dir + "/none.bin", d);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("none.bin: cannot read"), std::string::npos);
  std::ofstream(dir + "/text.bin") << "casa\thouse\n";
  auto text = ck::load_apertium_bidix(CTXMGR_APERTIUM_MODULE, dir + "/text.bin", d);
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().message().find("text.bin: not an lttoolbox transducer"), std::string::npos)
      << text.error().message();
  auto checked = ck::check_apertium_bidix(dir + "/text.bin");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message(),
            dir + "/text.bin: not an lttoolbox transducer (no LTTB header)");
  EXPECT_FALSE(ck::check_apertium_bidix(dir + "/none.bin").ok());
  // lttoolbox's own header with features it does not know: it throws, the loader answers.
  std::ofstream(dir + "/future.bin") << "LTTB\xff\xff\xff\xff\xff\xff\xff\xff";
  auto future = ck::load_apertium_bidix(CTXMGR_APERTIUM_MODULE, dir + "/future.bin", d);
  ASSERT_FALSE(future.ok());
  EXPECT_NE(future.error().message().find("future.bin: not an lttoolbox transducer ("),
            std::string::npos)
      << future.error().message();
  EXPECT_EQ(d.size(), 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
