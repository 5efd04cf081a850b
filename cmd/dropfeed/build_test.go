package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// siteFlags are the flags a build and a serve of the same site share.
func siteFlags(state string) []string {
	return []string{"--state", state, "--base-url", testBase, "--title", "Test Feed", "--limit", "2"}
}

// buildSite writes a folder with enough articles for archive pages, tags,
// a draft and an article due in the far future.
func buildSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyDir(t, "../../testdata/sample", dir)
	for i := range 5 {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("2024-01-%02d-post.md", i+1)),
			fmt.Sprintf("---\ntitle: Post %d\ntags: [go, \"Post %d\"]\n---\n\nBody %d.\n", i, i%2, i))
	}
	writeFile(t, filepath.Join(dir, "draft.md"), "---\ntitle: Draft\ndraft: true\n---\n\nNot yet.\n")
	writeFile(t, filepath.Join(dir, "later.md"), "---\ntitle: Later\ndate: 2999-01-01\n---\n\nOne day.\n")
	return dir
}

// runBuild runs `dropfeed build` to completion.
func runBuild(t *testing.T, args ...string) {
	t.Helper()
	var stderr bytes.Buffer
	if code := run(t.Context(), append([]string{"build"}, args...), func(string) string { return "" }, io.Discard, &stderr, nil); code != 0 {
		t.Fatalf("build exited %d:\n%s", code, stderr.String())
	}
}

// outputFiles returns the documents in a build's output, by slash path,
// without the .gz files.
func outputFiles(t *testing.T, out string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		rel = filepath.ToSlash(rel)
		if !strings.HasSuffix(rel, ".gz") {
			paths = append(paths, rel)
		} else if _, err := os.Stat(strings.TrimSuffix(p, ".gz")); err != nil {
			t.Errorf("%s has no uncompressed twin", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	return paths
}

// servedPath is the URL path serve serves an output file at.
func servedPath(file string) string {
	switch {
	case file == "index.html":
		return "/"
	case strings.HasPrefix(file, "articles/"):
		return "/" + strings.TrimSuffix(file, ".html")
	}
	return "/" + file
}

// mediaTypes are the types the README's nginx configuration gives each
// extension; serve must agree.
var mediaTypes = map[string]string{
	".atom": "application/atom+xml",
	".rss":  "application/rss+xml",
	".json": "application/feed+json",
	".xsl":  "text/xsl",
	".html": "text/html",
}

// fetch GETs path with the given Accept-Encoding, undecoded.
func fetch(t *testing.T, client *http.Client, url, encoding string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept-Encoding", encoding)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return resp, body
}

func TestBuildMatchesServe(t *testing.T) {
	dir := buildSite(t)
	state := filepath.Join(t.TempDir(), "state.db")
	out := filepath.Join(t.TempDir(), "public")
	runBuild(t, append(siteFlags(state), "--dir", dir, "--out", out)...)

	files := outputFiles(t, out)
	for _, want := range []string{"index.html", "feed.atom", "feed.rss", "feed.json", "feed.xsl",
		"archive/1.atom", "archive/2.json", "tags/go.rss", "tags/post-1.atom", "articles/2024-01-03-post.html"} {
		if !slices.Contains(files, want) {
			t.Errorf("output lacks %s; it holds %q", want, files)
		}
	}
	for _, f := range files {
		if strings.Contains(f, "draft") || strings.Contains(f, "later") {
			t.Errorf("output holds %s, an unpublished article", f)
		}
	}

	// The same folder, state and flags: serve must send exactly these bytes.
	s := startServe(t, dir, state, siteFlags(state)[2:]...)
	// Our own transport, so Go sends Accept-Encoding as we set it and decodes nothing.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	for _, f := range files {
		url := s.base + servedPath(f)
		body, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		gz, err := os.ReadFile(filepath.Join(out, f+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		resp, served := fetch(t, client, url, "identity")
		if !bytes.Equal(served, body) {
			t.Errorf("%s differs from GET %s", f, servedPath(f))
		}
		media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if want := mediaTypes[filepath.Ext(f)]; media != want {
			t.Errorf("GET %s: Content-Type %q; the nginx types give %q", servedPath(f), media, want)
		}
		if f != "feed.xsl" {
			// The style sheet is dated when the handler starts; the rest by their articles.
			fi, err := os.Stat(filepath.Join(out, f))
			if err != nil {
				t.Fatal(err)
			}
			if lm := resp.Header.Get("Last-Modified"); lm != fi.ModTime().UTC().Format(http.TimeFormat) {
				t.Errorf("%s dated %s, served with Last-Modified %s", f, fi.ModTime().UTC(), lm)
			}
		}
		resp, servedGz := fetch(t, client, url, "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(servedGz, gz) {
			t.Errorf("%s.gz differs from GET %s with gzip (Content-Encoding %q)", f, servedPath(f), resp.Header.Get("Content-Encoding"))
		}
	}
	assertNoLeftovers(t, out)
}

// assertNoLeftovers fails if a build left temporary folders beside out.
func assertNoLeftovers(t *testing.T, out string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(out) {
			t.Errorf("left beside the output: %s", e.Name())
		}
	}
}

// A build pings the hubs for the feeds whose bytes differ from the output
// it replaces, and only those.
func TestBuildNotifiesHub(t *testing.T) {
	hub := newTestHub(t, 0, false)
	dir := buildSite(t)
	state := filepath.Join(t.TempDir(), "state.db")
	out := filepath.Join(t.TempDir(), "public")
	args := append(siteFlags(state), "--dir", dir, "--out", out, "--hub", hub.URL)

	runBuild(t, args...)
	first := hub.since(0)
	if !containsAll(first, testBase+"feed.atom", testBase+"archive/1.rss", testBase+"tags/go.json") {
		t.Errorf("first build pinged %q", first)
	}
	mark := hub.count()
	runBuild(t, args...)
	if got := hub.since(mark); len(got) != 0 {
		t.Errorf("a build with nothing changed pinged %q", got)
	}
	writeFile(t, filepath.Join(dir, "2025-12-01-new.md"), "---\ntitle: New\ntags: [fresh]\n---\n\nNew.\n")
	runBuild(t, args...)
	got := hub.since(mark)
	if !containsAll(got, testBase+"feed.atom", testBase+"feed.json", testBase+"tags/fresh.rss") {
		t.Errorf("a build after a new article pinged %q", got)
	}
	if slices.Contains(got, testBase+"tags/post-0.atom") {
		t.Errorf("a build pinged the unchanged tag feed post-0: %q", got)
	}

	// With --ping=false the hubs are announced but not notified.
	writeFile(t, filepath.Join(dir, "2025-12-02-newer.md"), "---\ntitle: Newer\n---\n\nNewer.\n")
	mark = hub.count()
	runBuild(t, append(args, "--ping=false")...)
	if got := hub.since(mark); len(got) != 0 {
		t.Errorf("--ping=false pinged %q", got)
	}
	if atom, _ := os.ReadFile(filepath.Join(out, "feed.atom")); !bytes.Contains(atom, []byte(hub.URL)) {
		t.Errorf("feed.atom does not announce the hub")
	}
}

func TestBuildWatch(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "first.md"), "---\ntitle: First\n---\n\nx\n")
	due := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second)
	writeFile(t, filepath.Join(dir, "soon.md"), "---\ntitle: Due Soon\ndate: "+due.Format(time.RFC3339)+"\n---\n\nOn time.\n")
	out := filepath.Join(t.TempDir(), "public")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	stderr := &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"build", "--watch", "--dir", dir, "--out", out, "--base-url", testBase,
			"--state", filepath.Join(t.TempDir(), "state.db")}, func(string) string { return "" }, io.Discard, stderr, nil)
	}()
	feedHas := func(title string) bool {
		body, err := os.ReadFile(filepath.Join(out, "feed.json"))
		if err != nil || !jsonFeedHas(body, title) {
			return false
		}
		// The .gz beside it is the same document.
		gz, err := os.ReadFile(filepath.Join(out, "feed.json.gz"))
		if err != nil {
			return false
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return false
		}
		unzipped, err := io.ReadAll(zr)
		return err == nil && bytes.Equal(unzipped, body)
	}
	eventually(t, "the first build", func() bool { return feedHas("First") })
	if feedHas("Due Soon") && time.Now().Before(due) {
		t.Error("the future-dated article was published before its time")
	}

	writeFile(t, filepath.Join(dir, "dropped.md"), "---\ntitle: Dropped In\n---\n\ny\n")
	eventually(t, "the dropped file in the output", func() bool { return feedHas("Dropped In") })
	for _, page := range []string{"dropped.html", "first.html", "first.html.gz"} {
		if _, err := os.Stat(filepath.Join(out, "articles", page)); err != nil {
			t.Errorf("after the drop: %v", err)
		}
	}
	// No file changes for this one: the handler's timer publishes it, and the output follows.
	eventually(t, "the future-dated article once due", func() bool { return feedHas("Due Soon") })

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("build --watch exited %d:\n%s", code, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("build --watch did not stop")
	}
	assertNoLeftovers(t, out)
}

func TestBuildRefusesOut(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "content")
	writeFile(t, filepath.Join(dir, "post.md"), "---\ntitle: Post\n---\n\nx\n")
	foreign := filepath.Join(parent, "documents")
	writeFile(t, filepath.Join(foreign, "letter.txt"), "Dear")
	public := filepath.Join(parent, "public")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no out", nil, "--out: an output folder is required"},
		{"out inside dir", []string{"--out", filepath.Join(dir, "public")}, "inside --dir"},
		{"out holds dir", []string{"--out", parent}, "holds --dir"},
		{"out holds state", []string{"--out", public, "--state", filepath.Join(public, "state.db")}, "holds --state"},
		{"out holds something else", []string{"--out", foreign}, "refusing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := build(t.Context(), append([]string{"--dir", dir}, tt.args...), func(string) string { return "" }, io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(foreign, "letter.txt")); err != nil {
		t.Errorf("the foreign folder was touched: %v", err)
	}
}

// replaceByRenames is the fallback where folders cannot be exchanged in
// one step; it runs on Linux only when the filesystem refuses the exchange.
func TestReplaceByRenames(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(fmt.Sprintf("out exists %v", existing), func(t *testing.T) {
			parent := t.TempDir()
			out, tmp := filepath.Join(parent, "public"), filepath.Join(parent, ".public.new-1")
			if existing {
				writeFile(t, filepath.Join(out, "old.txt"), "old")
			}
			writeFile(t, filepath.Join(tmp, "new.txt"), "new")
			if err := replaceByRenames(tmp, out); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != "new.txt" {
				t.Errorf("out holds %v, want new.txt only", entries)
			}
			assertNoLeftovers(t, out)
		})
	}
}

// jsonFeedHas reports whether the JSON Feed doc has an item titled title.
func jsonFeedHas(doc []byte, title string) bool {
	type item struct {
		Title string `json:"title"`
	}
	var feed struct {
		Items []item `json:"items"`
	}
	if json.Unmarshal(doc, &feed) != nil {
		return false
	}
	return slices.ContainsFunc(feed.Items, func(it item) bool { return it.Title == title })
}

// serve renders a Markdown body when a feed or page first shows it (its
// body file holds the source, not the HTML), and serves what a build,
// which renders every body while reading, writes from the same state:
// on its first start, and on a restart that takes the unrendered bodies
// from the parse cache.
func TestServeDefersMarkdown(t *testing.T) {
	dir := buildSite(t)
	writeFile(t, filepath.Join(dir, "marked.md"), "---\ntitle: Marked\ntags: [go]\n---\n\nSome **strong words** and a [link](https://example.org/x).\n")
	stateDir := t.TempDir()
	state := filepath.Join(stateDir, "state.db")
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()

	s := startServe(t, dir, state, siteFlags(state)[2:]...)
	first := map[string][]byte{}
	for _, f := range []string{"feed.atom", "feed.rss", "feed.json", "tags/go.atom", "articles/marked.html"} {
		_, first[f] = fetch(t, client, s.base+servedPath(f), "identity")
	}
	s.stop()
	bodies, err := filepath.Glob(state + ".bodies.*")
	if err != nil || len(bodies) != 1 {
		t.Fatalf("body files %q (%v), want one", bodies, err)
	}
	if data, err := os.ReadFile(bodies[0]); err != nil || !bytes.Contains(data, []byte("Some **strong words**")) {
		t.Errorf("the body file holds no Markdown source: serve rendered the bodies as it read them (%v)", err)
	}

	// A copy of the state, ids and all, for a build that renders every body.
	copied := filepath.Join(t.TempDir(), "state.db")
	copyDir(t, stateDir, filepath.Dir(copied))
	out := filepath.Join(t.TempDir(), "public")
	runBuild(t, append(siteFlags(copied), "--dir", dir, "--out", out)...)
	built := func(f string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for f, served := range first {
		if !bytes.Equal(served, built(f)) {
			t.Errorf("first start: %s differs from the build's", f)
		}
	}
	if !bytes.Contains(built("articles/marked.html"), []byte("<strong>strong words</strong>")) {
		t.Error("the built page of marked.md has no rendered body")
	}

	s = startServe(t, dir, state, siteFlags(state)[2:]...)
	for _, f := range outputFiles(t, out) {
		if _, served := fetch(t, client, s.base+servedPath(f), "identity"); !bytes.Equal(served, built(f)) {
			t.Errorf("restart: %s differs from the build's", f)
		}
	}
	if !strings.Contains(s.stderr.String(), "taken from the parse cache") {
		t.Errorf("the restart took nothing from the parse cache:\n%s", s.stderr)
	}
}
