package feed

import (
	"fmt"
	"io/fs"
	"time"
)

// File is one served document, for writing a static copy of the site.
// Its byte slices are shared with the Handler and must not be modified.
type File struct {
	Body        []byte    // the bytes served to clients that do not accept gzip
	Gzip        []byte    // the bytes served with Content-Encoding: gzip
	ContentType string    // the Content-Type header
	ModTime     time.Time // the Last-Modified time
}

// Files returns every document the Handler serves, by the slash-separated
// path a static host should serve it from: feed.atom, feed.rss, feed.json,
// feed.xsl, archive/N.*, tags/<tag>.*, index.html for "/", and
// articles/<slug>.html for /articles/<slug> (the "pretty URL" that GitHub
// Pages, Netlify and Cloudflare Pages serve, and nginx with
// try_files $uri.html). The bytes are exactly those served. Before the first
// successful Update it holds the style sheet only. Paths that would not be
// safe to write (fs.ValidPath) are left out. Documents rendered on first
// request are rendered now; an error names the first that cannot be.
func (h *Handler) Files() (map[string]File, error) {
	style, err := h.stylesheet.file()
	if err != nil {
		return nil, err
	}
	files := map[string]File{StylesheetName: style}
	v := h.current.Load()
	if v == nil {
		return files, nil
	}
	add := func(path string, res *resource) error {
		if !fs.ValidPath(path) {
			h.log.Warn("not exported: unsafe path", "path", path)
			return nil
		}
		f, err := res.file()
		if err != nil {
			return fmt.Errorf("export %s: %w", path, err)
		}
		files[path] = f
		return nil
	}
	for path, res := range v.all() {
		if path == "" {
			path = "index.html"
		}
		if err := add(path, res); err != nil {
			return nil, err
		}
	}
	for slug, res := range h.allPages(v) {
		if err := add("articles/"+slug+".html", res); err != nil {
			return nil, err
		}
	}
	return files, nil
}

func (r *resource) file() (File, error) {
	p, err := r.payload()
	if err != nil {
		return File{}, err
	}
	return File{Body: p.body, Gzip: p.gz(), ContentType: r.contentType, ModTime: r.modTime}, nil
}
