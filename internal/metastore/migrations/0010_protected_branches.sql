-- How many protected branches a project may have: Neon offers them on paid
-- plans only (Launch 2, Scale 5; "up to five" on paid), so free gets none.
ALTER TABLE plans ADD COLUMN protected_branches int NOT NULL DEFAULT 0 CHECK (protected_branches >= 0);
UPDATE plans SET protected_branches = 5 WHERE name = 'paid';
