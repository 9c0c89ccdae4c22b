-- 05_audit_chain: the seals of the audit log. Events are sealed in seq order into a SHA-256
-- chain: hash(n) = sha256(hash(n-1) || "\n" || canonical(event n)), hash of the genesis "".
-- A background sealer appends here; `ctxmgr audit verify` recomputes the chain. Append-only.
CREATE TABLE access_log_seal (
  seq  BIGINT PRIMARY KEY,  -- the access_log event this seals
  hash TEXT NOT NULL
);
CREATE TRIGGER access_log_seal_append_only BEFORE UPDATE OR DELETE ON access_log_seal
  FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_seal_no_truncate BEFORE TRUNCATE ON access_log_seal
  FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();
