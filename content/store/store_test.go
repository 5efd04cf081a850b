package store_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
)

func TestStoreRoundTripAndFeedID(t *testing.T) {
	state := filepath.Join(t.TempDir(), "nested", "state.db")
	st, err := store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	put := map[string]content.Identity{
		"a.md":     {ID: "urn:uuid:1", Slug: "a", FirstSeen: when, Hash: "h1"},
		"sub/b.md": {ID: "urn:uuid:2", Slug: "sub/b", FirstSeen: when, Hash: "h2", Deleted: when},
	}
	if err := st.SaveIdentities(put, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveIdentities(nil, []string{"sub/b.md"}); err != nil {
		t.Fatal(err)
	}
	feedID, err := st.FeedID()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(feedID, "urn:uuid:") {
		t.Errorf("feed id %q", feedID)
	}
	// A second process (or handle) must get a clear error, not hang.
	if _, err := store.Open(state); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second open: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.LoadIdentities()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["a.md"].ID != "urn:uuid:1" || !got["a.md"].FirstSeen.Equal(when) {
		t.Errorf("loaded %+v", got)
	}
	if again, _ := st.FeedID(); again != feedID {
		t.Errorf("feed id changed across reopen: %q -> %q", feedID, again)
	}
}

func TestFingerprintsRoundTrip(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	st, err := store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	put := map[string][]content.Fingerprint{"a.txt": {1, 1 << 63, 42}, "sub/b.txt": {7}}
	if err := st.SaveFingerprints(put, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveFingerprints(map[string][]content.Fingerprint{"c.txt": {9}}, []string{"sub/b.txt"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.OpenReadOnly(state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.LoadFingerprints()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !slices.Equal(got["a.txt"], put["a.txt"]) || !slices.Equal(got["c.txt"], []content.Fingerprint{9}) {
		t.Errorf("loaded %v", got)
	}
}

// siteLibrary is a Library over a temporary folder with the real store,
// logging to a buffer.
type siteLibrary struct {
	dir, state string
	log        bytes.Buffer
	st         *store.Store
	lib        *content.Library
}

func (s *siteLibrary) open(t *testing.T) {
	t.Helper()
	st, err := store.Open(s.state)
	if err != nil {
		t.Fatal(err)
	}
	lib, err := content.OpenLibrary(s.dir, st, content.LibraryOptions{Logger: slog.New(slog.NewTextHandler(&s.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.st, s.lib = st, lib
}

func (s *siteLibrary) close(t *testing.T) {
	t.Helper()
	if err := s.st.Close(); err != nil {
		t.Fatal(err)
	}
}

func (s *siteLibrary) apply(t *testing.T, paths ...string) {
	t.Helper()
	if _, err := s.lib.Apply(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
}

func (s *siteLibrary) article(t *testing.T, p string) content.Article {
	t.Helper()
	for _, a := range s.lib.Articles() {
		if a.Path == p {
			html, err := a.LoadHTML()
			if err != nil {
				t.Fatal(err)
			}
			c := *a // the Library's own is shared
			c.HTML = html
			return c
		}
	}
	t.Fatalf("no article %s", p)
	return content.Article{}
}

// TestLearnedBoilerplate follows a site's boilerplate through a Library
// with the real store: learned when a third file shares it, kept across a
// restart, unlearned when files are deleted; and only the articles holding
// it are read again.
func TestLearnedBoilerplate(t *testing.T) {
	const siteName = "Kestrel Valley Voice"
	src := filepath.Join("..", "testdata", "text", "site")
	names := []string{"bees.txt", "library.txt", "museum.txt", "rail.txt", "reservoir.txt"}
	s := &siteLibrary{dir: t.TempDir(), state: filepath.Join(t.TempDir(), "state.db")}
	titles := map[string]string{}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		titles["site/"+n], _, _ = strings.Cut(strings.SplitN(string(data), "\n\n", 3)[1], "\n")
	}
	copyIn := func(n string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(s.dir, "site"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, "site", n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An article elsewhere, which no change of the site's boilerplate touches.
	if err := os.WriteFile(filepath.Join(s.dir, "other.txt"), []byte(siteName+" Wins Award\n\nThe paper won.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	learned := func(t *testing.T, p string) bool {
		t.Helper()
		a := s.article(t, p)
		dropped := slices.ContainsFunc(a.Dropped, func(d content.Dropped) bool {
			return d.Text == siteName && strings.HasPrefix(d.Reason, "repeated in ")
		})
		if dropped != (a.Title == titles[p]) || strings.Contains(a.Summary+a.HTML, siteName) != !dropped {
			t.Errorf("%s: title %q, dropped %v, summary %q", p, a.Title, a.Dropped, a.Summary)
		}
		return dropped
	}

	s.open(t)
	copyIn(names[0])
	copyIn(names[1])
	if _, err := s.lib.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if learned(t, "site/bees.txt") || learned(t, "site/library.txt") {
		t.Fatal("learned from two files")
	}
	s.log.Reset()
	copyIn(names[2])
	s.apply(t, "site/museum.txt")
	for _, p := range []string{"site/bees.txt", "site/library.txt", "site/museum.txt"} {
		if !learned(t, p) {
			t.Errorf("%s: site name not learned from three files", p)
		}
	}
	if a := s.article(t, "site/bees.txt"); !slices.Contains(a.Dropped, content.Dropped{Text: siteName, Reason: "repeated in 3 files of this folder"}) {
		t.Errorf("dropped %v", a.Dropped)
	}
	if strings.Contains(s.log.String(), "other.txt") || strings.Count(s.log.String(), "boilerplate changed") != 2 {
		t.Errorf("want the two earlier site articles read again, and nothing else:\n%s", s.log.String())
	}
	copyIn(names[3])
	copyIn(names[4])
	s.apply(t, "site/rail.txt", "site/reservoir.txt")
	s.close(t)

	// After a restart the counts are known before the folder is read: one
	// file read on its own loses the site name.
	s.open(t)
	s.apply(t, "site/rail.txt")
	if !learned(t, "site/rail.txt") {
		t.Error("learned boilerplate lost across a restart")
	}
	// Deleting files takes their contributions away: two left are not enough.
	for _, n := range names[:3] {
		if err := os.Remove(filepath.Join(s.dir, "site", n)); err != nil {
			t.Fatal(err)
		}
	}
	s.log.Reset()
	s.apply(t, "site/bees.txt", "site/library.txt", "site/museum.txt")
	if learned(t, "site/rail.txt") {
		t.Error("site name still boilerplate with two files left")
	}
	s.close(t)

	s.open(t)
	defer s.close(t)
	if _, err := s.lib.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if learned(t, "site/rail.txt") || learned(t, "site/reservoir.txt") {
		t.Error("deleted files still count after a restart")
	}
	if a := s.article(t, "other.txt"); a.Title != siteName+" Wins Award" {
		t.Errorf("other.txt: title %q", a.Title)
	}
}

// BenchmarkSaveIdentities measures the first scan's save of a large folder:
// every identity in one transaction.
func BenchmarkSaveIdentities(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			put := make(map[string]content.Identity, n)
			for i := range n {
				p := fmt.Sprintf("news/%03d/item-%06d.txt", i%100, i)
				put[p] = content.Identity{ID: content.NewID(), Slug: strings.TrimSuffix(p, ".txt"), FirstSeen: when, Hash: fmt.Sprintf("%064x", i)}
			}
			for b.Loop() {
				b.StopTimer()
				st, err := store.Open(filepath.Join(b.TempDir(), "state.db"))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := st.SaveIdentities(put, nil); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
		})
	}
}
