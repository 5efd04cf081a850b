package content_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
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

// scanWith scans dir with a Library whose scans load on workers
// goroutines, and returns it with the store it keeps its state in.
func scanWith(t *testing.T, dir string, workers int) (*content.Library, *store.Store) {
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
	return l, st
}

// TestParallelScanMatchesSequential scans one folder loading files on one
// goroutine and on several: the articles (all but their random ids), the
// problems and the boilerplate learned must be the same.
func TestParallelScanMatchesSequential(t *testing.T) {
	dir := t.TempDir()
	writeScanCorpus(t, dir, 600)
	seq, seqStore := scanWith(t, dir, 1)
	byPath := map[string]content.Article{}
	for _, a := range seq.Articles() {
		byPath[a.Path] = comparable(t, a)
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
	problems := seq.Problems()
	if _, ok := problems["site/broken.txt"]; !ok || len(problems) != 2 {
		t.Fatalf("sequential scan problems %v, want site/broken.txt and notes/empty.md", problems)
	}
	fingerprints, err := seqStore.LoadFingerprints()
	if err != nil {
		t.Fatal(err)
	}
	checkBodiesLive(t, seq, "1 worker")
	for _, workers := range []int{2, 4} {
		par, parStore := scanWith(t, dir, workers)
		checkBodiesLive(t, par, fmt.Sprintf("%d workers", workers))
		got := par.Articles()
		if len(got) != len(byPath) {
			t.Errorf("%d workers: %d articles, want %d", workers, len(got), len(byPath))
		}
		for _, stored := range got {
			a := comparable(t, stored)
			if want := byPath[a.Path]; !reflect.DeepEqual(a, want) {
				t.Errorf("%d workers: %s differs:\n got %+v\nwant %+v", workers, a.Path, a, want)
			}
		}
		if got := par.Problems(); !reflect.DeepEqual(got, problems) {
			t.Errorf("%d workers: problems %v, want %v", workers, got, problems)
		}
		got2, err := parStore.LoadFingerprints()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got2, fingerprints) {
			t.Errorf("%d workers: learned fingerprints of %d files, want %d files, differing", workers, len(got2), len(fingerprints))
		}
	}
}

// checkBodiesLive checks that l counts as live in its body file the bytes
// of its articles' summaries and bodies, no more: a body written for a
// parse that was then redone must be counted as garbage, or the file is
// never compacted.
func checkBodiesLive(t *testing.T, l *content.Library, what string) {
	t.Helper()
	var want int64
	for _, a := range l.Articles() {
		c := content.Loaded(t, a)
		want += int64(len(c.Summary) + len(c.HTML))
	}
	if got := content.BodyFileLive(l); got != want {
		t.Errorf("%s: %d bytes of the body file counted live, want %d", what, got, want)
	}
}

// repeatCount is the count in a "repeated in N files" reason: the count as
// of the file's read, which depends on the order a scan meets the files in
// (a map's order, even on one goroutine).
var repeatCount = regexp.MustCompile(`repeated in \d+ files`)

// comparable returns a without what differs from one scan to another of
// the same files: its random id and the counts in its dropped lines' reasons.
func comparable(t *testing.T, stored *content.Article) content.Article {
	a := content.Loaded(t, stored)
	a.ID = ""
	a.Dropped = slices.Clone(a.Dropped)
	for i := range a.Dropped {
		a.Dropped[i].Reason = repeatCount.ReplaceAllString(a.Dropped[i].Reason, "repeated in N files")
	}
	return a
}

// writeBenchCorpus writes n generated articles of 2 to 8 KB, alternately
// Markdown with front matter and news-style plain text, 500 to a folder.
func writeBenchCorpus(b *testing.B, dir string, n int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	words := strings.Fields("the council city river bridge budget vote plan school hospital market prices " +
		"housing rent energy water storm flood summer winter residents workers union talks agreement " +
		"station tram line museum library park festival season team players coach fans street traffic")
	word := func() string {
		w := words[rng.IntN(len(words))]
		return strings.ToUpper(w[:1]) + w[1:]
	}
	sentence := func() string {
		ws := make([]string, 6+rng.IntN(14))
		for i := range ws {
			ws[i] = words[rng.IntN(len(words))]
		}
		return strings.ToUpper(ws[0][:1]) + strings.Join(ws, " ")[1:] + "."
	}
	for i := range n {
		var body strings.Builder
		for size := 2<<10 + rng.IntN(6<<10); body.Len() < size; {
			for range 2 + rng.IntN(4) {
				body.WriteString(sentence() + " ")
			}
			body.WriteString("\n\n")
		}
		folder := filepath.Join(dir, fmt.Sprintf("f%03d", i/500))
		var name, text string
		if i%2 == 0 {
			name = fmt.Sprintf("post-%05d.md", i)
			text = fmt.Sprintf("---\ntitle: Post %d about the %s\ndate: 2025-05-%02dT08:00:00Z\ntags: [news, %s]\n---\n\n%s",
				i, words[i%len(words)], i%28+1, words[(i/2)%len(words)], body.String())
		} else {
			name = fmt.Sprintf("2025-05-%02d-story-%05d.txt", i%28+1, i)
			// Headlines differ, as on a real site; byline and appeal are shared.
			text = fmt.Sprintf("Council Debates %s, %s and %s\n\nBy Staff Reporter\n\n%s"+
				"Support independent local news: become a member of the Courier today.\n",
				word(), word(), word(), body.String())
		}
		if err := os.MkdirAll(folder, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(folder, name), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScan measures a first scan of a folder of n articles, loading
// files on one goroutine (workers=1, the sequential baseline) and on
// GOMAXPROCS (workers=0).
// openQuiet opens a Library over dir with a state of its own and no logging.
func openQuiet(b *testing.B, dir string) (*content.Library, *store.Store) {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	l, err := content.OpenLibrary(dir, st, content.LibraryOptions{Logger: discardLogger()})
	if err != nil {
		st.Close()
		b.Fatal(err)
	}
	return l, st
}

func BenchmarkScan(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		dir := b.TempDir()
		writeBenchCorpus(b, dir, n)
		for _, workers := range []int{1, 0} {
			b.Run(fmt.Sprintf("N=%d/workers=%d", n, workers), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					l, st := openQuiet(b, dir)
					content.SetScanWorkers(l, workers)
					b.StartTimer()
					if _, err := l.Scan(context.Background()); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					if got := len(l.Articles()); got != n {
						b.Fatalf("%d articles, want %d", got, n)
					}
					st.Close()
					b.StartTimer()
				}
			})
		}
	}
}

// TestFirstScanLogs checks what a first scan logs of the articles it
// adds: a line each at level Info for a small folder; for a large one a
// line each at level Debug and their count at Info. A later scan logs
// each article it adds at Info, whatever the folder's size.
func TestFirstScanLogs(t *testing.T) {
	// writeScanCorpus writes two bad files besides its articles: the
	// threshold counts files.
	const most = content.QuietScan - 3 // articles a folder can hold and be small
	for _, tc := range []struct {
		files                int
		level                slog.Level
		wantAdded, wantCount int // "article added" lines; the count line's count, 0 for none
	}{
		{3, slog.LevelInfo, 3, 0},
		{most, slog.LevelInfo, most, 0},
		{most + 1, slog.LevelInfo, 0, most + 1},
		{most + 1, slog.LevelDebug, most + 1, most + 1},
	} {
		t.Run(fmt.Sprintf("%d files at %v", tc.files, tc.level), func(t *testing.T) {
			dir := t.TempDir()
			writeScanCorpus(t, dir, tc.files)
			st, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: tc.level}))
			l, err := content.OpenLibrary(dir, st, content.LibraryOptions{Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if _, err := l.Scan(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := len(l.Articles()); got != tc.files {
				t.Fatalf("%d articles, want %d", got, tc.files)
			}
			if got := strings.Count(logs.String(), `msg="article added"`); got != tc.wantAdded {
				t.Errorf("%d article added lines, want %d:\n%s", got, tc.wantAdded, logs.String())
			}
			count := regexp.MustCompile(`msg="articles added by a first scan[^"]*" count=(\d+)`).FindStringSubmatch(logs.String())
			switch {
			case tc.wantCount == 0 && count != nil:
				t.Errorf("a count line for a small folder: %s", count[0])
			case tc.wantCount > 0 && (count == nil || count[1] != strconv.Itoa(tc.wantCount)):
				t.Errorf("count line %q, want count=%d:\n%s", count, tc.wantCount, logs.String())
			}

			logs.Reset()
			if err := os.WriteFile(filepath.Join(dir, "late.md"), []byte("# Late\n\nA late arrival.\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Scan(t.Context()); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), `level=INFO msg="article added" file=late.md`) || strings.Contains(logs.String(), "first scan") {
				t.Errorf("a later scan logged:\n%s", logs.String())
			}
		})
	}
}

func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// A folder moved in whole is read as a scan reads: on every core, saved as
// it goes, each file once though the watcher names one of them besides
// the folder, and to the same articles as a scan of the result.
func TestApplyFolderMovedIn(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)}
	st, err := store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	counter := &savesCounter{Store: st}
	var logs strings.Builder
	l, err := content.OpenLibrary(dir, counter, content.LibraryOptions{Now: c.now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	defer st.Close()
	content.SetScanFlush(l, 100)
	if _, err := l.Scan(t.Context()); err != nil {
		t.Fatal(err)
	}

	moveIn := func(name string, n int, paths ...string) {
		t.Helper()
		staged := filepath.Join(t.TempDir(), name)
		writeScanCorpus(t, staged, n)
		if err := os.Rename(staged, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		if changed, err := l.Apply(t.Context(), paths); err != nil || !changed {
			t.Fatalf("Apply(%q) = %v, %v", paths, changed, err)
		}
	}
	counter.saves = nil
	moveIn("import", 600, "import")
	if carried := slices.DeleteFunc(slices.Clone(counter.saves), func(n int) bool { return n == 0 }); len(carried) < 2 {
		t.Errorf("identities saved in writes of %v, want more than one", counter.saves)
	}
	// Fewer files than a scan loads at once, one of them named twice.
	moveIn("extra", 20, "extra", "extra/notes/00/note-0007.md")
	if strings.Contains(logs.String(), "article updated") {
		t.Error("a file named twice in one change was read twice")
	}
	got := map[string]content.Article{}
	for _, a := range l.Articles() {
		got[a.Path] = content.Loaded(t, a)
	}
	sameParse(t, "moved in", got, parseFresh(t, dir, c))
}

// BenchmarkApplyFolder measures a change that brings a folder of n
// articles in at once (a copied archive, a sync), as the watcher reports it.
func BenchmarkApplyFolder(b *testing.B) {
	const n = 2000
	corpus := b.TempDir()
	writeScanCorpus(b, corpus, n)
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		if err := os.CopyFS(filepath.Join(dir, "import"), os.DirFS(corpus)); err != nil {
			b.Fatal(err)
		}
		l, st := openQuiet(b, dir)
		b.StartTimer()
		if _, err := l.Apply(context.Background(), []string{"import"}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := len(l.Articles()); got < n*3/5 {
			b.Fatalf("%d articles, want %d", got, n)
		}
		st.Close()
		b.StartTimer()
	}
}

// cancelOn is a log handler that cancels a scan when it logs file.
type cancelOn struct {
	slog.Handler
	file   string
	cancel context.CancelFunc
}

func (h cancelOn) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOn) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "file" && a.Value.String() == h.file {
			h.cancel()
		}
		return true
	})
	return h.Handler.Handle(ctx, r)
}

// TestScanCancelled cancels a first scan while it stores its files (on
// the problem it meets in its second chunk, the loader ahead of it): the
// scan must return the context's error with none of its goroutines left,
// and the next scan must read every file.
func TestScanCancelled(t *testing.T) {
	dir := t.TempDir()
	writeScanCorpus(t, dir, 1200) // notes/empty.md is the 481st path of 1,202
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(cancelOn{slog.DiscardHandler, "notes/empty.md", cancel})
	l, err := content.OpenLibrary(dir, st, content.LibraryOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	content.SetScanWorkers(l, 2)
	if _, err := l.Scan(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan: error %v, want context.Canceled", err)
	}
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "upsertAll") {
		t.Fatalf("a scan goroutine runs after the scan returned:\n%s", stacks)
	}
	if n := len(l.Articles()); n == 0 || n >= 1200 {
		t.Fatalf("cancelled scan stored %d articles, want some of 1,200", n)
	}
	if _, err := l.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(l.Articles()); n != 1200 {
		t.Fatalf("next scan: %d articles, want 1,200", n)
	}
}
