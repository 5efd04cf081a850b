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
	f, err := openRead(abs)
	if err != nil {
		return false, false
	}
	defer f.Close()
	return writingNow(f)
}

// openRead opens the file at abs for reading, as os.Open does but for the
// poller: os.Open offers every file to it, which on Linux takes four system
// calls that a regular file has refused or undone (some 0.3 s of CPU over a
// first start at 100,000 files, a third of the calls per file).
func openRead(abs string) (*os.File, error) {
	for {
		fd, err := unix.Open(abs, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), abs), nil
		case !errors.Is(err, unix.EINTR):
			return nil, &os.PathError{Op: "open", Path: abs, Err: err}
		}
	}
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
