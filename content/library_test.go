package content_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
)

// clock is a settable time source for tests of first-seen and changed dates.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type lib struct {
	*content.Library
	st *store.Store
	t  testing.TB
}

func openLib(t *testing.T, dir, state string, c *clock, maxSize int64) lib {
	t.Helper()
	st, err := store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	l, err := content.OpenLibrary(dir, st, content.LibraryOptions{Now: c.now, MaxFileSize: maxSize})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return lib{l, st, t}
}

func (l lib) close(t *testing.T) {
	t.Helper()
	if err := errors.Join(l.Library.Close(), l.st.Close()); err != nil {
		t.Fatal(err)
	}
}

func (l lib) scan(t *testing.T) {
	t.Helper()
	if _, err := l.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (l lib) apply(t *testing.T, paths ...string) bool {
	t.Helper()
	changed, err := l.Apply(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	return changed
}

func (l lib) byPath() map[string]content.Article {
	out := map[string]content.Article{}
	for _, a := range l.Articles() {
		out[a.Path] = content.Loaded(l.t, a)
	}
	return out
}

func write(t *testing.T, dir, rel, text string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func md(title, body string) string {
	return "---\ntitle: " + title + "\n---\n\n" + body + "\n"
}

func TestLibraryIdentitySurvivesRestart(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	write(t, dir, "one.md", md("One", "First body."))
	write(t, dir, "2025-01-02-two.md", "# Two\n\nSecond body.\n")
	write(t, dir, "sub/three.md", "---\ntitle: Three\ndate: 2024-05-06T07:08:09Z\nid: tag:example.org,2024:three\n---\nThird.\n")

	l := openLib(t, dir, state, c, 0)
	l.scan(t)
	first := l.byPath()
	l.close(t)
	if len(first) != 3 {
		t.Fatalf("got %d articles, want 3: %v", len(first), first)
	}
	wantPub := map[string]time.Time{
		"one.md":            c.t,
		"2025-01-02-two.md": time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
		"sub/three.md":      time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	}
	for p, want := range wantPub {
		if got := first[p].Published; !got.Equal(want) {
			t.Errorf("%s published = %v, want %v", p, got, want)
		}
	}
	if got := first["sub/three.md"].ID; got != "tag:example.org,2024:three" {
		t.Errorf("front matter id not honoured: %q", got)
	}
	if !strings.HasPrefix(first["one.md"].ID, "urn:uuid:") {
		t.Errorf("assigned id %q is not a urn:uuid", first["one.md"].ID)
	}
	if got := first["sub/three.md"].Slug; got != "sub/three" {
		t.Errorf("slug = %q, want sub/three", got)
	}

	// A day later, after a restart, nothing about the articles has changed.
	c.t = c.t.Add(24 * time.Hour)
	l = openLib(t, dir, state, c, 0)
	defer l.close(t)
	l.scan(t)
	for p, a := range l.byPath() {
		b := first[p]
		if a.ID != b.ID || !a.Published.Equal(b.Published) || !a.Updated.Equal(b.Updated) || a.Slug != b.Slug {
			t.Errorf("%s changed across restart: %+v -> %+v", p, b, a)
		}
	}
}

func TestLibraryUpdatedOnlyOnRealChange(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	write(t, dir, "post.md", md("Post", "Body one."))
	l := openLib(t, dir, state, c, 0)
	defer l.close(t)
	l.scan(t)
	before := l.byPath()["post.md"]

	// Touched: same bytes, new mtime.
	c.t = c.t.Add(time.Hour)
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(dir, "post.md"), future, future); err != nil {
		t.Fatal(err)
	}
	if l.apply(t, "post.md") {
		t.Error("touching a file reported a change")
	}
	if got := l.byPath()["post.md"]; !got.Updated.Equal(before.Updated) {
		t.Errorf("touch changed updated: %v -> %v", before.Updated, got.Updated)
	}

	// Edited: new bytes.
	c.t = c.t.Add(time.Hour)
	write(t, dir, "post.md", md("Post", "Body two."))
	if !l.apply(t, "post.md") {
		t.Error("an edit reported no change")
	}
	after := l.byPath()["post.md"]
	if after.ID != before.ID || !after.Published.Equal(before.Published) {
		t.Errorf("edit changed identity: %+v -> %+v", before, after)
	}
	if !after.Updated.Equal(c.t) {
		t.Errorf("updated = %v, want %v", after.Updated, c.t)
	}
}

func TestLibraryDeleteRenameRecreate(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	write(t, dir, "a.md", md("A", "Alpha."))
	write(t, dir, "b.md", md("B", "Beta."))
	write(t, dir, "dir/c.md", md("C", "Gamma."))
	l := openLib(t, dir, state, c, 0)
	defer l.close(t)
	l.scan(t)
	orig := l.byPath()

	// mv a.md renamed.md: one event batch names both paths.
	if err := os.Rename(filepath.Join(dir, "a.md"), filepath.Join(dir, "renamed.md")); err != nil {
		t.Fatal(err)
	}
	l.apply(t, "a.md", "renamed.md")
	got := l.byPath()
	if _, ok := got["a.md"]; ok {
		t.Error("old path still published after rename")
	}
	if got["renamed.md"].ID != orig["a.md"].ID {
		t.Errorf("rename gave a new id: %q -> %q", orig["a.md"].ID, got["renamed.md"].ID)
	}
	if got["renamed.md"].Slug != "renamed" {
		t.Errorf("renamed slug = %q", got["renamed.md"].Slug)
	}

	// Delete b.md, then write it back a minute later (a sync tool's replace).
	os.Remove(filepath.Join(dir, "b.md"))
	l.apply(t, "b.md")
	if _, ok := l.byPath()["b.md"]; ok {
		t.Fatal("deleted file still published")
	}
	c.t = c.t.Add(time.Minute)
	write(t, dir, "b.md", md("B", "Beta, revised."))
	l.apply(t, "b.md")
	if got := l.byPath()["b.md"].ID; got != orig["b.md"].ID {
		t.Errorf("recreated file got a new id: %q -> %q", orig["b.md"].ID, got)
	}

	// Removing a folder removes what was in it; a new article at a reused
	// name long after deletion is a new article.
	os.RemoveAll(filepath.Join(dir, "dir"))
	l.apply(t, "dir")
	if _, ok := l.byPath()["dir/c.md"]; ok {
		t.Fatal("article in a removed folder still published")
	}
	c.t = c.t.Add(48 * time.Hour)
	write(t, dir, "dir/c.md", md("C2", "Something else entirely."))
	l.apply(t, "dir")
	if got := l.byPath()["dir/c.md"].ID; got == "" || got == orig["dir/c.md"].ID {
		t.Errorf("new article at an old name: id %q, old %q", got, orig["dir/c.md"].ID)
	}
}

func TestLibraryBadFiles(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	write(t, dir, "good.md", md("Good", "Fine."))
	write(t, dir, "junk.md", "\x00\x01\x02binary\x00")
	write(t, dir, "big.md", md("Big", strings.Repeat("x", 2000)))
	write(t, dir, "notes.swp", "editor junk")
	write(t, dir, ".hidden.md", md("Hidden", "no"))
	write(t, dir, ".dropfeed/x.md", md("State", "no"))
	l := openLib(t, dir, state, c, 1000)
	defer l.close(t)
	l.scan(t)
	got := l.byPath()
	if len(got) != 1 || got["good.md"].Title != "Good" {
		t.Fatalf("want only good.md, got %v", got)
	}
	problems := l.Problems()
	if !strings.Contains(problems["junk.md"], "binary") {
		t.Errorf("junk.md problem = %q", problems["junk.md"])
	}
	if !strings.Contains(problems["big.md"], "max-file-size") {
		t.Errorf("big.md problem = %q", problems["big.md"])
	}

	// A good file turned bad keeps its last good version.
	write(t, dir, "good.md", "---\ntitle: [unclosed\n---\nbody\n")
	l.apply(t, "good.md")
	if got := l.byPath()["good.md"]; got.Title != "Good" {
		t.Errorf("last good version lost: %+v", got)
	}
	if l.Problems()["good.md"] == "" {
		t.Error("no problem recorded for the broken edit")
	}
}

func TestLibraryUniqueIDsAndSlugs(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	write(t, dir, "a.md", "---\ntitle: A\nid: same\n---\nA.\n")
	write(t, dir, "b.md", "---\ntitle: B\nid: same\n---\nB.\n")
	write(t, dir, "c.md", md("C md", "C."))
	write(t, dir, "c.markdown", md("C markdown", "C again."))
	l := openLib(t, dir, state, c, 0)
	defer l.close(t)
	l.scan(t)
	ids, slugs := map[string]bool{}, map[string]bool{}
	for _, a := range l.Articles() {
		if ids[a.ID] || slugs[a.Slug] {
			t.Errorf("duplicate id %q or slug %q", a.ID, a.Slug)
		}
		ids[a.ID], slugs[a.Slug] = true, true
	}
	if !ids["same"] || len(ids) != 4 || len(slugs) != 4 {
		t.Errorf("ids %v slugs %v", ids, slugs)
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A rescan is cheap because a file whose size, mtime and inode are
// unchanged is not read again. The proof: bytes changed in place under the
// same size and mtime are not seen, until the mtime moves or another file
// (a new inode) takes the path.
func TestLibraryScanDoesNotRereadUnchanged(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	p := filepath.Join(dir, "post.md")
	write(t, dir, "post.md", md("Post", "Body AAAA."))
	l := openLib(t, dir, filepath.Join(t.TempDir(), "state.db"), c, 0)
	defer l.close(t)
	l.scan(t)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	keepMtime := func() {
		t.Helper()
		if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}

	write(t, dir, "post.md", md("Post", "Body BBBB.")) // same size, same inode
	keepMtime()
	l.scan(t)
	if got := l.byPath()["post.md"].HTML; !strings.Contains(got, "AAAA") {
		t.Fatalf("an unchanged size and mtime was read again: %q", got)
	}

	// rsync -t: another file of the same size and mtime renamed over it.
	write(t, dir, ".post.md.XXXXXX", md("Post", "Body CCCC."))
	if err := os.Chtimes(filepath.Join(dir, ".post.md.XXXXXX"), fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, ".post.md.XXXXXX"), p); err != nil {
		t.Fatal(err)
	}
	l.scan(t)
	if got := l.byPath()["post.md"].HTML; !strings.Contains(got, "CCCC") {
		t.Errorf("a new file with the same size and mtime was not read: %q", got)
	}

	future := fi.ModTime().Add(time.Minute)
	write(t, dir, "post.md", md("Post", "Body DDDD."))
	if err := os.Chtimes(p, future, future); err != nil {
		t.Fatal(err)
	}
	l.scan(t)
	if got := l.byPath()["post.md"].HTML; !strings.Contains(got, "DDDD") {
		t.Errorf("a new mtime was not read: %q", got)
	}
}

// A rename seen as two batches (the old path first) keeps the id, and a
// rename the watcher reports as such keeps it even when the content changed.
func TestLibraryRenames(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	write(t, dir, "a.md", md("A", "Alpha."))
	write(t, dir, "b.md", md("B", "Beta."))
	l := openLib(t, dir, filepath.Join(t.TempDir(), "state.db"), c, 0)
	defer l.close(t)
	l.scan(t)
	orig := l.byPath()

	if err := os.Rename(filepath.Join(dir, "a.md"), filepath.Join(dir, "a2.md")); err != nil {
		t.Fatal(err)
	}
	l.apply(t, "a.md")
	c.t = c.t.Add(time.Second)
	l.apply(t, "a2.md")
	if got := l.byPath()["a2.md"].ID; got != orig["a.md"].ID {
		t.Errorf("a rename across batches changed the id: %q -> %q", orig["a.md"].ID, got)
	}

	if err := os.Rename(filepath.Join(dir, "b.md"), filepath.Join(dir, "b2.md")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "b2.md", md("B", "Beta, edited after the move."))
	b := content.Batch{Paths: []string{"b.md", "b2.md"}, Renamed: map[string]string{"b2.md": "b.md"}}
	if _, err := l.ApplyBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	got := l.byPath()
	if got["b2.md"].ID != orig["b.md"].ID || len(got) != 2 {
		t.Errorf("a reported rename with an edit: id %q -> %q, %d articles", orig["b.md"].ID, got["b2.md"].ID, len(got))
	}
}

func TestLibrarySymlinks(t *testing.T) {
	tests := []struct {
		name   string
		follow bool
		want   map[string]int // how many articles have each title
	}{
		// post.md is read at its own path and through a symlink to it.
		{"not followed", false, map[string]int{"Post": 2}},
		// Far and Farther are reachable only through symlinked folders, by
		// several paths and loops: each real folder is walked once.
		{"followed", true, map[string]int{"Post": 2, "Elsewhere": 2, "Far": 1, "Farther": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			write(t, dir, "real/post.md", md("Post", "x"))
			write(t, outside, "elsewhere.md", md("Elsewhere", "x"))
			write(t, outside, "far.md", md("Far", "x"))
			write(t, outside, "deeper/farther.md", md("Farther", "x"))
			links := map[string]string{
				filepath.Join(dir, "link-inside.md"):    filepath.Join(dir, "real/post.md"),
				filepath.Join(dir, "link-outside.md"):   filepath.Join(outside, "elsewhere.md"),
				filepath.Join(dir, "linked-dir"):        outside,
				filepath.Join(dir, "real/loop"):         dir,
				filepath.Join(dir, "real/up"):           "..",
				filepath.Join(dir, "real/loop-dir.md"):  filepath.Join(dir, "real"),
				filepath.Join(dir, "dangling.md"):       filepath.Join(dir, "nothing.md"),
				filepath.Join(dir, "self-loop.md"):      "self-loop.md",
				filepath.Join(outside, "deeper/back"):   outside,
				filepath.Join(outside, "deeper/around"): dir,
			}
			for name, target := range links {
				if err := os.Symlink(target, name); err != nil {
					t.Fatal(err)
				}
			}
			st := openStore(t)
			defer st.Close()
			l, err := content.OpenLibrary(dir, st, content.LibraryOptions{Now: c.now, FollowSymlinks: tt.follow})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			titles := map[string]int{}
			var paths []string
			for _, a := range l.Articles() {
				titles[a.Title]++
				paths = append(paths, a.Path)
			}
			if !maps.Equal(titles, tt.want) {
				t.Errorf("titles read %v, want %v; paths %v", titles, tt.want, paths)
			}
			if tt.follow {
				return
			}
			// Apply takes the same view as Scan.
			changed, err := l.Apply(context.Background(), []string{"link-outside.md", "linked-dir", "real/loop"})
			if err != nil || changed {
				t.Errorf("applying the symlinks not followed: changed %v, err %v", changed, err)
			}
		})
	}
}

func keys(m map[string]content.Article) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// A scan leaves a file that is still open for writing unread, and says so,
// so that nobody sees it half-written.
func TestLibraryScanLeavesFilesBeingWritten(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f, err := os.Create(filepath.Join(dir, "writing.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprint(f, md("Half", "The first half"))
	l := openLib(t, dir, filepath.Join(t.TempDir(), "state.db"), c, 0)
	defer l.close(t)
	l.scan(t)
	if got := l.byPath(); len(got) != 0 {
		t.Fatalf("read a file still open for writing: %v", keys(got))
	}
	if got := l.Unsettled(); !slices.Equal(got, []string{"writing.md"}) {
		t.Errorf("Unsettled() = %v", got)
	}
	fmt.Fprint(f, " and the second.\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	l.apply(t, "writing.md")
	if got := l.byPath()["writing.md"].HTML; !strings.Contains(got, "second") {
		t.Errorf("after close: %q", got)
	}
}

// TestNewIDIsUUID checks that ids are random version 4 UUIDs in the
// urn:uuid form, grouped as RFC 9562 writes them, and do not repeat.
func TestNewIDIsUUID(t *testing.T) {
	form := regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := content.NewID()
		if !form.MatchString(id) {
			t.Fatalf("NewID() = %q, not a version 4 urn:uuid", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}
