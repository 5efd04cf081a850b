package content_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dropfeed/dropfeed/content"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// Watcher, poller and fsnotify reader must stop when asked.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// modes are the two ways a Watcher learns of changes; behaviour must not
// depend on which.
var modes = []struct {
	name string
	poll time.Duration
}{
	{"inotify", 0},
	{"poll", 50 * time.Millisecond},
}

// patience is how long a test waits for the watcher: it waits for it, it
// does not time it.
const patience = 20 * time.Second

// syncBuffer is a bytes.Buffer safe for a logger and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// watched records the batches a running Watcher reports.
type watched struct {
	mu      sync.Mutex
	seen    map[string]bool
	batches []content.Batch
	changed chan struct{}
}

// watch runs w on dir with short debounce times until the test ends.
func watch(t *testing.T, dir string, w *content.Watcher) *watched {
	t.Helper()
	w.Dir = dir
	if w.Quiet == 0 {
		w.Quiet, w.MaxWait = 30*time.Millisecond, 300*time.Millisecond
	}
	if err := w.Open(); err != nil {
		t.Fatal(err)
	}
	rec := &watched{seen: map[string]bool{}, changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, func(_ context.Context, b content.Batch) {
			rec.mu.Lock()
			for _, p := range b.Paths {
				rec.seen[p] = true
			}
			rec.batches = append(rec.batches, b)
			rec.mu.Unlock()
			select {
			case rec.changed <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return rec
}

// wait waits until the batches seen since the last wait name every wanted path.
func (r *watched) wait(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(patience)
	for {
		r.mu.Lock()
		missing := slices.DeleteFunc(slices.Clone(want), func(p string) bool { return r.seen[p] })
		if len(missing) == 0 {
			clear(r.seen)
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no batch named %v", missing)
		}
	}
}

func (r *watched) named(p string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[p]
}

func (r *watched) rescans() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.batches {
		if b.Rescan {
			n++
		}
	}
	return n
}

func TestWatcherReportsChanges(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "existing.md", md("Existing", "x"))
			r := watch(t, dir, &content.Watcher{Poll: m.poll})

			write(t, dir, "new.md", md("New", "x"))
			r.wait(t, "new.md")

			// An editor's atomic save: write a temp file, rename it over the target.
			write(t, dir, ".existing.md.tmp", md("Existing", "edited"))
			if err := os.Rename(filepath.Join(dir, ".existing.md.tmp"), filepath.Join(dir, "existing.md")); err != nil {
				t.Fatal(err)
			}
			r.wait(t, "existing.md")

			// A folder made after start, with a file written into it at once.
			write(t, dir, "later/deep/post.md", md("Deep", "x"))
			r.wait(t, "later/deep/post.md")
			write(t, dir, "later/deep/second.md", md("Second", "x"))
			r.wait(t, "later/deep/second.md")

			if err := os.Remove(filepath.Join(dir, "new.md")); err != nil {
				t.Fatal(err)
			}
			r.wait(t, "new.md")
		})
	}
}

// live runs a Watcher feeding a Library, wired as `dropfeed serve` wires
// them, and records every version of every article it published.
type live struct {
	lib
	log *syncBuffer

	mu       sync.Mutex
	versions map[string][]string // path -> distinct HTML bodies published, in order
	rescans  int
}

func startLive(t *testing.T, dir string, w *content.Watcher) *live {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	st := openStore(t)
	l, err := content.OpenLibrary(dir, st, content.LibraryOptions{Logger: logger, FollowSymlinks: w.FollowSymlinks})
	if err != nil {
		t.Fatal(err)
	}
	lv := &live{lib: lib{l, st, t}, log: logs, versions: map[string][]string{}}
	w.Dir, w.Logger = dir, logger
	if w.Quiet == 0 {
		w.Quiet, w.MaxWait = 30*time.Millisecond, 300*time.Millisecond
	}
	if err := w.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := l.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	w.Recheck(l.Unsettled()...)
	lv.record()
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, func(ctx context.Context, b content.Batch) {
			if _, err := l.ApplyBatch(ctx, b); err != nil && ctx.Err() == nil {
				t.Errorf("apply %v: %v", b.Paths, err)
			}
			w.Recheck(l.Unsettled()...)
			lv.mu.Lock()
			if b.Rescan {
				lv.rescans++
			}
			lv.mu.Unlock()
			lv.record()
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		st.Close()
	})
	return lv
}

func (lv *live) record() {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	for _, a := range lv.byPath() {
		v := lv.versions[a.Path]
		if len(v) == 0 || v[len(v)-1] != a.HTML {
			lv.versions[a.Path] = append(v, a.HTML)
		}
	}
}

// until waits for cond to hold of the library's articles, by path.
func (lv *live) until(t *testing.T, what string, cond func(map[string]content.Article) bool) {
	t.Helper()
	lv.within(t, patience, what, cond)
}

// within is until with a deadline of its own, for work that takes long
// on a busy machine (thousands of files under the race detector).
func (lv *live) within(t *testing.T, patience time.Duration, what string, cond func(map[string]content.Article) bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond(lv.byPath()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; have %d articles\n%s", what, len(lv.Articles()), tail(lv.log.String()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail is the end of a long log, enough to see what happened last.
func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

func has(paths ...string) func(map[string]content.Article) bool {
	return func(got map[string]content.Article) bool {
		for _, p := range paths {
			if _, ok := got[p]; !ok {
				return false
			}
		}
		return true
	}
}

func lacks(paths ...string) func(map[string]content.Article) bool {
	return func(got map[string]content.Article) bool {
		for _, p := range paths {
			if _, ok := got[p]; ok {
				return false
			}
		}
		return true
	}
}

// A file written in chunks, with pauses far longer than the Watcher's quiet
// time, is published once, complete, after its writer closes it.
func TestWatcherSlowWriter(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			lv := startLive(t, dir, &content.Watcher{Poll: m.poll})
			f, err := os.Create(filepath.Join(dir, "slow.md"))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprint(f, "---\ntitle: Slow\n---\n\n")
			for i := range 4 {
				time.Sleep(500 * time.Millisecond)
				fmt.Fprintf(f, "Part %d of the story.\n\n", i)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			lv.until(t, "the complete article", func(got map[string]content.Article) bool {
				return strings.Contains(got["slow.md"].HTML, "Part 3")
			})
			// The batch callback records versions after the library has them: wait for that too.
			for deadline := time.Now().Add(patience); ; time.Sleep(10 * time.Millisecond) {
				lv.mu.Lock()
				v := lv.versions["slow.md"]
				recorded := len(v) > 0 && strings.Contains(v[len(v)-1], "Part 3")
				lv.mu.Unlock()
				if recorded || time.Now().After(deadline) {
					break
				}
			}
			lv.mu.Lock()
			defer lv.mu.Unlock()
			if v := lv.versions["slow.md"]; len(v) != 1 {
				t.Errorf("published %d versions, want only the complete one:\n%s", len(v), strings.Join(v, "\n---\n"))
			}
		})
	}
}

// More events than the kernel's queue holds: inotify overflows, and the
// Watcher rescans rather than losing files.
func TestWatcherOverflowRescans(t *testing.T) {
	const n = 10000
	dir := t.TempDir()
	w := &content.Watcher{}
	release := content.HoldEvents(w)
	defer release()
	lv := startLive(t, dir, w)
	// While nothing reads the events, 3 per file (create, write, chmod) are
	// more than the kernel queue (16384 here) and fsnotify's buffers hold.
	paths := make([]string, n)
	for i := range n {
		paths[i] = fmt.Sprintf("burst-%05d.md", i)
		p := filepath.Join(dir, paths[i])
		if err := os.WriteFile(p, []byte(md(fmt.Sprint("Burst ", i), "x")), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	release()
	lv.within(t, time.Minute, fmt.Sprint(n, " articles"), func(got map[string]content.Article) bool { return len(got) == n })
	if !strings.Contains(lv.log.String(), "events were lost") {
		t.Errorf("no overflow was logged:\n%s", lv.log.String())
	}
	lv.mu.Lock()
	rescans := lv.rescans
	lv.mu.Unlock()
	if rescans == 0 {
		t.Error("the overflow did not trigger a rescan")
	}

	for _, p := range paths {
		if err := os.Remove(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	lv.within(t, time.Minute, "every article removed", func(got map[string]content.Article) bool { return len(got) == 0 })
}

func TestWatcherFolders(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			write(t, dir, "top.md", md("Top", "x"))
			lv := startLive(t, dir, &content.Watcher{Poll: m.poll})
			move := func(from, to string) {
				t.Helper()
				if err := os.Rename(from, to); err != nil {
					t.Fatal(err)
				}
			}

			// A folder moved in, with files already inside.
			write(t, outside, "sub/a.md", md("A", "Alpha."))
			write(t, outside, "sub/deeper/b.md", md("B", "Beta."))
			move(filepath.Join(outside, "sub"), filepath.Join(dir, "sub"))
			lv.until(t, "moved-in folder", has("sub/a.md", "sub/deeper/b.md"))
			ids := lv.byPath()

			// Renamed inside the folder: same articles, new paths; what is
			// written in it afterwards is reported under its new name.
			move(filepath.Join(dir, "sub"), filepath.Join(dir, "renamed"))
			lv.until(t, "renamed folder", has("renamed/a.md", "renamed/deeper/b.md"))
			lv.until(t, "old folder gone", lacks("sub/a.md", "sub/deeper/b.md"))
			if got := lv.byPath()["renamed/deeper/b.md"].ID; got != ids["sub/deeper/b.md"].ID {
				t.Errorf("moving a folder changed an article's id: %q -> %q", ids["sub/deeper/b.md"].ID, got)
			}
			write(t, dir, "renamed/deeper/c.md", md("C", "Gamma."))
			lv.until(t, "file in the renamed folder", has("renamed/deeper/c.md"))

			// Moved out: its articles are dropped.
			move(filepath.Join(dir, "renamed"), filepath.Join(outside, "away"))
			lv.until(t, "moved-out folder dropped", lacks("renamed/a.md", "renamed/deeper/b.md", "renamed/deeper/c.md"))

			// Made after start, then removed.
			write(t, dir, "made/x.md", md("X", "x"))
			lv.until(t, "new folder", has("made/x.md"))
			if err := os.RemoveAll(filepath.Join(dir, "made")); err != nil {
				t.Fatal(err)
			}
			lv.until(t, "removed folder dropped", lacks("made/x.md"))

			// The content folder itself removed, then made again.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			lv.until(t, "articles withdrawn", func(got map[string]content.Article) bool { return len(got) == 0 })
			if !strings.Contains(lv.log.String(), "content folder is missing") {
				t.Errorf("no log line says the folder is missing:\n%s", lv.log.String())
			}
			write(t, dir, "again.md", md("Again", "x"))
			lv.until(t, "recreated folder", has("again.md"))
			write(t, dir, "later/more.md", md("More", "x"))
			lv.until(t, "new folder in the recreated folder", has("later/more.md"))
		})
	}
}

// A periodic rescan repairs what events missed: here no events come at all
// (a poll that never comes round), and the rescan alone finds the file.
func TestWatcherRescanRepairs(t *testing.T) {
	dir := t.TempDir()
	lv := startLive(t, dir, &content.Watcher{Poll: time.Hour, Rescan: 100 * time.Millisecond})
	write(t, dir, "missed.md", md("Missed", "x"))
	lv.until(t, "the rescan to find the file", has("missed.md"))
	if err := os.Remove(filepath.Join(dir, "missed.md")); err != nil {
		t.Fatal(err)
	}
	lv.until(t, "the rescan to drop the file", lacks("missed.md"))
}

// With FollowSymlinks, a symlinked folder is watched: files made in it later
// are reported under the link's path.
func TestWatcherFollowsSymlinkedFolders(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir, elsewhere := t.TempDir(), t.TempDir()
			if err := os.Symlink(elsewhere, filepath.Join(dir, "linked")); err != nil {
				t.Fatal(err)
			}
			lv := startLive(t, dir, &content.Watcher{Poll: m.poll, FollowSymlinks: true})
			write(t, elsewhere, "far.md", md("Far", "x"))
			lv.until(t, "file in the symlinked folder", has("linked/far.md"))
		})
	}
}
