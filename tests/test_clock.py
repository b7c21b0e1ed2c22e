"""The clock the date-sensitive tests run on in CI (``TIPLINE_TEST_TODAY``) is really moved:
for this process, its threads and the service's own notion of today."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

from tests.conftest import CHINA, TEST_TODAY, moved_clock
from tipline.workdays.services import today_local


def test_a_moved_clock_is_the_service_s_today_in_every_thread() -> None:
    with moved_clock("2028-01-02"):
        assert today_local() == dt.date(2028, 1, 2)
        assert dt.datetime.now(dt.UTC).astimezone(CHINA).date() == dt.date(2028, 1, 2)
        seen: list[dt.date] = []
        thread = threading.Thread(target=lambda: seen.append(dt.date.today()))
        thread.start()
        thread.join()
        assert seen == [dt.date(2028, 1, 2)]
        assert asyncio.run(asyncio.to_thread(today_local)) == dt.date(2028, 1, 2)
    assert today_local() != dt.date(2028, 1, 2) or TEST_TODAY == "2028-01-02"


def test_tipline_test_today_moves_every_test() -> None:
    """Under ``TIPLINE_TEST_TODAY`` (CI's second and third runs) this test runs on that day."""
    if TEST_TODAY:
        assert today_local() == dt.date.fromisoformat(TEST_TODAY)
    else:
        assert abs(dt.datetime.now(dt.UTC) - dt.datetime.fromtimestamp(0, dt.UTC)) > dt.timedelta(
            days=365 * 50
        ), "without TIPLINE_TEST_TODAY the clock is the machine's"
