#!/usr/bin/python3
"""Two slixmpp clients against a running xmppd: log in over STARTTLS with
SCRAM, add each other, subscribe both ways, see each other's presence,
chat, and report what each saw as one JSON object on stdout.

usage: interop_slixmpp.py HOST PORT JID1 PW1 JID2 PW2
"""
import asyncio
import json
import logging
import ssl
import sys

import slixmpp


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mech, other):
        super().__init__(jid, password, sasl_mech=mech)
        self.other = other
        self.saw_available = asyncio.Event()
        self.got_message = asyncio.Event()
        self.bodies = []
        self.presence_from = set()
        self.started = asyncio.Event()
        # The test server's certificate is self-signed.
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("presence_available", self.on_available)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", lambda *_: print(json.dumps({"error": jid + ": auth failed"})))

    async def on_start(self, _):
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def on_available(self, pres):
        if pres["from"].bare == self.other:
            self.presence_from.add(str(pres["from"]))
            self.saw_available.set()

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            self.bodies.append({"from": msg["from"].bare, "body": msg["body"]})
            self.got_message.set()


async def main(host, port, j1, p1, j2, p2):
    a = Peer(j1, p1, "SCRAM-SHA-256", j2)
    b = Peer(j2, p2, "SCRAM-SHA-1", j1)
    for c in (a, b):
        # Accept and return subscription requests, as a person would.
        c.roster.auto_authorize = True
        c.roster.auto_subscribe = True
        c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(asyncio.gather(a.started.wait(), b.started.wait()), 20)

    # RFC 6121 3.1: alice asks bob; bob approves and asks back; alice approves.
    a.send_presence_subscription(pto=j2, ptype="subscribe")
    await asyncio.wait_for(asyncio.gather(a.saw_available.wait(), b.saw_available.wait()), 20)

    a.send_message(mto=j2, mbody="hello bob, ñ ✓", mtype="chat")
    await asyncio.wait_for(b.got_message.wait(), 10)
    b.send_message(mto=j1, mbody="hi alice", mtype="chat")
    await asyncio.wait_for(a.got_message.wait(), 10)

    # Fresh roster fetches: what the server holds, not the client's cache.
    subs = {}
    for c, other in ((a, j2), (b, j1)):
        for _ in range(50):
            await c.get_roster()
            item = c.client_roster[other]
            if item["subscription"] == "both":
                break
            await asyncio.sleep(0.1)
        subs[c.boundjid.bare] = {"subscription": item["subscription"], "pending_out": bool(item["pending_out"])}

    result = {
        "rosters": subs,
        "presence": {a.boundjid.bare: sorted(a.presence_from), b.boundjid.bare: sorted(b.presence_from)},
        "messages": {a.boundjid.bare: a.bodies, b.boundjid.bare: b.bodies},
        "bound": [str(a.boundjid), str(b.boundjid)],
    }
    print(json.dumps(result))
    for c in (a, b):
        c.disconnect()
    await asyncio.sleep(0.5)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    host, port, j1, p1, j2, p2 = sys.argv[1:7]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(asyncio.wait_for(main(host, int(port), j1, p1, j2, p2), 60))
