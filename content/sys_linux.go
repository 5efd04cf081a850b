package content

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openForWriting reports whether any process has the file at abs open for
// writing, and whether it could tell. It asks the kernel for a read lease,
// which Linux refuses with EAGAIN while the file is open for writing
// anywhere, and drops the lease at once. This is the "closed after writing"
// signal that inotify has and fsnotify does not expose. It cannot tell (ok is
// false) for files owned by another user without CAP_LEASE, on file systems
// without leases (NFS, FUSE), or with leases disabled.
func openForWriting(abs string) (writing, ok bool) {
	f, err := os.Open(abs)
	if err != nil {
		return false, false
	}
	defer f.Close()
	return writingNow(f)
}

// writingNow is openForWriting for a file already open (for reading), so
// that a scan opens each file once.
func writingNow(f *os.File) (writing, ok bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, false
	}
	var leaseErr error
	if err := rc.Control(func(fd uintptr) {
		_, leaseErr = unix.FcntlInt(fd, unix.F_SETLEASE, unix.F_RDLCK)
		if leaseErr == nil {
			// Release at once: a writer opening the file meanwhile waits for this.
			_, _ = unix.FcntlInt(fd, unix.F_SETLEASE, unix.F_UNLCK)
		}
	}); err != nil {
		return false, false
	}
	switch {
	case leaseErr == nil:
		return false, true
	case errors.Is(leaseErr, unix.EAGAIN):
		return true, true
	default:
		return false, false
	}
}

// fileKey identifies a file on its device: the same key at two paths is the
// same file (a rename, a hard link or a symlinked folder seen twice).
type fileKey struct {
	dev, ino uint64
}

func keyOf(fi os.FileInfo) fileKey {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileKey{uint64(st.Dev), st.Ino}
	}
	return fileKey{}
}
