"""Two presses of one ⭐ button at the same moment (a double click): both answer, one star."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Engine, text
from sqlmodel import Session, select

from hotpapers import foryou
from hotpapers.storage.db import make_engine
from hotpapers.storage.models import PaperStar
from tests.foryou.test_foryou import ME, NOW, _add_papers


def test_a_press_that_loses_the_race_to_the_same_star_answers_starred(pg_url: str) -> None:
    """The second press looks while the first's row is not yet committed, so it inserts too and
    waits on the key; when the first commits, it must not fail: the paper is starred."""
    from sqlmodel import SQLModel

    import hotpapers.storage.models  # noqa: F401  (registers the tables)

    engine: Engine = make_engine(pg_url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    _add_papers(engine)
    answers: list[bool | BaseException] = []
    first = Session(engine)
    first.add(PaperStar(user_id=str(ME), paper_id="2610.00001", starred_at=NOW))
    first.flush()  # the row is written, uncommitted: the other press cannot see it yet

    def second_press() -> None:
        try:
            answers.append(foryou.toggle_star(engine, ME, "2610.00001", datetime.now(UTC)))
        except BaseException as exc:
            answers.append(exc)

    presser = threading.Thread(target=second_press)
    presser.start()
    _wait_until_a_backend_waits_on_a_lock(engine)  # the second press, on the first's key
    first.commit()
    first.close()
    presser.join(timeout=30)
    with Session(engine) as session:
        stars = session.exec(select(PaperStar)).all()
    engine.dispose()
    assert answers == [True]
    assert [(s.user_id, s.paper_id) for s in stars] == [(str(ME), "2610.00001")]


def _wait_until_a_backend_waits_on_a_lock(engine: Engine) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 30
    # Autocommit: inside one transaction pg_stat_activity would show the same snapshot.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        while not connection.execute(waiting).scalar():
            assert time.monotonic() < deadline, "the second press never reached the key"
            time.sleep(0.02)
