package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	xhtml "golang.org/x/net/html"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
)

// conformanceDir holds the conformance corpus: ordinary articles and
// hostile files, shared with .ci/run, which serves it to the validators.
const conformanceDir = "../testdata/conformance"

// corpusWant is what reading one corpus file must give: the error Parse
// rejects it with, or the fields of the article it becomes.
type corpusWant struct {
	err       error
	title     string
	author    string
	tags      []string
	lang      string
	id        string
	warning   string   // must be among the warnings
	htmlHas   []string // in the parsed HTML
	htmlLacks []string
	feedHas   []string // in the HTML content of every feed, once rendered under conformanceBase
}

// conformanceBase is the base URL the corpus is rendered under.
const conformanceBase = "https://example.org/blog/"

// corpus lists every file in conformanceDir; a file missing here fails the test.
var corpus = map[string]corpusWant{
	"plain-banner.txt": {
		title: "Lighthouse Keepers Return to Fair Isle", author: "Morag Tulloch",
		htmlHas:   []string{"fog signal"},
		htmlLacks: []string{"cookies", "newsletter", "donate", "Share this", "Lighthouse Keepers"},
	},
	"2025-01-20-front-matter-yaml.md": {
		title: "Every Field: Harbour Lights & Ferry Times", author: "Ada Quill, Bo Lind",
		tags: []string{"harbour", "ferries", "tides & times", "travel"}, lang: "en-GB",
		id:      "urn:uuid:4e0c2a4a-77d1-4f7e-9a51-6a3c1f0e2b10",
		htmlHas: []string{"<table>", `type="checkbox"`},
	},
	"front-matter-toml.md": {
		title: "TOML Notes From the Allotment", author: "Cai Morgan",
		tags: []string{"garden", "winter", "notes"}, lang: "cy",
		id: "https://notes.example.net/allotment/garlic",
	},
	"page.html": {
		title: "Canal Boats in Winter", author: "Joost de Vries", tags: []string{"canals", "boats", "winter"}, lang: "nl",
		htmlLacks: []string{"Home", "Water Notes"},
		feedHas: []string{
			`href="https://example.org/blog/skating/"`,
			`src="https://example.org/blog/articles/images/frozen.jpg"`,
			`href="https://example.org/credits#jdv"`,
			`cite="https://example.org/blog/articles/sources/almanac.html"`,
		},
	},
	"script.html": {
		title:     "A Page With Scripts",
		htmlHas:   []string{`href="https://example.com/"`},
		htmlLacks: []string{"<script", "alert", "javascript:", "onclick", "onerror", "onload", "<iframe", "injected"},
		feedHas:   []string{`src="https://example.org/blog/articles/x.png"`},
	},
	"relative-links.md": {
		title: "Relative Links Everywhere",
		feedHas: []string{
			`href="https://example.org/blog/2024/last-year"`,
			`href="https://example.org/archive/"`,
			`href="https://example.org/blog/articles/relative-links#notes"`,
			`href="https://example.org/blog/articles/sibling?x=1&amp;y=2"`,
			`src="https://example.org/blog/articles/img/diagram.png"`,
			`href="https://cdn.example.com/file.pdf"`,
			`href="https://example.com/abs"`,
			`href="mailto:me@example.org"`,
		},
	},
	"control-chars.txt": {
		title:   "Control Characters In A Title[31m",
		htmlHas: []string{"a bell , a vertical tab , a form feed , an escape  and a DEL  in it"},
	},
	"invalid-utf8.md": {
		title: "Broken Bytes in a Café \uFFFD Title", warning: "invalid UTF-8",
		htmlHas: []string{"naïve, été, 漢字", "\uFFFD("},
	},
	"latin1.txt": {
		title: "Café Crème — “Smart” Quotes €5", warning: "Windows-1252",
		htmlHas: []string{"crème brûlée – naïve", "¿Qué pasa? Ångström and ß"},
	},
	"utf16le.txt": {
		title:   "UTF-16 Little Endian: Été 🌊",
		htmlHas: []string{"Greek αβγ and a wave 🌊"},
	},
	"utf16be.md": {
		title: "UTF-16 Big Endian 日本語", tags: []string{"encoding", "日本語"},
		htmlHas: []string{"日本語のテキスト and русский"},
	},
	"utf8-bom.md": {
		title: "UTF-8 With a Byte Order Mark", htmlHas: []string{"Notepad used to add one. ✓"},
	},
	"crlf.txt": {
		title: "Windows Line Endings", htmlLacks: []string{"\r"},
	},
	"long-line.txt": {
		title: "A Very Long Line", htmlHas: []string{"<p>word0 word1 ", " word637 word63</p>"},
	},
	"cdata-breakers.md": {
		title:  "Ends ]]> and </content> and </entry></feed> & <b>bold</b>",
		author: "R&D <team@example.org>", tags: []string{"]]>", "</category>", "a&b"},
		htmlHas: []string{"]]&gt; in it", "&lt;![CDATA[ nested ]]&gt;&lt;/content&gt;", "&lt;/content:encoded&gt;"},
	},
	"emoji.md": {
		title: "Emoji 🎉 Party 👩\u200d👩\u200d👧 🇳🇴 🏳️\u200d🌈", tags: []string{"🎉", "👍🏽"},
		htmlHas: []string{"keycaps 1️⃣", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and 🀄"},
	},
	"rtl.html": {
		title: "שלום עולם: כותרת בעברית", tags: []string{"עברית", "العربية"}, lang: "he",
		htmlHas: []string{`<p dir="rtl" lang="ar">مرحبا بالعالم`, "\u202eevil\u202c"},
	},
	"out-of-range-dates.md": {
		title: "Dates Beyond Year 9999", warning: "out of range",
	},
	"binary-junk.txt":          {err: content.ErrBinary},
	"empty.md":                 {err: content.ErrEmpty},
	"whitespace-only.txt":      {err: content.ErrEmpty},
	"unclosed-front-matter.md": {err: errors.New("front matter: no closing --- line")},
}

func TestConformanceParse(t *testing.T) {
	entries, err := os.ReadDir(conformanceDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		seen[name] = true
		want, ok := corpus[name]
		if !ok {
			t.Errorf("%s: in the corpus but not in the test's table", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(conformanceDir, name))
			if err != nil {
				t.Fatal(err)
			}
			p, err := content.Parse(name, data)
			if want.err != nil {
				if err == nil || !errors.Is(err, want.err) && err.Error() != want.err.Error() {
					t.Fatalf("Parse error %v, want %v", err, want.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.Title != want.title || p.Author != want.author || p.Language != want.lang || p.ID != want.id {
				t.Errorf("title %q author %q lang %q id %q,\nwant  %q %q %q %q", p.Title, p.Author, p.Language, p.ID, want.title, want.author, want.lang, want.id)
			}
			if !slices.Equal(p.Tags, want.tags) {
				t.Errorf("tags %q, want %q", p.Tags, want.tags)
			}
			if want.warning != "" && !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, want.warning) }) {
				t.Errorf("warnings %q, want one mentioning %q", p.Warnings, want.warning)
			}
			for _, s := range want.htmlHas {
				if !strings.Contains(p.HTML, s) {
					t.Errorf("HTML lacks %q:\n%s", s, p.HTML)
				}
			}
			for _, s := range want.htmlLacks {
				if strings.Contains(p.HTML, s) {
					t.Errorf("HTML has %q:\n%s", s, p.HTML)
				}
			}
		})
	}
	for name := range corpus {
		if !seen[name] {
			t.Errorf("%s: in the test's table but not in the corpus", name)
		}
	}
}

// corpusLibrary copies the corpus into a temporary folder, adds a file of
// 50 MB and one of random binary bytes, and reads it all with a Library
// that logs to the returned buffer.
func corpusLibrary(t *testing.T) (*content.Library, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(conformanceDir)); err != nil {
		t.Fatal(err)
	}
	// Text, so that only its size can reject it.
	big := bytes.Repeat([]byte("A fifty megabyte article nobody should publish.\n"), 50<<20/49+1)
	if err := os.WriteFile(filepath.Join(dir, "big.md"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	junk := []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00")
	if err := os.WriteFile(filepath.Join(dir, "program.html"), bytes.Repeat(junk, 64), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var logs bytes.Buffer
	lib, err := content.OpenLibrary(dir, st, content.LibraryOptions{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	if _, err := lib.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return lib, &logs
}

func TestConformanceRejected(t *testing.T) {
	lib, logs := corpusLibrary(t)
	want := map[string]string{
		"big.md":          "file too large",
		"program.html":    content.ErrBinary.Error(),
		"binary-junk.txt": content.ErrBinary.Error(),
	}
	for name, w := range corpus {
		if w.err != nil {
			want[name] = w.err.Error()
		}
	}
	problems := lib.Problems()
	for name, reason := range want {
		if !strings.Contains(problems[name], reason) {
			t.Errorf("%s: problem %q, want one containing %q", name, problems[name], reason)
		}
		// One log line names the file and the reason.
		var lines []string
		for line := range strings.Lines(logs.String()) {
			if strings.Contains(line, "file="+name+" ") && strings.Contains(line, reason) {
				lines = append(lines, line)
			}
		}
		if len(lines) != 1 {
			t.Errorf("%s: %d log lines with file and reason, want 1:\n%s", name, len(lines), logs)
		}
	}
	if len(problems) != len(want) {
		t.Errorf("problems %q, want only %q", problems, want)
	}
	if got, want := len(lib.Articles()), len(corpus)+2-len(want); got != want {
		t.Errorf("%d articles, want %d: rejected files must not affect the rest", got, want)
	}
}

func TestConformanceFeeds(t *testing.T) {
	lib, _ := corpusLibrary(t)
	articles := lib.Articles()
	site := Site{Title: "Conformance", Author: "Corpus", Language: "en", BaseURL: mustURL(t, conformanceBase)}
	docs := renderDocs(t, site, vals(articles))

	for _, format := range feedFormats {
		t.Run(format.name, func(t *testing.T) {
			doc := format.doc(docs)
			if format.name == "json" {
				if !json.Valid(doc) {
					t.Fatal("invalid JSON")
				}
			} else if err := checkWellFormed(doc); err != nil {
				t.Fatalf("not well-formed: %v", err)
			}
			f, err := gofeed.NewParser().ParseString(string(doc))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if len(f.Items) != len(articles) {
				t.Fatalf("%d items, want %d", len(f.Items), len(articles))
			}
			ids := map[string]bool{}
			for i, a := range articles {
				it := f.Items[i]
				if it.GUID == "" || ids[it.GUID] {
					t.Errorf("%s: id %q empty or repeated", a.Path, it.GUID)
				}
				ids[it.GUID] = true
				checkCorpusItem(t, format.name, it, a)
			}
		})
	}
}

// checkCorpusItem compares one parsed feed item with the article it came from.
func checkCorpusItem(t *testing.T, format string, it *gofeed.Item, a *content.Article) {
	t.Helper()
	want := corpus[a.Path]
	if it.GUID != a.ID || it.Link != ArticleURL(mustURL(t, conformanceBase), a.Slug) {
		t.Errorf("%s: id %q link %q, want %q and the article's URL", a.Path, it.GUID, it.Link, a.ID)
	}
	if it.Title != want.title {
		t.Errorf("%s: title %q, want %q", a.Path, it.Title, want.title)
	}
	if !slices.Equal(it.Categories, want.tags) {
		t.Errorf("%s: categories %q, want %q", a.Path, it.Categories, want.tags)
	}
	if it.PublishedParsed == nil || !it.PublishedParsed.Equal(a.Published.Truncate(1e9)) {
		t.Errorf("%s: published %v, want %v", a.Path, it.PublishedParsed, a.Published)
	}
	if format != "rss" && (it.UpdatedParsed == nil || !it.UpdatedParsed.Equal(a.Updated.Truncate(1e9))) {
		t.Errorf("%s: updated %v, want %v", a.Path, it.UpdatedParsed, a.Updated)
	}
	for _, s := range want.feedHas {
		if !strings.Contains(it.Content, s) {
			t.Errorf("%s: content lacks %s:\n%s", a.Path, s, it.Content)
		}
	}
	// A Library keeps the summary on disk with the body.
	summary, err := a.LoadSummary()
	if err != nil {
		t.Fatal(err)
	}
	got := it.Description
	if format == "rss" {
		got = html.UnescapeString(got) // RSS descriptions are HTML
	}
	if a.Summary != "" || got != summary {
		t.Errorf("%s: summary %q in the feed, %q read from disk, %q in memory", a.Path, it.Description, summary, a.Summary)
	}
	checkAbsolute(t, it.Content)
}

// htmlURLs returns the values of the URL attributes in an HTML fragment,
// and its srcset attributes apart: they hold several URLs.
func htmlURLs(t *testing.T, fragment string) (refs, srcsets []string) {
	t.Helper()
	z := xhtml.NewTokenizer(strings.NewReader(fragment))
	for tt := z.Next(); tt != xhtml.ErrorToken; tt = z.Next() {
		for _, a := range z.Token().Attr {
			switch a.Key {
			case "href", "src", "cite", "poster":
				refs = append(refs, a.Val)
			case "srcset":
				srcsets = append(srcsets, a.Val)
			}
		}
	}
	return refs, srcsets
}

// checkAbsolute fails t for every relative URL left in an HTML fragment.
func checkAbsolute(t *testing.T, fragment string) {
	t.Helper()
	base := mustURL(t, "https://base.invalid/")
	refs, srcsets := htmlURLs(t, fragment)
	for _, ref := range refs {
		if _, relative := resolveURL(base, ref); relative {
			t.Errorf("relative URL %q left in %q", ref, fragment)
		}
	}
	for _, set := range srcsets {
		if _, relative := resolveSrcset(base, set); relative {
			t.Errorf("relative URL left in srcset %q", set)
		}
	}
}

// fuzzExtensions are the article formats a fuzz input is parsed as.
var fuzzExtensions = []string{".md", ".txt", ".html"}

// addCorpusSeeds adds every conformance file, in the format its name gives, to f's seeds.
func addCorpusSeeds(f *testing.F) {
	entries, err := os.ReadDir(conformanceDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(conformanceDir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(slices.Index(fuzzExtensions, strings.ToLower(filepath.Ext(e.Name())))))
	}
}

// FuzzParseRender parses any bytes as an article and renders it, under
// three slugs and with a repeated id, into all three feeds: each must be
// well-formed XML or valid JSON, every entry with a non-empty id unique
// within its feed. (gofeed reads the corpus' feeds in TestConformanceFeeds;
// here it would slow the fuzzer a hundredfold.)
func FuzzParseRender(f *testing.F) {
	addCorpusSeeds(f)
	site := Site{Title: "Fuzz", BaseURL: mustURL(f, conformanceBase)}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		ext := fuzzExtensions[int(kind)%len(fuzzExtensions)]
		p, err := content.Parse("fuzz"+ext, data)
		if err != nil {
			if !errors.Is(err, content.ErrBinary) && !errors.Is(err, content.ErrEmpty) &&
				!(ext == ".md" && strings.HasPrefix(err.Error(), "front matter: ")) {
				t.Fatalf("Parse: unexpected error %v", err)
			}
			return
		}
		a := content.Article{
			ID: p.ID, Slug: "fuzz", Title: p.Title, Summary: p.Summary, HTML: p.HTML,
			Author: p.Author, Tags: p.Tags, Language: p.Language,
			Published: cmpTime(p.Date, renderT0), Updated: p.Updated,
		}
		// The title as a slug tries URL escaping; the copy repeats the id.
		titled, copied := a, a
		titled.ID, titled.Slug = "", p.Title
		copied.Slug = "fuzz/copy"
		docs, err := Render(site, ptrs([]content.Article{a, titled, copied}))
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		if err := checkWellFormed(docs.Atom); err != nil {
			t.Fatalf("Atom not well-formed: %v\n%s", err, docs.Atom)
		}
		if err := checkWellFormed(docs.RSS); err != nil {
			t.Fatalf("RSS not well-formed: %v\n%s", err, docs.RSS)
		}
		var atom testAtomFeed
		var rss testRSS
		var jf testJSONFeed
		if err := xml.Unmarshal(docs.Atom, &atom); err != nil {
			t.Fatalf("Atom: %v", err)
		}
		if err := xml.Unmarshal(docs.RSS, &rss); err != nil {
			t.Fatalf("RSS: %v", err)
		}
		if err := json.Unmarshal(docs.JSON, &jf); err != nil {
			t.Fatalf("JSON: %v\n%s", err, docs.JSON)
		}
		ids := map[string][]string{}
		for _, e := range atom.Entries {
			ids["atom"] = append(ids["atom"], e.ID)
		}
		for _, it := range rss.Channel.Items {
			ids["rss"] = append(ids["rss"], it.GUID.ID)
		}
		for _, it := range jf.Items {
			ids["json"] = append(ids["json"], it.ID)
		}
		for format, list := range ids {
			if len(list) != 3 {
				t.Fatalf("%s: %d ids, want 3", format, len(list))
			}
			seen := map[string]bool{}
			for _, id := range list {
				if strings.TrimSpace(id) == "" || seen[id] {
					t.Fatalf("%s: id %q empty or repeated in %q", format, id, list)
				}
				seen[id] = true
			}
		}
	})
}

// cmpTime returns t, or def when t is zero.
func cmpTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// FuzzAbsoluteURLs checks that resolving relative URLs in any HTML leaves
// none relative, changes nothing on a second pass, and keeps HTML without
// URL attributes byte for byte.
func FuzzAbsoluteURLs(f *testing.F) {
	for _, s := range []string{
		`<a href="../x">x</a><img src="i.png" srcset="a.png 1x, b,c.png 2x">`,
		`<p>text ]]> </content></p><a href="#f">`, `<a href="`, `<textarea><a href="x"></textarea>`,
		`<img srcset=",,, a.png (1, 2) 3x,,b.png">`, `<a href=" //h/p ">`, `<A HREF=x.html>`,
	} {
		f.Add(s)
	}
	const page = "https://example.org/blog/articles/fuzz/page"
	f.Fuzz(func(t *testing.T, body string) {
		once := absoluteURLs(body, page)
		if twice := absoluteURLs(once, page); twice != once {
			t.Fatalf("second pass changed the HTML:\n%q\n%q", once, twice)
		}
		checkAbsolute(t, once)
		if refs, srcsets := htmlURLs(t, body); len(refs)+len(srcsets) == 0 && once != body {
			t.Fatalf("HTML without URLs changed:\n%q\n%q", body, once)
		}
	})
}

// TestStylesheetTransforms applies the style sheet to the Atom and RSS
// documents as a browser would, with libxslt's xsltproc.
func TestStylesheetTransforms(t *testing.T) {
	xsltproc, err := exec.LookPath("xsltproc")
	if err != nil {
		t.Skip("xsltproc not installed")
	}
	dir := t.TempDir()
	xsl := filepath.Join(dir, "feed.xsl")
	if err := os.WriteFile(xsl, stylesheet, 0o644); err != nil {
		t.Fatal(err)
	}
	transform := func(t *testing.T, name string, doc []byte) string {
		t.Helper()
		in := filepath.Join(dir, name)
		if err := os.WriteFile(in, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(xsltproc, "--nonet", "--novalid", xsl, in).Output()
		if err != nil {
			t.Fatalf("xsltproc %s: %v", name, err)
		}
		return string(out)
	}
	cases := renderCases()
	docs := renderDocs(t, renderSite(t), renderArticles(cases))
	for _, format := range feedFormats[:2] {
		t.Run(format.name, func(t *testing.T) {
			page := transform(t, "feed."+format.name, format.doc(docs))
			text := htmlText(t, page)
			for _, want := range []string{"Render notes", "Notes & tests", "feed reader", format.self} {
				if !strings.Contains(text, want) {
					t.Errorf("page text lacks %q:\n%s", want, text)
				}
			}
			if !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, `href="https://example.org/blog/"`) {
				t.Errorf("page lacks its language or the link to the index:\n%s", page)
			}
			for _, c := range cases {
				if !strings.Contains(page, `href="`+c.link+`"`) {
					t.Errorf("%s: no link to %s", c.name, c.link)
				}
				// Each shows as the text it is, however the feed escaped it.
				for _, s := range []string{c.title, c.summary, c.author} {
					if !strings.Contains(text, s) {
						t.Errorf("%s: page text lacks %q", c.name, s)
					}
				}
			}
		})
	}
	empty := renderDocs(t, renderSite(t), nil)
	if page := transform(t, "empty.atom", empty.Atom); !strings.Contains(page, "Nothing published yet") {
		t.Errorf("empty feed:\n%s", page)
	}
}
