-- A root branch's backup schedule (Neon's GET/PUT …/backup_schedule): each
-- item of schedule (a JSON array of {frequency, hour, day, month,
-- retention_seconds}) takes a scheduled snapshot at its slots after set_at.
CREATE TABLE backup_schedules (
    branch_id  text PRIMARY KEY REFERENCES branches (id) ON DELETE CASCADE,
    project_id text NOT NULL,
    schedule   jsonb NOT NULL,
    set_at     timestamptz NOT NULL
);

-- The schedule item's frequency that took a snapshot; null for manual ones.
ALTER TABLE snapshots ADD COLUMN schedule text;

-- Neon offers backup schedules on paid plans.
ALTER TABLE plans ADD COLUMN backup_schedules boolean NOT NULL DEFAULT false;
UPDATE plans SET backup_schedules = true WHERE name = 'paid';
