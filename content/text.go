package content

import (
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Plain text articles are read in four steps: an optional header block of
// "Key: value" lines; paragraphs (blank-line separated, hard wraps joined,
// lists kept); boilerplate classification (banners, bylines, datelines,
// captions, calls to action, trailing appeals), each dropped paragraph
// recorded with its reason; and rendering of what is left. The headline is
// the first paragraph that is not boilerplate.

// Reasons recorded in Parsed.Dropped by parseText.
const (
	dropBanner   = "banner"
	dropByline   = "byline"
	dropDateline = "dateline"
	dropCaption  = "caption"
	dropAppeal   = "appeal"
	dropCTA      = "call to action"
	dropFooter   = "footer"
	dropTitle    = "repeated title"

	// keptHeadline marks the paragraph that became the title; it is not dropped.
	keptHeadline = "headline"
)

const (
	txtMaxTitle      = 200 // runes; a longer first paragraph is story, not headline
	txtTopWindow     = 8   // paragraphs after the headline searched for bylines and datelines
	txtShortLine     = 120 // runes; bylines, datelines and banners are never longer
	txtMaxCaption    = 500 // runes
	txtShortCTA      = 160 // runes; a mid-story appeal this short is a promo line
	txtWrapMax       = 100 // a document whose typical line is longer is not hard-wrapped
	txtWrapMin       = 50  // nor is one whose lines are all shorter
	txtStandaloneMax = 80  // runes; longest line that may be a byline or banner on its own
)

// txtPara is one paragraph or list of a plain-text article.
type txtPara struct {
	text    string   // whitespace-collapsed text; list items joined by newlines
	items   []string // list items; nil for a paragraph
	ordered bool
	start   int  // first number of an ordered list
	block   int  // index of the blank-line separated block it came from
	appeal  bool // the paragraph opens an appeal to the reader (txtIsAppeal)
}

// isList reports whether the paragraph is a list.
func (p txtPara) isList() bool { return p.items != nil }

// The header keys a plain-text file may open with, MultiMarkdown style.
var txtHeaderKeys = map[string]bool{
	"title": true, "date": true, "author": true, "tags": true, "summary": true,
	"language": true, "lang": true, "id": true, "updated": true, "draft": true,
	"keywords": true,
}

const (
	txtName    = `\p{Lu}[\p{L}'’.-]*(?:\s+(?:\p{Lu}[\p{L}'’.-]*|de|van|von|der|den|da|di|del|dos|das|le|la|al|bin|ibn|y)){0,4}`
	txtNames   = txtName + `(?:\s+(?:and|&)\s+` + txtName + `){0,4}`
	txtMonths  = `(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`
	txtClock   = `(?:,?\s*(?:(?i:at)\s+|[-–|·•]\s*)?(\d{1,2})[:.](\d{2})(?:[:.]\d{2})?\s*(?i:([ap])\.?m\b\.?)?(?:\s*\(?(Z|UTC|GMT|[A-Z]{2,5}|[+-]\d{2}:?\d{2})\)?)?)?`
	txtAgency  = `Reuters|AP|AFP|Associated Press|Agence France-Presse|Bloomberg|TASS|Interfax|Xinhua|dpa|DPA|EFE|ANSA|PA|PA Media|Press Association|CNN|BBC|BBC News|UPI|Kyodo|Yonhap|Anadolu`
	txtPhotoBy = `(?:Photo(?:graph)?s?|PHOTOS?|Images?|IMAGES?|Pictures?|Illustrations?|Credit|CREDIT|Photo credit|Image credit|Image source)`
)

var (
	txtHeaderLineRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_ -]{0,24}):(?:\s+(.*))?$`)
	txtRuleRE       = regexp.MustCompile(`^\s*(?:[=*_~#-]\s*){3,}$`)
	txtListRE       = regexp.MustCompile(`^\s*(?:([-*•])|(\d{1,3})[.)])\s+(\S.*)$`)
	txtHeadingRE    = regexp.MustCompile(`^#{1,6}\s+`)
	txtURLRE        = regexp.MustCompile(`https?://[^\s<>"“”‘’]+`)

	// Calls to action that make up a whole line anywhere in the text.
	txtCTARE = regexp.MustCompile(`(?i)^(?:read more|read next|read the full (?:story|article)|continue(?: reading)?|keep reading|show more|see more|load more|` +
		`share(?: this)?(?: article| story| page| post)?(?: on (?:facebook|twitter|x|whatsapp|linkedin|email|telegram))?|tweet|` +
		`advertisement|advert|ad|sponsored(?: content)?|promoted(?: content)?|subscribe(?: now| today| here)?|sign up(?: now| today| here)?|` +
		`sign in|log ?in|log out|register|donate(?: now| today| here)?|support us|become a (?:member|subscriber|supporter)|newsletters?|` +
		`menu|search|skip to (?:main )?content|skip navigation|close|print|e-?mail|comments?|\d+ comments?|view comments|leave a comment|` +
		`listen(?: to (?:this )?(?:article|story))?|\d+ min(?:ute)?s? read|accept(?: all)?(?: cookies)?|reject all|manage cookies|cookie settings|` +
		`follow us(?: on .{1,40})?|follow|related(?: articles| stories| content| posts| topics)?|more on this story|most (?:read|popular|viewed)|` +
		`trending(?: now)?|back to top|top stories|recommended(?: for you)?|you (?:may|might) also like|click here.*|tap here.*|` +
		`(?:download|get) (?:the|our) app.*|(?:advertisement\s*-\s*)?scroll to continue(?: with content)?|` +
		`(?:jump|go) to (?:main )?content|accessibility links|sections|latest news|live tv|watch live|today(?:'|’)s paper|` +
		`podcasts|home|save|(?:story|article) continues below(?: this)?(?: advertisement| ad)?)[\s.!:…›»>→]*$`)
	// Labelled links ("Read more: …") that are calls to action after the headline.
	txtCTAPrefixRE = regexp.MustCompile(`(?i)^(?:read more|see also|also read|read also|related|more from [^:]{1,40}|watch|listen|recommended)\s*:\s*\S`)
	// Site banners, section labels and breadcrumbs that can stand above a headline.
	txtBannerRE = regexp.MustCompile(`(?i)^(?:support\s+(?:us|the\s+\S+(?:\s+\S+){0,2}|our\s+.{2,40}|independent\s+.{2,40}|quality\s+.{2,40})|` +
		`(?:support|subscribe to|donate to|join|follow)\s+.{2,40}!|(?:donate|subscribe)\s+to\s+(?:us|our\s.{2,30}|the\s+\S+(?:\s+\S+){0,2})|(?:home|news)\s*[>›»/|]\s*.*|breaking(?: news)?|live|opinion|analysis|exclusive|` +
		`explainer|editorial|comment|review|interview|update|updated|world news)\s*[!.]?$`)
	// First words of the lines txtCTARE, txtBannerRE and txtCTAPrefixRE match.
	txtCTAStarts = txtSet("read", "continue", "keep", "show", "see", "load", "share", "tweet", "advertisement", "advert",
		"ad", "sponsored", "promoted", "subscribe", "sign", "log", "login", "register", "donate", "support", "become",
		"newsletter", "newsletters", "menu", "search", "skip", "close", "print", "e", "email", "comment", "comments",
		"#", "view", "leave", "listen", "accept", "reject", "manage", "cookie", "follow", "related", "more", "most",
		"trending", "back", "top", "recommended", "you", "click", "tap", "download", "get", "scroll", "home", "news",
		"breaking", "live", "opinion", "analysis", "exclusive", "explainer", "editorial", "review", "interview",
		"update", "updated", "world", "join", "also", "watch", "jump", "go", "accessibility", "sections", "latest",
		"today", "podcasts", "save", "story", "article")
	txtCookieRE = regexp.MustCompile(`(?i)\b(?:we use cookies|(?:this|our) (?:site|website) uses cookies|uses cookies to|` +
		`cookie (?:policy|settings|preferences|notice|consent)|(?:accept|allow|reject|manage) (?:all )?cookies)\b`)
	txtFooterRE = regexp.MustCompile(`(?i)^(?:©|\(c\)|copyright\b).{0,120}$|\ball rights reserved\b`)

	// Phrases that open a donation, membership or newsletter appeal, matched
	// against lower-cased text, each with a word it contains: a paragraph's
	// words, looked up in txtAppealIndex, pick the few regexps worth running.
	txtAppealPhrases = []struct {
		word string
		re   *regexp.Regexp
	}{
		{"small", regexp.MustCompile(`small fav(?:o|ou)r to ask`)},
		{"support", regexp.MustCompile(`support (?:us\b|our (?:work|journalism|newsroom|reporting|mission|independent journalism)|` +
			`(?:independent|quality|local|public[- ]interest|fearless|trusted|free) (?:journalism|media|press|reporting|news))`)},
		{"please", regexp.MustCompile(`please (?:consider )?(?:donat|support|subscrib|contribut|becom|chip in|help us)`)},
		{"donate", regexp.MustCompile(`donate (?:now|today|here|to us|monthly|once)`)},
		{"make", regexp.MustCompile(`make a (?:one-off |one-time |monthly |small |regular )?(?:donation|contribution)`)},
		{"your", regexp.MustCompile(`your (?:support|contributions?|donations?|generosity|subscription) ` +
			`(?:helps?|makes?|keeps?|matters|allows|enables|means|ensures|is (?:vital|crucial|essential|what))`)},
		{"become", regexp.MustCompile(`become an? (?:member|subscriber|supporter|patron|paying)`)},
		{"newsletter", regexp.MustCompile(`(?:subscribe|sign up|signing up|register) (?:to|for) (?:our|the) [\w ]{0,30}?newsletter|get (?:our|the) (?:\w+ )?newsletter`)},
		{"subscribe", regexp.MustCompile(`subscribe (?:now|today|here)`)},
		{"sign", regexp.MustCompile(`sign up (?:now|today|here)`)},
		{"we", regexp.MustCompile(`we (?:need|rely on|depend on|count on|can(?:'|’)t do (?:it|this) without) (?:your|you|readers)`)},
		{"reader", regexp.MustCompile(`reader[- ](?:funded|supported)`)},
		{"funded", regexp.MustCompile(`funded by (?:our )?readers`)},
		{"ve", regexp.MustCompile(`ve read \d+`)},
		{"free", regexp.MustCompile(`(?:this|our) (?:article|journalism|reporting|content) is free`)},
		{"keep", regexp.MustCompile(`keep (?:our|this) journalism`)},
		{"help", regexp.MustCompile(`help us (?:keep|continue|remain|stay|fund|grow|do|to)\b`)},
		{"thank", regexp.MustCompile(`thank you for (?:reading|your support|supporting)`)},
		{"inbox", regexp.MustCompile(`(?:delivered|straight|direct(?:ly)?) to your inbox`)},
		{"if", regexp.MustCompile(`if you (?:value|like|appreciate|enjoy|rely on) (?:our|this|what we do|the work|reading)`)},
		{"consider", regexp.MustCompile(`consider (?:supporting|subscribing|donating|making a|becoming a|a (?:donation|contribution|subscription|gift))`)},
		{"chip", regexp.MustCompile(`chip in`)},
		{"asking", regexp.MustCompile(`asking (?:you|readers|our readers) (?:to|for)`)},
		{"gift", regexp.MustCompile(`(?:monthly|one-time|one-off|small|regular) gift`)},
		{"paywall", regexp.MustCompile(`(?:no|without a|behind a|free of a) paywall`)},
		{"already", regexp.MustCompile(`already a (?:subscriber|member)`)},
		{"reading", regexp.MustCompile(`(?:subscribe|sign in|log in|register) to (?:continue|keep) reading`)},
		{"join", regexp.MustCompile(`join (?:our (?:community|mailing list|newsletter)|\d[\d,]* (?:readers|supporters|subscribers|members))`)},
	}
	txtAppealIndex = txtIndexAppeals()
	txtReportedRE  = regexp.MustCompile(`\b(?:said|says|say|told|tells|according to|wrote|writes|asked|added|explained|stated|announced|urged|urges|urge|pleaded)\b`)

	// Bylines: "By Jane Doe", "Posted by Jane Doe and John Roe, Reuters",
	// "Jane Doe, Reuters", "Jane Doe | Moscow Correspondent".
	txtBylineRE = regexp.MustCompile(`^(?i:by|written by|words by|posted by|reported by|reporting by|story by|text by|author:)\s+(` + txtNames + `)` +
		`(?:\s*(?:,|\||–|—|-|·|•|\bfor\b|\bin\b)\s*(?:[\p{Lu}\d@][^.!?]{0,59}|(?i:(?:staff|senior|chief|special|foreign|political|contributing)?\s*(?:writer|reporter|correspondent|editor|columnist))))?$`)
	txtAgencyBylineRE = regexp.MustCompile(`^(` + txtNames + `)\s*(?:,|\||–|—|-|·)\s*(?:` + txtAgency +
		`|(?:[\p{L}]+\s+){0,4}(?i:correspondent|editor|reporter|writer|staff writer|contributor|columnist|staff))\.?$`)
	txtBylinePrefixRE = regexp.MustCompile(`^(?i:by|written|words|posted|reported|reporting|story|text|author)\b`)
	txtBylineStop     = map[string]bool{"the": true, "a": true, "an": true, "any": true, "all": true, "no": true,
		"my": true, "your": true, "our": true, "his": true, "her": true, "their": true, "this": true,
		"that": true, "these": true, "those": true, "far": true, "way": true, "now": true, "then": true,
		"today": true, "tomorrow": true, "monday": true, "tuesday": true, "wednesday": true, "thursday": true,
		"friday": true, "saturday": true, "sunday": true}

	// Dates in datelines and bylines.
	txtISODateRE = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::\d{2})?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2}|[A-Z]{2,5}\b)?)?`)
	txtDMYDateRE = regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)?\s+(` + txtMonths + `)\b\.?,?\s+(\d{4})\b` + txtClock)
	txtMDYDateRE = regexp.MustCompile(`\b(` + txtMonths + `)\b\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b` + txtClock)
	// Words a dateline may hold besides its date.
	txtDateNoiseRE = regexp.MustCompile(`(?i)\b(?:first published|last updated|last modified|published|updated|modified|posted|date|on|at|` +
		`(?:mon|tue|tues|wed|wednes|thu|thur|thurs|fri|sat|satur|sun)(?:day)?|\d+\s*min(?:ute)?s?\s*read|read time|reading time)\b`)
	txtRelativeDateRE = regexp.MustCompile(`(?i)^(?:(?:published|updated|posted)\s+)?(?:\d+|an?|one)\s+(?:second|minute|min|hour|hr|day|week|month)s?\s+ago\.?$`)
	txtUpdatedRE      = regexp.MustCompile(`(?i)\b(?:updated|modified)\b`)

	// Photo credits that end a caption.
	txtSlashCreditRE = regexp.MustCompile(`(?:^|[\s.!?”"'’(\[])\p{Lu}[\p{L}'’.-]*(?:\s+\p{Lu}[\p{L}'’.-]*){1,4}\s*/\s*` +
		`(?:\p{Lu}[\p{L}\p{N}&.'’-]*|[\p{L}\p{N}-]+\.(?:ru|com|org|gov|net|ua|uk))(?:\s+(?:\p{Lu}[\p{L}\p{N}&.'’-]*|via|of|the|for|and)){0,5}\s*[)\]]?\.?$`)
	txtLabelCreditRE = regexp.MustCompile(`(?:(?:^|\s)` + txtPhotoBy + `|[(\[](?i:photo|image|picture|credit)s?)\s*(?::|(?i:by|courtesy of|courtesy))\s*[\p{Lu}©][^.!?]{0,80}[)\]]?\.?$`)
	txtCaptionOpenRE = regexp.MustCompile(`^` + txtPhotoBy + `\s*:\s*\S`)
	txtStockCreditRE = regexp.MustCompile(`(?:©\s*[\p{L}\p{N} .&-]{2,60}|(?:AFP via )?Getty Images|Shutterstock|Alamy(?: Stock Photo)?|iStock(?:photo)?|EPA-EFE|Unsplash)\s*[)\]]?\.?$`)

	txtCreditWords = []string{"Photo", "PHOTO", "(photo", "[photo", "Image", "IMAGE", "(image", "[image", "Picture",
		"(picture", "Illustration", "Credit", "CREDIT", "(credit", "©", "Getty", "Shutterstock", "Alamy", "iStock",
		"EPA-EFE", "Unsplash"}

	txtMonthNum = map[string]time.Month{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	txtZones = map[string]int{"Z": 0, "UTC": 0, "GMT": 0, "WET": 0, "BST": 1, "CET": 1, "WEST": 1,
		"CEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
		"MDT": -6, "PST": -8, "PDT": -7, "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "AEST": 10, "AEDT": 11}
)

// parseText reads a plain-text article: an optional header block, then a
// headline, then the story. Banners, bylines, datelines, photo captions and
// trailing appeals are left out of title, summary and body and listed in
// Parsed.Dropped. Captions are dropped from the body as well.
func parseText(text string) (Parsed, error) {
	var p Parsed
	lines := txtLines(text)
	lines, hdr := txtReadHeader(&p, lines)
	paras := txtParagraphs(lines)
	for i := range paras {
		paras[i].appeal = !paras[i].isList() && txtIsAppeal(paras[i].text)
	}
	reasons := make([]string, len(paras))

	story := 0
	if hdr["title"] != "" {
		txtSkipTop(&p, paras, reasons, 0, false)
		// Files with a header often repeat the title as their first line.
		if i := slices.Index(reasons, ""); i >= 0 && strings.EqualFold(txtHeading(paras[i].text), p.Title) {
			reasons[i] = dropTitle
		}
	} else {
		story = txtSkipTop(&p, paras, reasons, 0, true)
		if story < len(paras) && !paras[story].isList() && utf8.RuneCountInString(paras[story].text) <= txtMaxTitle {
			p.Title = txtHeading(paras[story].text)
			reasons[story] = keptHeadline
			story++
		}
		txtSkipTop(&p, paras, reasons, story, false)
	}
	txtDropInline(paras, reasons, story)
	txtCutAppeal(paras, reasons, story)
	txtDropPromos(paras, reasons, story)

	for j := range paras {
		if r := reasons[j]; r != "" && r != keptHeadline {
			p.Dropped = append(p.Dropped, Dropped{Text: paras[j].text, Reason: r})
		}
	}
	if p.Summary == "" {
		p.Summary = Summarize(txtSummarySource(paras, reasons, story), 300)
	}
	p.HTML = txtRender(paras, reasons, story)
	return p, nil
}

// txtLines splits text into lines with line endings normalised, tabs
// expanded and trailing space removed.
func txtLines(text string) []string {
	text = strings.TrimPrefix(text, "\uFEFF")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(strings.ReplaceAll(l, "\t", "    "), unicode.IsSpace)
	}
	return lines
}

// txtReadHeader consumes a leading block of "Key: value" lines (indented
// lines continue a value) into p and
// returns the remaining lines and the header values by lower-cased key. A
// one-line block counts only when its key is Title, so that a headline like
// "Summary: what we know" is not taken for a header.
func txtReadHeader(p *Parsed, lines []string) ([]string, map[string]string) {
	start := 0
	for start < len(lines) && strings.TrimSpace(lines[start]) == "" {
		start++
	}
	end := start
	hdr := map[string]string{}
	key := ""
	for ; end < len(lines) && strings.TrimSpace(lines[end]) != ""; end++ {
		// An indented line continues the value above it.
		if key != "" && txtIndent(lines[end]) > 0 {
			hdr[key] += " " + strings.TrimSpace(lines[end])
			continue
		}
		m := txtHeaderLineRE.FindStringSubmatch(lines[end])
		if m == nil {
			return lines, nil
		}
		key = strings.ToLower(strings.TrimSpace(m[1]))
		if end == start && !txtHeaderKeys[key] {
			return lines, nil
		}
		hdr[key] = strings.TrimSpace(m[2])
	}
	if end == start || end-start == 1 && hdr["title"] == "" {
		return lines, nil
	}
	p.Title = txtCollapse(hdr["title"])
	p.Author = hdr["author"]
	p.ID = hdr["id"]
	if s := hdr["summary"]; s != "" {
		p.Summary = Summarize(s, 300)
	}
	for _, key := range []string{"tags", "keywords"} {
		for t := range strings.SplitSeq(hdr[key], ",") {
			if t = strings.TrimSpace(t); t != "" {
				p.Tags = append(p.Tags, t)
			}
		}
	}
	for _, key := range []string{"language", "lang"} {
		if v := hdr[key]; v != "" && p.Language == "" {
			if tag, err := language.Parse(v); err == nil {
				p.Language = tag.String()
			} else {
				p.Warnings = append(p.Warnings, fmt.Sprintf("header %s %q: not a language tag", key, v))
			}
		}
	}
	if v := hdr["draft"]; v != "" {
		d, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil && (strings.EqualFold(v, "yes") || strings.EqualFold(v, "no")) {
			d, err = strings.EqualFold(v, "yes"), nil
		}
		if err != nil {
			p.Warnings = append(p.Warnings, fmt.Sprintf("header draft %q: not true or false", v))
		}
		p.Draft = d
	}
	for _, f := range []struct {
		key string
		dst *time.Time
	}{{"date", &p.Date}, {"updated", &p.Updated}} {
		key, dst := f.key, f.dst
		if v := hdr[key]; v != "" {
			if t, ok := txtParseDate(v); ok {
				*dst = t
			} else {
				p.Warnings = append(p.Warnings, fmt.Sprintf("header %s %q: not a date", key, v))
			}
		}
	}
	return lines[end:], hdr
}

// txtParagraphs splits lines into paragraphs and lists. Blank lines and
// rules ("* * *", "=====") separate blocks; within a block, lines are joined
// where the text was hard-wrapped and split where a line was short on purpose.
func txtParagraphs(lines []string) []txtPara {
	width := txtWrapWidth(lines)
	var out []txtPara
	var block []string
	n := 0
	flush := func() {
		if len(block) > 0 {
			out = append(out, txtSplitBlock(block, width, n)...)
			n++
			block = block[:0]
		}
	}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" || txtRuleRE.MatchString(l) {
			flush()
			continue
		}
		block = append(block, l)
	}
	flush()
	return out
}

// txtWrapWidth estimates the column a hard-wrapped text was wrapped at, as
// the 90th percentile of line lengths; 0 means the text is not hard-wrapped.
func txtWrapWidth(lines []string) int {
	var lens []int
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			lens = append(lens, utf8.RuneCountInString(l))
		}
	}
	if len(lens) == 0 {
		return 0
	}
	slices.Sort(lens)
	w := lens[len(lens)*9/10]
	if w > txtWrapMax || w < txtWrapMin {
		return 0
	}
	return w
}

// txtSplitBlock turns one blank-line separated block into paragraphs and lists.
func txtSplitBlock(lines []string, width, block int) []txtPara {
	var out []txtPara
	var para strings.Builder
	var list *txtPara
	flushPara := func() {
		if para.Len() > 0 {
			out = append(out, txtPara{text: txtCollapse(para.String()), block: block})
			para.Reset()
		}
	}
	alone := make([]bool, len(lines))
	if width > 0 {
		for i, l := range lines {
			alone[i] = txtStandalone(strings.TrimSpace(l), width)
		}
	}
	flushList := func() {
		if list != nil {
			list.text = strings.Join(list.items, "\n")
			out = append(out, *list)
			list = nil
		}
	}
	prev := ""
	for i, raw := range lines {
		soft := i > 0 && !alone[i-1] && !alone[i] && txtSoftBreak(prev, raw, width)
		line := strings.TrimSpace(raw)
		if m := txtListRE.FindStringSubmatch(raw); m != nil && (i == 0 || list != nil || txtEndsClause(prev)) {
			flushPara()
			ordered := m[1] == ""
			if list != nil && list.ordered != ordered {
				flushList()
			}
			if list == nil {
				list = &txtPara{ordered: ordered, start: 1, block: block, items: []string{}}
				if ordered {
					list.start, _ = strconv.Atoi(m[2])
				}
			}
			list.items = append(list.items, txtCollapse(m[3]))
			prev = raw
			continue
		}
		if list != nil {
			// An indented or wrapped line continues the last item.
			if txtIndent(raw) > 0 || soft {
				last := len(list.items) - 1
				list.items[last] += txtJoiner(list.items[last], line) + txtCollapse(line)
				prev = raw
				continue
			}
			flushList()
		} else if para.Len() > 0 && !soft {
			flushPara()
		}
		if para.Len() > 0 {
			para.WriteString(txtJoiner(strings.TrimSpace(prev), line))
		}
		para.WriteString(line)
		prev = raw
	}
	flushPara()
	flushList()
	return out
}

// txtCollapse trims s and turns each run of white space into one space.
func txtCollapse(s string) string {
	if txtCollapsed(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// txtCollapsed reports whether s has no white space but single inner spaces.
func txtCollapsed(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' '):
			return false
		case c < ' ' || c == 0x7F:
			return false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				return false
			}
			i += n - 1
		}
	}
	return true
}

// txtSoftBreak reports whether the line break between prev and next was made
// by wrapping: the first word of next would not have fit on prev.
func txtSoftBreak(prev, next string, width int) bool {
	if width == 0 || txtIndent(next) > txtIndent(prev) {
		return false
	}
	prev, next = strings.TrimSpace(prev), strings.TrimSpace(next)
	word, _, _ := strings.Cut(next, " ")
	space := 1
	if strings.HasSuffix(prev, "-") {
		space = 0
	}
	return utf8.RuneCountInString(prev)+space+utf8.RuneCountInString(word) > width
}

// txtStandalone reports whether a line is a banner, call to action, byline
// or dateline, which stands on its own line even in hard-wrapped text. Lines
// near the wrap width are taken to be wrapped prose without a look.
func txtStandalone(s string, width int) bool {
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) && !unicode.IsDigit(r) || utf8.RuneCountInString(s) > min(txtStandaloneMax, width*3/4) {
		return false
	}
	return txtIsCTA(s) || txtIsBanner(s) || txtIsByline(s) || txtIsDateline(s)
}

// txtJoiner returns what joins a wrapped line to the text before it: a
// space, or nothing after a line that broke at a hyphen ("flood-" / "damaged").
func txtJoiner(before, line string) string {
	if n := len(before); n >= 2 && before[n-1] == '-' && before[n-2] != ' ' {
		if r, _ := utf8.DecodeRuneInString(line); unicode.IsLetter(r) {
			return ""
		}
	}
	return " "
}

// txtIndent counts the spaces that indent s.
func txtIndent(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// txtEndsClause reports whether a line ends a sentence or introduces a list,
// so that a following "- " or "1. " line starts a list rather than continuing it.
func txtEndsClause(s string) bool {
	s = strings.TrimRight(s, " ”\"’')")
	return strings.HasSuffix(s, ":") || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?")
}

// txtHeading strips Markdown heading marks someone typed into a text file.
func txtHeading(s string) string {
	return strings.TrimSpace(txtHeadingRE.ReplaceAllString(s, ""))
}

// txtSkipTop marks the boilerplate that sits around a headline: banners,
// calls to action, appeals, bylines, datelines and captions. Before the
// headline (pre) it stops at the first paragraph that is none of these and
// returns its index; a paragraph that only may be boilerplate (a byline, a
// banner) counts as such only when a headline-like paragraph follows it.
// After the headline it looks at a few paragraphs, until two of the story.
func txtSkipTop(p *Parsed, paras []txtPara, reasons []string, from int, pre bool) int {
	seen := 0
	for i := from; i < len(paras); i++ {
		if reasons[i] != "" {
			continue
		}
		top := txtTopReason(paras[i], pre)
		if pre && (top.reason == "" || !top.firm && !txtHeadlineFollows(paras[i+1:])) {
			return i
		}
		if top.reason == "" {
			if seen++; seen == 2 || i-from >= txtTopWindow {
				break
			}
			continue
		}
		reasons[i] = top.reason
		if p.Author == "" {
			p.Author = top.author
		}
		txtSetDates(p, top.dates)
	}
	return len(paras)
}

// txtHeadlineFollows reports whether the first of paras that is not
// certainly boilerplate looks like a headline and not like boilerplate.
func txtHeadlineFollows(paras []txtPara) bool {
	for _, para := range paras {
		top := txtTopReason(para, true)
		if !top.firm {
			return top.reason == "" && txtTitleLike(para)
		}
	}
	return false
}

// txtTitleLike reports whether a paragraph has the shape of a headline:
// short prose that does not end with a full stop.
func txtTitleLike(para txtPara) bool {
	s := strings.TrimRight(para.text, `"'”’)`)
	return !para.isList() && utf8.RuneCountInString(s) <= txtMaxTitle &&
		(!strings.HasSuffix(s, ".") || strings.HasSuffix(s, "..."))
}

// txtTop is what txtTopReason makes of a paragraph near the headline.
type txtTop struct {
	reason string
	firm   bool // certainly boilerplate, even with no headline after it
	author string
	dates  []txtDate
}

// txtTopReason classifies one paragraph near the headline, before it (pre)
// or after it.
func txtTopReason(para txtPara, pre bool) txtTop {
	if para.isList() {
		return txtTop{}
	}
	s := para.text
	n := utf8.RuneCountInString(s)
	quoted := strings.ContainsAny(s, `"“”`)
	if n <= txtShortLine {
		switch {
		case txtIsCTA(s) && pre:
			return txtTop{reason: dropBanner, firm: true}
		case !pre && (txtIsCTA(s) || txtIsCTAPrefix(s)):
			return txtTop{reason: dropCTA, firm: true}
		case txtIsBanner(s):
			return txtTop{reason: dropBanner, firm: true}
		}
		if author, dates, ok := txtByline(s); ok {
			return txtTop{reason: dropByline, author: author, dates: dates}
		}
		if dates, ok := txtDateline(s); ok {
			return txtTop{reason: dropDateline, firm: true, dates: dates}
		}
	}
	switch {
	case para.appeal && !quoted && pre:
		return txtTop{reason: dropBanner}
	case para.appeal && !quoted:
		return txtTop{reason: dropAppeal, firm: true}
	case pre && n <= 300 && txtCookieRE.MatchString(s):
		return txtTop{reason: dropBanner, firm: true}
	case txtIsCaption(s, true):
		return txtTop{reason: dropCaption}
	}
	return txtTop{}
}

// txtDropInline marks captions and calls to action anywhere in the story.
func txtDropInline(paras []txtPara, reasons []string, story int) {
	for i := story; i < len(paras); i++ {
		if reasons[i] != "" || paras[i].isList() {
			continue
		}
		s := paras[i].text
		n := utf8.RuneCountInString(s)
		switch {
		case txtIsCaption(s, false):
			reasons[i] = dropCaption
		case n <= txtShortLine && (txtIsCTA(s) || txtIsCTAPrefix(s)):
			reasons[i] = dropCTA
		}
	}
	// A credit on its own line makes the line above it, in the same block, a caption.
	for i := story + 1; i < len(paras); i++ {
		if reasons[i] == dropCaption && reasons[i-1] == "" && paras[i].block == paras[i-1].block &&
			txtIsCreditOnly(paras[i].text) && utf8.RuneCountInString(paras[i-1].text) <= txtMaxCaption {
			reasons[i-1] = dropCaption
		}
	}
}

// txtDropPromos drops short appeals standing alone mid-story ("Sign up for
// our newsletter here."); quoted ones are the story's own.
func txtDropPromos(paras []txtPara, reasons []string, story int) {
	for i := story + 1; i < len(paras); i++ {
		s := paras[i].text
		if paras[i].appeal && reasons[i] == "" && utf8.RuneCountInString(s) <= txtShortCTA &&
			!strings.ContainsAny(s, `"“”`) {
			reasons[i] = dropCTA
		}
	}
}

// txtCutAppeal drops everything from a trailing appeal to the end, then any
// calls to action and copyright lines left at the end.
func txtCutAppeal(paras []txtPara, reasons []string, story int) {
	var kept []int
	for i := story; i < len(paras); i++ {
		if reasons[i] == "" {
			kept = append(kept, i)
		}
	}
	for pos, i := range kept {
		if pos == 0 || paras[i].isList() || !paras[i].appeal {
			continue
		}
		// The appeal must sit in the second half of the story, or be followed
		// only by more appeal, so that a story mentioning donations survives.
		if 2*pos < len(kept) && !txtAllAppealish(paras, kept[pos:]) {
			continue
		}
		for _, j := range kept[pos:] {
			reasons[j] = dropAppeal
			if s := paras[j].text; utf8.RuneCountInString(s) <= txtShortLine && txtIsCTA(s) {
				reasons[j] = dropCTA
			}
		}
		return
	}
	for k := len(kept) - 1; k > 0; k-- {
		s := paras[kept[k]].text
		if utf8.RuneCountInString(s) > txtShortLine*2 {
			return
		}
		switch {
		case txtFooterRE.MatchString(s):
			reasons[kept[k]] = dropFooter
		case txtCookieRE.MatchString(s):
			reasons[kept[k]] = dropBanner
		default:
			return
		}
	}
}

// txtIsAppeal reports whether s opens an appeal to the reader: an appeal
// phrase, addressed to the reader, and not reported speech.
func txtIsAppeal(s string) bool {
	lower := txtLowerASCII(s)
	bits := txtAppealBits(lower)
	if bits&txtPronounBit == 0 {
		return false
	}
	for i, ph := range txtAppealPhrases {
		if bits&(1<<i) != 0 && ph.re.MatchString(lower) {
			return !txtReportedRE.MatchString(lower)
		}
	}
	return false
}

// txtPronounBit marks, in txtAppealIndex, the words an appeal addresses its
// reader with; the other bits name txtAppealPhrases by index.
const txtPronounBit = 1 << 63

// txtIndexAppeals maps each word of txtAppealPhrases to the phrases it gates.
func txtIndexAppeals() map[string]uint64 {
	m := map[string]uint64{"we": txtPronounBit, "our": txtPronounBit, "us": txtPronounBit,
		"you": txtPronounBit, "your": txtPronounBit}
	for i, ph := range txtAppealPhrases {
		m[ph.word] |= 1 << i
	}
	return m
}

// txtAppealBits ors together the txtAppealIndex entries of the words of
// lower-cased s.
func txtAppealBits(lower string) uint64 {
	var bits uint64
	start := 0
	for i := 0; i <= len(lower); i++ {
		if i < len(lower) && lower[i] >= 'a' && lower[i] <= 'z' {
			continue
		}
		if i > start {
			bits |= txtAppealIndex[lower[start:i]]
		}
		start = i + 1
	}
	return bits
}

// txtLowerASCII lower-cases the ASCII letters of s, which is all the appeal
// phrases need and much cheaper than strings.ToLower on non-ASCII text.
func txtLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// txtAllAppealish reports whether every paragraph at idx talks to the reader
// or is a call to action, as the paragraphs of an appeal do.
func txtAllAppealish(paras []txtPara, idx []int) bool {
	for _, i := range idx {
		s := paras[i].text
		short := utf8.RuneCountInString(s) <= txtShortLine && (txtIsCTA(s) || txtFooterRE.MatchString(s))
		lower := txtLowerASCII(s)
		if !short && (txtAppealBits(lower)&txtPronounBit == 0 || txtReportedRE.MatchString(lower)) {
			return false
		}
	}
	return true
}

// txtIsCTA reports whether s is a whole-line call to action ("Read more").
func txtIsCTA(s string) bool {
	return txtCTAStarts[txtFirstWord(s)] && txtCTARE.MatchString(s)
}

// txtIsBanner reports whether s is a site banner, section label or breadcrumb.
func txtIsBanner(s string) bool {
	return txtCTAStarts[txtFirstWord(s)] && txtBannerRE.MatchString(s)
}

// txtIsCTAPrefix reports whether s is a labelled link ("Read more: …").
func txtIsCTAPrefix(s string) bool {
	return txtCTAStarts[txtFirstWord(s)] && txtCTAPrefixRE.MatchString(s)
}

// txtFirstWord returns the lower-cased leading ASCII letters of s, or "#"
// when s starts with a digit; it keeps the call-to-action regexps, which are
// costly to run, off lines that cannot match them.
func txtFirstWord(s string) string {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		return "#"
	}
	i := 0
	for i < len(s) && (s[i]|0x20 >= 'a' && s[i]|0x20 <= 'z') {
		i++
	}
	if i > 16 {
		return ""
	}
	var buf [16]byte
	for j := range i {
		buf[j] = s[j] | 0x20
	}
	return string(buf[:i])
}

// txtIsCaption reports whether s is a photo caption: it ends with a photo
// credit or opens with "Photo:". Near the headline, bare stock-agency credits
// ("… Getty Images") count too.
func txtIsCaption(s string, nearTop bool) bool {
	n := utf8.RuneCountInString(s)
	if n > txtMaxCaption {
		return false
	}
	if n <= 300 && s != "" && strings.IndexByte("PIC", s[0]) >= 0 && txtCaptionOpenRE.MatchString(s) {
		return true
	}
	tail := txtTail(s, 160)
	return strings.Contains(tail, "/") && txtSlashCreditRE.MatchString(tail) ||
		txtMayCredit(tail) && (txtLabelCreditRE.MatchString(tail) || nearTop && txtStockCreditRE.MatchString(tail))
}

// txtMayCredit reports whether s holds a word that every labelled or stock
// photo credit contains.
func txtMayCredit(s string) bool {
	for _, w := range txtCreditWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// txtIsCreditOnly reports whether s is nothing but a photo credit.
func txtIsCreditOnly(s string) bool {
	if utf8.RuneCountInString(s) > 80 {
		return false
	}
	return s != "" && strings.IndexByte("PIC", s[0]) >= 0 && txtCaptionOpenRE.MatchString(s) || strings.Count(s, " ") <= 6 &&
		(txtSlashCreditRE.MatchString(s) || txtStockCreditRE.MatchString(s))
}

// txtSet builds a set of words.
func txtSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// txtTail returns about the last n bytes of s, starting on a rune boundary.
func txtTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}

// txtDate is a date found in a line; updated marks "Updated …" dates.
type txtDate struct {
	t       time.Time
	updated bool
}

// txtByline reads a byline, returning the author and any dates it carries.
func txtByline(s string) (string, []txtDate, bool) {
	if !txtBylinePrefixRE.MatchString(s) && !strings.ContainsAny(s, ",|–—-·") {
		return "", nil, false
	}
	dates, rest := txtFindDates(s)
	rest = txtTrimBylineTail(rest)
	var names string
	if m := txtBylineRE.FindStringSubmatch(rest); m != nil {
		names = m[1]
	} else if m := txtAgencyBylineRE.FindStringSubmatch(rest); m != nil && strings.Contains(m[1], " ") {
		names = m[1]
	} else {
		return "", nil, false
	}
	for w := range strings.FieldsSeq(names) {
		if txtBylineStop[strings.ToLower(w)] {
			return "", nil, false
		}
	}
	return strings.TrimSpace(names), dates, true
}

// txtTrimBylineTail removes the separators and words ("on", "updated") left
// at the end of a byline once its date is cut out.
func txtTrimBylineTail(s string) string {
	for {
		t := strings.TrimRight(s, " |·•,–—-")
		i := strings.LastIndexByte(t, ' ')
		switch strings.ToLower(t[i+1:]) {
		case "on", "at", "published", "updated", "posted":
			t = t[:max(i, 0)]
		}
		if t == s {
			return strings.TrimSpace(s)
		}
		s = t
	}
}

// txtIsByline reports whether s is a byline.
func txtIsByline(s string) bool {
	_, _, ok := txtByline(s)
	return ok
}

// txtDateline reads a line that is only a date, perhaps with words like
// "Published", "Updated", a weekday or a reading time; or a relative date
// ("3 hours ago"), which yields no date.
func txtDateline(s string) ([]txtDate, bool) {
	if txtRelativeDateRE.MatchString(s) {
		return nil, true
	}
	dates, rest := txtFindDates(s)
	if len(dates) == 0 {
		return nil, false
	}
	rest = txtDateNoiseRE.ReplaceAllString(rest, "")
	if strings.IndexFunc(rest, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
		return nil, false
	}
	return dates, true
}

// txtIsDateline reports whether s is a dateline.
func txtIsDateline(s string) bool {
	_, ok := txtDateline(s)
	return ok
}

// txtSetDates records the first published and first updated date of dates
// unless the header or an earlier line already gave one.
func txtSetDates(p *Parsed, dates []txtDate) {
	for _, d := range dates {
		switch {
		case d.updated && p.Updated.IsZero():
			p.Updated = d.t
		case !d.updated && p.Date.IsZero():
			p.Date = d.t
		}
	}
}

// txtFindDates finds the dates in s and returns them with s minus the dates.
func txtFindDates(s string) ([]txtDate, string) {
	type span struct {
		lo, hi int
		t      time.Time
	}
	if !strings.ContainsAny(s, "0123456789") {
		return nil, s
	}
	var spans []span
	for _, re := range []*regexp.Regexp{txtISODateRE, txtDMYDateRE, txtMDYDateRE} {
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			if t, ok := txtDateFromMatch(re, s, m); ok {
				spans = append(spans, span{m[0], m[1], t})
			}
		}
	}
	if len(spans) == 0 {
		return nil, s
	}
	slices.SortFunc(spans, func(a, b span) int { return a.lo - b.lo })
	var dates []txtDate
	var rest strings.Builder
	last := 0
	for _, sp := range spans {
		if sp.lo < last {
			continue
		}
		before := s[last:sp.lo]
		dates = append(dates, txtDate{t: sp.t, updated: txtUpdatedRE.MatchString(before)})
		rest.WriteString(before)
		rest.WriteByte(' ')
		last = sp.hi
	}
	rest.WriteString(s[last:])
	return dates, rest.String()
}

// txtDateFromMatch builds a time from a match of one of the date regexps.
func txtDateFromMatch(re *regexp.Regexp, s string, m []int) (time.Time, bool) {
	group := func(i int) string {
		if m[2*i] < 0 {
			return ""
		}
		return s[m[2*i]:m[2*i+1]]
	}
	var year, day, hour, minute int
	var month time.Month
	var ampm, zone string
	switch re {
	case txtISODateRE:
		year, _ = strconv.Atoi(group(1))
		mo, _ := strconv.Atoi(group(2))
		month = time.Month(mo)
		day, _ = strconv.Atoi(group(3))
		hour, _ = strconv.Atoi(group(4))
		minute, _ = strconv.Atoi(group(5))
		zone = group(6)
	case txtDMYDateRE, txtMDYDateRE:
		d, mon := group(1), group(2)
		if re == txtMDYDateRE {
			d, mon = mon, d
		}
		day, _ = strconv.Atoi(d)
		month = txtMonthNum[strings.ToLower(mon[:3])]
		year, _ = strconv.Atoi(group(3))
		hour, _ = strconv.Atoi(group(4))
		minute, _ = strconv.Atoi(group(5))
		ampm, zone = strings.ToLower(group(6)), group(7)
	}
	switch {
	case ampm == "p" && hour < 12:
		hour += 12
	case ampm == "a" && hour == 12:
		hour = 0
	}
	if year < 1900 || year > 2200 || month < 1 || month > 12 || hour > 23 || minute > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, hour, minute, 0, 0, txtZone(zone))
	if t.Day() != day {
		return time.Time{}, false
	}
	return t, true
}

// txtZone maps a zone abbreviation or "+03:00" offset to a location; unknown
// zones read as UTC.
func txtZone(z string) *time.Location {
	if h, ok := txtZones[z]; ok {
		if h == 0 {
			return time.UTC
		}
		return time.FixedZone(z, h*3600)
	}
	if len(z) >= 5 && (z[0] == '+' || z[0] == '-') {
		digits := strings.ReplaceAll(z[1:], ":", "")
		h, err1 := strconv.Atoi(digits[:2])
		m, err2 := strconv.Atoi(digits[2:])
		if err1 == nil && err2 == nil {
			off := h*3600 + m*60
			if z[0] == '-' {
				off = -off
			}
			return time.FixedZone("", off)
		}
	}
	return time.UTC
}

// txtParseDate reads a header date: RFC 3339 and its shorter forms, RFC 1123,
// or any date txtFindDates understands.
func txtParseDate(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05",
		"2006-01-02 15:04", "2006-01-02", time.RFC1123Z, time.RFC1123} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	if dates, _ := txtFindDates(v); len(dates) > 0 {
		return dates[0].t, true
	}
	return time.Time{}, false
}

// txtSummarySource returns the first kept paragraph of the story, preferring
// prose to a list.
func txtSummarySource(paras []txtPara, reasons []string, story int) string {
	list := ""
	for i := story; i < len(paras); i++ {
		switch {
		case reasons[i] != "":
		case !paras[i].isList():
			return paras[i].text
		case list == "":
			list = strings.Join(paras[i].items, "; ")
		}
	}
	return list
}

// txtRender writes the kept paragraphs as HTML.
func txtRender(paras []txtPara, reasons []string, story int) string {
	var b strings.Builder
	for i := story; i < len(paras); i++ {
		if reasons[i] != "" {
			continue
		}
		para := paras[i]
		if !para.isList() {
			b.WriteString("<p>")
			txtWriteInline(&b, para.text)
			b.WriteString("</p>\n")
			continue
		}
		switch {
		case !para.ordered:
			b.WriteString("<ul>\n")
		case para.start != 1:
			fmt.Fprintf(&b, "<ol start=\"%d\">\n", para.start)
		default:
			b.WriteString("<ol>\n")
		}
		for _, item := range para.items {
			b.WriteString("<li>")
			txtWriteInline(&b, item)
			b.WriteString("</li>\n")
		}
		if para.ordered {
			b.WriteString("</ol>\n")
		} else {
			b.WriteString("</ul>\n")
		}
	}
	return b.String()
}

// txtWriteInline writes s escaped, with bare http(s) URLs as links.
func txtWriteInline(b *strings.Builder, s string) {
	if !strings.Contains(s, "http") {
		b.WriteString(html.EscapeString(s))
		return
	}
	last := 0
	for _, m := range txtURLRE.FindAllStringIndex(s, -1) {
		url := txtTrimURL(s[m[0]:m[1]])
		b.WriteString(html.EscapeString(s[last:m[0]]))
		esc := html.EscapeString(url)
		b.WriteString(`<a href="` + esc + `">` + esc + `</a>`)
		last = m[0] + len(url)
	}
	b.WriteString(html.EscapeString(s[last:]))
}

// txtTrimURL removes sentence punctuation and unbalanced closing brackets
// from the end of a URL found in prose.
func txtTrimURL(u string) string {
	for len(u) > 0 {
		c := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'", c) >= 0:
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		case c == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}
