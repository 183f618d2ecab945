"""`cmbot serve --port 0`: the system picks a free port and the log says which one."""

from __future__ import annotations

import re
import time
import urllib.request

from conftest import CMBOT_EXE


def test_port_0_logs_the_port_it_listens_on(start_bot):
    bot = start_bot(command=[str(CMBOT_EXE), "serve", "--http", "--port", "0"], wait=False)
    deadline = time.monotonic() + 20
    found = None
    while found is None and time.monotonic() < deadline:
        found = re.search(r"listening on http://0\.0\.0\.0:(\d+)/slack/events", bot.logs())
        time.sleep(0.05)
    assert found, bot.logs()
    port = int(found.group(1))
    assert port != 0
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert response.status == 200
