-- Endpoint fields the API echoes back (clients such as Terraform compare
-- what they set with what they read), at most one read_write endpoint per
-- branch enforced by the store, and the index branch lists page through.
ALTER TABLE endpoints
    ADD COLUMN name text NOT NULL DEFAULT '',
    ADD COLUMN provisioner text NOT NULL DEFAULT 'k8s-neonvm',
    ADD COLUMN passwordless_access boolean NOT NULL DEFAULT true;
CREATE UNIQUE INDEX endpoints_one_read_write_idx ON endpoints (branch_id) WHERE type = 'read_write';
CREATE INDEX branches_project_idx ON branches (project_id, updated_at, id);
