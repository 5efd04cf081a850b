package content

import "errors"

// parseHTML reads an HTML article. (Stub: being written.)
func parseHTML(text string) (Parsed, error) { return Parsed{}, errors.New("html: not yet") }
