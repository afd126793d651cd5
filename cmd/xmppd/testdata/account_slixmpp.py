#!/usr/bin/python3
"""Everyday account features with slixmpp's own plugins against a running
xmppd: vCard (xep_0054), bookmarks in private XML storage (xep_0048 over
xep_0049) and in PEP private data (xep_0048 over xep_0223), client state
indication (xep_0352), software version (xep_0092), entity time
(xep_0202) and last activity (xep_0012). Prints what each client saw as
one JSON object on stdout.

usage: account_slixmpp.py HOST PORT JID PW CONTACT CONTACT_PW
"""
import asyncio
import json
import ssl

import slixmpp

import slixrun
from slixmpp.plugins.xep_0048 import Bookmarks

PLUGINS = ("xep_0030", "xep_0054", "xep_0049", "xep_0223", "xep_0048", "xep_0352", "xep_0092", "xep_0202", "xep_0012")


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        for p in PLUGINS:
            self.register_plugin(p)
        self.ssl_context.check_hostname = False  # self-signed test certificate
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.started = asyncio.Event()
        self.csi = asyncio.Event()
        self.presences = asyncio.Queue()
        self.messages = asyncio.Queue()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("csi_enabled", lambda _: self.csi.set())
        self.add_event_handler("presence_available", lambda p: self.presences.put_nowait(p["status"]))
        self.add_event_handler("message", lambda m: m["body"] and self.messages.put_nowait(m["body"]))

    async def on_start(self, _):
        await self.get_roster()
        self.send_presence()
        self.started.set()


async def drain(q):
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


async def main(host, port, j, pw, cj, cpw):
    alice, bob = Client(j + "/phone", pw), Client(cj + "/home", cpw)
    for c in (alice, bob):
        c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(asyncio.gather(alice.started.wait(), bob.started.wait(), alice.csi.wait()), 20)
    res = {}

    # XEP-0054: alice sets her vCard; bob reads it (anyone may, 3.2).
    v = alice.plugin["xep_0054"].make_vcard()
    v["FN"] = "Alice Liddell"
    v["NICKNAME"] = "alice"
    await alice.plugin["xep_0054"].publish_vcard(v)
    got = await bob.plugin["xep_0054"].get_vcard(alice.boundjid.bare, cached=False)
    res["vcard_fn_seen_by_bob"] = got["vcard_temp"]["FN"]

    # Bookmarks, the way mcabber and poezio keep them (XEP-0049) and the
    # way newer clients do (XEP-0223 PEP private data).
    for method in ("xep_0049", "xep_0223"):
        b = Bookmarks()
        b.add_conference("room@conference.localhost", "alice", name=method, autojoin=True)
        await alice.plugin["xep_0048"].set_bookmarks(b, method=method)
        r = await alice.plugin["xep_0048"].get_bookmarks(method=method)
        if method == "xep_0049":
            confs = r["private"]["bookmarks"]["conferences"]
        else:
            confs = r["pubsub"]["items"]["item"]["bookmarks"]["conferences"]
        res["bookmarks_" + method] = [c["name"] for c in confs]

    # XEP-0352: while alice is inactive, bob's two presence changes are
    # held and only the newer is sent when she is active again; a message
    # is not held.
    alice.send_presence(pto=bob.boundjid.bare, ptype="subscribe")
    bob.send_presence(pto=alice.boundjid.bare, ptype="subscribe")
    await asyncio.sleep(0.5)
    await drain(alice.presences)
    alice.plugin["xep_0352"].send_inactive()
    await alice.plugin["xep_0092"].get_version(alice.boundjid.domain)  # a round trip: inactive is in effect
    bob.send_presence(pstatus="first")
    bob.send_presence(pstatus="second")
    bob.send_message(mto=str(alice.boundjid), mbody="urgent", mtype="chat")
    res["message_while_inactive"] = await asyncio.wait_for(alice.messages.get(), 10)
    # The message first sends what was held (order kept, XEP-0352 5.1),
    # so wait for a later round trip and look at what came before active.
    await alice.plugin["xep_0092"].get_version(alice.boundjid.domain)
    res["presence_before_active"] = await drain(alice.presences)
    alice.plugin["xep_0352"].send_active()

    # XEP-0092, XEP-0202, XEP-0012 of the server.
    ver = await alice.plugin["xep_0092"].get_version(alice.boundjid.domain)
    res["software"] = ver["software_version"]["name"]
    t = await alice.plugin["xep_0202"].get_entity_time(alice.boundjid.domain)
    # Read as text: this slixmpp's get_utc() appends a second 'Z'.
    res["time_has_utc"] = bool(t.xml.findtext("{urn:xmpp:time}time/{urn:xmpp:time}utc"))
    last = await alice.plugin["xep_0012"].get_last_activity(alice.boundjid.domain)
    res["server_uptime_seconds"] = last["last_activity"]["seconds"]
    # Last activity of an online contact is 0 (XEP-0012 4).
    last = await alice.plugin["xep_0012"].get_last_activity(bob.boundjid.bare)
    res["bob_last_activity"] = last["last_activity"]["seconds"]

    print(json.dumps(res))
    await slixrun.finish(alice, bob)


if __name__ == "__main__":
    slixrun.run(main)
