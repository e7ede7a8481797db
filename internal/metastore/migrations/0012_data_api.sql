-- The Data API of a branch database: enabled with POST …/data-api/{db},
-- changed by PATCH, copied to a branch's children, kept by a restore of
-- the branch (the row is the branch's, not its data's). database_name is
-- not a foreign key: a database made in SQL may serve the Data API.
-- generation comes from one sequence and moves on every change, so that
-- the data plane sees a new value even after a disable and re-enable.
CREATE SEQUENCE data_api_generation;
CREATE TABLE data_apis (
    branch_id           text NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
    database_name       text NOT NULL,
    auth_provider       text NOT NULL,
    jwks_url            text,
    provider_name       text,
    jwt_audience        text,
    add_default_grants  boolean NOT NULL DEFAULT false,
    skip_auth_schema    boolean NOT NULL DEFAULT false,
    settings            jsonb NOT NULL DEFAULT '{}',
    generation          bigint NOT NULL DEFAULT nextval('data_api_generation'),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (branch_id, database_name)
);
