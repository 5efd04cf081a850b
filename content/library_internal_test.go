package content

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
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

// countingReader counts the reads made of it.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

// TestReadFrom checks readFrom against files that changed between their
// stat and their read, and that a file of the stat's size takes one read,
// not a second one for io.EOF.
func TestReadFrom(t *testing.T) {
	big := strings.Repeat("harbour ", 300) // 2,400 bytes
	tests := []struct {
		name    string
		data    string
		size    int64 // as the stat said
		chunked bool  // the reader gives a few bytes a read
		want    string
		reads   int // 0: not checked
		err     error
	}{
		{"as stat said", "Title\n\nBody.\n", 13, false, "Title\n\nBody.\n", 1, nil},
		{"empty", "", 0, false, "", 1, nil},
		{"grown since", big, 100, false, big, 0, nil},
		{"grown from empty", "Body.\n", 0, false, "Body.\n", 0, nil},
		{"shrunk since", "Body.\n", 100, false, "Body.\n", 2, nil},
		{"short reads", big, int64(len(big)), true, big, 0, nil},
		{"at the limit", (big + big)[:3000], 3000, false, (big + big)[:3000], 1, nil},
		{"over the limit", big + big, 1000, false, "", 0, ErrTooLarge},
		{"stat over the limit", "x", 3001, false, "", 0, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Library{maxSize: 3000}
			var r io.Reader = strings.NewReader(tt.data)
			if tt.chunked {
				r = iotest.HalfReader(iotest.OneByteReader(r))
			}
			cr := &countingReader{r: r}
			got, err := l.readFrom(cr, tt.size)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if string(got) != tt.want {
				t.Errorf("read %d bytes, want %d", len(got), len(tt.want))
			}
			if tt.reads > 0 && cr.reads != tt.reads {
				t.Errorf("%d reads, want %d", cr.reads, tt.reads)
			}
		})
	}
}
