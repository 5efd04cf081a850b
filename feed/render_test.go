package feed

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/dropfeed/dropfeed/content"
)

// renderT0 is an arbitrary fixed time the render tests' dates count from.
var renderT0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func mustURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func renderSite(t testing.TB) Site {
	t.Helper()
	return Site{
		ID:          "urn:uuid:9b1c6d2e-3f4a-4b5c-8d6e-7f8091a2b3c4",
		Title:       "Render notes",
		Description: "Notes & tests",
		Author:      "Site Owner",
		Language:    "en",
		BaseURL:     mustURL(t, "https://example.org/blog/"),
	}
}

// renderCase is one article and what every feed must say about it once
// its strings are cleaned.
type renderCase struct {
	name    string
	in      content.Article
	link    string
	title   string
	summary string
	html    string
	author  string
	tags    []string
}

func renderCases() []renderCase {
	hour := func(n int) time.Time { return renderT0.Add(time.Duration(n) * time.Hour) }
	return []renderCase{
		{
			name: "plain",
			in: content.Article{
				ID: "urn:uuid:00000000-0000-4000-8000-000000000001", Slug: "first",
				Title: "First post", Summary: "A short summary.", HTML: "<p>Hello <em>world</em></p>",
				Author: "Ann", Tags: []string{"go", "feeds"}, Published: hour(0), Updated: hour(1),
			},
			link:  "https://example.org/blog/articles/first",
			title: "First post", summary: "A short summary.", html: "<p>Hello <em>world</em></p>",
			author: "Ann", tags: []string{"go", "feeds"},
		},
		{
			name: "unicode and emoji",
			in: content.Article{
				ID: "urn:uuid:00000000-0000-4000-8000-000000000002", Slug: "2025/été 2025",
				Title: "Été à Paris 🚀 — naïve café", Summary: "Emoji 🎉👩‍👩‍👧 and 漢字",
				HTML: "<p>漢字 🎉</p>", Author: "Zoë Çelik", Tags: []string{"café", "日本語"},
				Language: "fr", Published: hour(2), Updated: hour(2),
			},
			link:  "https://example.org/blog/articles/2025/%C3%A9t%C3%A9%202025",
			title: "Été à Paris 🚀 — naïve café", summary: "Emoji 🎉👩‍👩‍👧 and 漢字", html: "<p>漢字 🎉</p>",
			author: "Zoë Çelik", tags: []string{"café", "日本語"},
		},
		{
			name: "right to left",
			in: content.Article{
				ID: "urn:uuid:00000000-0000-4000-8000-000000000003", Slug: "rtl",
				Title: "שלום עולם", Summary: "مرحبا بالعالم", HTML: `<p dir="rtl">שלום</p>`,
				Author: "אבי", Tags: []string{"עברית"}, Language: "he", Published: hour(3), Updated: hour(5),
			},
			link:  "https://example.org/blog/articles/rtl",
			title: "שלום עולם", summary: "مرحبا بالعالم", html: `<p dir="rtl">שלום</p>`,
			author: "אבי", tags: []string{"עברית"},
		},
		{
			name: "markup breakers",
			in: content.Article{
				ID: "urn:uuid:00000000-0000-4000-8000-000000000004", Slug: "breakers",
				Title: "Use ]]> and </content> & <b>", Summary: "a ]]> b </content> c & d < e",
				HTML: "<p>x ]]> y</p><pre>&lt;/content&gt;</pre></content>", Author: "R&D <team>",
				Tags: []string{"a&b", "<tag>", "]]>"}, Published: hour(4), Updated: hour(4),
			},
			link:  "https://example.org/blog/articles/breakers",
			title: "Use ]]> and </content> & <b>", summary: "a ]]> b </content> c & d < e",
			html: "<p>x ]]> y</p><pre>&lt;/content&gt;</pre></content>", author: "R&D <team>",
			tags: []string{"a&b", "<tag>", "]]>"},
		},
		{
			name: "control characters",
			in: content.Article{
				ID: "urn:uuid:00000000-0000-4000-8000-000000000005", Slug: "control",
				Title: "Bell\x07 and NUL\x00 here\x1f\u0085", Summary: "keep\ttab\x01\x02\x0b\x0cdrop\x7f",
				HTML: "<p>a\x00b\x1bc\r\nd\re</p>", Author: "Ctl\x08 Author",
				Tags: []string{"x\x00y", "\x03"}, Published: hour(6), Updated: hour(6),
			},
			link:  "https://example.org/blog/articles/control",
			title: "Bell and NUL here", summary: "keep\ttabdrop", html: "<p>abc\nd\ne</p>",
			author: "Ctl Author", tags: []string{"xy"},
		},
		{
			name: "invalid UTF-8",
			in: content.Article{
				ID: "urn:uuid:00000000-0000-4000-8000-000000000006", Slug: "bytes",
				Title: "Bad \xff\xfe bytes", Summary: "caf\xe9 au lait", HTML: "<p>\xc3\x28</p>",
				Author: "\xffAnn", Tags: []string{"ok\xff"}, Published: hour(7), Updated: hour(7),
			},
			link:  "https://example.org/blog/articles/bytes",
			title: "Bad \uFFFD bytes", summary: "caf\uFFFD au lait", html: "<p>\uFFFD(</p>",
			author: "\uFFFDAnn", tags: []string{"ok\uFFFD"},
		},
		{
			name: "permalink id, no author, no tags",
			in: content.Article{
				ID: "https://example.org/blog/articles/perma", Slug: "perma",
				Title: "Permalink", Summary: "Its id is its URL.", HTML: "<p>Perma</p>",
				Published: hour(8), Updated: hour(8).Add(1500 * time.Millisecond),
			},
			link:  "https://example.org/blog/articles/perma",
			title: "Permalink", summary: "Its id is its URL.", html: "<p>Perma</p>",
		},
	}
}

func renderArticles(cases []renderCase) []content.Article {
	out := make([]content.Article, len(cases))
	for i, c := range cases {
		out[i] = c.in
	}
	return out
}

func renderDocs(t testing.TB, site Site, articles []content.Article) Documents {
	t.Helper()
	docs, err := Render(site, ptrs(articles))
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return docs
}

// feedFormats names each document with a getter, for table-driven tests.
var feedFormats = []struct {
	name string
	doc  func(Documents) []byte
	self string
}{
	{"atom", func(d Documents) []byte { return d.Atom }, "https://example.org/blog/feed.atom"},
	{"rss", func(d Documents) []byte { return d.RSS }, "https://example.org/blog/feed.rss"},
	{"json", func(d Documents) []byte { return d.JSON }, "https://example.org/blog/feed.json"},
}

func TestRenderRoundTrip(t *testing.T) {
	cases := renderCases()
	docs := renderDocs(t, renderSite(t), renderArticles(cases))
	for _, format := range feedFormats {
		t.Run(format.name, func(t *testing.T) {
			f, err := gofeed.NewParser().ParseString(string(format.doc(docs)))
			if err != nil {
				t.Fatalf("gofeed: %v\n%s", err, format.doc(docs))
			}
			if f.Title != "Render notes" || f.Link != "https://example.org/blog/" || f.FeedLink != format.self {
				t.Errorf("feed title %q link %q feed link %q", f.Title, f.Link, f.FeedLink)
			}
			if f.Language != "en" {
				t.Errorf("feed language %q, want en", f.Language)
			}
			if format.name != "rss" && (len(f.Authors) != 1 || f.Authors[0].Name != "Site Owner") {
				t.Errorf("feed authors %+v, want Site Owner", f.Authors)
			}
			if len(f.Items) != len(cases) {
				t.Fatalf("%d items, want %d", len(f.Items), len(cases))
			}
			for i, c := range cases {
				checkItem(t, format.name, f.Items[i], c)
			}
		})
	}
}

func checkItem(t *testing.T, format string, it *gofeed.Item, c renderCase) {
	t.Helper()
	if it.GUID != c.in.ID || it.Link != c.link {
		t.Errorf("%s: id %q link %q, want %q %q", c.name, it.GUID, it.Link, c.in.ID, c.link)
	}
	if it.Title != c.title {
		t.Errorf("%s: title %q, want %q", c.name, it.Title, c.title)
	}
	summary := it.Description
	if format == "rss" {
		// RSS descriptions are HTML, so the plain-text summary is escaped once more.
		summary = html.UnescapeString(summary)
	}
	if summary != c.summary {
		t.Errorf("%s: summary %q, want %q", c.name, summary, c.summary)
	}
	if it.Content != c.html {
		t.Errorf("%s: content %q, want %q", c.name, it.Content, c.html)
	}
	if !slices.Equal(it.Categories, c.tags) {
		t.Errorf("%s: categories %q, want %q", c.name, it.Categories, c.tags)
	}
	wantPub := c.in.Published.Truncate(time.Second)
	if it.PublishedParsed == nil || !it.PublishedParsed.Equal(wantPub) {
		t.Errorf("%s: published %v, want %v", c.name, it.PublishedParsed, wantPub)
	}
	// RSS has no updated date per item.
	wantUpd := c.in.Updated.Truncate(time.Second)
	if format != "rss" && (it.UpdatedParsed == nil || !it.UpdatedParsed.Equal(wantUpd)) {
		t.Errorf("%s: updated %v, want %v", c.name, it.UpdatedParsed, wantUpd)
	}
	var names []string
	for _, a := range it.Authors {
		names = append(names, a.Name)
	}
	if want := []string{c.author}; c.author == "" && len(names) != 0 || c.author != "" && !slices.Equal(names, want) {
		t.Errorf("%s: authors %q, want %q", c.name, names, c.author)
	}
}

// nastyStrings are put in every text field; no output may be malformed.
var nastyStrings = []string{
	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f",
	"]]>", "]]]]><![CDATA[>", "<![CDATA[", "</content></entry></feed>", "</content:encoded>",
	"\xff\xfe\xfd", "\xed\xa0\x80", "\uFFFE\uFFFF", "\u0080\u009f\u007f",
	"&amp; &#0; &#x1; &bogus;", "<?xml version=\"1.0\"?>", "<!-- --", "\"'<>&",
	"\u202eright-to-left override", "\r\n\r",
}

func TestRenderWellFormed(t *testing.T) {
	for _, s := range nastyStrings {
		a := content.Article{
			ID: s, Slug: s, Title: s, Summary: s, HTML: s, Author: s, Tags: []string{s},
			Language: s, Published: renderT0, Updated: renderT0,
		}
		site := renderSite(t)
		site.ID, site.Title, site.Description, site.Author, site.Language = s, s, s, s, s
		docs := renderDocs(t, site, []content.Article{a})
		for _, format := range feedFormats {
			doc := format.doc(docs)
			if format.name == "json" {
				if !json.Valid(doc) {
					t.Errorf("%q: invalid JSON:\n%s", s, doc)
				}
				continue
			}
			if err := checkWellFormed(doc); err != nil {
				t.Errorf("%q: %s not well-formed: %v\n%s", s, format.name, err, doc)
			}
			if _, err := gofeed.NewParser().ParseString(string(doc)); err != nil {
				t.Errorf("%q: gofeed cannot parse %s: %v", s, format.name, err)
			}
		}
	}
}

// checkWellFormed reads every token of doc with a strict decoder, which
// rejects characters XML forbids and bad UTF-8.
func checkWellFormed(doc []byte) error {
	if !bytes.HasPrefix(doc, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		return errors.New("no UTF-8 XML declaration")
	}
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestRenderEmpty(t *testing.T) {
	docs := renderDocs(t, renderSite(t), nil)
	if !docs.Updated.IsZero() {
		t.Errorf("Updated %v, want zero", docs.Updated)
	}
	var j map[string]json.RawMessage
	if err := json.Unmarshal(docs.JSON, &j); err != nil {
		t.Fatal(err)
	}
	if got := string(j["items"]); got != "[]" {
		t.Errorf("JSON items %q, want []", got)
	}
	for key, want := range map[string]string{
		"home_page_url": `"https://example.org/blog/"`,
		"feed_url":      `"https://example.org/blog/feed.json"`,
		"version":       `"https://jsonfeed.org/version/1.1"`,
	} {
		if got := string(j[key]); got != want {
			t.Errorf("JSON %s = %s, want %s", key, got, want)
		}
	}
	var atom testAtomFeed
	if err := xml.Unmarshal(docs.Atom, &atom); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339, atom.Updated); err != nil {
		t.Errorf("Atom updated %q: %v", atom.Updated, err)
	}
	for _, format := range feedFormats {
		f, err := gofeed.NewParser().ParseString(string(format.doc(docs)))
		if err != nil || len(f.Items) != 0 {
			t.Errorf("%s: gofeed err %v", format.name, err)
		}
	}
}

func TestRenderDeterministic(t *testing.T) {
	first := renderDocs(t, renderSite(t), renderArticles(renderCases()))
	// The same instants in another zone are the same input.
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	moved := renderArticles(renderCases())
	for i := range moved {
		moved[i].Published = moved[i].Published.In(zone)
		moved[i].Updated = moved[i].Updated.In(zone)
	}
	second := renderDocs(t, renderSite(t), moved)
	for _, format := range feedFormats {
		if !bytes.Equal(format.doc(first), format.doc(second)) {
			t.Errorf("%s differs between two renders of the same articles", format.name)
		}
	}
	if !first.Updated.Equal(second.Updated) {
		t.Errorf("Updated %v then %v", first.Updated, second.Updated)
	}
}

func TestRenderUpdated(t *testing.T) {
	articles := []content.Article{
		{ID: "a", Slug: "a", Title: "A", Published: renderT0, Updated: renderT0.Add(time.Hour)},
		{ID: "b", Slug: "b", Title: "B", Published: renderT0, Updated: renderT0.Add(3 * time.Hour)},
		{ID: "c", Slug: "c", Title: "C", Published: renderT0.Add(2 * time.Hour)},
	}
	docs := renderDocs(t, renderSite(t), articles)
	if want := renderT0.Add(3 * time.Hour); !docs.Updated.Equal(want) {
		t.Errorf("Updated %v, want the newest %v", docs.Updated, want)
	}
	var atom testAtomFeed
	if err := xml.Unmarshal(docs.Atom, &atom); err != nil {
		t.Fatal(err)
	}
	if atom.Updated != "2025-03-01T12:00:00Z" {
		t.Errorf("Atom feed updated %q", atom.Updated)
	}
	// An article without an updated date counts as updated when published.
	if e := atom.Entries[2]; e.Updated != "2025-03-01T11:00:00Z" || e.Published != "2025-03-01T11:00:00Z" {
		t.Errorf("entry c published %q updated %q", e.Published, e.Updated)
	}
	var rss testRSS
	if err := xml.Unmarshal(docs.RSS, &rss); err != nil {
		t.Fatal(err)
	}
	if got := rss.Channel.LastBuildDate; got != "Sat, 01 Mar 2025 12:00:00 +0000" {
		t.Errorf("RSS lastBuildDate %q", got)
	}
}

// testAtomFeed decodes the parts of an Atom document the tests check.
type testAtomFeed struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Links   []struct {
		Href string `xml:"href,attr"`
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
	} `xml:"link"`
	Author  []string `xml:"author>name"`
	Entries []struct {
		Lang      string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		ID        string `xml:"id"`
		Published string `xml:"published"`
		Updated   string `xml:"updated"`
		Links     []struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
			Type string `xml:"type,attr"`
		} `xml:"link"`
		Author     []string `xml:"author>name"`
		Categories []struct {
			Term string `xml:"term,attr"`
		} `xml:"category"`
		Summary struct {
			Type string `xml:"type,attr"`
			Text string `xml:",chardata"`
		} `xml:"summary"`
		Content struct {
			Type string `xml:"type,attr"`
			Text string `xml:",chardata"`
		} `xml:"content"`
	} `xml:"entry"`
}

func TestAtomDocument(t *testing.T) {
	cases := renderCases()
	docs := renderDocs(t, renderSite(t), renderArticles(cases))
	var f testAtomFeed
	if err := xml.Unmarshal(docs.Atom, &f); err != nil {
		t.Fatal(err)
	}
	if f.ID != "urn:uuid:9b1c6d2e-3f4a-4b5c-8d6e-7f8091a2b3c4" || f.Lang != "en" || !slices.Equal(f.Author, []string{"Site Owner"}) {
		t.Errorf("feed id %q lang %q author %q", f.ID, f.Lang, f.Author)
	}
	var self, alternate bool
	for _, l := range f.Links {
		self = self || l.Rel == "self" && l.Type == "application/atom+xml" && l.Href == "https://example.org/blog/feed.atom"
		alternate = alternate || l.Rel == "alternate" && l.Type == "text/html" && l.Href == "https://example.org/blog/"
	}
	if !self || !alternate {
		t.Errorf("feed links %+v: self %v, alternate %v", f.Links, self, alternate)
	}
	for i, c := range cases {
		e := f.Entries[i]
		if len(e.Links) != 1 || e.Links[0].Rel != "alternate" || e.Links[0].Type != "text/html" || e.Links[0].Href != c.link {
			t.Errorf("%s: links %+v", c.name, e.Links)
		}
		var terms []string
		for _, cat := range e.Categories {
			terms = append(terms, cat.Term)
		}
		if !slices.Equal(terms, c.tags) {
			t.Errorf("%s: category terms %q, want %q", c.name, terms, c.tags)
		}
		if e.Summary.Type != "text" || e.Summary.Text != c.summary {
			t.Errorf("%s: summary type %q text %q", c.name, e.Summary.Type, e.Summary.Text)
		}
		if e.Content.Type != "html" || e.Content.Text != c.html {
			t.Errorf("%s: content type %q text %q", c.name, e.Content.Type, e.Content.Text)
		}
		if c.author == "" && len(e.Author) != 0 {
			t.Errorf("%s: author %q, want none", c.name, e.Author)
		}
		for _, d := range []string{e.Published, e.Updated} {
			if _, err := time.Parse(time.RFC3339, d); err != nil || !strings.HasSuffix(d, "Z") {
				t.Errorf("%s: date %q is not RFC 3339 UTC", c.name, d)
			}
		}
		if e.Lang != c.in.Language {
			t.Errorf("%s: xml:lang %q, want %q", c.name, e.Lang, c.in.Language)
		}
	}
}

// testRSS decodes the parts of an RSS document the tests check. Matching
// the atom and dc elements by namespace URL proves the prefixes are declared.
type testRSS struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		// Before Link: a field without a namespace matches atom:link too.
		AtomLinks []struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
			Type string `xml:"type,attr"`
		} `xml:"http://www.w3.org/2005/Atom link"`
		Title         string `xml:"title"`
		Link          string `xml:"link"`
		Description   string `xml:"description"`
		Language      string `xml:"language"`
		LastBuildDate string `xml:"lastBuildDate"`
		Items         []struct {
			GUID struct {
				IsPermaLink string `xml:"isPermaLink,attr"`
				ID          string `xml:",chardata"`
			} `xml:"guid"`
			Description string   `xml:"description"`
			PubDate     string   `xml:"pubDate"`
			Creator     []string `xml:"http://purl.org/dc/elements/1.1/ creator"`
			Author      []string `xml:"author"`
			Categories  []string `xml:"category"`
			Encoded     string   `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
		} `xml:"item"`
	} `xml:"channel"`
}

func TestRSSDocument(t *testing.T) {
	cases := renderCases()
	docs := renderDocs(t, renderSite(t), renderArticles(cases))
	var r testRSS
	if err := xml.Unmarshal(docs.RSS, &r); err != nil {
		t.Fatal(err)
	}
	if r.Version != "2.0" || r.Channel.Description != "Notes & tests" || r.Channel.Language != "en" {
		t.Errorf("version %q description %q language %q", r.Version, r.Channel.Description, r.Channel.Language)
	}
	if r.Channel.Link != "https://example.org/blog/" {
		t.Errorf("channel link %q", r.Channel.Link)
	}
	if l := r.Channel.AtomLinks; len(l) != 1 || l[0].Rel != "self" || l[0].Type != "application/rss+xml" || l[0].Href != "https://example.org/blog/feed.rss" {
		t.Errorf("atom:link %+v", l)
	}
	for i, c := range cases {
		it := r.Channel.Items[i]
		wantPerma := "false"
		if strings.HasPrefix(c.in.ID, "https://") {
			wantPerma = "true"
		}
		if it.GUID.ID != c.in.ID || it.GUID.IsPermaLink != wantPerma {
			t.Errorf("%s: guid %+v, want isPermaLink=%s", c.name, it.GUID, wantPerma)
		}
		if want := c.in.Published.Format(time.RFC1123Z); it.PubDate != want {
			t.Errorf("%s: pubDate %q, want %q", c.name, it.PubDate, want)
		}
		if len(it.Author) != 0 {
			t.Errorf("%s: <author> %q has no email address", c.name, it.Author)
		}
		if want := []string{c.author}; c.author == "" && len(it.Creator) != 0 || c.author != "" && !slices.Equal(it.Creator, want) {
			t.Errorf("%s: dc:creator %q, want %q", c.name, it.Creator, c.author)
		}
		if !slices.Equal(it.Categories, c.tags) {
			t.Errorf("%s: categories %q, want %q", c.name, it.Categories, c.tags)
		}
		// Readers render description as HTML; they must show the plain summary.
		if got := htmlText(t, it.Description); got != c.summary {
			t.Errorf("%s: description shows as %q, want %q", c.name, got, c.summary)
		}
		if it.Encoded != c.html {
			t.Errorf("%s: content:encoded %q, want %q", c.name, it.Encoded, c.html)
		}
	}
}

// htmlText returns the text a browser shows for an HTML fragment.
func htmlText(t *testing.T, fragment string) string {
	t.Helper()
	nodes, err := xhtml.ParseFragment(strings.NewReader(fragment), &xhtml.Node{Type: xhtml.ElementNode, DataAtom: atom.Div, Data: "div"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return b.String()
}

// testJSONFeed decodes the parts of a JSON Feed the tests check.
type testJSONFeed struct {
	Authors []struct{ Name string } `json:"authors"`
	Author  any                     `json:"author"`
	Items   []struct {
		ID        string                  `json:"id"`
		URL       string                  `json:"url"`
		Tags      []string                `json:"tags"`
		Language  string                  `json:"language"`
		Authors   []struct{ Name string } `json:"authors"`
		Author    any                     `json:"author"`
		Published string                  `json:"date_published"`
		Modified  string                  `json:"date_modified"`
	} `json:"items"`
}

func TestJSONDocument(t *testing.T) {
	cases := renderCases()
	docs := renderDocs(t, renderSite(t), renderArticles(cases))
	var f testJSONFeed
	if err := json.Unmarshal(docs.JSON, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Authors) != 1 || f.Authors[0].Name != "Site Owner" || f.Author != nil {
		t.Errorf("feed authors %+v, deprecated author %v", f.Authors, f.Author)
	}
	for i, c := range cases {
		it := f.Items[i]
		if it.ID != c.in.ID || it.URL != c.link || !slices.Equal(it.Tags, c.tags) || it.Language != c.in.Language {
			t.Errorf("%s: id %q url %q tags %q language %q", c.name, it.ID, it.URL, it.Tags, it.Language)
		}
		if c.author == "" && it.Authors != nil || c.author != "" && (len(it.Authors) != 1 || it.Authors[0].Name != c.author) || it.Author != nil {
			t.Errorf("%s: authors %+v, deprecated author %v", c.name, it.Authors, it.Author)
		}
		if want := c.in.Published.UTC().Format(time.RFC3339); it.Published != want {
			t.Errorf("%s: date_published %q, want %q", c.name, it.Published, want)
		}
		if want := c.in.Updated.UTC().Format(time.RFC3339); it.Modified != want {
			t.Errorf("%s: date_modified %q, want %q", c.name, it.Modified, want)
		}
	}
}

func TestRenderFallbacks(t *testing.T) {
	site := Site{BaseURL: mustURL(t, "https://example.net/"), Language: "not a tag!"}
	a := content.Article{Slug: "x", Title: "X", Language: "??", Published: renderT0}
	docs := renderDocs(t, site, []content.Article{a})

	var atom testAtomFeed
	if err := xml.Unmarshal(docs.Atom, &atom); err != nil {
		t.Fatal(err)
	}
	if atom.ID != "https://example.net/" || atom.Title != "example.net" || !slices.Equal(atom.Author, []string{"example.net"}) {
		t.Errorf("Atom id %q title %q author %q; want the base URL, host, host", atom.ID, atom.Title, atom.Author)
	}
	if atom.Lang != "" || atom.Entries[0].Lang != "" {
		t.Errorf("bad language tags kept: %q %q", atom.Lang, atom.Entries[0].Lang)
	}
	if e := atom.Entries[0]; e.ID != "https://example.net/articles/x" || e.Updated != "2025-03-01T09:00:00Z" {
		t.Errorf("entry id %q updated %q; want its URL and its published date", e.ID, e.Updated)
	}
	var rss testRSS
	if err := xml.Unmarshal(docs.RSS, &rss); err != nil {
		t.Fatal(err)
	}
	if rss.Channel.Description != "example.net" || rss.Channel.Language != "" {
		t.Errorf("RSS description %q language %q", rss.Channel.Description, rss.Channel.Language)
	}
	if g := rss.Channel.Items[0].GUID; g.IsPermaLink != "true" {
		t.Errorf("guid %+v: a URL id is a permalink", g)
	}

	site.Title, site.Language = "Titled", "EN-gb"
	docs = renderDocs(t, site, nil)
	var titled testAtomFeed
	if err := xml.Unmarshal(docs.Atom, &titled); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(titled.Author, []string{"Titled"}) || titled.Lang != "en-GB" {
		t.Errorf("author %q lang %q; want the title and a canonical tag", titled.Author, titled.Lang)
	}
}

func TestRenderNeedsAbsoluteBase(t *testing.T) {
	for _, base := range []*url.URL{nil, {Path: "/blog/"}} {
		if _, err := Render(Site{Title: "t", BaseURL: base}, nil); err == nil {
			t.Errorf("base %v: no error", base)
		}
	}
}

func TestArticleURL(t *testing.T) {
	tests := []struct {
		base, slug, want string
	}{
		{"https://example.org/blog/", "first", "https://example.org/blog/articles/first"},
		{"https://example.org/", "2025/trips/alps", "https://example.org/articles/2025/trips/alps"},
		{"https://example.org/blog/", "notes/été 2025", "https://example.org/blog/articles/notes/%C3%A9t%C3%A9%202025"},
		{"https://example.org/blog/", "a?b#c/100%", "https://example.org/blog/articles/a%3Fb%23c/100%25"},
		{"https://example.org/blog", "x", "https://example.org/blog/articles/x"},
		{"https://example.org", "x", "https://example.org/articles/x"},
		{"https://example.org/my%20blog/?q=1#top", "x", "https://example.org/my%20blog/articles/x"},
		{"https://example.org/blog/", "a;b,c", "https://example.org/blog/articles/a%3Bb%2Cc"},
		{"https://example.org/a%2Fb/", "x", "https://example.org/a%2Fb/articles/x"},
	}
	for _, tt := range tests {
		if got := ArticleURL(mustURL(t, tt.base), tt.slug); got != tt.want {
			t.Errorf("ArticleURL(%q, %q) = %q, want %q", tt.base, tt.slug, got, tt.want)
		}
	}
}

func TestFeedURL(t *testing.T) {
	tests := []struct {
		base, name, want string
	}{
		{"https://example.org/blog/", "feed.atom", "https://example.org/blog/feed.atom"},
		{"http://localhost:8080/", "feed.json", "http://localhost:8080/feed.json"},
		{"https://example.org/blog/", "", "https://example.org/blog/"},
		{"https://example.org/blog/", "a b", "https://example.org/blog/a%20b"},
	}
	for _, tt := range tests {
		if got := FeedURL(mustURL(t, tt.base), tt.name); got != tt.want {
			t.Errorf("FeedURL(%q, %q) = %q, want %q", tt.base, tt.name, got, tt.want)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	site := renderSite(b)
	articles := make([]content.Article, 0, 50)
	for len(articles) < 50 {
		articles = append(articles, renderArticles(renderCases())...)
	}
	for b.Loop() {
		if _, err := Render(site, ptrs(articles[:50])); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAbsoluteURLs(t *testing.T) {
	const page = "https://example.org/blog/articles/2025/post"
	tests := []struct {
		name, in, want string
	}{
		{"parent", `<a href="../x">x</a>`, `<a href="https://example.org/blog/articles/x">x</a>`},
		{"image in a folder", `<p><img src="img/a.png" alt="A"/></p>`, `<p><img src="https://example.org/blog/articles/2025/img/a.png" alt="A"/></p>`},
		{"root", `<a href="/about" rel="nofollow">`, `<a href="https://example.org/about" rel="nofollow">`},
		{"fragment", `<a href="#notes">`, `<a href="https://example.org/blog/articles/2025/post#notes">`},
		{"protocol-relative", `<a href="//cdn.example.com/f.pdf">`, `<a href="https://cdn.example.com/f.pdf">`},
		{"query keeps its escaping", `<a href="s?x=1&amp;y=2">`, `<a href="https://example.org/blog/articles/2025/s?x=1&amp;y=2">`},
		{"space trimmed", `<a href=" a.html ">`, `<a href="https://example.org/blog/articles/2025/a.html">`},
		{"cite and poster", `<blockquote cite="src.html"></blockquote><video poster="p.jpg"></video>`,
			`<blockquote cite="https://example.org/blog/articles/2025/src.html"></blockquote><video poster="https://example.org/blog/articles/2025/p.jpg"></video>`},
		{"srcset", `<img srcset="a.png 1x, b,c.png 2x,https://x.example/d.png 3x, e.png,, f.png (a, b) 4w">`,
			`<img srcset="https://example.org/blog/articles/2025/a.png 1x, https://example.org/blog/articles/2025/b,c.png 2x, https://x.example/d.png 3x, https://example.org/blog/articles/2025/e.png, https://example.org/blog/articles/2025/f.png (a, b) 4w">`},
		{"empty fragment kept", `<a href="x.html#">`, `<a href="https://example.org/blog/articles/2025/x.html#">`},
		{"srcset URL ending in a comma", `<img srcset="a,# 1x, b/.,# 2x">`,
			`<img srcset="https://example.org/blog/articles/2025/a,# 1x, https://example.org/blog/articles/2025/b/.,# 2x">`},
		// What needs no change is kept byte for byte.
		{"absolute kept", `<A HREF='https://example.com/'>x</A>`, `<A HREF='https://example.com/'>x</A>`},
		{"other schemes kept", `<a href="mailto:a@b.example">m</a><img src="data:image/png;base64,AAAA">`, `<a href="mailto:a@b.example">m</a><img src="data:image/png;base64,AAAA">`},
		{"empty kept", `<a href="">x</a>`, `<a href="">x</a>`},
		{"not a URL kept", `<a href="%zz">x</a>`, `<a href="%zz">x</a>`},
		{"text kept", `<p>href="x" ]]> </content> &amp; <b>b</b></p>`, `<p>href="x" ]]> </content> &amp; <b>b</b></p>`},
		{"raw text kept", `<textarea><a href="x"></textarea>`, `<textarea><a href="x"></textarea>`},
		{"comment kept", `<!-- <a href="x"> -->`, `<!-- <a href="x"> -->`},
		{"unfinished tag kept", `<p>a</p><a href="x`, `<p>a</p><a href="x`},
		{"other attributes kept", `<a title="x.html" data-src="y.png">`, `<a title="x.html" data-src="y.png">`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := absoluteURLs(tt.in, page); got != tt.want {
				t.Errorf("absoluteURLs(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRenderResolvesURLs(t *testing.T) {
	a := content.Article{
		ID: "urn:uuid:00000000-0000-4000-8000-000000000010", Slug: "trips/alps", Title: "Alps",
		HTML: `<p><a href="../maps/">Maps</a> <img src="peak.jpg" alt="Peak"></p>`, Published: renderT0,
	}
	want := `<p><a href="https://example.org/blog/articles/maps/">Maps</a> <img src="https://example.org/blog/articles/trips/peak.jpg" alt="Peak"></p>`
	docs := renderDocs(t, renderSite(t), []content.Article{a})
	for _, format := range feedFormats {
		f, err := gofeed.NewParser().ParseString(string(format.doc(docs)))
		if err != nil {
			t.Fatalf("%s: %v", format.name, err)
		}
		if got := f.Items[0].Content; got != want {
			t.Errorf("%s: content %q, want %q", format.name, got, want)
		}
	}
}

func TestRenderStylesheet(t *testing.T) {
	docs := renderDocs(t, renderSite(t), renderArticles(renderCases()))
	for _, format := range feedFormats {
		doc := format.doc(docs)
		if format.name == "json" {
			if bytes.Contains(doc, []byte("feed.xsl")) {
				t.Error("JSON Feed names a style sheet")
			}
			continue
		}
		dec := xml.NewDecoder(bytes.NewReader(doc))
		var pis []string
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			if _, ok := tok.(xml.StartElement); ok {
				break
			}
			if pi, ok := tok.(xml.ProcInst); ok {
				pis = append(pis, pi.Target+" "+string(pi.Inst))
			}
		}
		want := []string{`xml version="1.0" encoding="UTF-8"`, `xml-stylesheet type="text/xsl" href="https://example.org/blog/feed.xsl"`}
		if !slices.Equal(pis, want) {
			t.Errorf("%s: processing instructions before the root %q, want %q", format.name, pis, want)
		}
	}
}

func TestRenderUniqueIDs(t *testing.T) {
	articles := []content.Article{
		{ID: "urn:x:1", Slug: "a", Title: "A", Published: renderT0},
		{ID: "urn:x:1\x01", Slug: "b", Title: "B (the same id once cleaned)", Published: renderT0},
		{ID: " \x02 ", Slug: "c", Title: "C (no id once cleaned)", Published: renderT0},
		{ID: "", Slug: "c", Title: "C again (a duplicate slug)", Published: renderT0},
		{ID: "https://example.org/blog/articles/a", Slug: "d", Title: "D (the id of a's link)", Published: renderT0},
		{ID: "", Slug: "a", Title: "A again", Published: renderT0},
	}
	want := []string{
		"urn:x:1",
		"https://example.org/blog/articles/b",
		"https://example.org/blog/articles/c",
		"https://example.org/blog/articles/c#2",
		"https://example.org/blog/articles/a",
		"https://example.org/blog/articles/a#2",
	}
	docs := renderDocs(t, renderSite(t), articles)
	for _, format := range feedFormats {
		f, err := gofeed.NewParser().ParseString(string(format.doc(docs)))
		if err != nil {
			t.Fatalf("%s: %v", format.name, err)
		}
		var got []string
		for _, it := range f.Items {
			got = append(got, it.GUID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: ids %q, want %q", format.name, got, want)
		}
	}
}

func TestRenderOutOfRangeDates(t *testing.T) {
	far := time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("-23:00", -23*3600))
	early := time.Date(0, 1, 1, 0, 0, 0, 0, time.FixedZone("+05:00", 5*3600))
	articles := []content.Article{
		{ID: "far", Slug: "far", Title: "Far", Published: far, Updated: far},
		{ID: "early", Slug: "early", Title: "Early", Published: early, Updated: renderT0},
	}
	docs := renderDocs(t, renderSite(t), articles)
	want := []struct{ published, updated string }{
		{"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
		// A date before year 1 is missing; the other date stands in.
		{"2025-03-01T09:00:00Z", "2025-03-01T09:00:00Z"},
	}
	var jf testJSONFeed
	if err := json.Unmarshal(docs.JSON, &jf); err != nil {
		t.Fatal(err)
	}
	var atom testAtomFeed
	if err := xml.Unmarshal(docs.Atom, &atom); err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if e := atom.Entries[i]; e.Published != w.published || e.Updated != w.updated {
			t.Errorf("Atom %s: published %q updated %q, want %q %q", articles[i].ID, e.Published, e.Updated, w.published, w.updated)
		}
		if it := jf.Items[i]; it.Published != w.published || it.Modified != w.updated {
			t.Errorf("JSON %s: published %q modified %q, want %q %q", articles[i].ID, it.Published, it.Modified, w.published, w.updated)
		}
	}
}

// Documents are kept as long as they are served: each is a slice with
// little room to spare, not a buffer grown by doubling; so is its gzipped
// form.
// TestDocumentsOutliveTheirBuffers renders, and gzips, a second site after
// a first: documents are written in buffers used again, so a document that
// shared its bytes with one would change under its readers.
func TestDocumentsOutliveTheirBuffers(t *testing.T) {
	first := renderDocs(t, renderSite(t), renderArticles(renderCases()))
	type kept struct{ doc, want, gz []byte }
	var keep []kept
	for _, f := range feedFormats {
		doc := f.doc(first)
		keep = append(keep, kept{doc, bytes.Clone(doc), gzipBytes(doc)})
	}
	other := renderSite(t)
	other.Title = "Another site altogether"
	cases := renderCases()[:1]
	for range 3 {
		for _, f := range feedFormats {
			gzipBytes(f.doc(renderDocs(t, other, renderArticles(cases))))
		}
	}
	for i, f := range feedFormats {
		k := keep[i]
		if !bytes.Equal(k.doc, k.want) {
			t.Errorf("%s: the document changed when another was rendered", f.name)
		}
		zr, err := gzip.NewReader(bytes.NewReader(k.gz))
		if err != nil {
			t.Fatalf("%s gzipped: %v", f.name, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, k.want) {
			t.Errorf("%s gzipped: no longer the document (%v)", f.name, err)
		}
	}
}

func TestRenderKeepsNoSpareRoom(t *testing.T) {
	docs := renderDocs(t, renderSite(t), renderArticles(renderCases()))
	for _, f := range feedFormats {
		doc := f.doc(docs)
		if cap(doc)-len(doc) > len(doc)/8 {
			t.Errorf("%s: %d bytes in a slice of %d", f.name, len(doc), cap(doc))
		}
		if gz := gzipBytes(doc); cap(gz)-len(gz) > len(gz)/8 {
			t.Errorf("%s gzipped: %d bytes in a slice of %d", f.name, len(gz), cap(gz))
		}
	}
}
