package content

import (
	"io"
	"os"
	"testing"
)

// TestBodyFileBatches checks the body file's batched puts: read from
// memory until flushed, in offset order with a put made meanwhile,
// written in one go by flush; and, when a write fails, kept in memory
// and readable for good, with sync failing so that no parse cache record
// points at them.
func TestBodyFileBatches(t *testing.T) {
	b, err := newBodyFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	read := func(r bodyRef) string {
		t.Helper()
		data, err := r.readRange(0, r.n)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	onDisk := func() string {
		t.Helper()
		data, err := io.ReadAll(io.NewSectionReader(b.f, 0, 1<<20))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}

	first := b.put("s0", "<p>written at once</p>")
	one := b.putBatched("s1", "<p>one</p>", false)
	two := b.putBatched("", "# two", true)
	rendered := b.put("s2", "<p>rendered meanwhile</p>") // a reader's render during a change
	three := b.putBatched("s3", "<p>three</p>", false)
	for r, want := range map[bodyRef]string{first: "s0<p>written at once</p>", one: "s1<p>one</p>", two: "# two",
		rendered: "s2<p>rendered meanwhile</p>", three: "s3<p>three</p>"} {
		if got := read(r); got != want {
			t.Errorf("before the flush, body at %d reads %q, want %q", r.off, got, want)
		}
	}
	if !two.markdown || one.markdown || one.sum != 2 {
		t.Errorf("refs %+v, %+v: markdown or summary length lost", one, two)
	}
	if got := onDisk(); got != "s0<p>written at once</p>" {
		t.Errorf("before the flush the file holds %q", got)
	}
	if err := b.flush(); err != nil {
		t.Fatal(err)
	}
	want := "s0<p>written at once</p>s1<p>one</p># twos2<p>rendered meanwhile</p>s3<p>three</p>"
	if got := onDisk(); got != want {
		t.Errorf("after the flush the file holds %q, want %q", got, want)
	}
	if b.pendingSize() != 0 || read(three) != "s3<p>three</p>" || b.sync() != nil {
		t.Error("after the flush: bytes still pending, or unreadable, or not synced")
	}

	// A full disk, as a file open for reading only looks to a write.
	if err := b.f.Close(); err != nil {
		t.Fatal(err)
	}
	b.f, _ = os.Open(os.DevNull) // for close at the end
	four := b.putBatched("s4", "<p>four</p>", false)
	if err := b.flush(); err == nil {
		t.Fatal("flush to a file open for reading only succeeded")
	}
	five := b.put("s5", "<p>five</p>")
	if read(four) != "s4<p>four</p>" || read(five) != "s5<p>five</p>" {
		t.Errorf("unwritten bodies read %q and %q", read(four), read(five))
	}
	if b.sync() == nil {
		t.Error("sync succeeded with bodies only in memory")
	}
}
