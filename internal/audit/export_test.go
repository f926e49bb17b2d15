package audit

// SetVerifyChunk sets the number of events a verification worker takes at
// a time, so that tests exercise the parallel verification on small
// journals. It returns the previous value.
func SetVerifyChunk(n int64) int64 {
	old := verifyChunk
	verifyChunk = n
	return old
}

// SetSegmentMax sets the number of events per export segment and returns
// the previous value.
func SetSegmentMax(n int64) int64 {
	old := segmentMax
	segmentMax = n
	return old
}

// LockExportDir takes an export directory's lock, as a running exporter does.
func LockExportDir(dir string) (func(), error) { return lockDir(dir) }
