#include "pg_pipeline.hpp"

#include <algorithm>
#include <string_view>

#include <soci/postgresql/soci-postgresql.h>

#include <libpq-fe.h>

namespace ctxmgr::pg {

void Pipeline::hold(std::string what, std::string sql, Params params) {
  held_.push_back({std::move(what), std::move(sql), std::move(params), {}});
}

void Pipeline::hold(std::string what, const Prepared& statement, Params params) {
  held_.push_back({std::move(what), statement.text, std::move(params), statement.name});
}

void Pipeline::send(const PgPool::Lease& lease) { flush(lease, false); }

Rows Pipeline::send(const PgPool::Lease& lease, std::string what, std::string sql, Params params) {
  hold(std::move(what), std::move(sql), std::move(params));
  return flush(lease, true);
}

Rows Pipeline::send(const PgPool::Lease& lease, std::string what, const Prepared& statement,
                    Params params) {
  hold(std::move(what), statement, std::move(params));
  return flush(lease, true);
}

Rows Pipeline::flush(const PgPool::Lease& lease, bool answer_last) {
  std::vector<Held> batch;
  batch.swap(held_);
  failed_at_ = kNone;
  if (batch.empty()) return {};
  PGconn* conn = static_cast<soci::postgresql_session_backend*>(lease.sql().get_backend())->conn_;
  auto* prepared = lease.prepared();
  if (PQenterPipelineMode(conn) != 1) raise_libpq_error(conn, batch.front().what, nullptr, nullptr);
  // Leaves pipeline mode whatever happens, draining what the server still sends (on a dead
  // connection it cannot: the storage then drops the connection).
  struct Leave {
    PGconn* conn;
    ~Leave() {
      for (int tries = 0; tries < 1000 && PQpipelineStatus(conn) != PQ_PIPELINE_OFF; ++tries) {
        if (PQexitPipelineMode(conn) == 1) return;
        if (PQstatus(conn) == CONNECTION_BAD) return;
        while (PGresult* r = PQgetResult(conn)) PQclear(r);
      }
    }
  } leave{conn};

  // What the server answers, in order: a Parse for each statement prepared now, then its result.
  struct Expected {
    std::size_t held;
    bool parse;
  };
  std::vector<Expected> expected;
  expected.reserve(batch.size() + 2);
  std::vector<std::string_view> parsing;  // names whose Parse this batch sends
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& h = batch[i];
    std::vector<const char*> values;
    values.reserve(h.params.size());
    for (const auto& p : h.params) values.push_back(p ? p->c_str() : nullptr);
    const int n = static_cast<int>(values.size());
    const bool named = prepared != nullptr && !h.name.empty();
    if (named && prepared->count(h.name) == 0 &&
        std::find(parsing.begin(), parsing.end(), h.name) == parsing.end()) {
      if (PQsendPrepare(conn, h.name.c_str(), h.sql.c_str(), n, nullptr) != 1)
        raise_libpq_error(conn, h.what, nullptr, nullptr);
      expected.push_back({i, true});
      parsing.push_back(h.name);
    }
    const int sent =
        named ? PQsendQueryPrepared(conn, h.name.c_str(), n, values.data(), nullptr, nullptr, 0)
              : PQsendQueryParams(conn, h.sql.c_str(), n, nullptr, values.data(), nullptr, nullptr,
                                  0);
    if (sent != 1) raise_libpq_error(conn, h.what, nullptr, nullptr);
    expected.push_back({i, false});
  }
  if (PQpipelineSync(conn) != 1) raise_libpq_error(conn, batch.front().what, nullptr, nullptr);

  std::optional<std::pair<std::string, std::pair<std::string, std::string>>> failure;
  Rows answer;
  for (const auto& e : expected) {
    const Held& h = batch[e.held];
    bool got = false;
    while (PGresult* r = PQgetResult(conn)) {
      got = true;
      const auto status = PQresultStatus(r);
      if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        // Only a Parse the server accepted counts: one skipped after an error never happened.
        if (e.parse) prepared->insert(h.name);
        if (!e.parse && answer_last && e.held + 1 == batch.size()) {
          const int cols = PQnfields(r);
          for (int row = 0; row < PQntuples(r); ++row) {
            auto& out = answer.emplace_back();
            out.reserve(static_cast<std::size_t>(cols));
            for (int c = 0; c < cols; ++c) out.emplace_back(PQgetvalue(r, row, c));
          }
        }
      } else if (status == PGRES_FATAL_ERROR && !failure) {
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        failure.emplace(h.what,
                        std::make_pair(PQresultErrorMessage(r), state != nullptr ? state : ""));
        failed_at_ = e.held;
      }
      PQclear(r);
    }
    if (!got && !failure) raise_libpq_error(conn, h.what, nullptr, nullptr);  // the connection died
  }
  // The sync's own result ends the pipeline.
  PGresult* sync = PQgetResult(conn);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  if (!synced && !failure) raise_libpq_error(conn, batch.back().what, nullptr, nullptr);
  if (failure) {
    raise_libpq_error(conn, failure->first, failure->second.first.c_str(),
                      failure->second.second.empty() ? nullptr : failure->second.second.c_str());
  }
  return answer;
}

}  // namespace ctxmgr::pg
