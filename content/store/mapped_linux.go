package store

import (
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releaseMapped tells the kernel that this process no longer needs the
// pages of the state file that tx's map holds. bbolt reads the file through
// a shared, read-only map, so every page a load or a write walked stays in
// the process's resident set (at 100,000 articles, all 64 MB of the file
// after a restart) until the kernel wants the memory back. The pages stay in
// the page cache: a later read faults them back in without touching disk.
//
// The map cannot move while tx is open, and tx.Size never passes its end.
// It is best effort: if the kernel refuses, the pages stay as they were.
func releaseMapped(tx *bolt.Tx) {
	addr, size := tx.DB().Info().Data, uintptr(tx.Size())
	if size == 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, size, unix.MADV_DONTNEED)
}
