#!/usr/bin/python3
"""XEP-0398 with slixmpp's own xep_0084 (User Avatar) and xep_0153
(vCard-Based Avatars) plugins against a running xmppd: alice and bob
subscribe to each other; alice's account announces the conversion; alice
publishes an avatar through PEP only, then resets her XEP-0153 hash (4.4:
presence with an <x/> and no <photo/>, then a vCard get); bob sees the
avatar's id in her presence and reads the image in her vCard, which she
never set. Prints what each client saw as one JSON object on stdout.

usage: avatar_slixmpp.py HOST PORT JID PW CONTACT CONTACT_PW
"""
import asyncio
import json
import ssl

import slixmpp

import slixrun

PLUGINS = ("xep_0030", "xep_0054", "xep_0060", "xep_0163", "xep_0084", "xep_0153")
AVATAR = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        for p in PLUGINS:
            self.register_plugin(p)
        self.ssl_context.check_hostname = False  # self-signed test certificate
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.started = asyncio.Event()
        self.photos = []  # the <photo/> of each presence from the contact: its text, or "no x", "no photo"
        self.seen = asyncio.Event()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("presence_available", self.on_presence)

    async def on_start(self, _):
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def on_presence(self, p):
        if p["from"].bare == self.boundjid.bare:
            return
        x = p.xml.find("{vcard-temp:x:update}x")
        photo = None if x is None else x.find("{vcard-temp:x:update}photo")
        self.photos.append("no x" if x is None else "no photo" if photo is None else photo.text or "")
        self.seen.set()

    async def wait_photo(self, want):
        for _ in range(100):
            if want in self.photos:
                return
            self.seen.clear()
            try:
                await asyncio.wait_for(self.seen.wait(), 0.1)
            except asyncio.TimeoutError:
                pass


async def main(host, port, j, pw, cj, cpw):
    alice, bob = Client(j + "/phone", pw), Client(cj + "/home", cpw)
    for c in (alice, bob):
        c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(asyncio.gather(alice.started.wait(), bob.started.wait()), 20)
    res = {}

    await slixrun.subscribe_both(alice, bob)

    # Section 2: the feature on the account.
    info = await alice.plugin["xep_0030"].get_info(jid=alice.boundjid.bare)
    res["features"] = list(info["disco_info"]["features"])
    res["photos_before"] = list(bob.photos)

    # XEP-0084 only: data, then metadata.
    avatar_id = alice.plugin["xep_0084"].generate_id(AVATAR)
    res["avatar_id"] = avatar_id
    await alice.plugin["xep_0084"].publish_avatar(AVATAR)
    await alice.plugin["xep_0084"].publish_avatar_metadata([{"id": avatar_id, "type": "image/png", "bytes": len(AVATAR)}])

    # XEP-0153 4.4: the client resets its hash; its vCard get returns the
    # PEP avatar, and its next presence carries that hash.
    await alice.plugin["xep_0153"].api["reset_hash"](alice.boundjid)
    res["alice_own_hash"] = await alice.plugin["xep_0153"].api["get_hash"](alice.boundjid)
    alice.send_presence(pstatus="with avatar")
    await bob.wait_photo(avatar_id)
    res["photos"] = list(bob.photos)

    # 3.1 / 5.2: bob, a subscriber, reads the image in alice's vCard.
    got = await bob.plugin["xep_0054"].get_vcard(alice.boundjid.bare, cached=False)
    photo = got["vcard_temp"]["PHOTO"]
    res["vcard_type"] = photo["TYPE"]
    res["vcard_photo_ok"] = photo["BINVAL"] == AVATAR

    print(json.dumps(res))
    await slixrun.finish(alice, bob)


if __name__ == "__main__":
    slixrun.run(main)
