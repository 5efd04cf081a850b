package content

import (
	"sync"
	"testing"
)

// HoldEvents makes w's inotify collector read no event until release is
// called, so that a test can make the kernel's event queue overflow for
// real. Call it before Open.
func HoldEvents(w *Watcher) (release func()) {
	w.hold = make(chan struct{})
	return sync.OnceFunc(func() { close(w.hold) })
}

// SetScanWorkers sets how many goroutines l's scans load files with.
func SetScanWorkers(l *Library, n int) {
	l.workers = n
}

// Loaded returns a with its summary and body read into the Summary and
// HTML fields and its stored body forgotten, so that articles of different
// Libraries compare equal.
func Loaded(t testing.TB, a *Article) Article {
	t.Helper()
	html, err := a.LoadHTML()
	if err != nil {
		t.Fatal(err)
	}
	summary, err := a.LoadSummary()
	if err != nil {
		t.Fatal(err)
	}
	c := *a
	c.Summary, c.HTML, c.body = summary, html, bodyRef{}
	return c
}

// SetBodyWaste sets how many bytes of replaced bodies make l compact its
// body file.
func SetBodyWaste(l *Library, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bodyWaste = n
}

// BodyFileSize returns the size of l's current body file.
func BodyFileSize(l *Library) int64 {
	return fromBodyFile(l, func(b *bodyFile) int64 { return b.size })
}

// fromBodyFile returns what get reads from l's current body file, under
// the locks that guard it.
func fromBodyFile(l *Library, get func(*bodyFile) int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bodies.mu.Lock()
	defer l.bodies.mu.Unlock()
	return get(l.bodies)
}

// SetSaveChunk sets how many parse cache records l saves per transaction.
func SetSaveChunk(l *Library, n int) {
	l.kept.chunk = n
}

// SetScanFlush sets how many writes l's scans hold before saving them.
func SetScanFlush(l *Library, n int) {
	l.flushAt = n
}

// SetRestoreChunk sets how many parse cache records l decodes at once.
func SetRestoreChunk(l *Library, n int) {
	l.kept.restoreChunk = n
}

// BodyFileLive returns how many bytes of l's current body file l counts
// as referenced by its articles.
func BodyFileLive(l *Library) int64 {
	return fromBodyFile(l, func(b *bodyFile) int64 { return b.live })
}

// BodyDeferred reports whether a's body is Markdown source not rendered
// when it was stored (LibraryOptions.DeferMarkdown).
func BodyDeferred(a *Article) bool {
	return a.body.markdown
}

// ParseDeferred parses as a Library with DeferMarkdown does, then renders
// a deferred body as its first read does: what Parse gives, if they agree.
func ParseDeferred(name string, data []byte) (p Parsed, deferred bool, err error) {
	p, err = parseIn(name, data, nil, true)
	if err != nil || !p.deferred {
		return p, false, err
	}
	p.Summary, p.HTML, err = renderMarkdown(p.source, p.Summary)
	p.deferred, p.source = false, ""
	return p, true, err
}

// QuietScan is how many files a first scan must find to log its articles
// at level Debug.
const QuietScan = quietScan
