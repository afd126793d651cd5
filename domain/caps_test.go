package domain_test

import (
	"testing"

	"xmppd/domain"
	"xmppd/stanza"
)

func parseEl(t *testing.T, s string) *stanza.Element {
	t.Helper()
	el, err := stanza.ParseBytes([]byte(s), stanza.Limits{MaxDepth: 10, MaxNodes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// XEP-0115 sections 5.2 and 5.3: the simple and the complex generation
// examples hash to the spec's verification strings.
func TestCapsVer_XEP0115_5(t *testing.T) {
	simple := `<query xmlns='http://jabber.org/protocol/disco#info'>
	  <identity category='client' name='Exodus 0.9.1' type='pc'/>
	  <feature var='http://jabber.org/protocol/caps'/>
	  <feature var='http://jabber.org/protocol/disco#info'/>
	  <feature var='http://jabber.org/protocol/disco#items'/>
	  <feature var='http://jabber.org/protocol/muc'/></query>`
	complex := `<query xmlns='http://jabber.org/protocol/disco#info'>
       <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
       <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
       <feature var='http://jabber.org/protocol/caps'/>
       <feature var='http://jabber.org/protocol/disco#info'/>
       <feature var='http://jabber.org/protocol/disco#items'/>
       <feature var='http://jabber.org/protocol/muc'/>
       <x xmlns='jabber:x:data' type='result'>
         <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
         <field var='ip_version' type='text-multi' ><value>ipv4</value><value>ipv6</value></field>
         <field var='os'><value>Mac</value></field>
         <field var='os_version'><value>10.5.1</value></field>
         <field var='software'><value>Psi</value></field>
         <field var='software_version'><value>0.11</value></field>
       </x></query>`
	dup := `<query xmlns='http://jabber.org/protocol/disco#info'><feature var='a'/><feature var='a'/></query>`
	for _, tc := range []struct {
		xml, algo, want string
		ok              bool
	}{
		{simple, "sha-1", "QgayPKawpkPSDYmwT/WM94uAlu0=", true},
		{complex, "sha-1", "q07IKJEyjvHSyhy//CH0CxmKi8w=", true},
		{simple, "md5", "", false},
		{dup, "sha-1", "", false},
	} {
		got, ok := domain.CapsVer(parseEl(t, tc.xml), tc.algo)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CapsVer(%s) = %q %v, want %q %v", tc.algo, got, ok, tc.want, tc.ok)
		}
	}
	n := domain.NotifyNodes([]string{"urn:xmpp:avatar:metadata+notify", "urn:xmpp:avatar:metadata", "+notify"})
	if len(n) != 1 || !n["urn:xmpp:avatar:metadata"] {
		t.Errorf("NotifyNodes: %v", n)
	}
}
