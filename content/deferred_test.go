package content_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
)

// deferredCorpus holds Markdown files whose bodies a deferring Library
// leaves unrendered (deferred true) or renders at once, each with what
// makes its rendering differ: a summary given or taken from the body, raw
// HTML the sanitiser removes, a link to linkify, CRLF line ends, TOML.
var deferredCorpus = []struct {
	name, text string
	deferred   bool
}{
	{"given-summary.md", "---\ntitle: Given\nsummary: The front matter's own summary.\n---\n\nThe *first* paragraph, not the summary.\n", true},
	{"derived-summary.md", "---\ntitle: Derived\n---\n\n<!-- a comment -->\n\n## A heading\n\nThe **first** paragraph &amp; its [link](https://example.org/a).\n\nSecond, with www.example.com to linkify.\n", true},
	{"unsafe.md", "---\ntitle: Unsafe\ntags: [a, b]\n---\n\n<script>alert(1)</script>\n\n<p onclick=\"x()\">Raw HTML</p> and [a js link](javascript:alert(1)).\n", true},
	{"crlf.md", "---\r\ntitle: Windows\r\ndescription: Described.\r\n---\r\n\r\nLine one\r\nline two.\r\n", true},
	{"toml.md", "+++\ntitle = \"TOML\"\n+++\n\n# Not the title: the front matter gave one\n\nBody.\n", true},
	{"heading-title.md", "# Title from the heading\n\nBody under it.\n", false},
	{"no-title.md", "---\ntags: [x]\n---\n\n# Heading title\n\nBody.\n", false},
	{"unclean-summary.md", "---\ntitle: Unclean\nsummary: \"\\x01\"\n---\n\nThe first paragraph.\n", false},
	{"empty-body.md", "---\ntitle: Front matter only\n---\n", true},
}

func writeDeferredCorpus(t *testing.T, dir string) {
	t.Helper()
	for _, f := range deferredCorpus {
		write(t, dir, f.name, f.text)
	}
}

// A Library that defers Markdown bodies reads every article as one that
// renders them at once does, leaves unrendered exactly those whose front
// matter gives a title, and keeps them unrendered through a restart; a
// Library that does not defer parses such records of the parse cache again.
func TestDeferredMarkdownReadsAsParsed(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)}
	writeDeferredCorpus(t, dir)
	want := parseFresh(t, dir, c)

	l := openKeptWith(t, dir, state, c, content.LibraryOptions{DeferMarkdown: true})
	l.scan(t)
	deferredAre := func(what string, l lib, deferring bool) {
		t.Helper()
		for _, f := range deferredCorpus {
			a := l.Articles()
			i := indexOfPath(a, f.name)
			if i < 0 {
				t.Fatalf("%s: %s not read", what, f.name)
			}
			if got := content.BodyDeferred(a[i]); got != (f.deferred && deferring) {
				t.Errorf("%s: %s deferred %v, want %v", what, f.name, got, f.deferred && deferring)
			}
		}
	}
	deferredAre("first scan", l, true)
	before := l.byPath()
	sameParse(t, "deferred", before, want)
	l.close(t)

	// Edited in place while stopped, unseen by a scan: a restart that
	// shows the old text took the article from the parse cache.
	quietEdit(t, dir, "derived-summary.md", "first", "FIRST")
	l = openKeptWith(t, dir, state, c, content.LibraryOptions{DeferMarkdown: true})
	l.scan(t)
	deferredAre("restart", l, true)
	fromCache(t, before, l.byPath())
	l.close(t)

	l = openKeptWith(t, dir, state, c, content.LibraryOptions{})
	defer l.close(t)
	l.scan(t)
	deferredAre("restart without deferring", l, false)
	after := l.byPath()
	if got := after["derived-summary.md"].HTML; !strings.Contains(got, "<strong>FIRST</strong>") {
		t.Errorf("a record with a deferred body was used by a Library that does not defer: %s", got)
	}
	if !reflect.DeepEqual(after["given-summary.md"], before["given-summary.md"]) {
		t.Errorf("given-summary.md differs:\n got %+v\nwant %+v", after["given-summary.md"], before["given-summary.md"])
	}
}

func indexOfPath(as []*content.Article, p string) int {
	for i, a := range as {
		if a.Path == p {
			return i
		}
	}
	return -1
}

// A deferred body is rendered once, on its first read, and its rendering
// is let go with it when the article changes.
func TestDeferredMarkdownRenderedOnce(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)}
	write(t, dir, "one.md", md("One", "The *only* paragraph of the first version."))
	l := openKeptWith(t, dir, state, c, content.LibraryOptions{DeferMarkdown: true})
	defer func() { l.close(t) }()
	l.scan(t)
	stored := content.BodyFileSize(l.Library)
	if live := content.BodyFileLive(l.Library); live != stored {
		t.Fatalf("live %d of %d bytes before any read", live, stored)
	}
	a := l.Articles()[0]
	var rendered int64
	for i := range 3 {
		html, err := a.LoadHTML()
		if err != nil {
			t.Fatal(err)
		}
		if want := "<p>The <em>only</em> paragraph of the first version.</p>"; html != want {
			t.Errorf("LoadHTML = %q, want %q", html, want)
		}
		if summary, err := a.LoadSummary(); err != nil || summary != "The only paragraph of the first version." {
			t.Errorf("LoadSummary = %q, %v", summary, err)
		}
		if i == 0 {
			rendered = content.BodyFileSize(l.Library)
		} else if size := content.BodyFileSize(l.Library); size != rendered {
			t.Errorf("read %d: body file %d bytes, %d after the first: rendered again", i+1, size, rendered)
		}
	}
	if rendered <= stored {
		t.Fatalf("body file %d bytes after reads, %d before: nothing rendered", rendered, stored)
	}
	if live := content.BodyFileLive(l.Library); live != rendered {
		t.Errorf("live %d of %d bytes: the rendering is not counted", live, rendered)
	}

	write(t, dir, "one.md", md("One", "The second version."))
	c.t = c.t.Add(time.Minute)
	l.apply(t, "one.md")
	size := content.BodyFileSize(l.Library)
	if live := content.BodyFileLive(l.Library); live != size-rendered {
		t.Errorf("after the change, live %d bytes; want only the new version's %d", live, size-rendered)
	}
	if html, err := l.Articles()[0].LoadHTML(); err != nil || html != "<p>The second version.</p>" {
		t.Errorf("after the change, LoadHTML = %q, %v", html, err)
	}

	// A restart after a clean stop reads the rendering, not the source.
	l.close(t)
	l = openKeptWith(t, dir, state, c, content.LibraryOptions{DeferMarkdown: true})
	l.scan(t)
	size = content.BodyFileSize(l.Library)
	if html, err := l.Articles()[0].LoadHTML(); err != nil || html != "<p>The second version.</p>" {
		t.Errorf("after a restart, LoadHTML = %q, %v", html, err)
	}
	if after := content.BodyFileSize(l.Library); after != size {
		t.Errorf("after a restart, body file %d bytes, %d before the read: rendered again", after, size)
	}
	if live, want := content.BodyFileLive(l.Library), int64(len("The second version.")+len("<p>The second version.</p>")+len("\nThe second version.\n")); live != want {
		t.Errorf("after a restart, live %d bytes, want %d (the source and its rendering)", live, want)
	}
}

// Compacting the body file keeps a deferred body deferred, and a restart
// after it reads the same articles.
func TestDeferredMarkdownCompacted(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)}
	writeDeferredCorpus(t, dir)
	opts := content.LibraryOptions{DeferMarkdown: true}
	l := openKeptWith(t, dir, state, c, opts)
	l.scan(t)
	content.SetBodyWaste(l.Library, 2_000)
	filler := strings.Repeat("Words of an often edited article. ", 30)
	for n := range 20 {
		write(t, dir, "often.md", md("Often", filler+string(rune('a'+n))))
		c.t = c.t.Add(time.Minute)
		l.apply(t, "often.md")
	}
	if fi, err := os.Stat(state + ".bodies"); err == nil {
		t.Fatalf("unexpected %v", fi.Name())
	}
	before := l.byPath()
	for _, a := range l.Articles() {
		if a.Path == "unsafe.md" && !content.BodyDeferred(a) {
			t.Error("unsafe.md rendered by the compaction")
		}
	}
	if size := content.BodyFileSize(l.Library); size > 20*int64(len(filler)) {
		t.Errorf("body file %d bytes: not compacted", size)
	}
	l.close(t)
	quietEdit(t, dir, "unsafe.md", "Raw HTML", "RAW HTML")
	l = openKeptWith(t, dir, state, c, opts)
	defer l.close(t)
	l.scan(t)
	fromCache(t, before, l.byPath())
}
