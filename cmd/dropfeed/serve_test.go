package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// server is one `dropfeed serve` run on 127.0.0.1 for a test.
type server struct {
	base   string
	stop   func()
	stderr *syncBuffer
}

// startServe runs serve on dir with the given extra flags and waits until
// /healthz answers 200.
func startServe(t *testing.T, dir, state string, extra ...string) *server {
	t.Helper()
	return startServeWith(t, dir, state, nil, extra...)
}

// startServeWith is startServe with DROPFEED_* environment variables.
func startServeWith(t *testing.T, dir, state string, env map[string]string, extra ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	stderr := &syncBuffer{}
	args := append([]string{"--dir", dir, "--state", state, "--addr", "127.0.0.1:0",
		"--base-url", "http://feeds.example.org/blog/", "--title", "Test Feed"}, extra...)
	go func() {
		done <- serve(ctx, args, func(k string) string { return env[k] }, stderr, func(a string) { addrc <- a }, nil)
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		cancel()
		t.Fatalf("serve exited: %v\n%s", err, stderr)
	}
	s := &server{base: "http://" + addr, stderr: stderr}
	var stopped bool
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(s.stop)
	eventually(t, "healthz 200", func() bool {
		resp, err := http.Get(s.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return s
}

func (s *server) get(t *testing.T, path string) []byte {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", path, resp.Status, body)
	}
	return body
}

// feed fetches and parses all three feeds and checks they list the same
// items. A change can land between two of the fetches, so it fetches again
// until they agree, within a deadline.
func (s *server) feed(t *testing.T) *gofeed.Feed {
	t.Helper()
	var disagreement string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var parsed []*gofeed.Feed
		for _, p := range []string{"/feed.atom", "/feed.rss", "/feed.json"} {
			f, err := gofeed.NewParser().Parse(bytes.NewReader(s.get(t, p)))
			if err != nil {
				t.Fatalf("%s does not parse: %v", p, err)
			}
			parsed = append(parsed, f)
		}
		if disagreement = disagree(parsed); disagreement == "" {
			return parsed[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the three feeds disagree: %s", disagreement)
	return nil
}

// disagree says how the feeds' items differ, or "" when they agree.
func disagree(fs []*gofeed.Feed) string {
	first := fs[0]
	for _, f := range fs[1:] {
		if len(f.Items) != len(first.Items) {
			return fmt.Sprintf("%s has %d items, Atom %d", f.FeedType, len(f.Items), len(first.Items))
		}
		for i := range f.Items {
			a, b := f.Items[i], first.Items[i]
			if a.GUID != b.GUID || a.Title != b.Title || a.Link != b.Link {
				return fmt.Sprintf("%s item %d = %q %q, Atom %q %q", f.FeedType, i, a.GUID, a.Title, b.GUID, b.Title)
			}
		}
	}
	return ""
}

func itemsByTitle(f *gofeed.Feed) map[string]*gofeed.Item {
	out := map[string]*gofeed.Item{}
	for _, it := range f.Items {
		out[it.Title] = it
	}
	return out
}

// eventually polls cond until it holds, failing after a generous deadline:
// it waits for the watcher, it does not time it.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(to, e.Name()), string(data))
	}
}

func TestServeEndToEnd(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	copyDir(t, "../../testdata/sample", dir)
	s := startServe(t, dir, state)

	f := s.feed(t)
	if f.Title != "Test Feed" {
		t.Errorf("feed title %q", f.Title)
	}
	sample, _ := os.ReadDir("../../testdata/sample")
	if len(f.Items) != len(sample) {
		t.Fatalf("%d items for %d sample files", len(f.Items), len(sample))
	}
	ids := map[string]string{}
	for _, it := range f.Items {
		if it.GUID == "" || it.Title == "" || it.Link == "" {
			t.Errorf("item lacks id, title or link: %+v", it)
		}
		if !strings.HasPrefix(it.Link, "http://feeds.example.org/blog/articles/") {
			t.Errorf("item link %q not under the base URL", it.Link)
		}
		ids[it.Title] = it.GUID
		// Every item's link is served, as the article's own page.
		page := s.get(t, strings.TrimPrefix(it.Link, "http://feeds.example.org/blog"))
		if !bytes.Contains(page, []byte("<h1")) {
			t.Errorf("article page for %q has no heading", it.Title)
		}
	}

	// Drop a new Markdown file: the next poll shows it.
	writeFile(t, filepath.Join(dir, "my-post.md"), "---\ntitle: Dropped In\ntags: [news, go]\n---\nFresh *news*.\n")
	eventually(t, "new item", func() bool { return itemsByTitle(s.feed(t))["Dropped In"] != nil })
	added := itemsByTitle(s.feed(t))["Dropped In"]
	if len(added.Categories) != 2 {
		t.Errorf("categories %v", added.Categories)
	}

	// Edit it: same id, new content, one item.
	writeFile(t, filepath.Join(dir, "my-post.md"), "---\ntitle: Dropped In, Edited\n---\nFresher news.\n")
	eventually(t, "edited item", func() bool { return itemsByTitle(s.feed(t))["Dropped In, Edited"] != nil })
	edited := itemsByTitle(s.feed(t))["Dropped In, Edited"]
	if edited.GUID != added.GUID {
		t.Errorf("edit changed the id: %q -> %q", added.GUID, edited.GUID)
	}
	if got := len(s.feed(t).Items); got != len(sample)+1 {
		t.Errorf("%d items after edit, want %d", got, len(sample)+1)
	}

	// An editor's atomic save: write a temp file, rename it over the article.
	tmp := filepath.Join(dir, ".my-post.md.swp")
	writeFile(t, tmp, "---\ntitle: Saved Atomically\n---\nBody.\n")
	if err := os.Rename(tmp, filepath.Join(dir, "my-post.md")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "atomic save", func() bool { return itemsByTitle(s.feed(t))["Saved Atomically"] != nil })
	if got := itemsByTitle(s.feed(t))["Saved Atomically"].GUID; got != added.GUID {
		t.Errorf("atomic save changed the id: %q -> %q", added.GUID, got)
	}

	// A plain-text article in a new subfolder.
	writeFile(t, filepath.Join(dir, "notes", "story.txt"), "A Headline About Rivers\n\nThe river rose by two metres overnight, officials said.\n")
	eventually(t, "subfolder item", func() bool { return itemsByTitle(s.feed(t))["A Headline About Rivers"] != nil })

	// A file dropfeed cannot read is skipped and logged; the feed is intact.
	writeFile(t, filepath.Join(dir, "broken.md"), "\x00\x01binary junk\x00")
	eventually(t, "log line for broken.md", func() bool {
		return strings.Contains(s.stderr.String(), "broken.md") && strings.Contains(s.stderr.String(), "binary")
	})
	if got := len(s.feed(t).Items); got != len(sample)+2 {
		t.Errorf("%d items after a broken file, want %d", got, len(sample)+2)
	}

	// Delete: gone from every feed.
	if err := os.Remove(filepath.Join(dir, "my-post.md")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted item gone", func() bool { return itemsByTitle(s.feed(t))["Saved Atomically"] == nil })

	// Restart: every id and date is identical.
	before := s.feed(t)
	s.stop()
	s = startServe(t, dir, state)
	after := s.feed(t)
	if len(after.Items) != len(before.Items) {
		t.Fatalf("restart changed the item count: %d -> %d", len(before.Items), len(after.Items))
	}
	for i, it := range after.Items {
		b := before.Items[i]
		if it.GUID != b.GUID || it.Title != b.Title || !it.PublishedParsed.Equal(*b.PublishedParsed) ||
			!it.UpdatedParsed.Equal(*b.UpdatedParsed) {
			t.Errorf("item %d changed across restart: %q %v %v -> %q %v %v", i,
				b.GUID, b.PublishedParsed, b.UpdatedParsed, it.GUID, it.PublishedParsed, it.UpdatedParsed)
		}
	}
}

func TestServeSeedShapedArticle(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state.db")
	copyDir(t, "../../testdata/sample", dir)
	s := startServe(t, dir, state)
	var found bool
	for _, it := range s.feed(t).Items {
		for _, junk := range []string{"Support", "favor to ask", "Read more", "donat"} {
			if strings.Contains(it.Title, junk) || strings.Contains(it.Description, junk) {
				t.Errorf("item %q carries boilerplate %q: %q", it.Title, junk, it.Description)
			}
		}
		if strings.HasSuffix(it.Link, ".txt") {
			t.Errorf("link keeps the extension: %s", it.Link)
		}
		found = found || strings.Contains(it.Link, "/articles/")
	}
	if !found {
		t.Error("no article links")
	}
}

func TestServeFlagsAndEnv(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"bad base url", []string{"--base-url", "feeds.example.org"}, nil, "--base-url"},
		{"bad limit from env", nil, map[string]string{"DROPFEED_LIMIT": "0"}, "--limit"},
		{"env not a number", nil, map[string]string{"DROPFEED_LIMIT": "many"}, "DROPFEED_LIMIT"},
		{"missing dir", []string{"--dir", "/nonexistent/dropfeed"}, nil, "--dir"},
		{"bad size", []string{"--max-file-size", "huge"}, nil, "max-file-size"},
		{"flag wins over env", []string{"--limit", "0"}, map[string]string{"DROPFEED_LIMIT": "5"}, "--limit: 0"},
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

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "2025-03-04-post.md"), "---\ntitle: Checked\ntags: [a, b]\n---\nThe summary paragraph.\n")
	writeFile(t, filepath.Join(dir, "bad.md"), "\x00\x00\x00")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check", filepath.Join(dir, "2025-03-04-post.md"), filepath.Join(dir, "bad.md")},
		func(string) string { return "" }, &out, &errOut, nil)
	if code != 1 {
		t.Errorf("exit %d with a bad file, want 1", code)
	}
	for _, want := range []string{"title:    Checked", "2025-03-04T00:00:00Z (from the file name)", "tags:     a, b",
		"summary:  The summary paragraph.", "bad.md", "binary"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	code = run(context.Background(), []string{"check", "--json", filepath.Join(dir, "2025-03-04-post.md")},
		func(string) string { return "" }, &out, &errOut, nil)
	if code != 0 || !strings.Contains(out.String(), `"title": "Checked"`) {
		t.Errorf("check --json: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test to share.
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
