#!/usr/bin/python3
"""A scripted subscription story between two slixmpp clients, for the
forensics test: alice (resource laptop) and bob (resource phone) log in,
then, one step at a time, alice adds bob to her roster, asks for his
presence, bob approves, alice renames and regroups him and changes her
presence, bob asks back, alice approves, alice unsubscribes, and alice
cancels bob's subscription (RFC 6121 2.3, 3.1, 3.2, 3.3, 4.2). Every
stanza carries the id the test expects to find in the log.

After each step has been seen by the other side, the script waits a
little, prints {"step": NAME, "time": RFC 3339 UTC} and waits again, so
each printed instant falls between two steps' events.

usage: story_slixmpp.py HOST PORT ALICE_PW BOB_PW
"""
import asyncio
import datetime
import json
import logging
import ssl
import sys

import slixmpp

ALICE, BOB = "alice@localhost", "bob@localhost"
SETTLE = 0.06


class Client(slixmpp.ClientXMPP):
    def __init__(self, full, pw):
        super().__init__(full, pw, sasl_mech="SCRAM-SHA-256")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        # Answer nothing on our own: the story decides every answer.
        self.roster.auto_authorize = None
        self.roster.auto_subscribe = False
        self.ready = asyncio.Event()
        self.seen = {}
        self.add_event_handler("session_start", self.on_start)
        for kind in ("subscribe", "subscribed", "unsubscribe", "unsubscribed", "available"):
            self.add_event_handler("presence_" + kind, self.noter(kind))

    def noter(self, kind):
        def note(pres):
            show = pres["show"] if kind == "available" else ""
            self.event_for(kind, pres["from"].bare, show).set()
        return note

    def event_for(self, kind, frm, show=""):
        return self.seen.setdefault((kind, frm, show), asyncio.Event())

    async def on_start(self, _):
        await self.get_roster()
        p = self.make_presence()
        p["id"] = "initial-" + self.boundjid.user
        p.send()
        self.ready.set()

    def presence(self, to, ptype, pid):
        p = self.make_presence(pto=to, ptype=ptype)
        p["id"] = pid
        p.send()

    async def roster_set(self, jid, name, groups, iid):
        iq = self.make_iq_set()
        iq["id"] = iid
        iq["roster"].set_items({jid: {"name": name, "groups": groups}})
        await iq.send(timeout=10)


def mark(step):
    now = datetime.datetime.now(datetime.timezone.utc)
    print(json.dumps({"step": step, "time": now.isoformat().replace("+00:00", "Z")}), flush=True)


async def wait(ev):
    await asyncio.wait_for(ev.wait(), 10)


async def step(name, coro):
    await coro
    await asyncio.sleep(SETTLE)
    mark(name)
    await asyncio.sleep(SETTLE)


async def main(host, port, apw, bpw):
    a = Client(ALICE + "/laptop", apw)
    b = Client(BOB + "/phone", bpw)
    for c in (a, b):
        c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(asyncio.gather(a.ready.wait(), b.ready.wait()), 20)

    async def online():
        pass

    async def roster_add():
        await a.roster_set(BOB, "Bob", ["Friends"], "roster-1")

    async def subscribe():
        a.presence(BOB, "subscribe", "sub-1")
        await wait(b.event_for("subscribe", ALICE))

    async def approve():
        b.presence(ALICE, "subscribed", "subd-1")
        await wait(a.event_for("subscribed", BOB))

    async def roster_change():
        await a.roster_set(BOB, "Bobby", ["Friends", "Work"], "roster-2")

    async def presence():
        p = a.make_presence(pshow="away", pstatus="lunch", ppriority=5)
        p["id"] = "pres-1"
        p.send()
        # Bob does not see it (his subscription is only "From"). Alice's
        # commands run one at a time, in order, so once a roster get sent
        # after it is answered, the presence has been recorded.
        await a.get_roster()

    async def subscribe_back():
        b.presence(ALICE, "subscribe", "sub-2")
        await wait(a.event_for("subscribe", BOB))

    async def approve_back():
        a.presence(BOB, "subscribed", "subd-2")
        await wait(b.event_for("subscribed", ALICE))

    async def unsubscribe():
        a.presence(BOB, "unsubscribe", "unsub-1")
        await wait(b.event_for("unsubscribe", ALICE))

    async def cancel():
        a.presence(BOB, "unsubscribed", "cancel-1")
        await wait(b.event_for("unsubscribed", ALICE))

    await asyncio.sleep(0.2)  # initial presence recorded
    for name, fn in (("online", online), ("roster_add", roster_add), ("subscribe", subscribe),
                     ("approve", approve), ("roster_change", roster_change), ("presence", presence),
                     ("subscribe_back", subscribe_back), ("approve_back", approve_back),
                     ("unsubscribe", unsubscribe), ("cancel", cancel)):
        await step(name, fn())
    for c in (a, b):
        c.disconnect()
    await asyncio.sleep(0.3)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    host, port, apw, bpw = sys.argv[1:5]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(asyncio.wait_for(main(host, int(port), apw, bpw), 60))
