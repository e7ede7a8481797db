-- Role and database changes made through the API are metadata first; they
-- reach the branch's compute at once when it runs, else at its next start.
-- branches.setup_pending now means "config pending": the compute may lag
-- the recorded roles and databases. config_version counts changes, so that
-- a start which applied an older config does not clear a newer one's flag.
ALTER TABLE branches ADD COLUMN config_version bigint NOT NULL DEFAULT 0;

-- What cannot be converged from the recorded state alone: drops and
-- renames, replayed in order (idempotently) at the next apply, then removed.
CREATE TABLE config_changes (
    seq        bigserial PRIMARY KEY,
    branch_id  text NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('drop_role', 'drop_database', 'rename_database')),
    name       text NOT NULL,
    new_name   text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX config_changes_branch_idx ON config_changes (branch_id, seq);
