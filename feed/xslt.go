package feed

import _ "embed"

// StylesheetName is the path, under the base URL, of the XSLT style sheet
// that the Atom and RSS documents name in an xml-stylesheet processing
// instruction, so that a browser opening a feed shows a readable page.
const StylesheetName = "feed.xsl"

// xslType is the media type the style sheet is served with; browsers accept
// text/xsl for XSLT.
const xslType = "text/xsl; charset=utf-8"

// stylesheet turns an Atom or RSS document into an HTML page listing its
// items, with a hint on subscribing and a link to the HTML index, which
// stays the primary view for people (browsers are dropping XSLT).
//
//go:embed feed.xsl
var stylesheet []byte
