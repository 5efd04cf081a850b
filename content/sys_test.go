package content

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenReadActsAsOpen checks that openRead, which skips os.Open's offer
// of the file to the poller, reads a file as os.Open does and fails as it
// does, naming the file.
func TestOpenReadActsAsOpen(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "post.md")
	want := "# Title\n\nBody.\n"
	if err := os.WriteFile(abs, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := openRead(abs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil || string(got) != want {
		t.Errorf("read %q, %v; want %q", got, err, want)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}

	missing := filepath.Join(dir, "gone.md")
	_, err = openRead(missing)
	_, openErr := os.Open(missing)
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || err.Error() != openErr.Error() {
		t.Errorf("openRead of a missing file: %v; os.Open says %v", err, openErr)
	}
}
