package main

import (
	"fmt"

	"xmppd/domain"
)

// IMConf tunes what the IM core answers of the server and stores for
// users.
type IMConf struct {
	// ReportOS adds the operating system to XEP-0092 software version
	// answers (off: XEP-0092 section 5 calls the OS sensitive).
	ReportOS bool `mapstructure:"report_os"`
	// MaxStoredXMLBytes bounds one stored vCard (XEP-0054) or private XML
	// element (XEP-0049), serialised; over it a set is policy-violation.
	MaxStoredXMLBytes int `mapstructure:"max_stored_xml_bytes"`
	// AllowAccountRemoval lets users delete their own account with
	// XEP-0077 <remove/>; off, they get not-allowed.
	AllowAccountRemoval bool `mapstructure:"allow_account_removal"`
}

func imDefaults() map[string]any {
	return map[string]any{
		"im.report_os":             false,
		"im.allow_account_removal": false,
		"im.max_stored_xml_bytes":  domain.DefaultMaxStoredXML,
	}
}

func (c IMConf) validate() []error {
	if c.MaxStoredXMLBytes < 1 {
		return []error{fmt.Errorf("im.max_stored_xml_bytes %d must be at least 1", c.MaxStoredXMLBytes)}
	}
	return nil
}
