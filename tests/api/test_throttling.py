"""The lookup API's rate limits count atomically (api/v1/throttling.py): requests arriving at
once, from many threads here as from several workers or nodes in production, are each
counted, so no more than the rate gets through."""

import threading

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from api.v1 import throttling
from api.v1.throttling import LookupThrottle


@pytest.fixture
def limited(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"lookup": "25/minute", "bulk": "1/minute"},
    }
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


def test_requests_at_once_are_each_counted(limited, monkeypatch):
    monkeypatch.setattr(throttling.time, "time", lambda: 1_800_000_010.0)  # one window
    request = RequestFactory().get("/api/v1/entries/", REMOTE_ADDR="198.51.100.7")
    start, answers = threading.Barrier(40), []

    def ask():
        start.wait()
        answers.append(LookupThrottle().allow_request(request, None))

    threads = [threading.Thread(target=ask) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (answers.count(True), answers.count(False)) == (25, 15)


def test_the_count_starts_again_in_the_next_window_and_wait_says_when(limited, monkeypatch):
    now = [1_800_000_010.0]  # 10 s into a minute (1_800_000_000 is a multiple of 60)
    monkeypatch.setattr(throttling.time, "time", lambda: now[0])
    request = RequestFactory().get("/api/v1/entries/", REMOTE_ADDR="198.51.100.8")
    throttle = LookupThrottle()
    assert [throttle.allow_request(request, None) for _ in range(26)] == [True] * 25 + [False]
    assert throttle.wait() == 50.0
    other = RequestFactory().get("/api/v1/entries/", REMOTE_ADDR="198.51.100.9")
    assert LookupThrottle().allow_request(other, None) is True  # per client
    now[0] = 1_800_000_060.0
    assert throttle.allow_request(request, None) is True
