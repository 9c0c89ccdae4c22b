#pragma once
// The FTS5 tokenizer "ctxmgr" behind context_fts: SQLite's unicode61 splits words and lowers
// case, then every word is indexed (and queried) as the set of its forms
//   Spanish stem, English stem, each of the word and of the word without accents,
// all without accents, given to FTS5 as colocated synonyms. Querying with the same set makes
// `facturacion` find `facturación` (same unaccented form), `migrar` find `migración` (same
// Spanish stem) and `invoices` find `invoice` (same English stem). The stems are Snowball's
// (libstemmer); accent folding is unicode61's `remove_diacritics 2`.

namespace ctxmgr::sqlite {

// Registers the tokenizer on one connection (the native sqlite3* handle). Every connection that
// writes to `context` needs it: the triggers that keep context_fts current run on it. Throws
// std::runtime_error when FTS5 or the stemmers are missing.
void register_search_tokenizer(void* sqlite3_db);

}  // namespace ctxmgr::sqlite
