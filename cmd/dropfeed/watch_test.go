package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them:
// serve must stop its watcher, poller and server when asked.
func TestMain(m *testing.M) {
	code := m.Run()
	// The test client's own keep-alive connections are not serve's to close.
	http.DefaultClient.CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(
			// fasthttp keeps the Date header's value fresh in one goroutine per process.
			goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
			// Its worker pool's cleaner sleeps up to 10 s before it sees the server stopped, then ends.
			goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// watchModes are the two ways serve learns of changes; every behaviour
// below must hold in both.
var watchModes = []struct {
	name  string
	flags []string
}{
	{"inotify", nil},
	{"poll", []string{"--poll", "100ms"}},
}

// jsonItem is what these tests read of a JSON Feed item.
type jsonItem struct {
	ID      string `json:"id"`
	URL     string `json:"url"`
	Title   string `json:"title"`
	Content string `json:"content_html"`
}

// fetchItems gets /feed.json's items.
func fetchItems(base string) ([]jsonItem, error) {
	resp, err := http.Get(base + "/feed.json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET /feed.json: %s", resp.Status)
	}
	var doc struct {
		Items []jsonItem `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, err
	}
	return doc.Items, nil
}

func (s *server) items(t *testing.T) []jsonItem {
	t.Helper()
	items, err := fetchItems(s.base)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func (s *server) item(t *testing.T, title string) (jsonItem, bool) {
	t.Helper()
	for _, it := range s.items(t) {
		if it.Title == title {
			return it, true
		}
	}
	return jsonItem{}, false
}

// observe fetches /feed.json over and over while the test changes files,
// and returns a function that stops and returns every distinct list of
// items a reader could have seen meanwhile.
func (s *server) observe(t *testing.T) (stop func() [][]jsonItem) {
	t.Helper()
	var (
		mu     sync.Mutex
		states [][]jsonItem
		last   string
		failed error
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			items, err := fetchItems(s.base)
			mu.Lock()
			if err != nil {
				failed = err
			} else if key := fmt.Sprint(items); key != last {
				states, last = append(states, items), key
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	})
	return func() [][]jsonItem {
		close(done)
		wg.Wait()
		if failed != nil {
			t.Errorf("a reader's fetch failed: %v", failed)
		}
		return states
	}
}

func TestWatchSlowWriter(t *testing.T) {
	for _, m := range watchModes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startServe(t, dir, filepath.Join(t.TempDir(), "state.db"), m.flags...)
			stop := s.observe(t)
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
			eventually(t, "the complete article", func() bool {
				it, ok := s.item(t, "Slow")
				return ok && strings.Contains(it.Content, "Part 3")
			})
			for _, items := range stop() {
				for _, it := range items {
					if it.Title == "Slow" && !strings.Contains(it.Content, "Part 3") {
						t.Errorf("a reader saw the article half-written: %q", it.Content)
					}
				}
			}
		})
	}
}

// exactlyOne checks that every state a reader saw had one item, titled
// title, with the same id throughout.
func exactlyOne(t *testing.T, states [][]jsonItem, title string) {
	t.Helper()
	var id string
	for _, items := range states {
		if len(items) != 1 || items[0].Title != title {
			t.Errorf("a reader saw %d items, want just %q: %+v", len(items), title, items)
			continue
		}
		if id == "" {
			id = items[0].ID
		}
		if items[0].ID != id {
			t.Errorf("the id changed: %q -> %q", id, items[0].ID)
		}
	}
}

func TestWatchAtomicSaves(t *testing.T) {
	for _, m := range watchModes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			post := filepath.Join(dir, "post.md")
			version := func(n int) string { return fmt.Sprintf("---\ntitle: Saved\n---\n\nVersion %d of the text.\n", n) }
			writeFile(t, post, version(1))
			s := startServe(t, dir, filepath.Join(t.TempDir(), "state.db"), m.flags...)
			stop := s.observe(t)
			rename := func(from, to string) {
				t.Helper()
				if err := os.Rename(from, to); err != nil {
					t.Fatal(err)
				}
			}
			showsVersion := func(n int) func() bool {
				return func() bool {
					it, ok := s.item(t, "Saved")
					return ok && strings.Contains(it.Content, fmt.Sprintf("Version %d", n))
				}
			}

			// rsync, VS Code: write a temp file, rename it over the article.
			writeFile(t, filepath.Join(dir, ".post.md.Xy7Qz2"), version(2))
			rename(filepath.Join(dir, ".post.md.Xy7Qz2"), post)
			eventually(t, "version 2 (temp file renamed over)", showsVersion(2))

			// A temp name that is not hidden, but is no article either.
			writeFile(t, post+".tmp.4711", version(3))
			rename(post+".tmp.4711", post)
			eventually(t, "version 3 (visible temp file renamed over)", showsVersion(3))

			// vim's default: rename to a backup, write anew, delete the backup.
			rename(post, post+"~")
			writeFile(t, post, version(4))
			if err := os.Remove(post + "~"); err != nil {
				t.Fatal(err)
			}
			eventually(t, "version 4 (backup, then write)", showsVersion(4))

			exactlyOne(t, stop(), "Saved")
		})
	}
}

func TestWatchRenames(t *testing.T) {
	for _, m := range watchModes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "a.md"), "---\ntitle: Moving\n---\n\nIt moves.\n")
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			s := startServe(t, dir, filepath.Join(t.TempDir(), "state.db"), m.flags...)
			before, ok := s.item(t, "Moving")
			if !ok {
				t.Fatal("a.md not published")
			}
			stop := s.observe(t)
			for _, step := range []struct{ from, to, slug string }{
				{"a.md", "b.md", "/articles/b"},
				{"b.md", "sub/c.md", "/articles/sub/c"},
			} {
				if err := os.Rename(filepath.Join(dir, step.from), filepath.Join(dir, step.to)); err != nil {
					t.Fatal(err)
				}
				eventually(t, "the item under "+step.slug, func() bool {
					it, ok := s.item(t, "Moving")
					return ok && strings.HasSuffix(it.URL, step.slug)
				})
			}
			after, _ := s.item(t, "Moving")
			if after.ID != before.ID {
				t.Errorf("renaming changed the id: %q -> %q", before.ID, after.ID)
			}
			exactlyOne(t, stop(), "Moving")
		})
	}
}

// olderPage finds an HTML page's link to the next older archive page.
var olderPage = regexp.MustCompile(`href="[^"]*(/archive/\d+\.html)" rel="prev"`)

// indexCount counts the articles the HTML index and the archive pages it
// leads to list: every one, where the feeds stop at --limit. It is -1 when
// a page went while the walk ran, as pages do while files come and go.
func (s *server) indexCount(t *testing.T) int {
	t.Helper()
	n, page := 0, "/"
	for range 1000 {
		resp, err := http.Get(s.base + page)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusNotFound {
			return -1
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", page, resp.Status)
		}
		n += bytes.Count(body, []byte("<h2><a href="))
		m := olderPage.FindSubmatch(body)
		if m == nil {
			return n
		}
		page = string(m[1])
	}
	t.Fatal("more than 1000 index pages")
	return 0
}

// TestWatchBurst drops files as fast as a loop can write them, then deletes
// them. The 10,000-file burst that overflows the kernel's queue is
// content's TestWatcherOverflowRescans; here a smaller one goes all the way
// to the feed, in both modes, without making the suite slow.
func TestWatchBurst(t *testing.T) {
	const n = 1000
	for _, m := range watchModes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startServe(t, dir, filepath.Join(t.TempDir(), "state.db"), m.flags...)
			text := []byte("---\ntitle: Burst\n---\n\nOne of many.\n")
			for i := range n {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("burst-%05d.md", i)), text, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			within(t, time.Minute, fmt.Sprint(n, " articles listed"), func() bool { return s.indexCount(t) == n })
			for i := range n {
				if err := os.Remove(filepath.Join(dir, fmt.Sprintf("burst-%05d.md", i))); err != nil {
					t.Fatal(err)
				}
			}
			within(t, time.Minute, "every article gone", func() bool { return s.indexCount(t) == 0 })
		})
	}
}

// within is eventually with a deadline of its own, for work that takes
// long on a busy machine (thousands of files under the race detector).
func within(t *testing.T, patience time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestWatchFolders(t *testing.T) {
	for _, m := range watchModes {
		t.Run(m.name, func(t *testing.T) {
			parent, outside := t.TempDir(), t.TempDir()
			dir := filepath.Join(parent, "content")
			writeFile(t, filepath.Join(dir, "top.md"), "---\ntitle: Top\n---\n\nx\n")
			s := startServe(t, dir, filepath.Join(t.TempDir(), "state.db"), m.flags...)
			present := func(titles ...string) func() bool {
				return func() bool {
					for _, title := range titles {
						if _, ok := s.item(t, title); !ok {
							return false
						}
					}
					return true
				}
			}
			absent := func(titles ...string) func() bool {
				return func() bool {
					for _, title := range titles {
						if _, ok := s.item(t, title); ok {
							return false
						}
					}
					return true
				}
			}

			// Made after start, with files already inside when it appears.
			writeFile(t, filepath.Join(outside, "made", "one.md"), "---\ntitle: One\n---\n\nx\n")
			writeFile(t, filepath.Join(outside, "made", "deep", "two.md"), "---\ntitle: Two\n---\n\nx\n")
			if err := os.Rename(filepath.Join(outside, "made"), filepath.Join(dir, "made")); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the moved-in folder's articles", present("One", "Two"))
			writeFile(t, filepath.Join(dir, "made", "deep", "three.md"), "---\ntitle: Three\n---\n\nx\n")
			eventually(t, "a file added to it later", present("Three"))

			// Moved out, then removed.
			if err := os.Rename(filepath.Join(dir, "made"), filepath.Join(outside, "gone")); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the moved-out folder's articles dropped", absent("One", "Two", "Three"))
			writeFile(t, filepath.Join(dir, "doomed", "four.md"), "---\ntitle: Four\n---\n\nx\n")
			eventually(t, "a new folder's article", present("Four"))
			if err := os.RemoveAll(filepath.Join(dir, "doomed")); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the removed folder's article dropped", absent("Four"))

			// The content folder itself removed and made again.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			eventually(t, "everything withdrawn", func() bool { return len(s.items(t)) == 0 })
			eventually(t, "a log line saying the folder is missing", func() bool {
				return strings.Contains(s.stderr.String(), "content folder is missing")
			})
			writeFile(t, filepath.Join(dir, "top.md"), "---\ntitle: Top\n---\n\nx\n")
			eventually(t, "the recreated folder's article", present("Top"))
			writeFile(t, filepath.Join(dir, "again", "five.md"), "---\ntitle: Five\n---\n\nx\n")
			eventually(t, "a new folder in the recreated folder", present("Five"))
		})
	}
}

func TestWatchSymlinks(t *testing.T) {
	for _, m := range watchModes {
		t.Run(m.name, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			writeFile(t, filepath.Join(dir, "real.md"), "---\ntitle: Real\n---\n\nx\n")
			writeFile(t, filepath.Join(outside, "far.md"), "---\ntitle: Far\n---\n\nx\n")
			if err := os.Symlink(outside, filepath.Join(dir, "linked")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(dir, filepath.Join(dir, "loop")); err != nil {
				t.Fatal(err)
			}
			plain := startServe(t, dir, filepath.Join(t.TempDir(), "state.db"), m.flags...)
			if _, ok := plain.item(t, "Far"); ok {
				t.Error("a symlinked folder was followed without --follow-symlinks")
			}
			plain.stop()

			s := startServe(t, dir, filepath.Join(t.TempDir(), "state.db"), append(m.flags, "--follow-symlinks")...)
			if _, ok := s.item(t, "Far"); !ok {
				t.Fatal("a symlinked folder was not followed with --follow-symlinks")
			}
			writeFile(t, filepath.Join(outside, "later.md"), "---\ntitle: Later\n---\n\nx\n")
			eventually(t, "a file added in the symlinked folder", func() bool { _, ok := s.item(t, "Later"); return ok })
			if n := len(s.items(t)); n != 3 {
				t.Errorf("%d items, want 3: the loop must add nothing", n)
			}
		})
	}
}

// With events missing altogether (a poll that never comes round), the
// periodic rescan alone repairs the feed.
func TestWatchRescanRepairs(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir, filepath.Join(t.TempDir(), "state.db"), "--poll", "1h", "--rescan", "200ms")
	writeFile(t, filepath.Join(dir, "missed.md"), "---\ntitle: Missed\n---\n\nx\n")
	eventually(t, "the rescan to find the file", func() bool { _, ok := s.item(t, "Missed"); return ok })
}

func TestWatchPollFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	s := startServeWith(t, dir, filepath.Join(t.TempDir(), "state.db"), map[string]string{"DROPFEED_POLL": "100ms"})
	if !strings.Contains(s.stderr.String(), "polling the folder for changes") || !strings.Contains(s.stderr.String(), "every=100ms") {
		t.Errorf("DROPFEED_POLL=100ms did not make serve poll:\n%s", s.stderr.String())
	}
	writeFile(t, filepath.Join(dir, "polled.md"), "---\ntitle: Polled\n---\n\nx\n")
	eventually(t, "the polled file", func() bool { _, ok := s.item(t, "Polled"); return ok })
}

func TestWatchFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"negative poll", []string{"--poll", "-1s"}, nil, "--poll"},
		{"poll too often", []string{"--poll", "1ms"}, nil, "--poll"},
		{"poll not a duration", nil, map[string]string{"DROPFEED_POLL": "often"}, "DROPFEED_POLL"},
		{"negative rescan", []string{"--rescan", "-5m"}, nil, "--rescan"},
		{"follow not a bool", nil, map[string]string{"DROPFEED_FOLLOW_SYMLINKS": "perhaps"}, "DROPFEED_FOLLOW_SYMLINKS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--dir", t.TempDir(), "--addr", "127.0.0.1:0"}, tt.args...)
			err := serve(context.Background(), args, func(k string) string { return tt.env[k] }, io.Discard, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

// SIGTERM and SIGINT, as main wires them, stop serve gracefully: it
// returns no error, says so, and stops listening; TestMain checks that no
// goroutine is left behind.
func TestServeStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "post.md"), "---\ntitle: Post\n---\n\nx\n")
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			stderr := &syncBuffer{}
			addrc := make(chan string, 1)
			done := make(chan error, 1)
			args := []string{"--dir", dir, "--state", filepath.Join(t.TempDir(), "state.db"), "--addr", "127.0.0.1:0"}
			go func() {
				done <- serve(ctx, args, func(string) string { return "" }, stderr, func(a string) { addrc <- a }, nil)
			}()
			addr := <-addrc
			eventually(t, "ready", func() bool { return strings.Contains(stderr.String(), "msg=ready") })
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve after %v: %v", sig, err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("serve did not stop on %v", sig)
			}
			if !strings.Contains(stderr.String(), "shutting down") {
				t.Errorf("no shutdown logged:\n%s", stderr.String())
			}
			if conn, err := net.Dial("tcp", addr); err == nil {
				conn.Close()
				t.Errorf("still listening on %s after %v", addr, sig)
			}
		})
	}
}
