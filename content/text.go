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
// lists kept); boilerplate classification (banners, site names, bylines,
// datelines, captions, calls to action, appeals, and the paragraphs the
// folder repeats: boilerplate.go), each dropped paragraph recorded with its
// reason; and rendering of what is left. The headline is the first
// paragraph that is not boilerplate; what only may be boilerplate above it
// (a byline, a banner, a site's name) is taken for the headline unless a
// headline-shaped paragraph follows.
//
// Speed matters (every file of a folder is read at start): the regexps run
// only on lines a cheap look (first word, length, a telling character)
// leaves in doubt, and each is small enough for Go's backtracker.

// Reasons recorded in Parsed.Dropped by parseText. Learned boilerplate is
// dropped as repeatedReason(n).
const (
	dropBanner   = "site banner or call to action"
	dropByline   = "byline"
	dropDateline = "dateline"
	dropCaption  = "photo caption or credit"
	dropAppeal   = "appeal to readers (support, donate, subscribe)"
	dropCTA      = "call to action"
	dropFooter   = "copyright footer"
	dropCookie   = "cookie notice"
	dropTitle    = "repeats the header's title"
	dropHeadline = "headline under the header's title"
	dropSiteName = "site name above the headline"

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
	txtMaxPhrase     = 100 // bytes; no appeal phrase is longer
)

// txtPara is one paragraph or list of a plain-text article.
type txtPara struct {
	text    string   // whitespace-collapsed text; list items joined by newlines
	items   []string // list items; nil for a paragraph
	start   int      // first number of an ordered list
	lead    string   // the first item's marker ("1. ")
	block   int      // index of the blank-line separated block it came from
	ordered bool
	appeal  bool // the paragraph opens an appeal to the reader (txtIsAppeal)
	fp      Fingerprint
	repeats int // files of the folder that hold it, when it is learned boilerplate
	// byline is the byline its split read from the one line that is its
	// text, so that telling its top reason does not read it again.
	byline *txtBylineHit
}

// txtBylineHit is what txtByline read from line.
type txtBylineHit struct {
	line, author string
	dates        []txtDate
}

// bylineOf is txtByline of the paragraph's text, from what its split read
// when that was its text.
func (p txtPara) bylineOf() (author string, dates []txtDate, ok bool) {
	if h := p.byline; h != nil {
		return h.author, h.dates, true
	}
	return txtByline(p.text)
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
	txtRoles   = `correspondent|editor|reporter|writer|staff writer|contributor|columnist|staff`
	txtAgency  = `Reuters|AP|AFP|Associated Press|Agence France-Presse|Bloomberg|TASS|Interfax|Xinhua|dpa|DPA|EFE|ANSA|PA|PA Media|Press Association|CNN|BBC|BBC News|UPI|Kyodo|Yonhap|Anadolu`
	txtPhotoBy = `(?:Photo(?:graph)?s?|PHOTOS?|Images?|IMAGES?|Pictures?|Illustrations?|Credit|CREDIT|Photo credit|Image credit|Image source)`
)

var (
	txtHeaderLineRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_ -]{0,24}):(?:\s+(.*))?$`)
	txtRuleRE       = regexp.MustCompile(`^\s*(?:[=*_~#-]\s*){3,}$`)
	txtListRE       = regexp.MustCompile(`^\s*(?:([-*•])|(\d{1,3})[.)])\s+(\S.*)$`)
	txtHeadingRE    = regexp.MustCompile(`^#{1,6}\s+`)
	txtURLRE        = regexp.MustCompile(`https?://[^\s<>"“”‘’]+`)

	// Calls to action that make up a whole line anywhere in the text
	// ("Read more", "Share this article", "Advertisement").
	txtCTAs = txtIndexLines(`[\s.!:…›»>→]*$`, []txtLinePattern{
		{"read", `read more|read next|read the full (?:story|article)`},
		{"continue", `continue(?: reading)?`},
		{"keep", `keep reading`},
		{"show see load", `(?:show|see|load) more`},
		{"share", `share(?: this)?(?: article| story| page| post)?(?: on (?:facebook|twitter|x|whatsapp|linkedin|email|telegram))?`},
		{"tweet", `tweet`},
		{"advertisement advert ad", `advertisement|advert|ad`},
		{"advertisement scroll", `(?:advertisement\s*-\s*)?scroll to continue(?: with content)?`},
		{"sponsored promoted", `(?:sponsored|promoted)(?: content)?`},
		{"subscribe", `subscribe(?: now| today| here)?`},
		{"sign", `sign up(?: now| today| here)?|sign in`},
		{"log login", `log ?in|log out`},
		{"register", `register`},
		{"donate", `donate(?: now| today| here)?`},
		{"support", `support us`},
		{"become", `become a (?:member|subscriber|supporter)`},
		{"newsletter newsletters", `newsletters?`},
		{"menu search close print home save sections podcasts", `menu|search|close|print|home|save|sections|podcasts`},
		{"skip", `skip to (?:main )?content|skip navigation`},
		{"e email", `e-?mail`},
		{"comment comments view leave", `comments?|view comments|leave a comment`},
		{"#", `\d+ comments?|\d+ min(?:ute)?s? read`},
		{"listen", `listen(?: to (?:this )?(?:article|story))?`},
		{"accept reject manage cookie", `accept(?: all)?(?: cookies)?|reject all|manage cookies|cookie settings`},
		{"follow", `follow us(?: on .{1,40})?|follow`},
		{"related", `related(?: articles| stories| content| posts| topics)?`},
		{"more most", `more on this story|most (?:read|popular|viewed)`},
		{"trending", `trending(?: now)?`},
		{"back top", `back to top|top stories`},
		{"recommended", `recommended(?: for you)?`},
		{"you", `you (?:may|might) also like`},
		{"click tap", `(?:click|tap) here.*`},
		{"download get", `(?:download|get) (?:the|our) (?:free )?app(?: now| today| here)?`},
		{"jump go", `(?:jump|go) to (?:main )?content`},
		{"accessibility", `accessibility links`},
		{"latest", `latest news`},
		{"live watch", `live tv|watch live`},
		{"today", `today(?:'|’)s paper`},
		{"story article", `(?:story|article) continues below(?: this)?(?: advertisement| ad)?`},
	})
	// Labelled links ("Read more: …") that are calls to action after the headline.
	txtCTAPrefixes = txtIndexLines(`\s*:\s*\S`, []txtLinePattern{
		{"read see also related watch listen recommended", `read more|see also|also read|read also|related|watch|listen|recommended`},
		{"more", `more from [^:]{1,40}`},
	})
	// Site banners, section labels and breadcrumbs that can stand above a headline.
	txtBanners = txtIndexLines(`\s*[!.]?$`, []txtLinePattern{
		{"support", `support\s+(?:us|the\s+\S+(?:\s+\S+){0,2}|our\s+.{2,40}|independent\s+.{2,40}|quality\s+.{2,40})`},
		{"support subscribe donate join follow", `(?:support|subscribe to|donate to|join|follow)\s+.{2,40}!`},
		{"donate subscribe", `(?:donate|subscribe)\s+to\s+(?:us|our\s.{2,30}|the\s+\S+(?:\s+\S+){0,2})`},
		{"home news", `(?:home|news)\s*[>›»/|]\s*.*`},
		{"breaking live opinion analysis exclusive explainer editorial comment review interview update updated world",
			`breaking(?: news)?|live|opinion|analysis|exclusive|explainer|editorial|comment|review|interview|update|updated|world news`},
	})
	// Short promotional lines: an imperative addressed to the reader, about
	// the site ("Sign up for our newsletter", "Get the app now").
	txtPromoVerbs = txtSet("support", "subscribe", "donate", "join", "become", "sign", "register", "log", "login",
		"download", "get", "follow", "like", "share", "listen", "watch", "read", "try", "give", "help", "contribute",
		"click", "tap", "discover", "explore", "install", "upgrade", "unlock", "enjoy", "claim", "start", "save",
		"shop", "visit", "sponsor", "advertise", "back", "fund", "chip", "pledge", "stay", "never", "don", "make")
	txtPromoObjects = txtSet("us", "our", "now", "today", "here", "free", "newsletter", "newsletters", "app",
		"membership", "member", "members", "subscription", "subscriber", "subscribers", "premium", "trial", "account",
		"inbox", "journalism", "podcast", "updates", "alerts", "notifications", "facebook", "twitter", "instagram",
		"whatsapp", "telegram", "youtube", "tiktok", "linkedin", "rss", "donation", "donations", "supporter")
	// Site names and web addresses on a line of their own: "The Moscow
	// Times", "HARBOR DAILY", "www.valleycourier.com".
	txtMastheadWords = txtSet("times", "post", "herald", "journal", "gazette", "tribune", "daily", "chronicle",
		"observer", "independent", "telegraph", "guardian", "standard", "courier", "examiner", "inquirer", "register",
		"bulletin", "dispatch", "monitor", "sentinel", "globe", "mail", "mirror", "express", "star", "sun", "news",
		"record", "reporter", "press", "ledger", "argus", "echo", "advertiser", "enquirer", "insider", "wire",
		"weekly", "magazine", "digest")
	txtMastheadRE = regexp.MustCompile(`^(?:(?i:the)\s+)?(?:\p{Lu}[\p{L}'’.&-]*\s+){0,3}` +
		`(?i:times|post|herald|journal|gazette|tribune|daily|chronicle|observer|independent|telegraph|guardian|` +
		`standard|courier|examiner|inquirer|register|bulletin|dispatch|monitor|sentinel|globe|mail|mirror|express|` +
		`star|sun|news|record|reporter|press|ledger|argus|echo|advertiser|enquirer|insider|wire|weekly|magazine|digest)$|` +
		`^(?i:(?:https?://)?(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,6}/?)$`)
	txtCookieRE = regexp.MustCompile(`(?i)\b(?:we use cookies|(?:this|our) (?:site|website) uses cookies|uses cookies to|` +
		`cookie (?:policy|settings|preferences|notice|consent)|(?:accept|allow|reject|manage) (?:all )?cookies)\b`)
	txtFooterRE = regexp.MustCompile(`(?i)^(?:©|\(c\)|copyright\b).{0,120}$|\ball rights reserved\b`)

	// Phrases of donation, membership and newsletter appeals, matched
	// against lower-cased text, each anchored at one of the words it may
	// start with: a paragraph's words, looked up in txtAppealIndex, say
	// where the few regexps worth running are tried.
	txtAppealFilter = txtFilterOf(txtAppealIndex)
	txtAppealIndex  = txtIndexAppeals([]txtAppealPhrase{
		{"small", "favor favour", `small fav(?:o|ou)r to ask`},
		{"support", "", `support (?:us\b|our (?:work|journalism|newsroom|reporting|mission|independent journalism)|` +
			`(?:independent|quality|local|public[- ]interest|fearless|trusted|free) (?:journalism|media|press|reporting|news))`},
		{"please", "", `please (?:consider )?(?:donat|support|subscrib|contribut|becom|chip in|help us)`},
		{"donate", "", `donate (?:now|today|here|to us|monthly|once)`},
		{"make", "a", `make a (?:one-off |one-time |monthly |small |regular )?(?:donation|contribution)`},
		{"your", "support contribution contributions donation donations generosity subscription", `your (?:support|contributions?|donations?|generosity|subscription) ` +
			`(?:helps?|makes?|keeps?|matters|allows|enables|means|ensures|is (?:vital|crucial|essential|what))`},
		{"become", "", `become an? (?:member|subscriber|supporter|patron|paying)`},
		{"subscribe sign signing register", "", `(?:subscribe|sign up|signing up|register) (?:to|for) (?:our|the) [\w ]{0,30}?newsletter`},
		{"get", "our the", `get (?:our|the) (?:\w+ )?newsletter`},
		{"subscribe", "", `subscribe (?:now|today|here)`},
		{"sign", "", `sign up (?:now|today|here)`},
		{"we", "need rely depend count can", `we (?:need|rely on|depend on|count on|can(?:'|’)t do (?:it|this) without) (?:your|you|readers)`},
		{"reader", "", `reader[- ](?:funded|supported)`},
		{"funded", "", `funded by (?:our )?readers`},
		{"ve", "", `ve read \d+`},
		{"this our", "article journalism reporting content", `(?:this|our) (?:article|journalism|reporting|content) is free`},
		{"keep", "our this", `keep (?:our|this) journalism`},
		{"help", "us", `help us (?:keep|continue|remain|stay|fund|grow|do|to)\b`},
		{"thank", "you", `thank you for (?:reading|your support|supporting)`},
		{"delivered straight direct directly", "", `(?:delivered|straight|direct(?:ly)?) to your inbox`},
		{"if", "you", `if you (?:value|like|appreciate|enjoy|rely on) (?:our|this|what we do|the work|reading)`},
		{"consider", "", `consider (?:supporting|subscribing|donating|making a|becoming a|a (?:donation|contribution|subscription|gift))`},
		{"chip", "", `chip in`},
		{"asking", "", `asking (?:you|readers|our readers) (?:to|for)`},
		{"monthly one small regular", "gift time off", `(?:monthly|one-time|one-off|small|regular) gift`},
		{"no without behind free", "paywall a of", `(?:no|without a|behind a|free of a) paywall`},
		{"already", "", `already a (?:subscriber|member)`},
		{"subscribe sign log register", "", `(?:subscribe|sign in|log in|register) to (?:continue|keep) reading`},
		{"join", "", `join (?:our (?:community|mailing list|newsletter)|\d[\d,]* (?:readers|supporters|subscribers|members))`},
		{"dear", "", `dear (?:reader|readers|friend|friends|supporter|supporters)\b`},
		{"independent quality", "journalism", `(?:independent|quality) journalism (?:needs|depends|relies|matters|costs|is under)`},
		{"every any", "contribution donation amount", `(?:every|any) (?:contribution|donation|amount)`},
		{"unlimited", "", `unlimited access`},
		{"free", "trial", `free trial`},
	})
	// Words of reported speech: an appeal in them is the story's own.
	txtReportedWords = txtSet("said", "says", "say", "told", "tells", "wrote", "writes", "write", "asked",
		"added", "explained", "stated", "announced", "urged", "urges", "urge", "pleaded")

	// Bylines: "By Jane Doe", "Posted by Jane Doe and John Roe, Reuters",
	// "Jane Doe, Reuters", "Jane Doe | Moscow Correspondent".
	txtBylineRE = regexp.MustCompile(`^(?i:by|written by|words by|posted by|reported by|reporting by|story by|text by|author:)\s+(` + txtNames + `)` +
		`(?:\s*(?:,|\||–|—|-|·|•|\bfor\b|\bin\b)\s*(?:[\p{Lu}\d@][^.!?]{0,59}|(?i:(?:staff|senior|chief|special|foreign|political|contributing)?\s*(?:writer|reporter|correspondent|editor|columnist))))?$`)
	txtAgencyBylineRE = regexp.MustCompile(`^(` + txtNames + `)\s*(?:,|\||–|—|-|·)\s*(?:` + txtAgency +
		`|(?:[\p{L}]+\s+){0,4}(?i:` + txtRoles + `))\.?$`)
	txtBylineStarts = txtSet("by", "written", "words", "posted", "reported", "reporting", "story", "text", "author")
	txtBylineStop   = map[string]bool{"the": true, "a": true, "an": true, "any": true, "all": true, "no": true,
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
// Parsed.Dropped. Captions are dropped from the body as well. known, when
// not nil, tells which paragraphs the article's folder repeats: those are
// left out too.
func parseText(text string, known Boilerplate) (Parsed, error) {
	return draftText(text).finish(known), nil
}

// textDraft is a plain-text article split into paragraphs, each with its
// fingerprint: what its folder learns from, before what it learned is
// applied.
type textDraft struct {
	head  Parsed // what the header block gave
	hdr   map[string]string
	paras []txtPara
}

// draftText reads text up to its paragraphs.
func draftText(text string) *textDraft {
	d := &textDraft{}
	lines := txtLines(text)
	lines, d.hdr = txtReadHeader(&d.head, lines)
	d.paras = txtParagraphs(lines)
	for i := range d.paras {
		para := &d.paras[i]
		para.appeal = !para.isList() && txtIsAppeal(para.text)
		para.fp = fingerprintOf(para.text)
	}
	return d
}

// finish reads the article from its paragraphs, leaving out those known
// (nil for a file of no folder, which learns nothing from it) repeats.
func (d *textDraft) finish(known Boilerplate) Parsed {
	paras := d.paras
	repeated, unique := 0, 0
	for i := range paras {
		para := &paras[i]
		switch {
		case known == nil:
			para.fp = 0 // read on its own, a file yields no fingerprints
		case para.fp != 0:
			para.repeats = known.Repeats(para.fp)
		}
		if para.repeats > 0 {
			repeated += len(para.text)
		} else {
			unique += len(para.text)
		}
	}
	// A file made mostly of paragraphs its neighbours hold too is a copy of
	// one of them, not a story in site furniture: it is read on its own.
	if repeated > unique {
		for i := range paras {
			paras[i].repeats = 0
		}
	}
	p := txtRead(d.head, d.hdr, paras)
	p.fingerprints = txtFingerprints(paras)
	return p
}

// txtFingerprints returns the distinct fingerprints of paras.
func txtFingerprints(paras []txtPara) []Fingerprint {
	out := make([]Fingerprint, 0, len(paras))
	for _, para := range paras {
		if para.fp != 0 && !slices.Contains(out, para.fp) {
			out = append(out, para.fp)
		}
	}
	return out
}

// txtRead classifies paras and builds the article from what is kept. p
// holds what the header block gave.
func txtRead(p Parsed, hdr map[string]string, paras []txtPara) Parsed {
	reasons := make([]string, len(paras))
	story := 0
	if hdr["title"] != "" {
		txtSkipTop(&p, paras, reasons, 0, false)
		// Files with a header often repeat the title, or give the page's own
		// headline, as their first line.
		if i := slices.Index(reasons, ""); i >= 0 {
			switch {
			case strings.EqualFold(txtHeading(paras[i].text), p.Title):
				reasons[i] = dropTitle
			case txtSecondHeadline(paras, reasons, i):
				reasons[i] = dropHeadline
			}
		}
	} else {
		story = txtSkipTop(&p, paras, reasons, 0, true)
		if story < len(paras) && !paras[story].isList() && runesAtMost(paras[story].text, txtMaxTitle) {
			p.Title = txtHeading(paras[story].text)
			reasons[story] = keptHeadline
			story++
		}
		txtSkipTop(&p, paras, reasons, story, false)
	}
	txtDropInline(paras, reasons, story)
	txtDropRepeated(paras, reasons, story)
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
	return p
}

// txtSecondHeadline reports whether paragraph i, the first kept one of a
// file whose header gives the title, is a headline of its own: shaped like
// one and followed by prose.
func txtSecondHeadline(paras []txtPara, reasons []string, i int) bool {
	if !txtTitleLike(paras[i]) || strings.Count(paras[i].text, " ") >= 25 {
		return false
	}
	for j := i + 1; j < len(paras); j++ {
		if reasons[j] == "" {
			return !paras[j].isList() && !txtTitleLike(paras[j])
		}
	}
	return false
}

// txtDropRepeated drops the paragraphs of the story that the folder
// repeats.
func txtDropRepeated(paras []txtPara, reasons []string, story int) {
	for i := story; i < len(paras); i++ {
		if reasons[i] == "" && paras[i].repeats > 0 {
			reasons[i] = repeatedReason(paras[i].repeats)
		}
	}
}

// txtLines splits text into lines with line endings normalised, tabs
// expanded and trailing space removed.
func txtLines(text string) []string {
	text = strings.TrimPrefix(text, "\uFEFF")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.IndexByte(l, '\t') >= 0 {
			l = strings.ReplaceAll(l, "\t", "    ")
		}
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
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
		// A copy: the line may share the file's bytes, which the article
		// must not hold on to.
		hdr[key] = strings.Clone(strings.TrimSpace(m[2]))
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
	// At most a paragraph every two lines, and in hard-wrapped text, where
	// a paragraph runs over several, some a quarter (more grow it): sized
	// for the first, the paragraphs of a first start at 100,000 articles
	// allocated 250 MB.
	guess := len(lines)/2 + 1
	if width > 0 {
		guess = len(lines)/4 + 1
	}
	out := make([]txtPara, 0, guess)
	var block []string
	n := 0
	flush := func() {
		if len(block) > 0 {
			out = txtSplitBlock(out, block, width, n)
			n++
			block = block[:0]
		}
	}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" || txtIsRule(l) {
			flush()
			continue
		}
		block = append(block, l)
	}
	flush()
	// A one-item list between paragraphs is a numbered line ("1. FC Köln
	// Win"); between lists it is an item of a list spaced out by blank lines.
	for i, para := range out {
		if len(para.items) == 1 && (i == 0 || !out[i-1].isList()) && (i+1 == len(out) || !out[i+1].isList()) {
			out[i] = txtPara{text: txtCollapse(para.lead + para.items[0]), block: para.block}
		}
	}
	return out
}

// txtWrapWidth estimates the column a hard-wrapped text was wrapped at, as
// the 90th percentile of line lengths, leaving out a few lines too long to
// have been wrapped (a headline); 0 means the text is not hard-wrapped.
func txtWrapWidth(lines []string) int {
	var room [128]int // most texts' lines: no allocation
	lens := room[:0]
	continued, long := 0, 0 // lines followed by another line of the same block; lines past txtWrapMax
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := runeCount(l)
		lens = append(lens, n)
		if n > txtWrapMax {
			long++
		}
		if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
			continued++
		}
	}
	// Wrapped text runs on from line to line; a line per paragraph does not.
	if len(lens) == 0 || 3*continued < len(lens) || 5*long > len(lens) {
		return 0
	}
	slices.Sort(lens)
	lens = lens[:len(lens)-long]
	w := lens[len(lens)*9/10]
	if w > txtWrapMax || w < txtWrapMin {
		return 0
	}
	return w
}

// txtSplitBlock turns one blank-line separated block into paragraphs and
// lists, appended to out.
func txtSplitBlock(out []txtPara, lines []string, width, block int) []txtPara {
	var para strings.Builder
	var list *txtPara
	var bylines []*txtBylineHit // read from standalone lines
	flushPara := func() {
		if para.Len() > 0 {
			p := txtPara{text: txtCollapse(para.String()), block: block}
			for _, h := range bylines {
				if h.line == p.text {
					p.byline = h
				}
			}
			out = append(out, p)
			para.Reset()
		}
	}
	// A wrapped block is mostly one paragraph: one buffer holds it.
	if width > 0 && len(lines) > 1 {
		size := 0
		for _, l := range lines {
			size += len(l) + 1
		}
		para.Grow(size)
	}
	alone := make([]bool, len(lines))
	if width > 0 {
		for i, l := range lines {
			var hit *txtBylineHit
			alone[i], hit = txtStandalone(strings.TrimSpace(l), width)
			if hit != nil {
				bylines = append(bylines, hit)
			}
		}
	}
	lead := "" // the first item's marker ("1. ")
	flushList := func() {
		switch {
		case list == nil:
			return
		case len(list.items) == 1 && len(lines) > 1:
			// One numbered line among others is not a list ("1. FC Köln Win").
			out = append(out, txtPara{text: txtCollapse(lead + list.items[0]), block: block})
		default:
			list.text = strings.Join(list.items, "\n")
			list.lead = lead
			out = append(out, *list)
		}
		list = nil
	}
	prev := ""
	titled := false // every line of the paragraph so far is in title case
	for i, raw := range lines {
		soft := i > 0 && !alone[i-1] && !alone[i] && txtSoftBreak(prev, raw, width)
		line := strings.TrimSpace(raw)
		// A headline wrapped over lines in title case ends where prose begins.
		if soft && titled && !txtTitleCase(line) {
			soft = false
		}
		if m := txtListItem(raw); m != nil && (i == 0 || list != nil || txtEndsClause(prev)) {
			flushPara()
			ordered := m[1] == ""
			if list != nil && list.ordered != ordered {
				flushList()
			}
			if list == nil {
				list = &txtPara{ordered: ordered, start: 1, block: block, items: []string{}}
				lead = strings.TrimSuffix(strings.TrimSpace(raw), m[3])
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
			titled = titled && txtTitleCase(line)
		} else {
			titled = width > 0 && block < txtTopWindow && txtTitleCase(line)
		}
		para.WriteString(line)
		prev = raw
	}
	flushPara()
	flushList()
	return out
}

// txtListItem matches a list item line against txtListRE, after a look at
// its first character that spares prose the regexp.
func txtListItem(line string) []string {
	t := strings.TrimLeft(line, " ")
	if t == "" || t[0] != '-' && t[0] != '*' && (t[0] < '0' || t[0] > '9') && !strings.HasPrefix(t, "•") {
		return nil
	}
	return txtListRE.FindStringSubmatch(line)
}

// txtIsRule reports whether a line is a horizontal rule ("* * *", "-----").
func txtIsRule(line string) bool {
	t := strings.TrimLeft(line, " ")
	if t == "" || strings.IndexByte("=*_~#-", t[0]) < 0 {
		return false
	}
	return txtRuleRE.MatchString(line)
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
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	// Eight bytes at a time while they are printable ASCII: a paragraph
	// was checked byte by byte, 2.5% of a first start.
	const ones, lows = 0x0101010101010101, 0x7F7F7F7F7F7F7F7F
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := word8(s[i:])
		if !printableASCII(w) {
			break
		}
		// The high bit of each byte of sp is set where w holds a space.
		t := w ^ 0x20*ones
		sp := ^((t&lows + lows) | t | lows)
		if sp&(sp>>8) != 0 || sp>>63 != 0 && s[i+8] == ' ' {
			return false // two spaces in a row (s does not end in one)
		}
	}
	for ; i < len(s); i++ {
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
	// A line well past the wrap width was never wrapped: a long headline.
	n := runeCount(prev)
	if n > width+width/4 {
		return false
	}
	word, _, _ := strings.Cut(next, " ")
	space := 1
	if strings.HasSuffix(prev, "-") {
		space = 0
	}
	return n+space+runeCount(word) > width
}

// txtStandalone reports whether a line is a banner, call to action, byline
// or dateline, which stands on its own line even in hard-wrapped text. Lines
// near the wrap width are taken to be wrapped prose without a look. A
// byline comes with what it says.
func txtStandalone(s string, width int) (bool, *txtBylineHit) {
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) && !unicode.IsDigit(r) || !runesAtMost(s, min(txtStandaloneMax, width*3/4)) {
		return false, nil
	}
	if txtIsCTA(s) || txtIsBanner(s) {
		return true, nil
	}
	if author, dates, ok := txtByline(s); ok {
		// s may share the file's bytes, which an author kept must not hold.
		return true, &txtBylineHit{line: s, author: strings.Clone(author), dates: dates}
	}
	return txtIsDateline(s), nil
}

// txtTitleCase reports whether a line is in title case ("Council Backs
// New Cycle Lanes") or all capitals, as headlines are and prose is not:
// at least three words, and three in four of those with four letters or
// more capitalised.
func txtTitleCase(s string) bool {
	words, long, upper := 0, 0, 0
	for w := range strings.FieldsSeq(s) {
		words++
		r, _ := utf8.DecodeRuneInString(strings.TrimLeft(w, `"'“‘(`))
		if runeCount(w) < 4 || !unicode.IsLetter(r) {
			continue
		}
		long++
		if unicode.IsUpper(r) {
			upper++
		}
	}
	return words >= 3 && long > 0 && 4*upper >= 3*long
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
// headline (pre) it marks what precedes the headline and returns the
// headline's index (see txtFindHeadline). After the headline it looks at a
// few paragraphs, until two of the story.
func txtSkipTop(p *Parsed, paras []txtPara, reasons []string, from int, pre bool) int {
	if pre {
		tops := make([]*txtTop, len(paras))
		h := txtFindHeadline(paras, from, tops)
		for i := from; i < h; i++ {
			txtMarkTop(p, reasons, i, *tops[i])
		}
		return h
	}
	seen := 0
	for i := from; i < len(paras); i++ {
		if reasons[i] != "" {
			continue
		}
		top := txtTopReason(paras[i], false)
		if top.reason == "" {
			if seen++; seen == 2 || i-from >= txtTopWindow {
				break
			}
			continue
		}
		txtMarkTop(p, reasons, i, top)
	}
	return len(paras)
}

// txtMarkTop records the boilerplate paragraph i, and any author and dates
// it gives.
func txtMarkTop(p *Parsed, reasons []string, i int, top txtTop) {
	reasons[i] = top.reason
	if p.Author == "" {
		p.Author = top.author
	}
	txtSetDates(p, top.dates)
}

// txtFindHeadline returns the index of the headline among paras[from:]:
// the first paragraph that is not boilerplate. A paragraph that only may be
// boilerplate (a byline, a banner, a site name) is the headline unless the
// headline found after it is shaped like one. tops memoises txtTopReason.
func txtFindHeadline(paras []txtPara, from int, tops []*txtTop) int {
	for i := from; i < len(paras); i++ {
		if tops[i] == nil {
			top := txtTopReason(paras[i], true)
			tops[i] = &top
		}
		switch top := tops[i]; {
		case top.reason == "":
			return i
		case top.firm:
			continue
		}
		next := txtFindHeadline(paras, i+1, tops)
		if next == len(paras) {
			return i
		}
		// A short sentence counts as a headline only after plain site
		// furniture, and only when nothing makes it boilerplate itself.
		shaped := txtTitleLike(paras[next]) || tops[i].strong && tops[next].reason == "" &&
			txtShortSentence(paras[next]) && next+1 < len(paras)
		if !shaped {
			return i
		}
	}
	return len(paras)
}

// txtShortSentence reports whether a paragraph is one short sentence, as
// a headline ending with a full stop is ("Mayor resigns.").
func txtShortSentence(para txtPara) bool {
	s := para.text
	return !para.isList() && runesAtMost(s, 100) && !strings.Contains(strings.TrimRight(s, ".!?"), ". ")
}

// txtTitleLike reports whether a paragraph has the shape of a headline:
// short prose that does not end with a full stop, nor with a comma or
// semicolon that the next line would continue.
func txtTitleLike(para txtPara) bool {
	s := strings.TrimRight(para.text, `"'”’)`)
	if para.isList() || !runesAtMost(s, txtMaxTitle) || strings.HasSuffix(s, ",") || strings.HasSuffix(s, ";") {
		return false
	}
	return !strings.HasSuffix(s, ".") || strings.HasSuffix(s, "...")
}

// txtTop is what txtTopReason makes of a paragraph near the headline.
type txtTop struct {
	reason string
	firm   bool // certainly boilerplate, even with no headline after it
	strong bool // site furniture rather than a headline, though not certainly
	author string
	dates  []txtDate
}

// txtTopReason classifies one paragraph near the headline, before it (pre)
// or after it. Before it, whatever a headline could also say is not firm.
func txtTopReason(para txtPara, pre bool) txtTop {
	if para.isList() {
		return txtTop{}
	}
	s := para.text
	quoted := txtQuoted(s)
	if runesAtMost(s, txtShortLine) {
		switch {
		case txtIsCTA(s) && pre:
			return txtTop{reason: dropBanner, firm: true}
		case !pre && (txtIsCTA(s) || txtIsCTAPrefix(s)):
			return txtTop{reason: dropCTA, firm: true}
		case txtIsBanner(s):
			return txtTop{reason: dropBanner, firm: !pre, strong: strings.HasSuffix(s, "!")}
		case !quoted && txtIsPromo(s):
			if pre {
				return txtTop{reason: dropBanner}
			}
			return txtTop{reason: dropCTA, firm: true}
		case pre && txtIsMasthead(s):
			return txtTop{reason: dropSiteName}
		}
		if author, dates, ok := para.bylineOf(); ok {
			return txtTop{reason: dropByline, author: author, dates: dates}
		}
		if dates, ok := txtDateline(s); ok {
			return txtTop{reason: dropDateline, firm: true, dates: dates}
		}
	}
	switch {
	case para.appeal && !quoted && pre:
		return txtTop{reason: dropAppeal, strong: true}
	case para.appeal && !quoted:
		return txtTop{reason: dropAppeal, firm: true}
	case pre && runesAtMost(s, 300) && txtMentionsCookies(s) && txtCookieRE.MatchString(s):
		return txtTop{reason: dropCookie, strong: strings.HasSuffix(s, ".")}
	case txtIsCaption(s, true):
		return txtTop{reason: dropCaption}
	case para.repeats > 0:
		return txtTop{reason: repeatedReason(para.repeats), firm: !pre}
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
		switch {
		case txtIsCaption(s, false):
			reasons[i] = dropCaption
		case runesAtMost(s, txtShortLine) && (txtIsCTA(s) || txtIsCTAPrefix(s)):
			reasons[i] = dropCTA
		}
	}
	// A credit on its own line makes the line above it, in the same block, a caption.
	for i := story + 1; i < len(paras); i++ {
		if reasons[i] == dropCaption && reasons[i-1] == "" && paras[i].block == paras[i-1].block &&
			txtIsCreditOnly(paras[i].text) && runesAtMost(paras[i-1].text, txtMaxCaption) {
			reasons[i-1] = dropCaption
		}
	}
}

// txtDropPromos drops short appeals standing alone mid-story ("Sign up for
// our newsletter here."); quoted ones are the story's own.
func txtDropPromos(paras []txtPara, reasons []string, story int) {
	for i := story + 1; i < len(paras); i++ {
		s := paras[i].text
		if paras[i].appeal && reasons[i] == "" && runesAtMost(s, txtShortCTA) &&
			!txtQuoted(s) {
			reasons[i] = dropCTA
		}
	}
}

// txtCutAppeal drops everything from a trailing appeal to the end, and
// appeal blocks set into the story; then any calls to action and
// copyright lines left at the end.
func txtCutAppeal(paras []txtPara, reasons []string, story int) {
	var kept []int
	for i := story; i < len(paras); i++ {
		if reasons[i] == "" {
			kept = append(kept, i)
		}
	}
	for pos := 1; pos < len(kept); pos++ {
		if i := kept[pos]; paras[i].isList() || !paras[i].appeal {
			continue
		}
		// The appeal must sit in the second half of the story, or be followed
		// only by more appeal, so that a story mentioning donations survives.
		if 2*pos >= len(kept) || txtAllAppealish(paras, kept[pos:]) {
			txtMarkAppeal(paras, reasons, kept[pos:])
			return
		}
		if end := txtAppealBlock(paras, kept, pos); end > pos {
			txtMarkAppeal(paras, reasons, kept[pos:end])
			pos = end - 1
		}
	}
	for k := len(kept) - 1; k > 0; k-- {
		if reasons[kept[k]] != "" {
			continue
		}
		s := paras[kept[k]].text
		if !runesAtMost(s, txtShortLine*2) {
			return
		}
		switch {
		case txtFooterRE.MatchString(s):
			reasons[kept[k]] = dropFooter
		case txtMentionsCookies(s) && txtCookieRE.MatchString(s):
			reasons[kept[k]] = dropCookie
		default:
			return
		}
	}
}

// txtMarkAppeal drops the paragraphs idx as an appeal, its short calls to
// action as such.
func txtMarkAppeal(paras []txtPara, reasons []string, idx []int) {
	for _, j := range idx {
		reasons[j] = dropAppeal
		if s := paras[j].text; runesAtMost(s, txtShortLine) && txtIsCTA(s) {
			reasons[j] = dropCTA
		}
	}
}

// txtAppealBlock returns the end (in kept) of the appeal block that opens
// at kept[pos] in mid-story, or pos when there is none. A block runs over
// appeals, calls to action and paragraphs that talk to the reader; it
// counts only when it is plainly an appeal: two paragraphs with appeal
// phrases, or a closing call to action ("Donate now").
func txtAppealBlock(paras []txtPara, kept []int, pos int) int {
	strong, cta := 0, false
	end := pos
	for ; end < len(kept); end++ {
		para := paras[kept[end]]
		s := para.text
		short := runesAtMost(s, txtShortLine)
		quoted := txtQuoted(s)
		cta = !para.isList() && short && (txtIsCTA(s) || txtIsPromo(s))
		switch {
		case para.isList():
		case para.appeal && !quoted:
			strong++
			continue
		case cta:
			continue
		case !quoted && runesAtMost(s, 600) && txtTalksToReader(s):
			continue
		}
		break
	}
	if end-pos >= 2 && (strong >= 2 || cta) {
		return end
	}
	return pos
}

// txtQuoted reports whether s holds a quotation mark, straight or curly.
func txtQuoted(s string) bool {
	return txtContainsAny(s, `"`, "“", "”")
}

// txtContainsAny is strings.ContainsAny(s, ascii+strings.Join(wide, "")),
// for ASCII bytes and characters outside ASCII, each looked for with the
// vectorised byte search: strings.ContainsAny goes character by character
// through s once its set holds one outside ASCII.
func txtContainsAny(s, ascii string, wide ...string) bool {
	for i := range len(ascii) {
		if strings.IndexByte(s, ascii[i]) >= 0 {
			return true
		}
	}
	for _, w := range wide {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// txtTalksToReader reports whether s addresses the reader (we, our, you…)
// in its own voice, not in reported speech.
func txtTalksToReader(s string) bool {
	lower := txtLowerASCII(s)
	return txtHasPronoun(lower) && !txtReported(lower)
}

// txtIsAppeal reports whether s opens an appeal to the reader: an appeal
// phrase, addressed to the reader, and not reported speech.
func txtIsAppeal(s string) bool {
	// One pass over the words finds the reader's pronouns and where phrases
	// may start; most paragraphs end there, with no regexp run.
	var starts [16]int
	n, pronoun := 0, false
	var buf [16]byte
	for start, end := txtNextWord(s, 0); start < len(s); start, end = txtNextWord(s, end) {
		// The filter first: most words go no further than it.
		if end-start > len(buf) || !txtAppealFilter.mayHold(s[start:end]) {
			continue
		}
		for j := start; j < end; j++ {
			buf[j-start] = s[j] | 0x20
		}
		e, ok := txtAppealIndex[string(buf[:end-start])]
		if !ok {
			continue
		}
		pronoun = pronoun || e.pronoun
		if len(e.phrases) > 0 && n < len(starts) {
			starts[n] = start
			n++
		}
	}
	if !pronoun || n == 0 {
		return false
	}
	lower := txtLowerASCII(s)
	for _, start := range starts[:n] {
		end := start
		for end < len(lower) && lower[end] >= 'a' && lower[end] <= 'z' {
			end++
		}
		// Phrases are short: a bounded input keeps the regexp's work small.
		rest := lower[start:min(len(lower), start+txtMaxPhrase)]
		ns, ne := txtNextWord(lower, end)
		next := lower[ns:ne]
		for _, ph := range txtAppealIndex[lower[start:end]].phrases {
			if (ph.next == nil || ph.next[next]) && ph.re.MatchString(rest) {
				return !txtReported(lower)
			}
		}
	}
	return false
}

// txtWordFilter tells, by first and last letter and length, which words
// a word set may hold: a cheap test that spares most words a map lookup
// (by first letter alone, "and", "in" and "that" went on to it).
type txtWordFilter [26 * 26]uint32

// txtFilterOf returns the filter of the words of a set: lower-case ASCII
// letters, none longer than 31.
func txtFilterOf[V any](words map[string]V) *txtWordFilter {
	var f txtWordFilter
	for w := range words {
		f[txtFilterSlot(w)] |= 1 << len(w)
	}
	return &f
}

// txtFilterSlot is where the filter keeps the lengths of words spelt
// like the ASCII word w, in any case.
func txtFilterSlot(w string) int {
	return int((w[0]|0x20)-'a')*26 + int((w[len(w)-1]|0x20)-'a')
}

// mayHold reports whether the set may hold the ASCII word w, in any case.
func (f *txtWordFilter) mayHold(w string) bool {
	return len(w) < 32 && f[txtFilterSlot(w)]&(1<<len(w)) != 0
}

// txtNextWord returns the bounds of the first run of ASCII letters in s at
// or after from; start is len(s) when there is none.
func txtNextWord(s string, from int) (start, end int) {
	// One comparison: setting 0x20 maps 'A'-'Z' onto 'a'-'z' and nothing
	// else there.
	isLetter := func(c byte) bool { return (c|0x20)-'a' < 26 }
	start = from
	for start < len(s) && !isLetter(s[start]) {
		start++
	}
	end = start
	for end < len(s) && isLetter(s[end]) {
		end++
	}
	return start, end
}

// txtAppealPhrase is a regexp of an appeal phrase, the words it may start
// with and, when the regexp is not worth running on any other, the words
// that may follow them (both space-separated).
type txtAppealPhrase struct{ words, next, re string }

// txtAppealWord is what txtAppealIndex knows of a word: whether an
// appeal addresses its reader with it, and the phrases starting with it.
type txtAppealWord struct {
	pronoun bool
	phrases []txtAppealRegexp
}

// txtAppealRegexp is an anchored appeal phrase and the words that may
// follow its first one (nil: any).
type txtAppealRegexp struct {
	next map[string]bool
	re   *regexp.Regexp
}

// txtIndexAppeals maps each word that starts an appeal phrase to the
// phrase's regexp, anchored, and marks the reader's pronouns.
func txtIndexAppeals(phrases []txtAppealPhrase) map[string]txtAppealWord {
	m := map[string]txtAppealWord{}
	for _, w := range []string{"we", "our", "us", "you", "your"} {
		m[w] = txtAppealWord{pronoun: true}
	}
	for _, ph := range phrases {
		r := txtAppealRegexp{re: regexp.MustCompile(`^(?:` + ph.re + `)`)}
		if ph.next != "" {
			r.next = txtSet(strings.Fields(ph.next)...)
		}
		for w := range strings.FieldsSeq(ph.words) {
			e := m[w]
			e.phrases = append(e.phrases, r)
			m[w] = e
		}
	}
	return m
}

// txtHasPronoun reports whether lower-cased s holds a word an appeal
// addresses its reader with.
func txtHasPronoun(lower string) bool {
	found := false
	txtWords(lower, func(_ int, w string) bool {
		found = txtAppealIndex[w].pronoun
		return !found
	})
	return found
}

// txtLowerASCII lower-cases the ASCII letters of s, which is all the appeal
// phrases need and much cheaper than strings.ToLower on non-ASCII text.
func txtLowerASCII(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// txtAllAppealish reports whether every paragraph at idx talks to the reader
// or is a call to action, as the paragraphs of an appeal do.
func txtAllAppealish(paras []txtPara, idx []int) bool {
	for _, i := range idx {
		s := paras[i].text
		short := runesAtMost(s, txtShortLine) && (txtIsCTA(s) || txtFooterRE.MatchString(s))
		lower := txtLowerASCII(s)
		if !short && (!txtHasPronoun(lower) || txtReported(lower)) {
			return false
		}
	}
	return true
}

// txtIsCTA reports whether s is a whole-line call to action ("Read more").
func txtIsCTA(s string) bool { return txtCTAs.match(s) }

// txtIsBanner reports whether s is a site banner, section label or breadcrumb.
func txtIsBanner(s string) bool { return txtBanners.match(s) }

// txtIsCTAPrefix reports whether s is a labelled link ("Read more: …").
func txtIsCTAPrefix(s string) bool { return txtCTAPrefixes.match(s) }

// txtLinePattern is a regexp for the start of a line and the words it may
// start with, space-separated ("#" for a digit).
type txtLinePattern struct{ words, re string }

// txtLineIndex holds line patterns by first word: one small regexp per
// word runs fast, where one regexp of every pattern would be slow.
type txtLineIndex map[string]*regexp.Regexp

// txtIndexLines compiles patterns, case-insensitive, anchored at the start
// of the line and followed by tail, grouped by first word.
func txtIndexLines(tail string, patterns []txtLinePattern) txtLineIndex {
	alts := map[string][]string{}
	for _, pt := range patterns {
		for w := range strings.FieldsSeq(pt.words) {
			alts[w] = append(alts[w], pt.re)
		}
	}
	idx := txtLineIndex{}
	for w, res := range alts {
		idx[w] = regexp.MustCompile(`(?i)^(?:` + strings.Join(res, "|") + `)` + tail)
	}
	return idx
}

// match reports whether a pattern for the first word of s matches it.
func (idx txtLineIndex) match(s string) bool {
	re := idx[txtFirstWord(s)]
	return re != nil && re.MatchString(s)
}

// txtIsPromo reports whether s is a short promotional line: it opens
// with an imperative (txtPromoVerbs), names the site or what it sells
// (txtPromoObjects), and reports nobody's words.
func txtIsPromo(s string) bool {
	s = strings.TrimLeftFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '"' && r != '“' })
	if !runesAtMost(s, txtStandaloneMax) || !txtPromoVerbs[txtFirstWord(s)] {
		return false
	}
	lower := txtLowerASCII(s)
	found := false
	txtWords(lower, func(_ int, w string) bool {
		found = txtPromoObjects[w]
		return !found
	})
	return found && !txtReported(lower)
}

// txtIsMasthead reports whether s is nothing but a site's name or address.
func txtIsMasthead(s string) bool {
	if !runesAtMost(s, 60) {
		return false
	}
	// A name ends with one of the words papers are named with; an address
	// has a dot and no space.
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		if !txtMastheadWords[txtLowerASCII(s[i+1:])] {
			return false
		}
	} else if !strings.Contains(s, ".") && !txtMastheadWords[txtLowerASCII(s)] {
		return false
	}
	return txtMastheadRE.MatchString(s)
}

// txtReported reports whether lower-cased s is reported speech: it holds a
// word like "said" or "told", or "according to".
func txtReported(lower string) bool {
	prev := ""
	for start, end := txtNextWord(lower, 0); start < len(lower); start, end = txtNextWord(lower, end) {
		w := lower[start:end]
		if txtReportedWords[w] || w == "to" && prev == "according" {
			return true
		}
		prev = w
	}
	return false
}

// txtMentionsCookies reports whether s has the word cookie in it, which
// every cookie notice has: a cheap test before txtCookieRE.
func txtMentionsCookies(s string) bool {
	return strings.Contains(s, "ookie") || strings.Contains(s, "OOKIE")
}

// txtWords calls f with each run of ASCII letters in lower and where it
// starts, until f returns false.
func txtWords(lower string, f func(start int, word string) bool) {
	start := 0
	for i := 0; i <= len(lower); i++ {
		if i < len(lower) && lower[i] >= 'a' && lower[i] <= 'z' {
			continue
		}
		if i > start && !f(start, lower[start:i]) {
			return
		}
		start = i + 1
	}
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
	if !runesAtMost(s, txtMaxCaption) {
		return false
	}
	if runesAtMost(s, 300) && s != "" && strings.IndexByte("PIC", s[0]) >= 0 && txtCaptionOpenRE.MatchString(s) {
		return true
	}
	tail := txtTail(s, 160)
	return strings.Contains(tail, "/") && txtSlashCreditRE.MatchString(tail) ||
		txtMayCredit(tail) && (txtLabelCreditRE.MatchString(tail) || nearTop && txtStockCreditRE.MatchString(tail))
}

// txtMayCredit reports whether s holds a word that every labelled or stock
// photo credit contains.
func txtMayCredit(s string) bool {
	for i := 0; i < len(s); i++ {
		for _, w := range txtCreditStarts[s[i]] {
			if strings.HasPrefix(s[i:], w) {
				return true
			}
		}
	}
	return false
}

// txtCreditStarts holds txtCreditWords by first byte, for txtMayCredit's
// single pass.
var txtCreditStarts = func() (m [256][]string) {
	for _, w := range txtCreditWords {
		m[w[0]] = append(m[w[0]], w)
	}
	return m
}()

// txtIsCreditOnly reports whether s is nothing but a photo credit.
func txtIsCreditOnly(s string) bool {
	if !runesAtMost(s, 80) {
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
	// "By …" opens most bylines; the rest hold a separator ("Jane Doe, Reuters").
	if !txtBylineStarts[txtFirstWord(s)] && !txtContainsAny(s, ",|", "–", "—", "·") &&
		!strings.Contains(s, " -") && !strings.Contains(s, "- ") {
		return "", nil, false
	}
	dates, rest := txtFindDates(s)
	rest = txtTrimBylineTail(rest)
	var names string
	if m := txtByByline(rest); m != nil {
		names = m[1]
	} else if m := txtAgencyByline(rest); m != nil && strings.Contains(m[1], " ") {
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

// txtByByline is txtBylineRE.FindStringSubmatch, which runs only on a
// line whose first word may be one its matches open with ("By", "Written
// by"): a word of ASCII letters must be one of txtBylineStarts.
func txtByByline(s string) []string {
	w := txtFirstWord(s)
	// A word going on past its ASCII letters (in "ſ", say, which folds to
	// "s") is left to the regexp.
	if (len(w) == len(s) || s[len(w)] < utf8.RuneSelf) && !txtBylineStarts[w] {
		return nil
	}
	return txtBylineRE.FindStringSubmatch(s)
}

// txtAgencyEnds and txtRoleEnds are the words txtAgencyBylineRE's matches
// end with: the last of each agency's name (as written) and role (in any
// case).
var txtAgencyEnds, txtRoleEnds = txtLastWords(txtAgency), txtLastWords(txtRoles)

// txtAgencyByline is txtAgencyBylineRE.FindStringSubmatch, which runs
// only on a line that ends as its matches do: most lines with a comma do
// not, and the regexp was 3% of a first start.
func txtAgencyByline(s string) []string {
	w := txtTrailingWord(strings.TrimSuffix(s, "."))
	if !slices.Contains(txtAgencyEnds, w) && !slices.ContainsFunc(txtRoleEnds, func(r string) bool { return strings.EqualFold(w, r) }) {
		return nil
	}
	return txtAgencyBylineRE.FindStringSubmatch(s)
}

// txtTrailingWord returns the run of letters that s ends with.
func txtTrailingWord(s string) string {
	i := len(s)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if !unicode.IsLetter(r) {
			break
		}
		i -= n
	}
	return s[i:]
}

// txtLastWords returns the last word of each of the alternatives
// ("a b|c") of a regexp made of words only.
func txtLastWords(alternatives string) []string {
	var out []string
	for alt := range strings.SplitSeq(alternatives, "|") {
		if w := txtTrailingWord(alt); !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
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
	// A numeric date has a dash, a written one a month's name: lines with
	// neither are spared the regexps.
	iso, named := strings.IndexByte(s, '-') >= 0, txtNamesMonth(s)
	var spans []span
	for _, re := range []*regexp.Regexp{txtISODateRE, txtDMYDateRE, txtMDYDateRE} {
		if re == txtISODateRE && !iso || re != txtISODateRE && !named {
			continue
		}
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

// txtNamesMonth reports whether s has a word starting with the first three
// letters of a month's name.
func txtNamesMonth(s string) bool {
	for start, end := txtNextWord(s, 0); start < len(s); start, end = txtNextWord(s, end) {
		if end-start >= 3 {
			if _, ok := txtMonthNum[txtLowerASCII(s[start:start+3])]; ok {
				return true
			}
		}
	}
	return false
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

// txtSummarySource returns the first kept paragraph of the story,
// preferring prose to a list and to a fragment (a short line that ends no
// sentence: a section label, a name, a promo line nobody recognised).
func txtSummarySource(paras []txtPara, reasons []string, story int) string {
	list, fragment := "", ""
	for i := story; i < len(paras); i++ {
		switch {
		case reasons[i] != "":
		case paras[i].isList():
			if list == "" {
				list = strings.Join(paras[i].items, "; ")
			}
		case txtIsFragment(paras[i].text):
			if fragment == "" {
				fragment = paras[i].text
			}
		default:
			return paras[i].text
		}
	}
	if list != "" {
		return list
	}
	return fragment
}

// txtIsFragment reports whether s is a short line that ends no sentence.
func txtIsFragment(s string) bool {
	if !runesAtMost(s, txtStandaloneMax) {
		return false
	}
	s = strings.TrimRight(s, `"'”’)]`)
	r, _ := utf8.DecodeLastRuneInString(s)
	return !strings.ContainsRune(".!?…:;", r)
}

// txtRender writes the kept paragraphs as HTML.
func txtRender(paras []txtPara, reasons []string, story int) string {
	var b strings.Builder
	size := 0
	for _, para := range paras[story:] {
		size += len(para.text) + 16
	}
	b.Grow(size)
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
		txtEscaper.WriteString(b, s)
		return
	}
	last := 0
	for _, m := range txtURLRE.FindAllStringIndex(s, -1) {
		url := txtTrimURL(s[m[0]:m[1]])
		txtEscaper.WriteString(b, s[last:m[0]])
		esc := html.EscapeString(url)
		b.WriteString(`<a href="` + esc + `">` + esc + `</a>`)
		last = m[0] + len(url)
	}
	txtEscaper.WriteString(b, s[last:])
}

// txtEscaper escapes text for HTML as html.EscapeString does, writing
// straight into the page being built.
var txtEscaper = strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;")

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
