"""The peer ctxmgr is measured against: the original system's REST API as its seed describes it
(Python, Flask, psycopg2, PostgreSQL), reduced to the two calls the bench makes. A create writes
the row, its history entry and an access-log row in one transaction; a read selects the row and
writes an access-log row. Run under gunicorn -w 4 (bench/production.sh); DATABASE_URL names the
database, whose `peer` schema holds bench/peer/schema.sql."""

import json
import os
import uuid

import psycopg2
import psycopg2.extras
from flask import Flask, jsonify, request

app = Flask(__name__)
app.json.sort_keys = False  # the id first, as ctxmgr answers
_conn = None


def conn():
    # One connection per worker process, as the seed's DatabaseManager keeps one.
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg2.connect(os.environ["DATABASE_URL"])
    return _conn


@app.post("/api/context")
def create_context():
    body = request.get_json(force=True)
    agent = body.get("agent_id")
    data = body.get("context_data")
    if not isinstance(agent, str) or not isinstance(data, dict):
        return jsonify(error="agent_id and context_data are required"), 400
    metadata = body.get("metadata") or {}
    cid = str(uuid.uuid4())
    c = conn()
    with c:  # one transaction: commit on success, rollback on error
        with c.cursor() as cur:
            cur.execute(
                "INSERT INTO peer.context (id, agent_id, context_data, metadata) "
                "VALUES (%s, %s, %s, %s)",
                (cid, agent, json.dumps(data), json.dumps(metadata)))
            cur.execute(
                "INSERT INTO peer.context_history (context_id, version, context_data, metadata) "
                "VALUES (%s, 1, %s, %s)", (cid, json.dumps(data), json.dumps(metadata)))
            cur.execute(
                "INSERT INTO peer.access_log (context_id, agent_id, action) "
                "VALUES (%s, %s, 'create')", (cid, agent))
    return jsonify(id=cid, agent_id=agent, context_data=data, metadata=metadata, version=1), 201


@app.get("/api/context/<cid>")
def get_context(cid):
    try:
        uuid.UUID(cid)
    except ValueError:
        return jsonify(error="not a context id"), 400
    c = conn()
    with c:
        with c.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(
                "SELECT id, agent_id, context_data, metadata, version, created_at, updated_at "
                "FROM peer.context WHERE id = %s", (cid,))
            row = cur.fetchone()
            if row is None:
                return jsonify(error="not found"), 404
            cur.execute(
                "INSERT INTO peer.access_log (context_id, agent_id, action) "
                "VALUES (%s, %s, 'read')", (cid, row["agent_id"]))
    row["id"] = str(row["id"])
    row["created_at"] = row["created_at"].isoformat()
    row["updated_at"] = row["updated_at"].isoformat()
    return jsonify(row)


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
