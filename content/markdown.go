package content

import "errors"

// parseMarkdown reads a Markdown article. (Stub: being written.)
func parseMarkdown(text string) (Parsed, error) { return Parsed{}, errors.New("markdown: not yet") }
