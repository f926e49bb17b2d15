package audit

// SetVerifyChunk sets the number of events a verification worker takes at
// a time, so that tests exercise the parallel verification on small
// journals. It returns the previous value.
func SetVerifyChunk(n int64) int64 {
	old := verifyChunk
	verifyChunk = n
	return old
}
