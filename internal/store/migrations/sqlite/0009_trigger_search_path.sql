-- Numbered with the PostgreSQL migration that pins the search path of the
-- journal's deletion trigger; SQLite has no search path nor temporary
-- stand-ins for a trigger's tables, so there is nothing to change here.
SELECT 1;
