package content_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
)

// TestBodiesKeptOnDisk checks that a Library's articles carry no summary
// or body in memory, that each reads those it was built with even after
// the file changed and the body file was compacted, and that compaction
// frees the replaced bodies.
func TestBodiesKeptOnDisk(t *testing.T) {
	dir, bodyDir := t.TempDir(), t.TempDir()
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st := openStore(t)
	l, err := content.OpenLibrary(dir, st, content.LibraryOptions{Now: c.now, BodyDir: bodyDir})
	if err != nil {
		t.Fatal(err)
	}
	lib := lib{l, st, t}
	defer lib.close(t)
	// The body file is removed from its folder as soon as it is open.
	if names, _ := os.ReadDir(bodyDir); len(names) != 0 {
		t.Errorf("body folder holds %v, want nothing", names)
	}

	filler := strings.Repeat("Some words of the article. ", 40)
	body := func(n int) string { return fmt.Sprintf("Version %03d. %s", n, filler) }
	write(t, dir, "kept.md", md("Kept", "Never edited. "+filler))
	write(t, dir, "post.md", md("Post", body(0)))
	lib.scan(t)
	first := lib.Articles()
	for _, a := range first {
		if a.HTML != "" || a.Summary != "" {
			t.Errorf("%s: HTML (%d bytes) or summary (%d) in memory, want them on disk", a.Path, len(a.HTML), len(a.Summary))
		}
	}
	content.SetBodyWaste(l, 10_000)
	written, largest := content.BodyFileSize(l), int64(0)
	for n := 1; n <= 30; n++ {
		write(t, dir, "post.md", md("Post", body(n)))
		c.t = c.t.Add(time.Minute)
		lib.apply(t, "post.md")
		written += int64(len(lib.byPath()["post.md"].HTML))
		largest = max(largest, content.BodyFileSize(l))
	}
	if largest > written/2 {
		t.Errorf("body file grew to %d bytes of the %d written: replaced bodies were not dropped", largest, written)
	}

	for _, tt := range []struct {
		name     string
		articles []*content.Article
		want     map[string]string
	}{
		{"before the edits", first, map[string]string{"post.md": "Version 000", "kept.md": "Never edited"}},
		{"now", lib.Articles(), map[string]string{"post.md": "Version 030", "kept.md": "Never edited"}},
	} {
		for _, a := range tt.articles {
			html, err := a.LoadHTML()
			if err != nil {
				t.Fatalf("%s: %s: %v", tt.name, a.Path, err)
			}
			if !strings.Contains(html, tt.want[a.Path]) || !strings.Contains(html, filler[:40]) {
				t.Errorf("%s: %s loads %.60q…, want %q", tt.name, a.Path, html, tt.want[a.Path])
			}
			summary, err := a.LoadSummary()
			if err != nil {
				t.Fatalf("%s: %s: %v", tt.name, a.Path, err)
			}
			if !strings.HasPrefix(summary, tt.want[a.Path]) || strings.Contains(summary, "<") {
				t.Errorf("%s: %s summary %.60q…, want it to start %q", tt.name, a.Path, summary, tt.want[a.Path])
			}
		}
	}
	if a, b := first[0], first[1]; !a.SameBody(a) || a.SameBody(b) {
		t.Errorf("SameBody: an article's own body must be the same and another's not")
	}
}

// TestBodiesUnwritable checks that a Library whose body file cannot be
// written keeps publishing, with the body in memory (and rendered there
// when first read, when the Library defers Markdown bodies), and says why.
func TestBodiesUnwritable(t *testing.T) {
	for _, deferMD := range []bool{false, true} {
		t.Run(fmt.Sprintf("DeferMarkdown=%v", deferMD), func(t *testing.T) {
			dir := t.TempDir()
			var logs syncBuffer
			st := openStore(t)
			l, err := content.OpenLibrary(dir, st, content.LibraryOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil)), DeferMarkdown: deferMD})
			if err != nil {
				t.Fatal(err)
			}
			lib := lib{l, st, t}
			defer st.Close()
			if err := l.Close(); err != nil { // what a full or vanished disk looks like to a write
				t.Fatal(err)
			}
			write(t, dir, "post.md", md("Post", "Body on the heap."))
			lib.scan(t)
			got := lib.Articles()
			if len(got) != 1 {
				t.Fatalf("articles %+v, want post.md", got)
			}
			html, err := got[0].LoadHTML()
			summary, sumErr := got[0].LoadSummary()
			if html != "<p>Body on the heap.</p>" || summary != "Body on the heap." || err != nil || sumErr != nil {
				t.Fatalf("post.md body %q (%v), summary %q (%v), want them kept in memory", html, err, summary, sumErr)
			}
			if log := logs.String(); !strings.Contains(log, "cannot store article body") || !strings.Contains(log, "post.md") {
				t.Errorf("log does not say why the body stayed in memory:\n%s", log)
			}
		})
	}
}

// TestBodiesFolderMissing checks that a Library cannot be opened where its
// bodies cannot be kept, and says where.
func TestBodiesFolderMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such")
	st := openStore(t)
	_, err := content.OpenLibrary(t.TempDir(), st, content.LibraryOptions{BodyDir: missing})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("OpenLibrary with body folder %s: err = %v, want one naming it", missing, err)
	}
}

// TestUnchanged checks that an article is known as unchanged across calls
// of Articles, and as changed once its file changes.
func TestUnchanged(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	l := openLib(t, dir, filepath.Join(t.TempDir(), "state.db"), c, 0)
	defer l.close(t)
	write(t, dir, "a.md", md("A", "First."))
	write(t, dir, "b.md", md("B", "Second."))
	l.scan(t)
	find := func(articles []*content.Article, p string) *content.Article {
		for _, a := range articles {
			if a.Path == p {
				return a
			}
		}
		t.Fatalf("no %s", p)
		return nil
	}
	before := l.Articles()
	write(t, dir, "b.md", md("B", "Second, edited."))
	l.apply(t, "b.md")
	after := l.Articles()
	if a := find(before, "a.md"); !a.Unchanged(find(after, "a.md")) {
		t.Error("a.md did not change, yet is not known as unchanged")
	}
	if b := find(before, "b.md"); b.Unchanged(find(after, "b.md")) {
		t.Error("b.md changed, yet is known as unchanged")
	}
	// Bodies with nothing in them share an offset with what follows: an
	// edit of the title alone is a change all the same.
	write(t, dir, "empty.md", "---\ntitle: Empty\n---\n")
	l.apply(t, "empty.md")
	before = l.Articles()
	write(t, dir, "empty.md", "---\ntitle: Empty, renamed\n---\n")
	l.apply(t, "empty.md")
	if e := find(before, "empty.md"); e.Unchanged(find(l.Articles(), "empty.md")) {
		t.Error("empty.md changed its title, yet is known as unchanged")
	}
	if x, y := (content.Article{Title: "x"}), (content.Article{Title: "y"}); x.Unchanged(&y) {
		t.Error("articles not from a Library are known as unchanged")
	}
}
