package content

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"gopkg.in/yaml.v3"
)

// markdown is the one goldmark instance every file is rendered with; it is
// safe for concurrent use once built. Raw HTML passes through the renderer
// because the output is sanitised afterwards.
var markdown = sync.OnceValue(func() goldmark.Markdown {
	return goldmark.New(
		// GitHub Flavored Markdown, spelled out to choose how tables align cells.
		goldmark.WithExtensions(
			extension.Strikethrough,
			extension.Linkify,
			extension.TaskList,
			// Align cells with the align attribute, which the sanitiser keeps; it drops style.
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		),
		goldmark.WithRendererOptions(html.WithUnsafe()),
	)
})

// parseMarkdown reads a Markdown article with optional YAML (---) or TOML
// (+++) front matter. A malformed front matter is an error; a field that
// cannot be used, such as an unreadable date, is a warning.
//
// With deferBody, an article whose front matter gives its title is not
// rendered: its Parsed keeps the body's source for renderMarkdown, which
// gives the summary and HTML the full parse would have. Rendering is most
// of a Markdown file's cost, and a feed shows few of a folder's articles.
func parseMarkdown(src string, deferBody bool) (Parsed, error) {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	fields, body, err := splitFrontMatter(src)
	if err != nil {
		return Parsed{}, fmt.Errorf("front matter: %w", err)
	}
	p := fields.parsed()
	// A summary that cleaning empties is kept empty by the full parse,
	// where an empty one is deferred to the first paragraph's: not deferred.
	if deferBody && p.Title != "" && (p.Summary == "" || CleanText(p.Summary) != "") {
		p.deferred, p.source = true, body
		return p, nil
	}

	md := markdown()
	source := []byte(body)
	doc := md.Parser().Parse(text.NewReader(source))
	if p.Title == "" {
		if h := firstTitleHeading(doc); h != nil {
			title, err := renderPlain(md, source, h)
			if err != nil {
				return Parsed{}, err
			}
			p.Title = title
			// The title is shown by the reader apart from the body; keep it out of the body.
			doc.RemoveChild(doc, h)
		}
	}
	p.Summary, p.HTML, err = renderMarkdownDoc(md, source, doc, p.Summary)
	if err != nil {
		return Parsed{}, err
	}
	return p, nil
}

// renderMarkdown renders the body source of a Markdown article whose
// parse was deferred, with the summary its front matter gave ("" for
// none), to the cleaned summary and HTML Parse gives such an article.
func renderMarkdown(body, summary string) (string, string, error) {
	md := markdown()
	source := []byte(body)
	doc := md.Parser().Parse(text.NewReader(source))
	summary, html, err := renderMarkdownDoc(md, source, doc, summary)
	if err != nil {
		return "", "", err
	}
	return CleanText(summary), CleanText(html), nil
}

// renderMarkdownDoc renders doc to sanitised HTML, and returns summary or,
// when it is empty, the start of the first paragraph with text.
func renderMarkdownDoc(md goldmark.Markdown, source []byte, doc ast.Node, summary string) (string, string, error) {
	if summary == "" {
		first, err := firstParagraphText(md, source, doc)
		if err != nil {
			return "", "", err
		}
		summary = Summarize(first, 300)
	}
	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, source, doc); err != nil {
		return "", "", fmt.Errorf("render markdown: %w", err)
	}
	return summary, sanitize(buf.String()), nil
}

// firstTitleHeading returns the first level-1 heading at the top level of
// the document, or nil.
func firstTitleHeading(doc ast.Node) *ast.Heading {
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok && h.Level == 1 {
			return h
		}
	}
	return nil
}

// firstParagraphText returns the plain text of the first paragraph that has
// any, in document order.
func firstParagraphText(md goldmark.Markdown, source []byte, doc ast.Node) (string, error) {
	var plain string
	var renderErr error
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering || n.Kind() != ast.KindParagraph {
			return ast.WalkContinue, nil
		}
		plain, renderErr = renderPlain(md, source, n)
		if renderErr == nil && plain == "" {
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkStop, nil
	})
	return plain, errors.Join(err, renderErr)
}

// renderPlain renders one node to HTML and returns its text, so that
// escapes, entities and inline markup come out exactly as a reader sees them.
func renderPlain(md goldmark.Markdown, source []byte, n ast.Node) (string, error) {
	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, source, n); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return htmlText(buf.String())
}

// frontMatter holds front matter fields by lower-cased key.
type frontMatter map[string]any

// splitFrontMatter separates a leading YAML or TOML block from the body.
// Text without one is returned whole as the body.
func splitFrontMatter(src string) (frontMatter, string, error) {
	opening, rest, _ := strings.Cut(src, "\n")
	var closers []string
	switch strings.TrimRight(opening, " \t") {
	case "---":
		closers = []string{"---", "..."}
	case "+++":
		closers = []string{"+++"}
	default:
		return nil, src, nil
	}
	var block strings.Builder
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		for _, c := range closers {
			if strings.TrimRight(line, " \t") == c {
				fields, err := decodeFrontMatter(closers[0], block.String())
				return fields, rest, err
			}
		}
		block.WriteString(line)
		block.WriteByte('\n')
	}
	return nil, "", fmt.Errorf("no closing %s line", closers[0])
}

// decodeFrontMatter decodes a YAML ("---") or TOML ("+++") block.
func decodeFrontMatter(delim, block string) (frontMatter, error) {
	raw := map[string]any{}
	if delim == "+++" {
		// Both libraries prefix their errors with "toml:" or "yaml:" already.
		if _, err := toml.Decode(block, &raw); err != nil {
			return nil, err
		}
	} else if simple, ok := simpleYAML(block); ok {
		raw = simple
	} else if err := yaml.Unmarshal([]byte(block), &raw); err != nil {
		return nil, err
	}
	fields := make(frontMatter, len(raw))
	for k, v := range raw {
		fields[strings.ToLower(k)] = v
	}
	return fields, nil
}

// parsed turns front matter fields into a Parsed, with warnings for values
// of the wrong kind.
func (f frontMatter) parsed() Parsed {
	var p Parsed
	p.Title = f.text("title")
	p.Summary = f.text("summary", "description")
	p.ID = f.text("id")
	p.Language = f.text("lang", "language")
	p.Author = strings.Join(f.names("author", "authors"), ", ")
	p.Tags = append(f.names("tags"), f.names("categories")...)
	p.Date = f.date("date", &p.Warnings)
	p.Updated = f.date("updated", &p.Warnings)
	if p.Updated.IsZero() {
		p.Updated = f.date("lastmod", &p.Warnings)
	}
	if v, ok := f["draft"]; ok {
		switch d := v.(type) {
		case bool:
			p.Draft = d
		case string:
			b, err := strconv.ParseBool(d)
			if err != nil {
				p.Warnings = append(p.Warnings, fmt.Sprintf("front matter draft: %q is not true or false", d))
			}
			p.Draft = b
		default:
			p.Warnings = append(p.Warnings, fmt.Sprintf("front matter draft: %v is not true or false", v))
		}
	}
	return p
}

// text returns the first of keys that is set, as trimmed text.
func (f frontMatter) text(keys ...string) string {
	for _, k := range keys {
		if v, ok := f[k]; ok && v != nil {
			if s := strings.TrimSpace(scalar(v)); s != "" {
				return s
			}
		}
	}
	return ""
}

// names reads a list field given as a list, a comma-separated string, or
// entries that are maps with a "name" (as some themes write authors).
func (f frontMatter) names(keys ...string) []string {
	var out []string
	for _, k := range keys {
		switch v := f[k].(type) {
		case nil:
		case string:
			for s := range strings.SplitSeq(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		case []any:
			for _, e := range v {
				if s := strings.TrimSpace(scalar(e)); s != "" {
					out = append(out, s)
				}
			}
		default:
			if s := strings.TrimSpace(scalar(v)); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// scalar renders a front matter value as text; a map yields its "name".
func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case map[string]any:
		return scalar(v["name"])
	case time.Time:
		return v.Format(time.RFC3339)
	case []any, []map[string]any:
		return ""
	}
	return fmt.Sprint(v)
}

// date reads a date field; a value that is not a date adds a warning.
func (f frontMatter) date(key string, warnings *[]string) time.Time {
	switch v := f[key].(type) {
	case nil:
		return time.Time{}
	case time.Time:
		return zonelessAsUTC(v).UTC()
	case string:
		if strings.TrimSpace(v) == "" {
			return time.Time{}
		}
		t, err := parseDate(v)
		if err != nil {
			*warnings = append(*warnings, fmt.Sprintf("front matter %s: %v", key, err))
		}
		return t
	default:
		*warnings = append(*warnings, fmt.Sprintf("front matter %s: %v is not a date", key, v))
		return time.Time{}
	}
}

// zonelessAsUTC reads a TOML local date or date-time as UTC: the TOML
// decoder gives those the machine's offset, which would make the feed
// depend on where dropfeed runs.
func zonelessAsUTC(t time.Time) time.Time {
	switch t.Location().String() {
	case "date-local", "datetime-local":
		y, m, d := t.Date()
		return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	return t
}

// dateLayouts are the date forms articles may use; those without a zone are UTC.
var dateLayouts = []string{
	time.RFC3339,
	"2006-01-02",
	"2006-01-02 15:04",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
}

// parseDate reads a date in one of dateLayouts and returns it in UTC.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a date (use YYYY-MM-DD or RFC 3339)", s)
}
