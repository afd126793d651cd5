#!/usr/bin/python3
"""XEP-0163 with slixmpp's xep_0163, xep_0084 and xep_0172 plugins against
a running xmppd: alice and bob subscribe to each other; bob's client
announces +notify for nick and avatar metadata through its caps
(xep_0115); alice publishes her nick and an avatar (data, then
metadata); bob receives the notifications and fetches the avatar's data
by id. Reports what happened as one JSON object.

usage: pep_slixmpp.py HOST PORT JID1 PW1 JID2 PW2
"""
import asyncio
import base64
import json
import logging
import ssl
import sys
import time

import slixmpp

import slixrun

AVATAR = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        for p in ("xep_0030", "xep_0060", "xep_0115", "xep_0163", "xep_0084", "xep_0172"):
            self.register_plugin(p)
        self.started = asyncio.Event()
        self.nicks = []
        self.avatar_ids = []
        self.got = asyncio.Event()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("user_nick_publish", self.on_nick)
        self.add_event_handler("avatar_metadata_publish", self.on_avatar)

    async def on_start(self, _):
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def on_nick(self, msg):
        self.nicks.append(msg["pubsub_event"]["items"]["item"]["nick"]["nick"])
        self.got.set()

    def on_avatar(self, msg):
        info = msg["pubsub_event"]["items"]["item"]["avatar_metadata"]["items"]
        self.avatar_ids.extend(i["id"] for i in info)
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

    await slixrun.subscribe_both(a, b)

    info = await b["xep_0030"].get_info(jid=j1)
    identities = [list(i[:2]) for i in info["disco_info"]["identities"]]

    await a["xep_0172"].publish_nick("Alice")
    published_at = time.time()
    await b.wait_for(lambda: b.nicks)

    avatar_id = a["xep_0084"].generate_id(AVATAR)
    await a["xep_0084"].publish_avatar(AVATAR)
    await a["xep_0084"].publish_avatar_metadata([{"id": avatar_id, "type": "image/png", "bytes": len(AVATAR)}])
    await b.wait_for(lambda: b.avatar_ids)
    res = await b["xep_0084"].retrieve_avatar(slixmpp.JID(j1), avatar_id)
    data = res["pubsub"]["items"]["item"]["avatar_data"]["value"]

    print(json.dumps({
        "identities": identities, "nicks": b.nicks, "avatar_ids": b.avatar_ids,
        "avatar_id": avatar_id, "avatar_ok": data == AVATAR, "published_at": published_at,
    }))
    for c in (a, b):
        c.disconnect()
    await asyncio.sleep(0.5)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    host, port, j1, p1, j2, p2 = sys.argv[1:7]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(asyncio.wait_for(main(host, int(port), j1, p1, j2, p2), 60))
