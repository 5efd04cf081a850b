// Package content owns the content folder: it reads article files
// (Markdown, plain text, HTML) into Articles, gives each a stable identity
// and dates that survive restarts, and watches the folder for changes.
//
// It knows nothing of feeds or HTTP; package feed consumes its Articles.
package content
