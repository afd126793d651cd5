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
	// AllowRegistration lets anyone create an account in band (XEP-0077)
	// before logging in; off, accounts are made with `xmppd user add`.
	AllowRegistration bool `mapstructure:"allow_registration"`
	// PEPMaxNodes bounds an account's XEP-0163 PEP nodes, and PEPMaxItems
	// the items one node keeps (pubsub#max_items "max"). A PEP item's
	// payload is bounded by MaxStoredXMLBytes.
	PEPMaxNodes int `mapstructure:"pep_max_nodes"`
	PEPMaxItems int `mapstructure:"pep_max_items"`
}

func imDefaults() map[string]any {
	return map[string]any{
		"im.report_os":             false,
		"im.allow_account_removal": false,
		"im.allow_registration":    false,
		"im.max_stored_xml_bytes":  domain.DefaultMaxStoredXML,
		"im.pep_max_nodes":         domain.DefaultPEPMaxNodes,
		"im.pep_max_items":         domain.DefaultPEPMaxItems,
	}
}

func (c IMConf) validate() []error {
	var errs []error
	for _, k := range []struct {
		key string
		v   int
	}{{"im.max_stored_xml_bytes", c.MaxStoredXMLBytes}, {"im.pep_max_nodes", c.PEPMaxNodes}, {"im.pep_max_items", c.PEPMaxItems}} {
		if k.v < 1 {
			errs = append(errs, fmt.Errorf("%s %d must be at least 1", k.key, k.v))
		}
	}
	return errs
}
