-- Plans as data: the limits an org's plan puts on its projects. Each org
-- names its plan; Grove checks these on every create and update. The
-- seeded rows mirror Neon's Agent plan orgs: "free" its sponsored org
-- (Free-plan limits per project), "paid" its paid org. grove serve
-- --plans and the admin call change them; 0 in a quota means unlimited.
CREATE TABLE plans (
    name                               text PRIMARY KEY,
    projects_per_org                   int NOT NULL DEFAULT 30000 CHECK (projects_per_org >= 0),
    branches_per_project               int NOT NULL CHECK (branches_per_project >= 1),
    root_branches                      int NOT NULL CHECK (root_branches >= 1),
    min_cu                             double precision NOT NULL CHECK (min_cu >= 0.25),
    max_cu                             double precision NOT NULL CHECK (max_cu >= min_cu),
    max_cu_spread                      double precision NOT NULL DEFAULT 8 CHECK (max_cu_spread >= 0),
    min_suspend_timeout_seconds        bigint NOT NULL CHECK (min_suspend_timeout_seconds >= 0),
    suspend_disable_allowed            boolean NOT NULL,
    manual_snapshots                   int NOT NULL CHECK (manual_snapshots >= 0),
    history_retention_default_seconds  int NOT NULL CHECK (history_retention_default_seconds >= 0),
    history_retention_max_seconds      int NOT NULL CHECK (history_retention_max_seconds >= history_retention_default_seconds),
    storage_quota_bytes                bigint NOT NULL DEFAULT 0 CHECK (storage_quota_bytes >= 0),
    transfer_quota_bytes               bigint NOT NULL DEFAULT 0 CHECK (transfer_quota_bytes >= 0),
    active_time_quota_seconds          bigint NOT NULL DEFAULT 0 CHECK (active_time_quota_seconds >= 0),
    compute_time_quota_seconds         bigint NOT NULL DEFAULT 0 CHECK (compute_time_quota_seconds >= 0),
    updated_at                         timestamptz NOT NULL DEFAULT now()
);

-- free: Neon's sponsored org of the Agent plan (W:guides/ai-agent-integration:
-- 10 branches, 1 manual snapshot, 0.25-2 CU, 1-day restore window, 5 min
-- minimum scale-to-zero) with the Free plan's root-branch allowance (3),
-- its scale-to-zero that cannot be disabled, and the free quota template
-- (0.5 GiB logical size, 5 GiB egress, 360000 active seconds = 100 CU-hours).
-- paid: Neon's paid org (1,000 branches, 100 manual snapshots, up to 16 CU,
-- up to 7 days of history, 1 min minimum scale-to-zero, no quotas).
INSERT INTO plans (name, projects_per_org, branches_per_project, root_branches, min_cu, max_cu, max_cu_spread,
    min_suspend_timeout_seconds, suspend_disable_allowed, manual_snapshots,
    history_retention_default_seconds, history_retention_max_seconds,
    storage_quota_bytes, transfer_quota_bytes, active_time_quota_seconds, compute_time_quota_seconds) VALUES
    ('free', 30000, 10, 3, 0.25, 2, 8, 300, false, 1, 86400, 86400, 536870912, 5368709120, 360000, 360000),
    ('paid', 30000, 1000, 25, 0.25, 16, 8, 60, true, 100, 86400, 604800, 0, 0, 0, 0);

ALTER TABLE orgs ADD CONSTRAINT orgs_plan_fkey FOREIGN KEY (plan) REFERENCES plans (name);
