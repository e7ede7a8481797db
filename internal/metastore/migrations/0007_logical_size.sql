-- A branch's logical size (bytes of its databases), sampled from its
-- running compute and kept while it is suspended; a child starts with its
-- parent's.
ALTER TABLE branches ADD COLUMN logical_size bigint;
