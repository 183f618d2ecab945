"""Acknowledge first, work after, in order: a thread pool with one lane per interview.

Slack wants its HTTP answer within 3 s, whatever the Web API is doing; listeners acknowledge at
once and hand their work here. Work for one key (an interview's DM or thread) runs strictly in
the order it arrived, one job at a time; different keys run in parallel. A job's failure is
logged and does not stop its lane.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("cmbot.slack")
Job = Callable[[], None]


class Lanes:
    def __init__(self, workers: int = 8):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cmbot-work")
        self._queues: dict[str, deque[Job]] = {}
        self._guard = threading.Lock()
        self._idle = threading.Condition(self._guard)

    def submit(self, key: str, job: Job) -> None:
        with self._guard:
            queue = self._queues.get(key)
            if queue is not None:  # the lane is running: it will take this job in turn
                queue.append(job)
                return
            self._queues[key] = deque([job])
        self._pool.submit(self._drain, key)

    def _drain(self, key: str) -> None:
        while True:
            with self._guard:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    self._idle.notify_all()
                    return
                job = queue[0]
            try:
                job()
            except Exception:
                log.exception("work for %s failed", key)
            with self._guard:
                queue.popleft()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no lane has work (shutdown, tests)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._queues, timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
