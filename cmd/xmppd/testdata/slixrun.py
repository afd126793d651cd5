"""What the slixmpp test scripts share: how a script is run against a
server (HOST PORT JID PW CONTACT CONTACT_PW on the command line) and how
its clients end."""
import asyncio
import logging
import sys


async def finish(*clients):
    """Disconnect every client and give the streams time to close."""
    for c in clients:
        c.disconnect()
    await asyncio.sleep(0.5)


async def subscribe_both(a, b):
    """Make a and b subscribed to each other: a asks, and slixmpp's
    defaults approve and ask back. Waits until both rosters say both."""
    a.send_presence_subscription(pto=b.boundjid.bare)
    for _ in range(100):
        if a.client_roster[b.boundjid.bare]["subscription"] == "both" and \
                b.client_roster[a.boundjid.bare]["subscription"] == "both":
            return
        await asyncio.sleep(0.1)


def run(main, timeout=60):
    """Run main(host, port, jid, pw, contact, contact_pw) from argv."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    host, port, j, pw, cj, cpw = sys.argv[1:7]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(asyncio.wait_for(main(host, int(port), j, pw, cj, cpw), timeout))
