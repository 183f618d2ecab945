"""`cmbot serve --port 0`: the system picks a free port and the log says which one; a port
another program listens on is named in one line."""

from __future__ import annotations

import re
import socket
import time
import urllib.request

from commandline import run
from conftest import CMBOT_EXE, bot_environment


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


def test_a_port_another_program_listens_on_is_named_in_one_line(fake_slack, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = bot_environment(fake_slack, tmp_path / "db.json")
        result = run(["serve", "--http", "--port", str(port)], env=env, cwd=tmp_path, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"cmbot serve: cannot listen on port {port} (Address already in use): "
        "choose another with --port or PORT")
    assert "Traceback" not in result.stderr and "database" not in result.stderr
