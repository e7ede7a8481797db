-- Consumption per branch and bucket (an hour; shorter in tests), written by
-- the metering flush (internal/metering) as increments. Rows outlive their
-- branch and endpoint: a project's totals include deleted computes, as
-- Neon's. logical_size_bytes is the largest branch size seen in the bucket.
CREATE TABLE consumption (
    project_id           text NOT NULL,
    branch_id            text NOT NULL,
    bucket               timestamptz NOT NULL,
    active_time_seconds  double precision NOT NULL DEFAULT 0,
    compute_time_seconds double precision NOT NULL DEFAULT 0,
    written_data_bytes   bigint NOT NULL DEFAULT 0,
    data_transfer_bytes  bigint NOT NULL DEFAULT 0,
    logical_size_bytes   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, bucket, branch_id)
);
