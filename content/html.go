package content

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// sanitizer is the policy every article body passes through: bluemonday's
// policy for user-generated content, plus the disabled checkboxes of
// Markdown task lists. It is safe for concurrent use once built.
var sanitizer = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^(checked|disabled)?$`)).OnElements("input")
	return p
})

// sanitize removes from body HTML everything that could run code or load
// things a feed reader should not: scripts, event handlers, javascript: URLs.
func sanitize(s string) string {
	return strings.TrimSpace(sanitizer().Sanitize(s))
}

// parseHTML reads an HTML article: a whole page or a bare fragment. The body
// is the content of <article>, else <main>, else <body>.
func parseHTML(src string) (Parsed, error) {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return Parsed{}, fmt.Errorf("parse html: %w", err)
	}
	page := scanPage(doc)
	var p Parsed
	p.Language = strings.TrimSpace(attr(page.root, "lang"))
	p.Author = collapse(page.meta["author"])
	p.Tags = splitTags(page.meta["keywords"])
	p.Tags = append(p.Tags, page.tags...)

	body := page.body
	switch {
	case page.article != nil:
		body = page.article
	case page.main != nil:
		body = page.main
	}
	if body == nil {
		// html.Parse always builds a <body>; this guards against a change in that.
		body = doc
	}

	h1 := find(body, atom.H1)
	if h1 == nil {
		h1 = find(doc, atom.H1)
	}
	if h1 != nil {
		p.Title = nodeText(h1)
		// The title is shown by the reader apart from the body; keep it out of the body.
		if inside(h1, body) {
			h1.Parent.RemoveChild(h1)
		}
	}
	if p.Title == "" && page.title != nil {
		p.Title = nodeText(page.title)
	}

	published := page.meta["article:published_time"]
	if published == "" {
		if t := findFunc(body, func(n *html.Node) bool { return n.DataAtom == atom.Time && attr(n, "datetime") != "" }); t != nil {
			published = attr(t, "datetime")
		}
	}
	p.Date = metaDate("published date", published, &p.Warnings)
	p.Updated = metaDate("article:modified_time", page.meta["article:modified_time"], &p.Warnings)

	p.Summary = collapse(page.meta["description"])
	if p.Summary == "" {
		p.Summary = collapse(page.meta["og:description"])
	}
	if p.Summary == "" {
		if para := findFunc(body, func(n *html.Node) bool { return n.DataAtom == atom.P && nodeText(n) != "" }); para != nil {
			p.Summary = nodeText(para)
		}
	}
	p.Summary = Summarize(p.Summary, 300)

	var b strings.Builder
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			return Parsed{}, fmt.Errorf("render html: %w", err)
		}
	}
	p.HTML = sanitize(b.String())
	return p, nil
}

// page holds the parts of an HTML document the parser reads.
type page struct {
	root, title, body, main, article *html.Node
	meta                             map[string]string // first content per lower-cased name or property
	tags                             []string          // article:tag values, in order
}

// scanPage walks the document once and picks out the parts parseHTML needs.
func scanPage(doc *html.Node) page {
	pg := page{meta: map[string]string{}}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.DataAtom {
		case atom.Html:
			pg.root = first(pg.root, n)
		case atom.Title:
			pg.title = first(pg.title, n)
		case atom.Body:
			pg.body = first(pg.body, n)
		case atom.Main:
			pg.main = first(pg.main, n)
		case atom.Article:
			pg.article = first(pg.article, n)
		case atom.Meta:
			key := strings.ToLower(strings.TrimSpace(attr(n, "name")))
			if key == "" {
				key = strings.ToLower(strings.TrimSpace(attr(n, "property")))
			}
			content := strings.TrimSpace(attr(n, "content"))
			if key == "" || content == "" {
				continue
			}
			if key == "article:tag" {
				pg.tags = append(pg.tags, content)
			}
			if _, seen := pg.meta[key]; !seen {
				pg.meta[key] = content
			}
		}
	}
	return pg
}

func first(have, n *html.Node) *html.Node {
	if have != nil {
		return have
	}
	return n
}

// metaDate reads a date attribute value; an unreadable one adds a warning.
func metaDate(what, value string, warnings *[]string) time.Time {
	if strings.TrimSpace(value) == "" {
		return time.Time{}
	}
	t, err := parseDate(value)
	if err != nil {
		*warnings = append(*warnings, fmt.Sprintf("%s: %v", what, err))
	}
	return t
}

// splitTags splits a comma-separated keyword list.
func splitTags(s string) []string {
	var out []string
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

// find returns the first element below root (in document order) with the given tag.
func find(root *html.Node, a atom.Atom) *html.Node {
	return findFunc(root, func(n *html.Node) bool { return n.DataAtom == a })
}

// findFunc returns the first element below root (in document order) that match accepts.
func findFunc(root *html.Node, match func(*html.Node) bool) *html.Node {
	for n := range root.Descendants() {
		if n.Type == html.ElementNode && match(n) {
			return n
		}
	}
	return nil
}

func inside(n, root *html.Node) bool {
	for ; n != nil; n = n.Parent {
		if n == root {
			return true
		}
	}
	return false
}

// htmlText returns the plain text of an HTML fragment, whitespace collapsed.
func htmlText(fragment string) (string, error) {
	parent := &html.Node{Type: html.ElementNode, DataAtom: atom.Body, Data: "body"}
	nodes, err := html.ParseFragment(strings.NewReader(fragment), parent)
	if err != nil {
		return "", fmt.Errorf("read html text: %w", err)
	}
	var b strings.Builder
	for _, n := range nodes {
		writeText(&b, n)
	}
	return collapse(b.String()), nil
}

// nodeText returns the plain text of n, whitespace collapsed.
func nodeText(n *html.Node) string {
	var b strings.Builder
	writeText(&b, n)
	return collapse(b.String())
}

func writeText(b *strings.Builder, n *html.Node) {
	switch n.Type {
	case html.TextNode:
		b.WriteString(n.Data)
		return
	case html.CommentNode, html.DoctypeNode:
		return
	case html.ElementNode:
		switch n.DataAtom {
		case atom.Script, atom.Style, atom.Template, atom.Noscript:
			return
		}
	}
	// Block boundaries and line breaks separate words even without whitespace in the source.
	gap := n.Type == html.ElementNode && !isInline(n.DataAtom)
	if gap {
		b.WriteByte(' ')
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		writeText(b, c)
	}
	if gap {
		b.WriteByte(' ')
	}
}

// isInline reports whether an element's text runs on with its neighbours'.
func isInline(a atom.Atom) bool {
	switch a {
	case atom.A, atom.Abbr, atom.B, atom.Bdi, atom.Bdo, atom.Cite, atom.Code, atom.Data, atom.Del,
		atom.Dfn, atom.Em, atom.Font, atom.I, atom.Ins, atom.Kbd, atom.Mark, atom.Q, atom.S,
		atom.Samp, atom.Small, atom.Span, atom.Strike, atom.Strong, atom.Sub, atom.Sup, atom.Time,
		atom.U, atom.Var:
		return true
	}
	return false
}

// collapse trims s and turns every run of whitespace into one space.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
