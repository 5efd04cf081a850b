package content

import (
	"errors"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openForWriting reports whether any process has the file at abs open for
// writing, and whether it could tell. It asks the kernel for a read lease,
// which Linux refuses with EAGAIN while the file is open for writing
// anywhere, and drops the lease at once by closing the file. This is the
// "closed after writing" signal that inotify has and fsnotify does not
// expose. It cannot tell (ok is false) for files owned by another user
// without CAP_LEASE, on file systems without leases (NFS, FUSE), or with
// leases disabled.
func openForWriting(abs string) (writing, ok bool) {
	f, err := openRead(abs)
	if err != nil {
		return false, false
	}
	defer f.Close()
	return writingNow(f)
}

// readFile is a file open for reading, held by its descriptor alone. A
// first start opens every file of the folder, and on this kind of machine
// each system call costs some microseconds: os.Open offers the file to the
// poller (four calls that a regular file refuses or undoes) and os.NewFile
// asks for its flags (one more), so a readFile makes none of those.
type readFile struct {
	fd   int
	name string
}

// openRead opens the file at abs for reading; its errors are os.Open's.
func openRead(abs string) (readFile, error) {
	for {
		fd, err := unix.Open(abs, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			return readFile{fd, abs}, nil
		case !errors.Is(err, unix.EINTR):
			return readFile{-1, abs}, &os.PathError{Op: "open", Path: abs, Err: err}
		}
	}
}

// Read reads as os.File.Read does: io.EOF at the end of the file.
func (f readFile) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(f.fd, p)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return 0, &os.PathError{Op: "read", Path: f.name, Err: err}
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Close closes the file, and with it drops a lease writingNow took.
func (f readFile) Close() error {
	if err := unix.Close(f.fd); err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// writingNow is openForWriting for a file already open (for reading), so
// that a scan opens each file once. The lease it takes is kept until the
// file is closed: a writer opening the file while it is read waits for the
// close, which also drops the lease, one system call fewer than dropping
// it first.
func writingNow(f readFile) (writing, ok bool) {
	_, err := unix.FcntlInt(uintptr(f.fd), unix.F_SETLEASE, unix.F_RDLCK)
	switch {
	case err == nil:
		return false, true
	case errors.Is(err, unix.EAGAIN):
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
