-- Grove metadata: the source of truth for everything an API call acknowledged.
CREATE TABLE users (
    id          uuid PRIMARY KEY,
    email       text NOT NULL UNIQUE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orgs (
    id          text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    handle      text NOT NULL UNIQUE,
    plan        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE org_members (
    id          uuid PRIMARY KEY,
    org_id      text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        text NOT NULL,
    joined_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, user_id)
);

CREATE TABLE api_keys (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('personal', 'org', 'project')),
    name          text NOT NULL,
    hash          bytea NOT NULL UNIQUE,
    user_id       uuid REFERENCES users(id) ON DELETE CASCADE,
    org_id        text REFERENCES orgs(id) ON DELETE CASCADE,
    project_id    text,
    created_by    uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked       boolean NOT NULL DEFAULT false
);

CREATE TABLE projects (
    id                        text PRIMARY KEY,
    org_id                    text NOT NULL REFERENCES orgs(id),
    name                      text NOT NULL,
    region_id                 text NOT NULL,
    pg_version                int NOT NULL,
    provisioner               text NOT NULL,
    store_passwords           boolean NOT NULL,
    history_retention_seconds int NOT NULL,
    settings                  jsonb NOT NULL DEFAULT '{}',
    default_endpoint_settings jsonb NOT NULL DEFAULT '{}',
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    deleted_at                timestamptz
);
CREATE INDEX projects_org_idx ON projects (org_id, id) WHERE deleted_at IS NULL;

CREATE TABLE branches (
    id          text PRIMARY KEY,
    project_id  text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    parent_id   text REFERENCES branches(id),
    name        text NOT NULL,
    is_default  boolean NOT NULL DEFAULT false,
    protected   boolean NOT NULL DEFAULT false,
    volume_id   text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE endpoints (
    id                       text PRIMARY KEY,
    project_id               text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    branch_id                text NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
    type                     text NOT NULL,
    region_id                text NOT NULL,
    min_cu                   double precision NOT NULL,
    max_cu                   double precision NOT NULL,
    suspend_timeout_seconds  bigint NOT NULL,
    disabled                 boolean NOT NULL DEFAULT false,
    settings                 jsonb NOT NULL DEFAULT '{}',
    last_active              timestamptz,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL
);
CREATE INDEX endpoints_branch_idx ON endpoints (branch_id);

-- verifier is Postgres' SCRAM-SHA-256 string; sealed_password is the
-- password encrypted with the data dir's key (for connection_uri and
-- reveal_password when the project stores passwords), never plaintext.
CREATE TABLE roles (
    branch_id        text NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
    name             text NOT NULL,
    verifier         text,
    sealed_password  bytea,
    protected        boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (branch_id, name)
);

CREATE TABLE databases (
    id          bigserial PRIMARY KEY,
    branch_id   text NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
    name        text NOT NULL,
    owner_name  text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (branch_id, name)
);

CREATE TABLE operations (
    id                 uuid PRIMARY KEY,
    project_id         text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    branch_id          text,
    endpoint_id        text,
    action             text NOT NULL,
    status             text NOT NULL,
    error              text,
    failures_count     int NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    total_duration_ms  int NOT NULL DEFAULT 0
);
CREATE INDEX operations_project_idx ON operations (project_id, created_at DESC);
CREATE INDEX operations_running_idx ON operations (status) WHERE status IN ('scheduling', 'running', 'cancelling');
