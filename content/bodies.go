package content

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// bodyFile keeps the body HTML of a Library's articles on disk, out of the
// heap, each with its summary in front of it. Only the newest articles'
// feeds and the pages readers open need a body, but every article has one:
// at 100,000 articles, half a gigabyte of HTML that the collector would
// otherwise scan and double; the summaries, 30 MB, were the largest part
// of an article left in memory.
//
// Bodies are appended and never rewritten in place, so an Article handed
// out earlier reads the body it was built with for as long as it lives. A
// replaced body is garbage until compact copies the live ones to a new file.
type bodyFile struct {
	f *os.File

	mu       sync.Mutex
	size     int64 // bytes written
	live     int64 // bytes of bodies still referenced by the Library
	unlinked bool  // removed from its folder at once: the space is freed when f closes
	kept     bool  // kept across restarts (parsecache.go): close leaves it
	// scratch is put's buffer, reused: a first start of 100,000 articles
	// otherwise allocated each body again to join it to its summary.
	scratch []byte
	// pending holds the bodies put since the last flush, lying from
	// pendingAt to size; unwritten, those a flush failed to write (a
	// full disk), kept for good. Both are read from memory. memoryFrom
	// is the lowest offset either holds (the largest offset when none),
	// for reads below it not to take the lock.
	pending    []byte
	pendingAt  int64
	unwritten  []heldBytes
	memoryFrom atomic.Int64
	// rendered holds, by offset, where the Markdown bodies read so far lie
	// rendered: each is rendered once, on its first read. (Only an empty
	// body shares its offset, with the next; it needs no rendering.)
	rendered map[int64]bodyRef
	// renderedBefore is what rendered held when the Library last closed,
	// for a restart's restored bodies to take up (adoptRendered).
	renderedBefore map[int64]bodyRef
}

// bodyRef is where an article's summary and body lie in a bodyFile: n
// bytes at off, the first sum of them the summary.
type bodyRef struct {
	file *bodyFile
	off  int64
	n    int64
	sum  int64
	// markdown: the bytes after the summary are the Markdown source of a
	// body not rendered yet, and the summary, if empty, comes from it too
	// (parseMarkdown with deferBody).
	markdown bool
}

// newBodyFile creates an unnamed body file in dir (the system's temporary
// folder when dir is empty).
func newBodyFile(dir string) (*bodyFile, error) {
	f, err := os.CreateTemp(dir, ".dropfeed-bodies-*")
	if err != nil {
		return nil, fmt.Errorf("create body file: %w", err)
	}
	// Where an open file can be removed, nothing is left behind even if
	// the process is killed; elsewhere close removes it.
	b := &bodyFile{f: f, unlinked: os.Remove(f.Name()) == nil}
	b.memoryFrom.Store(math.MaxInt64)
	return b, nil
}

// createKeptBodyFile creates a body file named prefix.<random>, to be kept
// across restarts with the parse cache that points into it.
func createKeptBodyFile(prefix string) (*bodyFile, error) {
	f, err := os.CreateTemp(filepath.Dir(prefix), filepath.Base(prefix)+".*")
	if err != nil {
		return nil, fmt.Errorf("create body file: %w", err)
	}
	b := &bodyFile{f: f, kept: true}
	b.memoryFrom.Store(math.MaxInt64)
	return b, nil
}

// openKeptBodyFile opens a kept body file to read its bodies and append
// new ones.
func openKeptBodyFile(name string) (*bodyFile, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open body file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open body file: %w", err)
	}
	b := &bodyFile{f: f, size: fi.Size(), kept: true}
	b.memoryFrom.Store(math.MaxInt64)
	return b, nil
}

// adopt returns a reference to a body already in the file (written before
// a restart), counted as live.
func (b *bodyFile) adopt(off, n, sum int64) (bodyRef, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if off < 0 || n < 0 || off+n > b.size || sum < 0 || sum > n {
		return bodyRef{}, false
	}
	b.live += n
	return bodyRef{file: b, off: off, n: n, sum: sum}, true
}

// sync makes the bodies written so far durable, before a parse cache
// record that points at them is.
func (b *bodyFile) sync() error {
	b.mu.Lock()
	lost := len(b.unwritten)
	b.mu.Unlock()
	if lost > 0 {
		return errors.New("sync body file: some bodies could not be written and are kept in memory")
	}
	if err := b.f.Sync(); err != nil {
		return fmt.Errorf("sync body file: %w", err)
	}
	return nil
}

// put appends summary and html, in one write, and returns where they lie.
// A write that fails (a full disk) leaves them in memory for good, read
// from there, and sync failing from then on; put itself never fails.
func (b *bodyFile) put(summary, html string) bodyRef {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.scratch = append(append(b.scratch[:0], summary...), html...)
	ref, err := b.putLocked(b.scratch, int64(len(summary)))
	if cap(b.scratch) > maxScratch {
		b.scratch = nil // one huge body does not keep its buffer
	}
	if err != nil {
		ref = b.hold(summary, html)
		b.unwritten = append(b.unwritten, heldBytes{b.pendingAt, b.pending})
		b.pending = nil
	}
	return ref
}

// maxScratch is the largest put buffer a bodyFile keeps.
const maxScratch = 256 << 10

// heldBytes are bytes of the file held in memory, from offset at.
type heldBytes struct {
	at   int64
	data []byte
}

// putBatched is put (of a Markdown body's source, with markdown) that
// only takes the bytes: flush writes them, with the others put since the
// last, in one write. A first start of 100,000 articles made 100,000
// writes, a second of CPU on the core that stores articles in order.
func (b *bodyFile) putBatched(summary, body string, markdown bool) bodyRef {
	b.mu.Lock()
	defer b.mu.Unlock()
	ref := b.hold(summary, body)
	ref.markdown = markdown
	return ref
}

// hold appends summary and body to pending; b.mu is held.
func (b *bodyFile) hold(summary, body string) bodyRef {
	if len(b.pending) == 0 {
		b.pendingAt = b.size
		b.memoryFrom.Store(min(b.memoryFrom.Load(), b.size))
	}
	b.pending = append(append(b.pending, summary...), body...)
	ref := bodyRef{file: b, off: b.size, n: int64(len(summary) + len(body)), sum: int64(len(summary))}
	b.size += ref.n
	b.live += ref.n
	return ref
}

// pendingSize is how many bytes put since the last flush wait for it.
func (b *bodyFile) pendingSize() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// flush writes the bytes put since the last flush. What it cannot write
// stays in memory, read as before, and sync fails from then on: no parse
// cache record is saved that might point at it.
func (b *bodyFile) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		return nil
	}
	if _, err := b.f.WriteAt(b.pending, b.pendingAt); err != nil {
		b.unwritten = append(b.unwritten, heldBytes{b.pendingAt, b.pending})
		b.pending = nil
		return fmt.Errorf("write bodies: %w", err)
	}
	b.pending = b.pending[:0]
	if cap(b.pending) > 4*maxPending {
		b.pending = nil // grown for a huge body: not kept
	}
	from := int64(math.MaxInt64)
	if len(b.unwritten) > 0 {
		from = b.unwritten[0].at
	}
	b.memoryFrom.Store(from)
	return nil
}

// maxPending is how many bytes of bodies a change holds before it writes
// them; the buffer that holds them is kept up to four times that.
const maxPending = 1 << 20

// putRaw appends what a bodyRef with sum bytes of summary points at.
func (b *bodyFile) putRaw(data []byte, sum int64) (bodyRef, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.putLocked(data, sum)
}

// putLocked is putRaw with b.mu held. While bodies put batched wait for
// a flush, these join them, for the file to stay in offset order.
func (b *bodyFile) putLocked(data []byte, sum int64) (bodyRef, error) {
	if len(b.pending) > 0 {
		ref := b.hold(string(data), "")
		ref.sum = sum
		return ref, nil
	}
	if _, err := b.f.WriteAt(data, b.size); err != nil {
		return bodyRef{}, fmt.Errorf("write body: %w", err)
	}
	ref := bodyRef{file: b, off: b.size, n: int64(len(data)), sum: sum}
	b.size += ref.n
	b.live += ref.n
	return ref, nil
}

// release records that the Library no longer references r's body.
func (r bodyRef) release() {
	if r.file == nil {
		return
	}
	r.file.mu.Lock()
	defer r.file.mu.Unlock()
	r.file.live -= r.n
	if done, ok := r.file.rendered[r.off]; r.markdown && r.n > 0 && ok {
		r.file.live -= done.n
		delete(r.file.rendered, r.off)
	}
}

// adoptRendered takes up the rendering r had before a restart, if any.
func (b *bodyFile) adoptRendered(r bodyRef) {
	b.mu.Lock()
	defer b.mu.Unlock()
	done, ok := b.renderedBefore[r.off]
	if !ok || r.n == 0 {
		return
	}
	if b.rendered == nil {
		b.rendered = map[int64]bodyRef{}
	}
	b.rendered[r.off] = done
	b.live += done.n
}

// renderedIndex encodes where the bodies rendered so far lie rendered.
func (b *bodyFile) renderedIndex() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := recordWriter{recordVersion}
	w.str(filepath.Base(b.f.Name()))
	w.uint(uint64(len(b.rendered)))
	for off, done := range b.rendered {
		w.int(off)
		w.int(done.off)
		w.int(done.n)
		w.int(done.sum)
	}
	return w
}

// loadRenderedIndex reads what renderedIndex saved when the Library last
// closed; an index it cannot read, or of another body file, is no index.
func (b *bodyFile) loadRenderedIndex(index []byte) {
	if len(index) == 0 || index[0] != recordVersion {
		return
	}
	r := recordReader{b: index[1:]}
	if r.str() != filepath.Base(b.f.Name()) {
		return // of a body file since replaced
	}
	n := r.count()
	before := make(map[int64]bodyRef, n)
	for range n {
		off, done := r.int(), bodyRef{file: b, off: r.int(), n: r.int(), sum: r.int()}
		if done.off < 0 || done.n <= 0 || done.sum < 0 || done.sum > done.n || done.off+done.n > b.size {
			return
		}
		before[off] = done
	}
	if r.bad || len(r.b) != 0 {
		return
	}
	b.mu.Lock()
	b.renderedBefore = before
	b.mu.Unlock()
}

// forgetRenderedBefore drops what the restored bodies did not take up.
func (b *bodyFile) forgetRenderedBefore() {
	b.mu.Lock()
	b.renderedBefore = nil
	b.mu.Unlock()
}

// render returns where Markdown body r lies rendered, rendering it and
// appending the result on its first read. Concurrent first reads may
// both render; one result is kept.
func (r bodyRef) render() (bodyRef, error) {
	b := r.file
	if r.n == 0 {
		// No summary and no source render to nothing. The offset is not
		// its own: the next body starts there.
		return bodyRef{file: b, off: r.off}, nil
	}
	b.mu.Lock()
	done, ok := b.rendered[r.off]
	b.mu.Unlock()
	if ok {
		return done, nil
	}
	raw, err := r.readRange(0, r.n)
	if err != nil {
		return bodyRef{}, err
	}
	summary, html, err := renderMarkdown(string(raw[r.sum:]), string(raw[:r.sum]))
	if err != nil {
		return bodyRef{}, err
	}
	done = b.put(summary, html)
	b.mu.Lock()
	defer b.mu.Unlock()
	if first, ok := b.rendered[r.off]; ok {
		b.live -= done.n // rendered meanwhile: this copy is garbage
		return first, nil
	}
	if b.rendered == nil {
		b.rendered = map[int64]bodyRef{}
	}
	b.rendered[r.off] = done
	return done, nil
}

// readRange returns bytes [from, to) of what r points at.
func (r bodyRef) readRange(from, to int64) ([]byte, error) {
	if to <= from {
		return nil, nil
	}
	buf := make([]byte, to-from)
	if b := r.file; r.off+to > b.memoryFrom.Load() {
		b.mu.Lock()
		held := append(b.unwritten[:len(b.unwritten):len(b.unwritten)], heldBytes{b.pendingAt, b.pending})
		for _, m := range held {
			if i := r.off - m.at; i >= 0 && i+to <= int64(len(m.data)) {
				copy(buf, m.data[i+from:i+to])
				b.mu.Unlock()
				return buf, nil
			}
		}
		b.mu.Unlock()
	}
	if _, err := r.file.f.ReadAt(buf, r.off+from); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return buf, nil
}

// defaultBodyWaste is how many bytes of replaced bodies a body file holds
// before it is compacted (if they are also most of it).
const defaultBodyWaste = 64 << 20

// wasteful reports whether most of the file is replaced bodies, and at
// least minWaste bytes of them: enough to be worth copying the rest.
func (b *bodyFile) wasteful(minWaste int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.size-b.live > minWaste && b.size > 2*b.live
}

// close closes the file and removes it where it was not removed at once
// and is not kept.
func (b *bodyFile) close() error {
	err := b.f.Close()
	if !b.unlinked && !b.kept {
		err = errors.Join(err, os.Remove(b.f.Name()))
	}
	return err
}

// LoadSummary returns the article's summary. The articles of a Library
// keep it on disk with the body, so this reads a file, and renders a
// Markdown body read for the first time unless its front matter gave the
// summary.
func (a *Article) LoadSummary() (string, error) {
	r := a.body
	if r.markdown && r.sum == 0 {
		var err error
		if r, err = r.render(); err != nil {
			return "", fmt.Errorf("article %s: %w", a.Path, err)
		}
	}
	return a.load(a.Summary, r, 0, r.sum)
}

// LoadHTML returns the article's sanitised body HTML. The articles of a
// Library keep their bodies on disk, so this reads a file, and renders a
// Markdown body read for the first time; the Article must not be compared
// by its HTML field alone (see SameBody).
func (a *Article) LoadHTML() (string, error) {
	r := a.body
	if r.markdown {
		var err error
		if r, err = r.render(); err != nil {
			return "", fmt.Errorf("article %s: %w", a.Path, err)
		}
	}
	return a.load(a.HTML, r, r.sum, r.n)
}

// load returns held, the field, or when the article's summary and body are
// on disk, bytes [from, to) of what r points at.
func (a *Article) load(held string, r bodyRef, from, to int64) (string, error) {
	if r.file == nil {
		return held, nil
	}
	b, err := r.readRange(from, to)
	if err != nil {
		return "", fmt.Errorf("article %s: %w", a.Path, err)
	}
	return string(b), nil
}

// SameBody reports whether a and b certainly have the same summary and
// body HTML without reading them: both carry equal ones, or point at the
// same stored ones. Bodies that are equal but stored twice count as
// different.
func (a *Article) SameBody(b *Article) bool {
	return a.HTML == b.HTML && a.Summary == b.Summary && a.body == b.body
}

// Unchanged reports, without comparing their fields, whether a and b are
// the same stored version of a Library's article: then every field is
// equal but ID and Warnings, which Articles sets when two files claim one
// id. Each version a Library stores has its body stored anew, so the body
// tells versions apart. False says nothing: compare the fields.
func (a *Article) Unchanged(b *Article) bool {
	// An empty body takes no bytes: the next body, and the next version's
	// empty one, start at its offset.
	return a.body.file != nil && a.body.n > 0 && a.body == b.body
}
