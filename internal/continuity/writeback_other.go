//go:build !linux

package continuity

import "os"

func startWriteback(*os.File, int64, int64) {}
