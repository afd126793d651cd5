#!/usr/bin/python3
"""XEP-0198 with slixmpp's xep_0198 plugin against a running xmppd: alice
enables stream management with resumption, reads three messages from
bob, then her TCP connection is cut under her (no </stream:stream>);
bob sends two more while she is away; she reconnects and the plugin
resumes the session. Prints one JSON object on stdout: whether she
resumed, how often each body reached her, how many times a session
started, and whether bob ever saw her unavailable.

usage: sm_slixmpp.py HOST PORT JID PW CONTACT CONTACT_PW
"""
import asyncio
import collections
import json
import ssl

import slixmpp

import slixrun


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.register_plugin("xep_0198")
        self.register_plugin("xep_0199")
        self.ssl_context.check_hostname = False  # self-signed test certificate
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.started = asyncio.Event()
        self.enabled = asyncio.Event()
        self.resumed = asyncio.Event()
        self.starts = 0
        self.bodies = collections.Counter()
        self.got = asyncio.Queue()
        self.unavailable_from = []
        self.available_from = collections.defaultdict(asyncio.Event)
        self.add_event_handler("presence_available", lambda p: self.available_from[str(p["from"].bare)].set())
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("sm_enabled", lambda _: self.enabled.set())
        self.add_event_handler("session_resumed", lambda _: self.resumed.set())
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("presence_unavailable", lambda p: self.unavailable_from.append(str(p["from"])))

    async def on_start(self, _):
        self.starts += 1
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def on_message(self, msg):
        if msg["body"]:
            self.bodies[msg["body"]] += 1
            self.got.put_nowait(msg["body"])


async def main(host, port, j, pw, cj, cpw):
    alice, bob = Client(j + "/phone", pw), Client(cj + "/home", cpw)
    for c in (alice, bob):
        c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(asyncio.gather(alice.started.wait(), bob.started.wait(), alice.enabled.wait()), 20)
    sm_id = alice.plugin["xep_0198"].sm_id
    # Mutual subscription (slixmpp approves requests by default), so bob
    # would see alice go unavailable.
    alice.send_presence(pto=bob.boundjid.bare, ptype="subscribe")
    await asyncio.wait_for(bob.available_from[alice.boundjid.bare].wait(), 10)

    for body in ("m1", "m2", "m3"):
        bob.send_message(mto=str(alice.boundjid), mbody=body, mtype="chat")
    for _ in range(3):
        await asyncio.wait_for(alice.got.get(), 10)

    # Cut the TCP connection under the client, as a network change does.
    lost = asyncio.Event()
    alice.add_event_handler("disconnected", lambda _: lost.set())
    alice.transport.abort()
    await asyncio.wait_for(lost.wait(), 10)
    for body in ("m4", "m5"):
        bob.send_message(mto=str(alice.boundjid), mbody=body, mtype="chat")
    await asyncio.sleep(0.3)

    alice.connect((host, port), force_starttls=True)
    await asyncio.wait_for(alice.resumed.wait(), 20)
    for _ in range(2):
        await asyncio.wait_for(alice.got.get(), 10)
    # A round trip on each side: anything else due has arrived by now.
    for c in (alice, bob):
        await c.plugin["xep_0199"].ping(jid=c.boundjid.domain, timeout=10)
    print(json.dumps({
        "sm_id": bool(sm_id),
        "resumed": alice.resumed.is_set(),
        "starts": alice.starts,
        "bodies": dict(alice.bodies),
        "bob_saw_unavailable": [f for f in bob.unavailable_from if f.startswith(j)],
    }))
    await slixrun.finish(alice, bob)


if __name__ == "__main__":
    slixrun.run(main)
