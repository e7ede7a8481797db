-- A branch whose owner role and database are still to be made in its
-- compute: a project created while no warm instance was ready gets them at
-- its compute's first start.
ALTER TABLE branches ADD COLUMN setup_pending boolean NOT NULL DEFAULT false;
