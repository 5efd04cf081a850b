package content_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
)

// writeScanCorpus writes a folder of every kind of file a scan meets:
// Markdown with front matter, news-style text files whose folder shares a
// closing paragraph (so that boilerplate is learned while the scan runs),
// HTML, and files that cannot be read as articles.
func writeScanCorpus(t testing.TB, dir string, n int) {
	t.Helper()
	write := func(rel, text string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		switch i % 5 {
		case 0, 1:
			write(fmt.Sprintf("site/2025-03-%02d-story-%04d.txt", i%28+1, i), fmt.Sprintf(
				"THE RIVERSIDE COURIER | Local news since 1921\n\n"+
					"Council Votes On Bridge Repair Plan Number %d\n\n"+
					"By Staff Reporter\n\n"+
					"The council met on Tuesday to discuss repairs to bridge %d, which has been closed since the spring floods damaged its supports.\n\n"+
					"Engineers said work on bridge %d could begin next month if the budget of %d thousand is approved.\n\n"+
					"Keep local news alive: support the Courier with a monthly donation today.\n", i, i, i, 100+i))
		case 2, 3:
			write(fmt.Sprintf("notes/%02d/note-%04d.md", i%7, i), fmt.Sprintf(
				"---\ntitle: Note %d on gardening\ndate: 2025-04-%02dT10:00:00Z\ntags: [garden, note-%d]\n---\n\n"+
					"Tomatoes in bed %d need **staking** before the wind picks up.\n\n- water at dawn\n- mulch bed %d\n", i, i%28+1, i%3, i, i))
		default:
			write(fmt.Sprintf("pages/page-%04d.html", i), fmt.Sprintf(
				"<!DOCTYPE html><html><head><title>Page %d</title></head><body><article><h1>Page %d</h1><p>Opening hours for site %d.</p></article></body></html>", i, i, i))
		}
	}
	write("site/broken.txt", "\x00\x01\x02binary\x00")
	write("notes/empty.md", "")
}

// scanWith scans dir with a Library whose scans load on workers goroutines.
func scanWith(t *testing.T, dir string, workers int) *content.Library {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	l, err := content.OpenLibrary(dir, st, content.LibraryOptions{Now: func() time.Time { return now }, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	content.SetScanWorkers(l, workers)
	if _, err := l.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestParallelScanMatchesSequential scans one folder loading files on one
// goroutine and on several: the articles (all but their random ids), the
// problems and what was learned must be the same.
func TestParallelScanMatchesSequential(t *testing.T) {
	dir := t.TempDir()
	writeScanCorpus(t, dir, 600)
	seq := scanWith(t, dir, 1)
	byPath := map[string]content.Article{}
	for _, a := range seq.Articles() {
		byPath[a.Path] = comparable(a)
	}
	if len(byPath) != 600 {
		t.Fatalf("sequential scan read %d articles, want 600", len(byPath))
	}
	learned := 0
	for _, a := range byPath {
		if strings.HasSuffix(a.Path, ".txt") && !strings.Contains(a.HTML, "Keep local news alive") {
			learned++
		}
	}
	if learned == 0 {
		t.Fatal("the shared closing paragraph was never removed: the corpus does not exercise learning")
	}
	for _, workers := range []int{2, 4} {
		par := scanWith(t, dir, workers)
		got := par.Articles()
		if len(got) != len(byPath) {
			t.Errorf("%d workers: %d articles, want %d", workers, len(got), len(byPath))
		}
		for _, a := range got {
			a = comparable(a)
			if want := byPath[a.Path]; !reflect.DeepEqual(a, want) {
				t.Errorf("%d workers: %s differs:\n got %+v\nwant %+v", workers, a.Path, a, want)
			}
		}
		if got, want := par.Problems(), seq.Problems(); !reflect.DeepEqual(got, want) {
			t.Errorf("%d workers: problems %v, want %v", workers, got, want)
		}
	}
}

// repeatCount is the count in a "repeated in N files" reason: the count as
// of the file's read, which depends on the order a scan meets the files in
// (a map's order, even on one goroutine).
var repeatCount = regexp.MustCompile(`repeated in \d+ files`)

// comparable returns a without what differs from one scan to another of
// the same files: its random id and the counts in its dropped lines' reasons.
func comparable(a content.Article) content.Article {
	a.ID = ""
	a.Dropped = slices.Clone(a.Dropped)
	for i := range a.Dropped {
		a.Dropped[i].Reason = repeatCount.ReplaceAllString(a.Dropped[i].Reason, "repeated in N files")
	}
	return a
}

// BenchmarkScan measures a first scan of a folder of n articles, loading
// files on one goroutine and on GOMAXPROCS.
func BenchmarkScan(b *testing.B) {
	for _, bench := range []struct{ n, workers int }{{1000, 1}, {1000, 0}, {5000, 1}, {5000, 0}} {
		n := bench.n
		b.Run(fmt.Sprintf("N=%d/workers=%d", n, bench.workers), func(b *testing.B) {
			dir := b.TempDir()
			writeScanCorpus(b, dir, n)
			for b.Loop() {
				b.StopTimer()
				st, err := store.Open(filepath.Join(b.TempDir(), "state.db"))
				if err != nil {
					b.Fatal(err)
				}
				l, err := content.OpenLibrary(dir, st, content.LibraryOptions{Logger: discardLogger()})
				if err != nil {
					b.Fatal(err)
				}
				content.SetScanWorkers(l, bench.workers)
				b.StartTimer()
				if _, err := l.Scan(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
		})
	}
}

func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
