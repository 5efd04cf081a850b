package feed

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/feeds"
	xhtml "golang.org/x/net/html"
	"golang.org/x/text/language"

	"github.com/dropfeed/dropfeed/content"
)

// Site describes the feed as a whole.
type Site struct {
	ID          string   // stable feed id (urn:uuid:...) kept by the caller; when empty the base URL is used
	Title       string   // feed title; the base URL's host when empty
	Description string   // optional; RSS needs one: falls back to Title
	Author      string   // feed-level author; falls back to Title when empty
	Language    string   // optional BCP 47 tag
	BaseURL     *url.URL // absolute, path ends with "/"; links are resolved against it
}

// Documents are the rendered bytes of the three feeds for one set of articles.
type Documents struct {
	Atom, RSS, JSON []byte
	Updated         time.Time // newest Updated among the articles (UTC, whole seconds); zero when there are none
}

// Namespaces and fixed values of the rendered documents.
const (
	atomNS        = "http://www.w3.org/2005/Atom"
	rssContentNS  = "http://purl.org/rss/1.0/modules/content/"
	dublinCoreNS  = "http://purl.org/dc/elements/1.1/"
	atomMediaType = "application/atom+xml"
	rssMediaType  = "application/rss+xml"
	historyNS     = "http://purl.org/syndication/history/1.0" // RFC 5005
	tombstonesNS  = "http://purl.org/atompub/tombstones/1.0"  // RFC 6721
	rfc5005URL    = "https://www.rfc-editor.org/rfc/rfc5005"
)

// emptyFeedUpdated is the Atom feed's updated date when there are no
// articles: Atom requires one, and it must not depend on when we render.
var emptyFeedUpdated = time.Unix(0, 0).UTC()

// Render renders the given articles, in the given order, as Atom 1.0, RSS 2.0
// and JSON Feed 1.1. It neither filters, sorts nor limits them. Every string
// is made valid UTF-8 without XML-illegal characters first, relative URLs in
// article HTML are resolved against the article's URL, every entry gets a
// non-empty id unique within the feed, and the same input always gives the
// same bytes. Atom and RSS name <base>feed.xsl as their browser style sheet.
func Render(site Site, articles []*content.Article) (Documents, error) {
	return render(site, docInfo{path: mainFeedPath}, articles, builtEntry(site))
}

// builtEntry returns a function that builds an article's feed entry anew.
func builtEntry(site Site) func(*content.Article) (entry, error) {
	return func(a *content.Article) (entry, error) { return newEntry(site.BaseURL, a) }
}

// mainFeedPath is the served path of the main feed, without its extension.
const mainFeedPath = "feed"

// history is the RFC 5005 kind of a feed document.
type history int

const (
	historyNone     history = iota // a partial view, such as a tag's feed
	historyComplete                // fh:complete: the document holds every entry
	historyArchive                 // fh:archive: one archive document of the feed
)

// docLink is a link from one feed document to another of the same kind,
// in the same format: rel is an RFC 5005 relation.
type docLink struct {
	rel, path string // path without extension, as in docInfo
}

// tombstone is an RFC 6721 deleted entry: the feed id it had and when it went.
type tombstone struct {
	ref  string
	when time.Time
}

// docInfo is what sets one feed document apart from the others of a site.
// Its zero value but for path is a plain feed.
type docInfo struct {
	path       string      // served path without extension: "feed", "archive/3", "tags/go"
	id         string      // feed id; the site's when empty
	title      string      // appended to the site title when not empty
	history    history     // RFC 5005 marker
	links      []docLink   // RFC 5005 links to the feed's other documents
	hubs       []string    // WebSub hubs announced in the document
	tombstones []tombstone // Atom only
}

// docURL returns the absolute URL of the document at path in one format.
func docURL(base *url.URL, path, ext string) string {
	return resolve(base, strings.Split(path+"."+ext, "/"))
}

// render renders the articles, in the given order, as the three documents
// that info describes, with entryOf giving each article's entry.
func render(site Site, info docInfo, articles []*content.Article, entryOf func(*content.Article) (entry, error)) (Documents, error) {
	if site.BaseURL == nil || !site.BaseURL.IsAbs() {
		return Documents{}, errors.New("render feeds: site base URL must be absolute")
	}
	ch := newChannel(site, info)
	entries := make([]entry, len(articles))
	ids := make(map[string]bool, len(articles))
	for i, a := range articles {
		var err error
		if entries[i], err = entryOf(a); err != nil {
			return Documents{}, fmt.Errorf("render feeds: %w", err)
		}
		entries[i].id = uniqueID(ids, entries[i].id, entries[i].link)
		if entries[i].updated.After(ch.updated) {
			ch.updated = entries[i].updated
		}
	}
	gf := ch.gorillaFeed(entries)

	var docs Documents
	var err error
	if docs.Atom, err = renderAtom(ch, entries, gf); err != nil {
		return Documents{}, fmt.Errorf("render Atom feed: %w", err)
	}
	if docs.RSS, err = renderRSS(ch, entries, gf); err != nil {
		return Documents{}, fmt.Errorf("render RSS feed: %w", err)
	}
	if docs.JSON, err = renderJSON(ch, entries, gf); err != nil {
		return Documents{}, fmt.Errorf("render JSON feed: %w", err)
	}
	docs.Updated = ch.updated
	return docs, nil
}

// ArticleURL returns the absolute URL of an article's HTML page:
// <base>articles/<slug>, each slug path segment escaped.
func ArticleURL(base *url.URL, slug string) string {
	return resolve(base, append([]string{"articles"}, strings.Split(slug, "/")...))
}

// FeedURL returns the absolute URL of a served file such as "feed.atom".
func FeedURL(base *url.URL, name string) string {
	return resolve(base, []string{name})
}

// resolve appends the escaped path segments to base's directory path.
func resolve(base *url.URL, segments []string) string {
	u := *base
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	dir, rawDir := u.Path, u.EscapedPath()
	if !strings.HasSuffix(dir, "/") {
		dir, rawDir = dir+"/", rawDir+"/"
	}
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	u.Path = dir + strings.Join(segments, "/")
	u.RawPath = rawDir + strings.Join(escaped, "/")
	return u.String()
}

// uniqueID returns id, or when an earlier entry has it (two ids that differ
// only in characters the feeds cannot carry) the entry's link, numbered if
// need be, so readers never merge two entries. It records the result in seen.
func uniqueID(seen map[string]bool, id, link string) string {
	if seen[id] {
		id = link
		for n := 2; seen[id]; n++ {
			id = link + "#" + strconv.Itoa(n)
		}
	}
	seen[id] = true
	return id
}

// channel is the feed-level data every format uses, already cleaned.
type channel struct {
	id, title, description, author, lang string
	home, atomURL, rssURL, jsonURL       string
	stylesheetURL                        string
	updated                              time.Time // newest entry update; zero when none
	base                                 *url.URL
	info                                 docInfo
}

func newChannel(site Site, info docInfo) channel {
	home := FeedURL(site.BaseURL, "")
	ch := channel{
		id:            xmlText(cmp.Or(info.id, site.ID)),
		title:         xmlText(site.Title),
		description:   xmlText(site.Description),
		author:        xmlText(site.Author),
		lang:          languageTag(site.Language),
		home:          home,
		atomURL:       docURL(site.BaseURL, info.path, "atom"),
		rssURL:        docURL(site.BaseURL, info.path, "rss"),
		jsonURL:       docURL(site.BaseURL, info.path, "json"),
		stylesheetURL: FeedURL(site.BaseURL, StylesheetName),
		base:          site.BaseURL,
		info:          info,
	}
	if ch.id == "" {
		ch.id = home
	}
	if ch.title == "" {
		ch.title = site.BaseURL.Host
	}
	if ch.author == "" {
		// The site's name, not the tag's or the page's.
		ch.author = ch.title
	}
	if t := xmlText(info.title); t != "" {
		ch.title += ": " + t
	}
	return ch
}

// links returns the document's RFC 5005 links, then its hubs, as Atom links
// to documents of the format with extension ext and media type.
func (ch channel) links(ext, mediaType string) []feeds.AtomLink {
	var links []feeds.AtomLink
	for _, l := range ch.info.links {
		links = append(links, feeds.AtomLink{Href: docURL(ch.base, l.path, ext), Rel: l.rel, Type: mediaType})
	}
	for _, hub := range ch.info.hubs {
		links = append(links, feeds.AtomLink{Href: xmlText(hub), Rel: "hub"})
	}
	return links
}

// marker is the empty element of an RFC 5005 marker such as fh:archive.
type marker struct{}

// historyMarkers returns the fh:complete and fh:archive elements of the
// document, nil when it has none, and the namespace to declare for them.
func (ch channel) historyMarkers() (complete, archive *marker, ns string) {
	switch ch.info.history {
	case historyComplete:
		return &marker{}, nil, historyNS
	case historyArchive:
		return nil, &marker{}, historyNS
	}
	return nil, nil, ""
}

// gorillaFeed builds the library's generic feed. Ids are always set so the
// library never invents random ones, and times are in UTC, whole seconds.
func (ch channel) gorillaFeed(entries []entry) *feeds.Feed {
	f := &feeds.Feed{
		Id:          ch.id,
		Title:       ch.title,
		Description: ch.description,
		Link:        &feeds.Link{Href: ch.home, Rel: "alternate", Type: "text/html"},
		Author:      &feeds.Author{Name: ch.author},
		Updated:     ch.updated,
		Items:       make([]*feeds.Item, len(entries)),
	}
	for i, e := range entries {
		item := &feeds.Item{
			Id:          e.id,
			Title:       e.title,
			Link:        &feeds.Link{Href: e.link, Rel: "alternate", Type: "text/html"},
			Description: e.summary,
			Content:     e.html,
			Created:     e.published,
			Updated:     e.updated,
			IsPermaLink: "false",
		}
		if isHTTPURL(e.id) {
			item.IsPermaLink = "true"
		}
		if e.author != "" {
			item.Author = &feeds.Author{Name: e.author}
		}
		f.Items[i] = item
	}
	return f
}

// entry is one article as the feeds show it, already cleaned.
type entry struct {
	id, link, title, summary, html, author, lang string
	tags                                         []string
	published, updated                           time.Time
}

func newEntry(base *url.URL, a *content.Article) (entry, error) {
	body, err := a.LoadHTML()
	if err != nil {
		return entry{}, err
	}
	summary, err := a.LoadSummary()
	if err != nil {
		return entry{}, err
	}
	link := ArticleURL(base, a.Slug)
	e := entry{
		id:        strings.TrimSpace(xmlText(a.ID)),
		link:      link,
		title:     xmlText(a.Title),
		summary:   xmlText(summary),
		html:      absoluteURLs(xmlText(body), link),
		author:    strings.TrimSpace(xmlText(a.Author)),
		lang:      languageTag(a.Language),
		published: feedTime(a.Published),
		updated:   feedTime(a.Updated),
	}
	if e.id == "" {
		e.id = e.link
	}
	// Every format wants both dates; each stands in for the other when missing.
	if e.updated.IsZero() {
		e.updated = e.published
	}
	if e.published.IsZero() {
		e.published = e.updated
	}
	for _, t := range a.Tags {
		if t = strings.TrimSpace(xmlText(t)); t != "" {
			e.tags = append(e.tags, t)
		}
	}
	return e, nil
}

// lastFeedTime is the latest instant every format can write: RFC 3339 and
// JSON have four-digit years.
var lastFeedTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// feedTime is t as every format prints it: UTC, whole seconds. A time
// before year 1 counts as missing and one after year 9999 is clamped, so
// that no date can make rendering fail.
func feedTime(t time.Time) time.Time {
	t = t.UTC()
	switch {
	case t.IsZero() || t.Year() < 1:
		return time.Time{}
	case t.After(lastFeedTime):
		return lastFeedTime
	}
	return t.Truncate(time.Second)
}

// xmlText is content.CleanText: the feeds must stay well-formed whatever
// strings they are given, not only those Parse produced.
func xmlText(s string) string { return content.CleanText(s) }

// languageTag returns the canonical form of a BCP 47 tag, or "" when s is
// empty or not a well-formed tag, so no format ever carries a bad language.
func languageTag(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	tag, err := language.Parse(s)
	if err != nil || tag == language.Und {
		return ""
	}
	return tag.String()
}

// isHTTPURL reports whether s is an absolute http or https URL, which RSS
// readers may take for a permalink.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// encodeXML marshals v, indented, after the XML declaration and a
// processing instruction naming the XSLT style sheet at stylesheetURL.
func encodeXML(v any, stylesheetURL string) ([]byte, error) {
	buf := getScratch()
	defer putScratch(buf)
	buf.WriteString(xml.Header)
	// Pseudo-attribute values take the same escapes as attribute values.
	fmt.Fprintf(buf, "<?xml-stylesheet type=\"text/xsl\" href=\"%s\"?>\n", html.EscapeString(stylesheetURL))
	enc := xml.NewEncoder(buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return copied(buf), nil
}

// scratch holds the buffers documents are written in before they are
// copied out at their size. A document is kept while it is served, and a
// buffer grown to fit it would keep its room to grow (a third of it on
// average, when grown by doubling); sized in advance from the entries, it
// was copied out anyway when the guess was high. Each change writes every
// feed it touches again, so the buffers are worth keeping between changes;
// the pool lets the collector have them when changes stop.
var scratch = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxScratch is the largest buffer put back in scratch: a rare large page
// is not worth holding on to.
const maxScratch = 4 << 20

func getScratch() *bytes.Buffer { return scratch.Get().(*bytes.Buffer) }

// copied returns a copy of buf's bytes in a slice of their length (where
// bytes.Clone leaves append's room to spare).
func copied(buf *bytes.Buffer) []byte {
	out := make([]byte, buf.Len())
	copy(out, buf.Bytes())
	return out
}

func putScratch(buf *bytes.Buffer) {
	if buf.Cap() > maxScratch {
		return
	}
	buf.Reset()
	scratch.Put(buf)
}

// atomFeed is gorilla's AtomFeed plus what RFC 4287 feeds should have and
// the library lacks: xml:lang, a rel="self" link and typed links.
// The xml:lang fields use the XML namespace, for which the encoder writes
// the reserved "xml" prefix without declaring it.
type atomFeed struct {
	XMLName  xml.Name `xml:"feed"`
	Xmlns    string   `xml:"xmlns,attr"`
	FHNS     string   `xml:"xmlns:fh,attr,omitempty"`
	AtNS     string   `xml:"xmlns:at,attr,omitempty"`
	Lang     string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	ID       string   `xml:"id"`
	Title    string   `xml:"title"`
	Subtitle string   `xml:"subtitle,omitempty"`
	Updated  string   `xml:"updated"`
	Links    []feeds.AtomLink
	Complete *marker `xml:"fh:complete"`
	Archive  *marker `xml:"fh:archive"`
	Author   *feeds.AtomAuthor
	// Before the entries: RFC 4287's schema wants entries last.
	Deleted []atomDeletedEntry
	Entries []atomEntry
}

// atomDeletedEntry is an RFC 6721 tombstone.
type atomDeletedEntry struct {
	XMLName xml.Name `xml:"at:deleted-entry"`
	Ref     string   `xml:"ref,attr"`
	When    string   `xml:"when,attr"`
}

// atomEntry is gorilla's AtomEntry plus xml:lang, the published date and
// one category element with a term per tag.
type atomEntry struct {
	XMLName    xml.Name `xml:"entry"`
	Lang       string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	ID         string   `xml:"id"`
	Title      string   `xml:"title"`
	Links      []feeds.AtomLink
	Published  string `xml:"published,omitempty"`
	Updated    string `xml:"updated"`
	Author     *feeds.AtomAuthor
	Categories []atomCategory
	Summary    *feeds.AtomSummary
	Content    *feeds.AtomContent
}

type atomCategory struct {
	XMLName xml.Name `xml:"category"`
	Term    string   `xml:"term,attr"`
}

func renderAtom(ch channel, entries []entry, gf *feeds.Feed) ([]byte, error) {
	g := (&feeds.Atom{Feed: gf}).AtomFeed()
	updated := g.Updated
	if updated == "" {
		updated = emptyFeedUpdated.Format(time.RFC3339)
	}
	complete, archive, fhNS := ch.historyMarkers()
	doc := atomFeed{
		Xmlns:    g.Xmlns,
		FHNS:     fhNS,
		Lang:     ch.lang,
		ID:       ch.id,
		Title:    g.Title,
		Subtitle: g.Subtitle,
		Updated:  updated,
		Links: append([]feeds.AtomLink{
			{Href: ch.atomURL, Rel: "self", Type: atomMediaType},
			{Href: g.Link.Href, Rel: "alternate", Type: "text/html"},
		}, ch.links("atom", atomMediaType)...),
		Complete: complete,
		Archive:  archive,
		Author:   g.Author,
		Entries:  make([]atomEntry, len(g.Entries)),
	}
	for _, t := range ch.info.tombstones {
		doc.AtNS = tombstonesNS
		doc.Deleted = append(doc.Deleted, atomDeletedEntry{Ref: xmlText(t.ref), When: feedTime(t.when).Format(time.RFC3339)})
	}
	for i, ge := range g.Entries {
		e := entries[i]
		ae := atomEntry{
			Lang:      e.lang,
			ID:        ge.Id,
			Title:     ge.Title,
			Links:     []feeds.AtomLink{{Href: e.link, Rel: "alternate", Type: "text/html"}},
			Published: e.published.Format(time.RFC3339),
			Updated:   ge.Updated,
			Author:    ge.Author,
			Summary:   ge.Summary,
			Content:   ge.Content,
		}
		if ae.Updated == "" {
			ae.Updated = emptyFeedUpdated.Format(time.RFC3339)
		}
		if e.published.IsZero() {
			ae.Published = ""
		}
		// Summaries are plain text; gorilla assumes HTML.
		if ae.Summary != nil {
			ae.Summary.Type = "text"
		}
		for _, t := range e.tags {
			ae.Categories = append(ae.Categories, atomCategory{Term: t})
		}
		doc.Entries[i] = ae
	}
	return encodeXML(doc, ch.stylesheetURL)
}

// rssDocument is gorilla's RssFeedXml with the atom and dc namespaces
// declared as well as content.
type rssDocument struct {
	XMLName   xml.Name `xml:"rss"`
	Version   string   `xml:"version,attr"`
	ContentNS string   `xml:"xmlns:content,attr"`
	AtomNS    string   `xml:"xmlns:atom,attr"`
	DCNS      string   `xml:"xmlns:dc,attr"`
	FHNS      string   `xml:"xmlns:fh,attr,omitempty"`
	Channel   rssChannel
}

// rssChannel is the subset of gorilla's RssFeed we fill, plus atom:link
// elements and the RFC 5005 markers (its appendix B puts them in channel).
type rssChannel struct {
	XMLName       xml.Name      `xml:"channel"`
	Title         string        `xml:"title"`
	Link          string        `xml:"link"`
	Description   string        `xml:"description"`
	AtomLinks     []rssAtomLink `xml:"atom:link"`
	Complete      *marker       `xml:"fh:complete"`
	Archive       *marker       `xml:"fh:archive"`
	Language      string        `xml:"language,omitempty"`
	PubDate       string        `xml:"pubDate,omitempty"`
	LastBuildDate string        `xml:"lastBuildDate,omitempty"`
	Items         []rssItem
}

type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

// rssItem is gorilla's RssItem with dc:creator instead of author (which
// RSS reserves for an email address) and one category per tag.
type rssItem struct {
	XMLName     xml.Name `xml:"item"`
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	Description string   `xml:"description"`
	Creator     string   `xml:"dc:creator,omitempty"`
	Categories  []string `xml:"category"`
	GUID        *feeds.RssGuid
	PubDate     string `xml:"pubDate,omitempty"`
	Content     *feeds.RssContent
}

func renderRSS(ch channel, entries []entry, gf *feeds.Feed) ([]byte, error) {
	g := (&feeds.Rss{Feed: gf}).RssFeed()
	description := g.Description
	if description == "" {
		description = g.Title
	}
	complete, archive, fhNS := ch.historyMarkers()
	atomLinks := []rssAtomLink{{Href: ch.rssURL, Rel: "self", Type: rssMediaType}}
	for _, l := range ch.links("rss", rssMediaType) {
		atomLinks = append(atomLinks, rssAtomLink{Href: l.Href, Rel: l.Rel, Type: l.Type})
	}
	doc := rssDocument{
		Version:   "2.0",
		ContentNS: rssContentNS,
		AtomNS:    atomNS,
		DCNS:      dublinCoreNS,
		FHNS:      fhNS,
		Channel: rssChannel{
			Title:         g.Title,
			Link:          g.Link,
			Description:   description,
			AtomLinks:     atomLinks,
			Complete:      complete,
			Archive:       archive,
			Language:      ch.lang,
			PubDate:       g.PubDate,
			LastBuildDate: g.LastBuildDate,
			Items:         make([]rssItem, len(g.Items)),
		},
	}
	for i, gi := range g.Items {
		e := entries[i]
		doc.Channel.Items[i] = rssItem{
			Title: gi.Title,
			Link:  gi.Link,
			// Readers take description for HTML; the summary is plain text.
			Description: html.EscapeString(gi.Description),
			Creator:     e.author,
			Categories:  e.tags,
			GUID:        gi.Guid,
			PubDate:     gi.PubDate,
			Content:     gi.Content,
		}
	}
	return encodeXML(doc, ch.stylesheetURL)
}

// jsonFeed is gorilla's JSONFeed with items present even when empty and
// without the "author" members that JSON Feed 1.1 deprecates.
type jsonFeed struct {
	*feeds.JSONFeed
	Items   []jsonItem   `json:"items"`
	Archive *jsonArchive `json:"_archive,omitempty"`
}

// jsonArchive is a JSON Feed extension object carrying what RFC 5005 says
// in Atom: whether the document is complete or an archive page, and the
// URLs of the current feed and of the neighbouring archive pages.
type jsonArchive struct {
	About       string `json:"about"`
	Complete    bool   `json:"complete,omitempty"`
	Archive     bool   `json:"archive,omitempty"`
	Current     string `json:"current,omitempty"`
	PrevArchive string `json:"prev_archive,omitempty"`
	NextArchive string `json:"next_archive,omitempty"`
}

// jsonItem is gorilla's JSONItem plus the item's language.
type jsonItem struct {
	*feeds.JSONItem
	Language string `json:"language,omitempty"`
}

func renderJSON(ch channel, entries []entry, gf *feeds.Feed) ([]byte, error) {
	g := (&feeds.JSON{Feed: gf}).JSONFeed()
	g.FeedUrl = ch.jsonURL
	g.Language = ch.lang
	g.Author = nil
	for _, hub := range ch.info.hubs {
		g.Hubs = append(g.Hubs, &feeds.JSONHub{Type: "WebSub", Url: hub})
	}
	doc := jsonFeed{JSONFeed: g, Items: make([]jsonItem, len(g.Items))}
	if ch.info.history != historyNone || len(ch.info.links) > 0 {
		ext := &jsonArchive{
			About:    rfc5005URL,
			Complete: ch.info.history == historyComplete,
			Archive:  ch.info.history == historyArchive,
		}
		for _, l := range ch.info.links {
			u := docURL(ch.base, l.path, "json")
			switch l.rel {
			case "current":
				ext.Current = u
			case "prev-archive":
				// JSON Feed pages with next_url, towards older items.
				ext.PrevArchive, g.NextUrl = u, u
			case "next-archive":
				ext.NextArchive = u
			}
		}
		doc.Archive = ext
	}
	for i, gi := range g.Items {
		e := entries[i]
		gi.Tags = e.tags
		gi.Author = nil
		// JSON Feed requires content_html or content_text in every item.
		if gi.ContentHTML == "" {
			gi.ContentText = cmp.Or(e.summary, e.title, e.id)
		}
		doc.Items[i] = jsonItem{JSONItem: gi, Language: e.lang}
	}
	buf := getScratch()
	defer putScratch(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return copied(buf), nil
}

// urlAttributes are the attributes whose value is one URL, on any element.
var urlAttributes = map[string]bool{"href": true, "src": true, "cite": true, "poster": true}

// absoluteURLs returns body with every relative URL in href, src, cite,
// poster and srcset attributes resolved against pageURL, as a browser would
// on the article's own page. Feed readers show content away from that page,
// and many ignore xml:base. Tags without a relative URL, and everything
// between tags, are kept byte for byte.
func absoluteURLs(body, pageURL string) string {
	base, err := url.Parse(pageURL)
	if err != nil || !strings.Contains(body, "=") {
		return body
	}
	z := xhtml.NewTokenizer(strings.NewReader(body))
	var out strings.Builder
	out.Grow(len(body))
	for {
		tt := z.Next()
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			out.Write(z.Raw())
			if tt == xhtml.ErrorToken {
				// Reading a string can end only at EOF; Raw holds an unfinished tag, if any.
				return out.String()
			}
			continue
		}
		// Copied: Token may overwrite what Raw returned.
		raw := string(z.Raw())
		tok := z.Token()
		if resolveAttributes(base, tok.Attr) {
			out.WriteString(tok.String())
		} else {
			out.WriteString(raw)
		}
	}
}

// resolveAttributes resolves the relative URLs among a tag's attributes in
// place and reports whether it changed any.
func resolveAttributes(base *url.URL, attrs []xhtml.Attribute) bool {
	changed := false
	for i, a := range attrs {
		var v string
		var ok bool
		switch {
		case a.Namespace != "":
		case urlAttributes[a.Key]:
			v, ok = resolveURL(base, a.Val)
		case a.Key == "srcset":
			v, ok = resolveSrcset(base, a.Val)
		}
		if ok {
			attrs[i].Val, changed = v, true
		}
	}
	return changed
}

// resolveURL resolves a relative reference against base; ok is false when
// ref is empty, absolute (has a scheme) or not a URL, and is then kept.
func resolveURL(base *url.URL, ref string) (string, bool) {
	// HTML strips leading and trailing ASCII whitespace from URL attributes.
	ref = strings.Trim(ref, " \t\n\f\r")
	if ref == "" {
		return "", false
	}
	u, err := url.Parse(ref)
	if err != nil || u.IsAbs() {
		return "", false
	}
	abs := base.ResolveReference(u).String()
	if strings.HasSuffix(ref, "#") && !strings.HasSuffix(abs, "#") {
		// url.URL cannot hold an empty fragment; the URL standard keeps it.
		abs += "#"
	}
	return abs, true
}

// resolveSrcset resolves the URL of each image candidate in a srcset value:
// comma-separated "URL [descriptor]" pairs, where a URL may itself hold
// commas but no whitespace (HTML's "parse a srcset attribute", simplified:
// descriptors are kept as written).
func resolveSrcset(base *url.URL, v string) (string, bool) {
	isSpace := func(r rune) bool { return strings.ContainsRune(" \t\n\f\r", r) }
	var candidates []string
	changed := false
	for {
		v = strings.TrimLeftFunc(v, func(r rune) bool { return isSpace(r) || r == ',' })
		if v == "" {
			break
		}
		end := strings.IndexFunc(v, isSpace)
		if end < 0 {
			end = len(v)
		}
		ref, descriptor := v[:end], ""
		v = v[end:]
		if trimmed := strings.TrimRight(ref, ","); trimmed != ref {
			// A URL ending in a comma ends the candidate: it has no descriptor.
			ref = trimmed
		} else {
			descriptor, v = cutDescriptor(v)
		}
		if abs, ok := resolveURL(base, ref); ok {
			ref, changed = abs, true
		}
		// Not strings.TrimSpace: it would also strip characters (\v) that
		// HTML does not count as space and that keep ref from parsing.
		if descriptor != "" {
			ref += " " + descriptor
		}
		candidates = append(candidates, ref)
	}
	return strings.Join(candidates, ", "), changed
}

// cutDescriptor splits a srcset candidate's descriptor from the rest of the
// value at the first comma outside parentheses.
func cutDescriptor(v string) (descriptor, rest string) {
	depth := 0
	for i, r := range v {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case r == ',' && depth == 0:
			return strings.Join(strings.Fields(v[:i]), " "), v[i+1:]
		}
	}
	return strings.Join(strings.Fields(v), " "), ""
}
