#include "search_tokenizer.hpp"

#include <libstemmer.h>
#include <sqlite3.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ctxmgr::sqlite {

namespace {

constexpr const char* kTokenizerName = "ctxmgr";

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};
using StemmerPtr = std::unique_ptr<sb_stemmer, StemmerDeleter>;

// One instance per FTS5 table and connection; a connection is used by one thread at a time, so
// the stemmers (which keep state between calls) need no lock.
class Analyzer {
 public:
  Analyzer(fts5_tokenizer base_api, void* base_ctx) : api_(base_api) {
    const char* split_args[] = {"remove_diacritics", "0"};
    const char* fold_args[] = {"remove_diacritics", "2"};
    if (api_.xCreate(base_ctx, split_args, 2, &split_) != SQLITE_OK ||
        api_.xCreate(base_ctx, fold_args, 2, &fold_) != SQLITE_OK) {
      throw std::runtime_error("cannot create unicode61 tokenizers");
    }
    es_.reset(sb_stemmer_new("spanish", "UTF_8"));
    en_.reset(sb_stemmer_new("english", "UTF_8"));
    if (!es_ || !en_) throw std::runtime_error("libstemmer lacks the spanish/english stemmers");
  }
  ~Analyzer() {
    if (split_ != nullptr) api_.xDelete(split_);
    if (fold_ != nullptr) api_.xDelete(fold_);
  }
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  using TokenFn = int (*)(void*, int, const char*, int, int, int);

  int tokenize(void* ctx, int flags, const char* text, int n, TokenFn emit) {
    Emit e{this, ctx, emit};
    return api_.xTokenize(split_, &e, flags, text, n, &Analyzer::on_word);
  }

 private:
  struct Emit {
    Analyzer* self;
    void* ctx;
    TokenFn emit;
  };

  static int on_word(void* p, int /*flags*/, const char* tok, int n, int start, int end) {
    auto* e = static_cast<Emit*>(p);
    return e->self->emit_forms(*e, std::string_view(tok, static_cast<std::size_t>(n)), start, end);
  }

  std::string stem(sb_stemmer* s, std::string_view word) {
    const sb_symbol* out = sb_stemmer_stem(s, reinterpret_cast<const sb_symbol*>(word.data()),
                                           static_cast<int>(word.size()));
    if (out == nullptr) return std::string(word);  // out of memory: index the word itself
    return std::string(reinterpret_cast<const char*>(out),
                       static_cast<std::size_t>(sb_stemmer_length(s)));
  }

  // The word without accents, through unicode61 (it yields one token for one word).
  std::string fold(std::string_view word) {
    std::string out;
    api_.xTokenize(fold_, &out, FTS5_TOKENIZE_DOCUMENT, word.data(), static_cast<int>(word.size()),
                   [](void* p, int, const char* t, int n, int, int) {
                     static_cast<std::string*>(p)->append(t, static_cast<std::size_t>(n));
                     return SQLITE_OK;
                   });
    return out.empty() ? std::string(word) : out;
  }

  int emit_forms(const Emit& e, std::string_view word, int start, int end) {
    const std::string plain = fold(word);
    std::array<std::string, 4> forms = {fold(stem(es_.get(), word)), stem(es_.get(), plain),
                                        fold(stem(en_.get(), word)), stem(en_.get(), plain)};
    int flags = 0;
    for (std::size_t i = 0; i < forms.size(); ++i) {
      bool seen = forms[i].empty();
      for (std::size_t j = 0; j < i && !seen; ++j) seen = forms[j] == forms[i];
      if (seen) continue;
      const int rc =
          e.emit(e.ctx, flags, forms[i].data(), static_cast<int>(forms[i].size()), start, end);
      if (rc != SQLITE_OK) return rc;
      flags = FTS5_TOKEN_COLOCATED;
    }
    return SQLITE_OK;
  }

  fts5_tokenizer api_;
  Fts5Tokenizer* split_ = nullptr;
  Fts5Tokenizer* fold_ = nullptr;
  StemmerPtr es_;
  StemmerPtr en_;
};

// What the tokenizer module keeps: the unicode61 module it builds on.
struct Module {
  fts5_tokenizer base{};
  void* base_ctx = nullptr;
};

int create(void* module, const char** /*args*/, int /*nargs*/, Fts5Tokenizer** out) {
  try {
    auto* m = static_cast<Module*>(module);
    *out = reinterpret_cast<Fts5Tokenizer*>(new Analyzer(m->base, m->base_ctx));
    return SQLITE_OK;
  } catch (...) {
    return SQLITE_ERROR;
  }
}

void destroy(Fts5Tokenizer* t) { delete reinterpret_cast<Analyzer*>(t); }

int tokenize(Fts5Tokenizer* t, void* ctx, int flags, const char* text, int n,
             int (*emit)(void*, int, const char*, int, int, int)) {
  try {
    return reinterpret_cast<Analyzer*>(t)->tokenize(ctx, flags, text, n, emit);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

fts5_api* fts5_of(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(st, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(st);
  }
  sqlite3_finalize(st);
  return api;
}

}  // namespace

void register_search_tokenizer(void* handle) {
  auto* db = static_cast<sqlite3*>(handle);
  fts5_api* api = fts5_of(db);
  if (api == nullptr) throw std::runtime_error("this SQLite has no FTS5");
  auto module = std::make_unique<Module>();
  fts5_tokenizer* base = &module->base;
  if (api->xFindTokenizer(api, "unicode61", &module->base_ctx, base) != SQLITE_OK) {
    throw std::runtime_error("FTS5 has no unicode61 tokenizer");
  }
  fts5_tokenizer mine{&create, &destroy, &tokenize};
  if (api->xCreateTokenizer(api, kTokenizerName, module.get(), &mine,
                            [](void* m) { delete static_cast<Module*>(m); }) != SQLITE_OK) {
    throw std::runtime_error("cannot register the FTS5 tokenizer");
  }
  module.release();  // owned by the connection now
}

}  // namespace ctxmgr::sqlite
