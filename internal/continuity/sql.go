package continuity

// The package's statements. The snapshot of a SQLite database is its pages
// read in one read transaction (the sqlite_dbpage table), which is as
// consistent as VACUUM INTO and streams without a copy on disk; the
// PostgreSQL snapshot is exported from a repeatable-read transaction and
// handed to pg_dump (--snapshot).
const (
	sqlBeginRead       = `BEGIN DEFERRED`
	sqlRollback        = `ROLLBACK`
	sqlMmapOn          = `PRAGMA mmap_size = 1073741824`
	sqlMmapOff         = `PRAGMA mmap_size = 0`
	sqlPageSize        = `PRAGMA page_size`
	sqlPageCount       = `PRAGMA page_count`
	sqlPages           = `SELECT data FROM sqlite_dbpage ORDER BY pgno`
	sqlBeginSnapshotPG = `BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY`
	sqlExportSnapshot  = `SELECT pg_export_snapshot()`
	sqlSchemaVersion   = `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`
)
