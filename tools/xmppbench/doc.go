// Command xmppbench is a load generator for any XMPP server (xmppd,
// Prosody, ejabberd). It drives many virtual users through a lean raw-XML
// client of its own (TCP, STARTTLS, SASL SCRAM-SHA-256, SCRAM-SHA-1 or
// PLAIN through mellium.im/sasl's client, bind, roster, presence) and
// reports throughput, latency percentiles (p50, p90, p99, max; nearest
// rank, exact) and errors by kind for one scenario per run, as a table or, with --json, as one JSON
// object for scripts that compare servers.
//
// Scenarios:
//
//	login     --concurrency connectors log in over and over (TLS, SASL,
//	          bind, roster get, initial presence); logins/s, latency each,
//	          and in more_latency the latency of each step (connect+tls,
//	          sasl, bind, roster), to see where a login's time goes
//	chat      --users/2 pairs send chat messages to each other's bare JID,
//	          --window in flight per sender, or paced to --rate in total;
//	          messages/s delivered and end-to-end latency
//	chat-sm   chat with XEP-0198 and XEP-0280: --users accounts bind two
//	          resources each, every session enables stream management
//	          with resumption and carbons; pairs chat resource to
//	          resource (full JIDs), so each message is delivered once and
//	          carbon-copied to both accounts' other resources. Clients
//	          answer <r/> and send their own every 50 stanzas, checking
//	          the server's <a h/> (modulo 2^32). messages/s of direct
//	          deliveries, carbons/s apart, latency of both, every
//	          resource's counts checked (nothing lost, nothing twice)
//	sm-resume --sessions sessions enable XEP-0198 with resumption; workers
//	          cut each one's TCP connection (no </stream:stream>),
//	          reconnect, authenticate and <resume/>; resumptions/s and
//	          latency from TCP connect to <resumed/> (<failed/> is an error)
//	fanout    the --hub account changes presence in rounds; latency per
//	          contact and per round (until every contact has it)
//	idle      --sessions sessions held for --duration; the server's VmRSS
//	          per session (--server-pid); with --sm each session enables
//	          XEP-0198 with resumption
//	roster    --concurrency sessions of the --hub account fetch its roster
//	mam-query --concurrency sessions of the --hub account ask for the last
//	          --items (50) messages of its archive (XEP-0313 with an RSM
//	          <before/>), reading every <result/> and the <fin/>;
//	          queries/s and latency to <fin/>, a short page an error
//
// Setup steps, which only speak XMPP and so work on any server:
//
//	subscribe    the hub and every other account subscribe both ways
//	fill-roster  the hub gets --items roster items (for roster)
//	mam-fill     every other account sends the hub chat messages until
//	             --count are archived and delivered (for mam-query; the
//	             server must archive: XEP-0313); messages/s
//
// Accounts are numbered: --users N from --first (1) with --user-pattern
// (user%d) and --password-pattern (pass%d) on --domain. Creating them is
// the caller's job; `xmppbench provision --server xmppd|prosody|ejabberd`
// prints the commands. A run against Prosody, for example:
//
//	xmppbench provision --server prosody --users 201 | sh
//	xmppbench subscribe --addr 127.0.0.1:5222 --insecure --users 201
//	xmppbench fanout --addr 127.0.0.1:5222 --insecure --users 201 --duration 10s --json --label prosody
//
// Every scenario takes the same flags, so a comparison script can run
// scenario X against server Y by changing --addr and --label and collect
// the JSON. The JSON fields are stable: scenario, label, unit, ops,
// ops_per_s, latency{count,mean_ms,p50_ms,p90_ms,p99_ms,max_ms},
// more_latency, figures, errors, errors_by_kind.
//
// For a fair comparison, run Prosody with network_settings = { nagle =
// false } (otherwise its TLS handshake waits out delayed ACKs, about
// 40 ms per login), network_backend = "epoll" (select caps it at 1,024
// connections) and without mod_limits, and measure idle memory on a
// freshly started server: a garbage-collected heap keeps what earlier
// runs freed.
//
// --cpuprofile FILE writes a CPU profile of xmppbench itself, to see what
// the load generator costs next to the server (client_cpu_s against
// server_cpu_s in every result) when both share the machine.
//
// It is a tool, not the product: a Go module of its own under tools/,
// sharing no code with xmppd (its tests build xmppd from the root module
// to run against it). Each SCRAM login derives the salted password afresh
// (one PBKDF2 on the client, about 1 ms at 4,096 iterations), as a client
// that caches nothing does.
//
// Safety: xmppbench connects only to loopback addresses unless
// --allow-remote is given, checked on the command line and again on the
// address each connection actually dials. Every run is bounded: the
// measured phase by --duration or --count, each operation by --timeout,
// the whole run, setup included, by --max-time; it stops by itself.
// Only `xmppbench compare` without --no-install changes the machine: it
// installs missing servers and tsung with apt-get and stops the system
// services of the servers it installed, after saying so on stderr.
package main
