package store

import "golang.org/x/sys/unix"

// releaseMapping drops the resident pages of the mapping [addr, addr+size).
// For a read-only shared file mapping the next access maps the page again
// from the page cache.
func releaseMapping(addr, size uintptr) error {
	if size == 0 {
		return nil
	}
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, size, unix.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
