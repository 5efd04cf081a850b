package content

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWritingNowHoldsLeaseUntilClose checks the lease writingNow takes: it
// tells a file open for writing elsewhere, and, taken, it holds off a writer
// until the file is closed, which drops it. A writer opening with
// O_NONBLOCK is refused while a lease is held rather than waiting for it.
func TestWritingNowHoldsLeaseUntilClose(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "post.txt")
	if err := os.WriteFile(abs, []byte("Title\n\nBody.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	openWriter := func() (*os.File, error) {
		return os.OpenFile(abs, os.O_WRONLY|unix.O_NONBLOCK, 0)
	}

	f, err := openRead(abs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(f.fd, []byte("x")); err == nil {
		t.Error("the file was opened for writing too")
	}
	writing, ok := writingNow(f)
	if !ok {
		f.Close()
		t.Skip("no leases here (file system or capability)")
	}
	if writing {
		t.Error("writingNow: writing with no writer")
	}
	if w, err := openWriter(); !errors.Is(err, unix.EWOULDBLOCK) {
		if err == nil {
			w.Close()
		}
		t.Errorf("a writer opened the file while it was read: %v; want EWOULDBLOCK (the lease held)", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	w, err := openWriter()
	if err != nil {
		t.Fatalf("a writer after the close: %v (the lease still held)", err)
	}
	defer w.Close()

	f, err = openRead(abs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if writing, ok := writingNow(f); !ok || !writing {
		t.Errorf("writingNow with a writer: writing %v, ok %v; want true, true", writing, ok)
	}
}
