package content_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/dropfeed/dropfeed/content"
)

// fuzzExtensions are the article formats a fuzz input is parsed as.
var fuzzExtensions = []string{".md", ".txt", ".html"}

// FuzzParse parses any bytes as each kind of article. Parse may reject them
// only as binary, empty or (Markdown) with bad front matter; what it returns
// must be clean for XML and free of anything that runs code.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"../testdata/conformance", "testdata/markdown", "testdata/html"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.*"))
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data, uint8(slices.Index(fuzzExtensions, strings.ToLower(filepath.Ext(name)))))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		ext := fuzzExtensions[int(kind)%len(fuzzExtensions)]
		p, err := content.Parse("fuzz-input"+ext, data)
		// A server defers Markdown bodies: rendered when first read, they
		// must be what Parse gives.
		d, _, derr := content.ParseDeferred("fuzz-input"+ext, data)
		if (err == nil) != (derr == nil) || err == nil && !reflect.DeepEqual(d, p) {
			t.Fatalf("deferred parse differs:\n got %+v, %v\nwant %+v, %v", d, derr, p, err)
		}
		if err != nil {
			if !errors.Is(err, content.ErrBinary) && !errors.Is(err, content.ErrEmpty) &&
				!(ext == ".md" && strings.HasPrefix(err.Error(), "front matter: ")) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if strings.TrimSpace(p.Title) == "" {
			t.Errorf("empty title %q", p.Title)
		}
		if p.ID != strings.TrimSpace(p.ID) {
			t.Errorf("id %q has surrounding space", p.ID)
		}
		fields := map[string]string{"title": p.Title, "summary": p.Summary, "html": p.HTML, "author": p.Author, "id": p.ID}
		for i, tag := range p.Tags {
			if strings.TrimSpace(tag) == "" || slices.ContainsFunc(p.Tags[:i], func(s string) bool { return strings.EqualFold(s, tag) }) {
				t.Errorf("tag %q empty or repeated in %q", tag, p.Tags)
			}
			fields["tag"] = tag
		}
		for name, s := range fields {
			if r, ok := xmlIllegal(s); !ok {
				t.Errorf("%s %q holds %U, which XML forbids", name, s, r)
			}
		}
		if what, ok := activeContent(p.HTML); !ok {
			t.Errorf("HTML holds %s:\n%s", what, p.HTML)
		}
	})
}

// xmlIllegal returns the first character of s that is not valid UTF-8 or
// not an XML 1.0 Char, and false; or true when there is none.
func xmlIllegal(s string) (rune, bool) {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return r, false
		}
		switch {
		case r == '\t', r == '\n', r == '\r':
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return r, false
		}
	}
	return 0, true
}

// activeContent reports, with false, the first element or attribute in an
// HTML fragment that could run code or embed another page.
func activeContent(fragment string) (string, bool) {
	z := html.NewTokenizer(strings.NewReader(fragment))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script", "iframe", "object", "embed", "frame", "frameset", "base", "form", "meta", "link", "style":
			return "<" + tok.Data + ">", false
		}
		for _, a := range tok.Attr {
			v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") {
				return a.Key + "=" + a.Val, false
			}
		}
	}
	return "", true
}
