#include "pg_pipeline.hpp"

#include "pg_sql.hpp"

#include <soci/postgresql/soci-postgresql.h>

#include <libpq-fe.h>

namespace ctxmgr::pg {

void Pipeline::hold(std::string what, std::string sql,
                    std::vector<std::optional<std::string>> params) {
  held_.push_back({std::move(what), std::move(sql), std::move(params)});
}

std::vector<std::string> Pipeline::send(
    soci::session& session, const std::string& last_what, const std::string& last,
    const std::vector<std::optional<std::string>>& last_params) {
  if (!last.empty()) held_.push_back({last_what, last, last_params});
  std::vector<Held> batch;
  batch.swap(held_);
  if (batch.empty()) return {};
  PGconn* conn = static_cast<soci::postgresql_session_backend*>(session.get_backend())->conn_;
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
  for (const auto& h : batch) {
    std::vector<const char*> values;
    values.reserve(h.params.size());
    for (const auto& p : h.params) values.push_back(p ? p->c_str() : nullptr);
    if (PQsendQueryParams(conn, h.sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0) != 1) {
      raise_libpq_error(conn, h.what, nullptr, nullptr);
    }
  }
  if (PQpipelineSync(conn) != 1) raise_libpq_error(conn, batch.front().what, nullptr, nullptr);

  std::optional<std::pair<std::string, std::pair<std::string, std::string>>> failure;
  std::vector<std::string> answer;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    bool got = false;
    while (PGresult* r = PQgetResult(conn)) {
      got = true;
      const auto status = PQresultStatus(r);
      if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        if (i + 1 == batch.size() && !last.empty()) {
          for (int row = 0; row < PQntuples(r); ++row) answer.emplace_back(PQgetvalue(r, row, 0));
        }
      } else if (status == PGRES_FATAL_ERROR && !failure) {
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        failure.emplace(batch[i].what,
                        std::make_pair(PQresultErrorMessage(r), state != nullptr ? state : ""));
      }
      PQclear(r);
    }
    if (!got && !failure)
      raise_libpq_error(conn, batch[i].what, nullptr, nullptr);  // the connection died
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
