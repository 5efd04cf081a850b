package content

import (
	"path/filepath"
	"testing"
	"unsafe"
)

// TestRelKeepsNoAbsolutePath checks that a relative path a Library keeps
// is a string of its own, not a slice of the absolute path it came from,
// which would keep that alive as long as the path is known.
func TestRelKeepsNoAbsolutePath(t *testing.T) {
	dir := t.TempDir()
	l := &Library{dir: dir}
	abs := filepath.Join(dir, "news", "2025-01-02-harbour.txt")
	rel := l.rel(abs)
	if rel != "news/2025-01-02-harbour.txt" {
		t.Fatalf("rel = %q", rel)
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(abs)))
	at := uintptr(unsafe.Pointer(unsafe.StringData(rel)))
	if start <= at && at < start+uintptr(len(abs)) {
		t.Error("the relative path shares the absolute path's bytes")
	}
}
