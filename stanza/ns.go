package stanza

// The namespaces xmppd speaks, in one place.
const (
	NSClient       = "jabber:client"                          // RFC 6120 section 4.8.3
	NSStreams      = "http://etherx.jabber.org/streams"       // RFC 6120 section 4.8.1
	NSStreamErrors = "urn:ietf:params:xml:ns:xmpp-streams"    // RFC 6120 section 4.9.3
	NSStanzas      = "urn:ietf:params:xml:ns:xmpp-stanzas"    // RFC 6120 section 8.3.3
	NSTLS          = "urn:ietf:params:xml:ns:xmpp-tls"        // RFC 6120 section 5
	NSSASL         = "urn:ietf:params:xml:ns:xmpp-sasl"       // RFC 6120 section 6
	NSBind         = "urn:ietf:params:xml:ns:xmpp-bind"       // RFC 6120 section 7
	NSSession      = "urn:ietf:params:xml:ns:xmpp-session"    // RFC 3921 section 3, kept for old clients
	NSRoster       = "jabber:iq:roster"                       // RFC 6121 section 2
	NSRosterVer    = "urn:xmpp:features:rosterver"            // RFC 6121 section 2.6
	NSPreApproval  = "urn:xmpp:features:pre-approval"         // RFC 6121 section 3.4
	NSPing         = "urn:xmpp:ping"                          // XEP-0199
	NSDiscoInfo    = "http://jabber.org/protocol/disco#info"  // XEP-0030
	NSDiscoItems   = "http://jabber.org/protocol/disco#items" // XEP-0030
	NSDelay        = "urn:xmpp:delay"                         // XEP-0203
	NSMsgOffline   = "msgoffline"                             // XEP-0160 section 4
	NSChatStates   = "http://jabber.org/protocol/chatstates"  // XEP-0085
	NSHints        = "urn:xmpp:hints"                         // XEP-0334
	NSStanzaID     = "urn:xmpp:sid:0"                         // XEP-0359
	NSCarbons      = "urn:xmpp:carbons:2"                     // XEP-0280
	NSForward      = "urn:xmpp:forward:0"                     // XEP-0297
	NSMAM          = "urn:xmpp:mam:2"                         // XEP-0313
	NSRSM          = "http://jabber.org/protocol/rsm"         // XEP-0059
)

// Archived content whose key is destroyed (issue 13): MAM serves the
// message with a XEP-0428 fallback <body/> and xmppd's own <gone/>.
const (
	NSFallback    = "urn:xmpp:fallback:0"      // XEP-0428, as XEP-0424 section 3 uses it
	NSArchiveGone = "urn:xmppd:archive-gone:0" // xmppd: <gone reason='erased|expired|missing'/>
)

// XEP-0424 Message Retraction and XEP-0431 full-text search in MAM.
const (
	NSRetract  = "urn:xmpp:message-retract:1" // XEP-0424
	NSFulltext = "urn:xmpp:fulltext:0"        // XEP-0431
)

// XEP-0191 Blocking Command.
const (
	NSBlocking       = "urn:xmpp:blocking"        // XEP-0191 section 3
	NSBlockingErrors = "urn:xmpp:blocking:errors" // XEP-0191 3.3, <blocked/>
)

// Server information and user storage.
const (
	NSVersion         = "jabber:iq:version"                      // XEP-0092
	NSTime            = "urn:xmpp:time"                          // XEP-0202
	NSLast            = "jabber:iq:last"                         // XEP-0012
	NSVCard           = "vcard-temp"                             // XEP-0054
	NSPrivate         = "jabber:iq:private"                      // XEP-0049
	NSRegister        = "jabber:iq:register"                     // XEP-0077
	NSRegisterFeature = "http://jabber.org/features/iq-register" // XEP-0077 section 4
)

// Avatars: XEP-0084 User Avatar (PEP nodes), XEP-0153 vCard-Based
// Avatars (the hash in presence) and XEP-0398, which joins the two.
const (
	NSAvatarData         = "urn:xmpp:avatar:data"            // XEP-0084 section 4.1, node and payload
	NSAvatarMetadata     = "urn:xmpp:avatar:metadata"        // XEP-0084 section 4.2, node and payload
	NSVCardUpdate        = "vcard-temp:x:update"             // XEP-0153 section 3.1
	NSPEPVCardConversion = "urn:xmpp:pep-vcard-conversion:0" // XEP-0398 section 2
)

// Bookmarks: XEP-0402 PEP Native Bookmarks and the XEP-0048 format it
// replaces, kept in XEP-0049 private storage or a XEP-0223 PEP node.
const (
	NSBookmarks          = "urn:xmpp:bookmarks:1"            // XEP-0402 section 2, node and payload
	NSBookmarksCompat    = "urn:xmpp:bookmarks:1#compat"     // XEP-0402 section 6: unified with XEP-0049
	NSBookmarksCompatPEP = "urn:xmpp:bookmarks:1#compat-pep" // XEP-0402 section 6: unified with XEP-0223
	NSLegacyBookmarks    = "storage:bookmarks"               // XEP-0048, payload namespace and XEP-0223 node
)

// NSCSI is XEP-0352 Client State Indication's stream feature and nonzas.
const NSCSI = "urn:xmpp:csi:0"

// NSSM is XEP-0198 Stream Management's stream feature and nonzas.
const NSSM = "urn:xmpp:sm:3"

// XEP-0060 Publish-Subscribe, as XEP-0163 (PEP) uses it, and XEP-0115
// Entity Capabilities, through which a client asks for notifications.
const (
	NSPubSub       = "http://jabber.org/protocol/pubsub"        // XEP-0060 section 7
	NSPubSubEvent  = "http://jabber.org/protocol/pubsub#event"  // XEP-0060 section 7.1.2.1
	NSPubSubOwner  = "http://jabber.org/protocol/pubsub#owner"  // XEP-0060 section 8
	NSPubSubErrors = "http://jabber.org/protocol/pubsub#errors" // XEP-0060 section 14
	NSPubSubConfig = "http://jabber.org/protocol/pubsub#node_config"
	NSPubSubPubOpt = "http://jabber.org/protocol/pubsub#publish-options"
	NSDataForms    = "jabber:x:data"                   // XEP-0004
	NSCaps         = "http://jabber.org/protocol/caps" // XEP-0115
)
