#!/usr/bin/python3
"""Account-state traffic for the crash test: block lists (XEP-0191),
vCards (XEP-0054) and a PEP node (XEP-0163, the XEP-0172 nick).

usage: state_writer.py HOST PORT JID PW write N  -- for i in 0..N-1 blocks
       spam<i>@example.org, sets the vCard's FN to "v<i>" and publishes the
       nick "n<i>", printing "acked <kind> <i>" after each result
       state_writer.py HOST PORT JID PW read     -- prints the block list,
       the vCard's FN and the published nicks as JSON
"""
import asyncio
import json
import ssl
import sys

import slixmpp


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, pw):
        super().__init__(jid, pw, sasl_mech="SCRAM-SHA-256")
        for p in ("xep_0191", "xep_0054", "xep_0060", "xep_0163", "xep_0172"):
            self.register_plugin(p)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.ready = asyncio.Event()
        self.add_event_handler("session_start", lambda _: self.ready.set())


async def main(host, port, jid, pw, mode, n):
    c = Client(jid, pw)
    c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(c.ready.wait(), 20)
    if mode == "write":
        for i in range(n):
            await c.plugin["xep_0191"].block(f"spam{i}@example.org")
            print(f"acked block {i}", flush=True)
            v = c.plugin["xep_0054"].make_vcard()
            v["FN"] = f"v{i}"
            await c.plugin["xep_0054"].publish_vcard(v)
            print(f"acked vcard {i}", flush=True)
            await c.plugin["xep_0172"].publish_nick(f"n{i}")
            print(f"acked nick {i}", flush=True)
    else:
        blocked = await c.plugin["xep_0191"].get_blocked()
        vcard = await c.plugin["xep_0054"].get_vcard(c.boundjid.bare)
        items = await c.plugin["xep_0060"].get_items(c.boundjid.bare, "http://jabber.org/protocol/nick")
        nicks = [it.xml.find("{http://jabber.org/protocol/nick}nick").text for it in items["pubsub"]["items"]]
        print(json.dumps({
            "blocked": sorted(str(j) for j in blocked["blocklist"]["items"]),
            "fn": vcard["vcard_temp"]["FN"],
            "nicks": nicks,
        }), flush=True)
    c.disconnect()
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    host, port, jid, pw, mode = sys.argv[1:6]
    n = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(asyncio.wait_for(main(host, int(port), jid, pw, mode, n), 120))
