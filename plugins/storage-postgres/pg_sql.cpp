#include "pg_sql.hpp"

#include <soci/postgresql/soci-postgresql.h>

#include <libpq-fe.h>

#include <stdexcept>

namespace ctxmgr::pg {

namespace {
constexpr const char* kContextColumns =
    "CAST(id AS TEXT), agent_id, context_data, metadata, version, "
    "CAST(EXTRACT(EPOCH FROM created_at) * 1000000 AS BIGINT), "
    "CAST(EXTRACT(EPOCH FROM updated_at) * 1000000 AS BIGINT), created_by, updated_by, "
    "CASE WHEN deleted THEN 1 ELSE 0 END";
constexpr const char* kHistoryColumns =
    "CAST(context_id AS TEXT), version, action, agent_id, "
    "CAST(EXTRACT(EPOCH FROM at) * 1000000 AS BIGINT), context_data, metadata";
}  // namespace

ContextRows::ContextRows(std::size_t n)
    : id(n),
      agent(n),
      data(n),
      meta(n),
      created_by(n),
      updated_by(n),
      version(n),
      created(n),
      updated(n),
      deleted(n) {}

void ContextRows::bind_into(soci::details::once_temp_type& q) {
  q, soci::into(id), soci::into(agent), soci::into(data), soci::into(meta), soci::into(version),
      soci::into(created), soci::into(updated), soci::into(created_by), soci::into(updated_by),
      soci::into(deleted);
}

void ContextRows::settle(const soci::session& sql) {
  if (!sql.got_data()) id.clear();
}

sdk::ContextRow ContextRows::row(std::size_t i) const {
  sdk::ContextRow r;
  r.id = id[i];
  r.agent_id = agent[i];
  r.context_data = data[i];
  r.metadata = meta[i];
  r.version = version[i];
  r.created_at_us = created[i];
  r.updated_at_us = updated[i];
  r.created_by = created_by[i];
  r.updated_by = updated_by[i];
  r.deleted = deleted[i] != 0;
  return r;
}

sdk::ContextRow context_row(const std::vector<std::string>& c) {
  if (c.size() != 10) throw std::runtime_error("context row: expected 10 columns");
  sdk::ContextRow r;
  r.id = c[0];
  r.agent_id = c[1];
  r.context_data = c[2];
  r.metadata = c[3];
  r.version = std::stoll(c[4]);
  r.created_at_us = std::stoll(c[5]);
  r.updated_at_us = std::stoll(c[6]);
  r.created_by = c[7];
  r.updated_by = c[8];
  r.deleted = c[9] == "1";
  return r;
}

HistoryRows::HistoryRows(std::size_t n)
    : id(n), action(n), agent(n), data(n), meta(n), version(n), at(n) {}

void HistoryRows::bind_into(soci::details::once_temp_type& q) {
  q, soci::into(id), soci::into(version), soci::into(action), soci::into(agent), soci::into(at),
      soci::into(data), soci::into(meta);
}

void HistoryRows::settle(const soci::session& sql) {
  if (!sql.got_data()) id.clear();
}

sdk::HistoryRow HistoryRows::row(std::size_t i) const {
  return sdk::HistoryRow{id[i], version[i], action[i], agent[i], at[i], data[i], meta[i]};
}

namespace {

// The microseconds of the positional parameter $n as a timestamp.
std::string from_us_at(int n) {
  return "(TIMESTAMPTZ 'epoch' + CAST($" + std::to_string(n) +
         " AS BIGINT) * INTERVAL '1 microsecond')";
}

}  // namespace

Sql::Sql(const std::string& schema) : schema_(schema), prefix_("\"" + schema + "\".") {
  hot_.context_by_id = {"ctxmgr_context", select_context("id = CAST($1 AS uuid)")};
  hot_.context_for_update = {"ctxmgr_context_for_update",
                             select_context("id = CAST($1 AS uuid) FOR UPDATE")};
  // Ten and seven arrays unnested side by side: the rows of many creates in one statement each
  // (pg_transaction.hpp: held rows), one text whatever their number.
  hot_.insert_contexts = {
      "ctxmgr_insert_contexts",
      "INSERT INTO " + table("context") +
          " (id, agent_id, context_data, metadata, version, created_at, updated_at, created_by, "
          "updated_by, deleted) SELECT u.id, u.agent, u.data, u.meta, u.version, "
          "TIMESTAMPTZ 'epoch' + u.created * INTERVAL '1 microsecond', "
          "TIMESTAMPTZ 'epoch' + u.updated * INTERVAL '1 microsecond', u.created_by, "
          "u.updated_by, u.deleted FROM unnest(CAST($1 AS UUID[]), CAST($2 AS TEXT[]), "
          "CAST($3 AS TEXT[]), CAST($4 AS TEXT[]), CAST($5 AS BIGINT[]), CAST($6 AS BIGINT[]), "
          "CAST($7 AS BIGINT[]), CAST($8 AS TEXT[]), CAST($9 AS TEXT[]), CAST($10 AS BOOLEAN[])) "
          "AS u(id, agent, data, meta, version, created, updated, created_by, updated_by, "
          "deleted)"};
  hot_.append_histories = {
      "ctxmgr_append_histories",
      "INSERT INTO " + table("context_history") +
          " (context_id, version, action, agent_id, at, context_data, metadata) SELECT u.id, "
          "u.version, u.action, u.agent, TIMESTAMPTZ 'epoch' + u.at * INTERVAL '1 microsecond', "
          "u.data, u.meta FROM unnest(CAST($1 AS UUID[]), CAST($2 AS BIGINT[]), "
          "CAST($3 AS TEXT[]), CAST($4 AS TEXT[]), CAST($5 AS BIGINT[]), CAST($6 AS TEXT[]), "
          "CAST($7 AS TEXT[])) AS u(id, version, action, agent, at, data, meta)"};
  hot_.append_audit = {"ctxmgr_append_audit",
                       "INSERT INTO " + table("access_log") +
                           " (at, agent_id, action, context_id, transport, request_id, details) "
                           "VALUES (" +
                           from_us_at(1) + ", $2, $3, CAST($4 AS uuid), $5, $6, $7) RETURNING seq"};
  // Seven arrays unnested side by side: one text whatever the number of events.
  hot_.append_audits = {
      "ctxmgr_append_audits",
      "INSERT INTO " + table("access_log") +
          " (at, agent_id, action, context_id, transport, request_id, details) SELECT "
          "TIMESTAMPTZ 'epoch' + u.at * INTERVAL '1 microsecond', u.agent, u.action, u.ctx, "
          "u.transport, u.req, u.details FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS TEXT[]), "
          "CAST($3 AS TEXT[]), CAST($4 AS UUID[]), CAST($5 AS TEXT[]), CAST($6 AS TEXT[]), "
          "CAST($7 AS TEXT[])) WITH ORDINALITY AS u(at, agent, action, ctx, transport, req, "
          "details, n) ORDER BY u.n RETURNING seq"};
  hot_.append_seals = {"ctxmgr_append_seals",
                       "INSERT INTO " + table("access_log_seal") +
                           " (seq, hash) SELECT * FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS "
                           "TEXT[]))"};
}

std::string Sql::table(const char* name) const { return prefix_ + name; }

const char* Sql::context_columns() { return kContextColumns; }

std::string Sql::select_context(const std::string& where) const {
  return std::string("SELECT ") + kContextColumns + " FROM " + table("context") + " WHERE " + where;
}

std::string Sql::select_history(const std::string& where) const {
  return std::string("SELECT ") + kHistoryColumns + " FROM " + table("context_history") +
         " WHERE " + where;
}

std::string from_us(const char* param) {
  return std::string("(TIMESTAMPTZ 'epoch' + CAST(:") + param +
         " AS BIGINT) * INTERVAL '1 microsecond')";
}

void ArrayLiteral::next() {
  if (text_.size() > 1) text_ += ',';
}

void ArrayLiteral::add(const std::string& text) {
  next();
  text_ += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
}

void ArrayLiteral::add(std::int64_t number) {
  next();
  text_ += std::to_string(number);
}

void ArrayLiteral::add_null() {
  next();
  text_ += "NULL";
}

std::string ArrayLiteral::close() && { return std::move(text_) + '}'; }

std::string to_us(const char* column) {
  return std::string("CAST(EXTRACT(EPOCH FROM ") + column + ") * 1000000 AS BIGINT)";
}

bool connection_lost(const std::exception& e) {
  const auto* se = dynamic_cast<const soci::soci_error*>(&e);
  if (se == nullptr) return false;
  if (se->get_error_category() == soci::soci_error::connection_error) return true;
  if (const auto* pe = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    const std::string state = pe->sqlstate();
    // 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now.
    return state.starts_with("08") || state.starts_with("57P");
  }
  const std::string what = e.what();
  return what.find("server closed the connection") != std::string::npos ||
         what.find("no connection to the server") != std::string::npos ||
         what.find("Connection refused") != std::string::npos;
}

namespace {

// The first line of a PostgreSQL message, "ERROR:" dropped, with '...' and "..." masked.
std::string first_line_masked(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  if (line.starts_with("ERROR:")) line.erase(0, 6);
  while (!line.empty() && line.front() == ' ') line.erase(0, 1);
  std::string out;
  char open = 0;
  for (char c : line) {
    if (open != 0) {
      if (c == open) {
        out += "?";
        out += c;
        open = 0;
      }
      continue;
    }
    out += c;
    if (c == '"' || c == '\'') open = c;
  }
  if (open != 0) out += "?";
  return out;
}

}  // namespace

std::string loggable(const std::exception& e) {
  if (const auto* pe = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    // An integrity violation's first line names the relation and constraint, never a value (the
    // row is in its DETAIL line): kept whole, so the constraint is named.
    const std::string message = pe->get_error_message();
    if (pe->sqlstate().starts_with("23")) {
      std::string line = message.substr(0, message.find('\n'));
      if (line.starts_with("ERROR:")) line.erase(0, line.find_first_not_of(' ', 6));
      return line + " (SQLSTATE " + pe->sqlstate() + ")";
    }
    return first_line_masked(message) + " (SQLSTATE " + pe->sqlstate() + ")";
  }
  if (const auto* se = dynamic_cast<const soci::soci_error*>(&e)) {
    return first_line_masked(se->get_error_message());
  }
  return first_line_masked(e.what());
}

sdk::Error storage_error(const std::exception& e, const std::string& what) {
  if (connection_lost(e)) {
    return sdk::Error(sdk::Errc::unavailable, what + ": the database is unreachable; retry");
  }
  if (const auto* pe = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    const std::string state = pe->sqlstate();
    if (state == "23505") return sdk::Error(sdk::Errc::conflict, what + ": the row already exists");
    // Another integrity constraint (23514 CHECK, 23502 NOT NULL, 23503 FOREIGN KEY): name it.
    if (state.starts_with("23")) {
      return sdk::Error(sdk::Errc::invalid_request, what + ": " + loggable(e));
    }
    // 40001 serialization failure, 40P01 deadlock, 53xxx insufficient resources, 57014 canceled
    if (state.starts_with("40") || state.starts_with("53") || state == "57014") {
      return sdk::Error(sdk::Errc::unavailable, what + ": the database is busy; retry");
    }
  }
  return sdk::Error(sdk::Errc::internal, what + " failed");
}

void raise_libpq_error(pg_conn* conn, const std::string& what, const char* message,
                       const char* state) {
  // The server gives every error of its own a SQLSTATE; one without comes from libpq, about the
  // connection (closed, or a FATAL it relayed as the server went down: admin shutdown). 08006,
  // so it is 503 and the connection is reopened.
  const std::string sqlstate = state != nullptr ? state : "08006";
  throw soci::postgresql_soci_error(
      what + ": " + (message != nullptr && *message != '\0' ? message : PQerrorMessage(conn)),
      sqlstate.c_str());
}

void exec_script(soci::session& s, const std::string& sql) {
  PGconn* conn = static_cast<soci::postgresql_session_backend*>(s.get_backend())->conn_;
  PGresult* res = PQexec(conn, sql.c_str());
  const auto status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const std::string msg = PQresultErrorMessage(res);
    const std::string sqlstate = state != nullptr ? state : "";
    PQclear(res);
    raise_libpq_error(conn, "script", msg.c_str(), sqlstate.empty() ? nullptr : sqlstate.c_str());
  }
  PQclear(res);
}

}  // namespace ctxmgr::pg
