-- Branching, restore and snapshots (issue 4). A branch owns one volume; its
-- point of origin, expiry and restore links are what the API reports.
ALTER TABLE branches
    ADD COLUMN parent_lsn           text,
    ADD COLUMN parent_timestamp     timestamptz,
    ADD COLUMN init_source          text NOT NULL DEFAULT 'parent-data',
    ADD COLUMN expires_at           timestamptz,
    ADD COLUMN ttl_interval_seconds bigint,
    ADD COLUMN last_reset_at        timestamptz,
    -- restored | finalized: made by a snapshot restore
    ADD COLUMN restore_status       text,
    -- the snapshot a restored branch came from
    ADD COLUMN restored_from        text,
    -- the branch a restored branch replaces (or replaced)
    ADD COLUMN restored_as          text;
CREATE INDEX branches_expires_idx ON branches (expires_at) WHERE expires_at IS NOT NULL;

-- A snapshot is a read-only volume with the roles and databases its branch
-- had (config, JSON), so that a restore recreates both. It outlives its
-- source branch's renames; source_branch_id is kept as text.
CREATE TABLE snapshots (
    id                text PRIMARY KEY,
    project_id        text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    source_branch_id  text NOT NULL,
    name              text NOT NULL,
    volume_id         text NOT NULL UNIQUE,
    lsn               text,
    "timestamp"       timestamptz,
    expires_at        timestamptz,
    manual            boolean NOT NULL DEFAULT true,
    full_size         bigint,
    config            jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX snapshots_project_idx ON snapshots (project_id, created_at);
CREATE INDEX snapshots_expires_idx ON snapshots (expires_at) WHERE expires_at IS NOT NULL;
