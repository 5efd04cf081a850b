package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"testing"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
	"github.com/dropfeed/dropfeed/feed"
)

// These benchmarks run dropfeed's own path in one process, so that
// `go test -bench -cpuprofile` can show where the time goes:
//
//	go test -run '^$' -bench Change/N=10000 -cpuprofile cpu.out ./cmd/dropfeed-bench
//	go tool pprof -top -tagfocus phase=change cpu.out
//
// They make the calls cmd/dropfeed's publisher makes: Library.Scan then
// Handler.Update at start; Library.Apply then Handler.Update per change.

// benchSizes are the corpus sizes of the benchmarks; 100,000 is left to
// the bench command, which measures it in a real process.
var benchSizes = []int{1000, 10000}

// openPipeline opens a Library and Handler over a fresh corpus of n articles.
func openPipeline(b *testing.B, n int) (string, *content.Library, *feed.Handler) {
	b.Helper()
	dir := b.TempDir()
	if _, err := writeCorpus(dir, n, 1); err != nil {
		b.Fatal(err)
	}
	lib, h := newPipeline(b, dir)
	return dir, lib, h
}

func newPipeline(b *testing.B, dir string) (*content.Library, *feed.Handler) {
	b.Helper()
	lib, h, _ := openState(b, dir, filepath.Join(b.TempDir(), "state.db"))
	return lib, h
}

// openState opens a Library and Handler over dir with the state file at
// state, keeping the parse cache as dropfeed serve does. close closes the
// Library and the state, for a restart.
func openState(b *testing.B, dir, state string) (lib *content.Library, h *feed.Handler, close func()) {
	b.Helper()
	st, err := store.Open(state)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// As dropfeed serve opens it.
	lib, err = content.OpenLibrary(dir, st, content.LibraryOptions{Logger: quiet, KeepBodies: state + ".bodies", DeferMarkdown: true})
	if err != nil {
		st.Close()
		b.Fatal(err)
	}
	close = sync.OnceFunc(func() { lib.Close(); st.Close() })
	b.Cleanup(close)
	base, _ := url.Parse("http://127.0.0.1/")
	h = feed.NewHandler(feed.Site{Title: "bench", BaseURL: base}, feed.Options{Logger: quiet})
	b.Cleanup(func() { h.Close() })
	return lib, h, close
}

// BenchmarkStart measures the first scan and render of a whole folder.
func BenchmarkStart(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if _, err := writeCorpus(dir, n, 1); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				b.StopTimer()
				lib, h := newPipeline(b, dir)
				b.StartTimer()
				pprof.Do(context.Background(), pprof.Labels("phase", "start"), func(ctx context.Context) {
					if _, err := lib.Scan(ctx); err != nil {
						b.Fatal(err)
					}
					if err := h.Update(lib.Articles()); err != nil {
						b.Fatal(err)
					}
				})
			}
		})
	}
}

// BenchmarkRestart measures a start over a folder dropfeed has read
// before, with its state and parse cache.
func BenchmarkRestart(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			dir, state := b.TempDir(), filepath.Join(b.TempDir(), "state.db")
			if _, err := writeCorpus(dir, n, 1); err != nil {
				b.Fatal(err)
			}
			lib, h, close := openState(b, dir, state)
			if _, err := lib.Scan(context.Background()); err != nil {
				b.Fatal(err)
			}
			close()
			for b.Loop() {
				// Opening counts: it loads the identities and the cache.
				pprof.Do(context.Background(), pprof.Labels("phase", "start"), func(ctx context.Context) {
					lib, h, close = openState(b, dir, state)
					if _, err := lib.Scan(ctx); err != nil {
						b.Fatal(err)
					}
					if err := h.Update(lib.Articles()); err != nil {
						b.Fatal(err)
					}
				})
				b.StopTimer()
				close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkChange measures one added article with n already published:
// what dropfeed does after the watcher reports a dropped file.
func BenchmarkChange(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			dir, lib, h := openPipeline(b, n)
			ctx := context.Background()
			if _, err := lib.Scan(ctx); err != nil {
				b.Fatal(err)
			}
			if err := h.Update(lib.Articles()); err != nil {
				b.Fatal(err)
			}
			g := newGenerator(2)
			i := 0
			for b.Loop() {
				f, _ := dropArticle(g, i, "bench")
				i++
				if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
					b.Fatal(err)
				}
				// Labelled so that `pprof -tagfocus phase=change` leaves the set-up out.
				pprof.Do(ctx, pprof.Labels("phase", "change"), func(ctx context.Context) {
					changed, err := lib.Apply(ctx, []string{f.Name})
					if err != nil || !changed {
						b.Fatalf("apply %s: changed %v, %v", f.Name, changed, err)
					}
					if err := h.Update(lib.Articles()); err != nil {
						b.Fatal(err)
					}
				})
			}
		})
	}
}

// BenchmarkServe measures the handler alone answering /feed.atom, gzipped
// and conditionally (304), without the network: what is left of a request
// once net/http has parsed it.
func BenchmarkServe(b *testing.B) {
	_, lib, h := openPipeline(b, 1000)
	if _, err := lib.Scan(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := h.Update(lib.Articles()); err != nil {
		b.Fatal(err)
	}
	get := func(hdr http.Header) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/feed.atom", nil)
		r.Header = hdr.Clone()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	etag := get(http.Header{"Accept-Encoding": {"gzip"}}).Header().Get("ETag")
	for _, c := range []struct {
		name   string
		hdr    http.Header
		status int
	}{
		{"gzip", http.Header{"Accept-Encoding": {"gzip"}}, http.StatusOK},
		{"304", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {etag}}, http.StatusNotModified},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, "/feed.atom", nil)
				r.Header = c.hdr.Clone()
				w := discardWriter{h: http.Header{}}
				h.ServeHTTP(&w, r)
				if w.status != c.status {
					b.Fatalf("status %d, want %d", w.status, c.status)
				}
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps the status only.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}
