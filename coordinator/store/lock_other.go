//go:build !unix

package store

import (
	"os"
	"time"
)

// lockShared does nothing where flock does not exist: bbolt's own lock
// (taken after the check) still keeps two writers apart.
func lockShared(*os.File, time.Duration) error { return nil }
