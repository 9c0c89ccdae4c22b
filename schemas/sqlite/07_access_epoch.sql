-- 07_access_epoch: a counter that every change to agents, tokens or grants moves, in the
-- transaction of the change and whichever process makes it. Servers cache who a token belongs
-- to and what grants say, and drop that cache when they see the counter move (read every 100 ms;
-- docs/security.md: The access cache).
CREATE TABLE access_epoch (n INTEGER NOT NULL);
INSERT INTO access_epoch (n) VALUES (0);
CREATE TRIGGER agents_epoch_insert AFTER INSERT ON agents
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER agents_epoch_update AFTER UPDATE ON agents
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER agents_epoch_delete AFTER DELETE ON agents
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER agent_tokens_epoch_insert AFTER INSERT ON agent_tokens
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER agent_tokens_epoch_update AFTER UPDATE ON agent_tokens
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER agent_tokens_epoch_delete AFTER DELETE ON agent_tokens
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER context_grants_epoch_insert AFTER INSERT ON context_grants
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER context_grants_epoch_update AFTER UPDATE ON context_grants
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER context_grants_epoch_delete AFTER DELETE ON context_grants
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER owner_grants_epoch_insert AFTER INSERT ON owner_grants
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER owner_grants_epoch_update AFTER UPDATE ON owner_grants
  BEGIN UPDATE access_epoch SET n = n + 1; END;
CREATE TRIGGER owner_grants_epoch_delete AFTER DELETE ON owner_grants
  BEGIN UPDATE access_epoch SET n = n + 1; END;
