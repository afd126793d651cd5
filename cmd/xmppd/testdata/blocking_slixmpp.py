#!/usr/bin/python3
"""XEP-0191 with slixmpp's xep_0191 plugin against a running xmppd: alice
finds urn:xmpp:blocking in the server's disco#info, blocks bob, bob's
message to her bounces and hers to him is refused, she unblocks him and
his next message arrives. Reports what happened as one JSON object.

usage: blocking_slixmpp.py HOST PORT JID1 PW1 JID2 PW2
"""
import asyncio
import json
import ssl
import time

import slixmpp

import slixrun
from slixmpp.exceptions import IqError


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0191")
        self.started = asyncio.Event()
        self.bodies = []
        self.errors = []
        self.got = asyncio.Event()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("message_error", self.on_message)

    async def on_start(self, _):
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def on_message(self, msg):
        if msg["type"] == "error":
            err = msg["error"]
            app = [c.tag for c in err.xml if "blocking:errors" in c.tag]
            e = {"id": msg["id"], "condition": err["condition"], "blocked": bool(app)}
            if e not in self.errors:  # "message" and "message_error" both fire
                self.errors.append(e)
        elif msg["body"]:
            self.bodies.append(msg["body"])
        self.got.set()

    async def wait_for(self, cond):
        for _ in range(100):
            if cond():
                return
            self.got.clear()
            try:
                await asyncio.wait_for(self.got.wait(), 0.1)
            except asyncio.TimeoutError:
                pass


async def main(host, port, j1, p1, j2, p2):
    a, b = Client(j1, p1), Client(j2, p2)
    for c in (a, b):
        c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(asyncio.gather(a.started.wait(), b.started.wait()), 20)

    info = await a["xep_0030"].get_info(jid=a.boundjid.domain)
    features = info["disco_info"]["features"]
    before = [str(j) for j in (await a["xep_0191"].get_blocked())["blocklist"]["items"]]

    await a["xep_0191"].block([j2])
    blocked = [str(j) for j in (await a["xep_0191"].get_blocked())["blocklist"]["items"]]
    blocked_at = time.time()

    m = b.make_message(mto=j1, mbody="are you there?", mtype="chat")
    m["id"] = "from-bob-1"
    m.send()
    await b.wait_for(lambda: b.errors)
    m = a.make_message(mto=j2, mbody="hello?", mtype="chat")
    m["id"] = "from-alice-1"
    m.send()
    await a.wait_for(lambda: a.errors)

    await a["xep_0191"].unblock([j2])
    after = [str(j) for j in (await a["xep_0191"].get_blocked())["blocklist"]["items"]]
    b.send_message(mto=j1, mbody="now?", mtype="chat")
    await a.wait_for(lambda: a.bodies)

    print(json.dumps({
        "features": list(features), "before": before, "blocked": blocked, "after": after,
        "bob_errors": b.errors, "alice_errors": a.errors, "alice_bodies": a.bodies,
        "blocked_at": blocked_at,
    }))
    await slixrun.finish(a, b)


if __name__ == "__main__":
    slixrun.run(main)
