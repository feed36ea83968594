"""arXiv's holidays, 2020-2027: the evenings (America/New_York) without an announcement.

Each date is an *announcement evening* arXiv skips, so the listing dated the day after does
not exist (Thanksgiving, Thursday 2026-11-26, means no listing dated Friday 2026-11-27).
arXiv publishes its list once a year under "On Deferred Mailings" on
https://info.arxiv.org/help/availability.html; its source is `source/help/availability.md`
in the public repository github.com/arXiv/arxiv-docs, whose git history keeps each year's
list. Friday dates on those lists change nothing here: there is never an announcement on a
Friday evening. `[arxiv] holidays` in the config replaces this table and
`[arxiv] extra_holidays` adds ad-hoc closures to it; a year without any date in the result
falls back to the weekday rule, with a warning (`hotpapers.arxiv.calendar`).
"""

from __future__ import annotations

from datetime import date

D = date

# 2020-2022: NOT from a published list (the arxiv-docs history starts listing holidays in
# 2023; earlier years were announced on the status page and blog, which we could not read).
# Reconstructed from what recurs on the 2023-2026 lists: the US federal holidays New Year's
# Day, Martin Luther King Jr. Day, Juneteenth (federal from 2021), Independence Day, Labor
# Day, Thanksgiving Thursday and Christmas, on their observed day, kept where that day is an
# announcement evening (Sunday to Thursday). Low confidence:
# ad-hoc closures and the Christmas-week days of those years are missing. Independence Day
# 2021 (observed Monday 5 July) is left out: the blog's post of 2021-07-06 shows that
# Monday's announcement happened.
_RECONSTRUCTED: dict[int, list[tuple[date, str]]] = {
    2020: [
        (D(2020, 1, 1), "New Year's Day"),
        (D(2020, 1, 20), "Martin Luther King Jr. Day"),
        (D(2020, 9, 7), "Labor Day"),
        (D(2020, 11, 26), "Thanksgiving"),
    ],
    2021: [
        (D(2021, 1, 18), "Martin Luther King Jr. Day"),
        (D(2021, 9, 6), "Labor Day"),
        (D(2021, 11, 25), "Thanksgiving"),
    ],
    2022: [
        (D(2022, 1, 17), "Martin Luther King Jr. Day"),
        (D(2022, 6, 20), "Juneteenth (observed)"),
        (D(2022, 7, 4), "Independence Day"),
        (D(2022, 9, 5), "Labor Day"),
        (D(2022, 11, 24), "Thanksgiving"),
        (D(2022, 12, 26), "Christmas (observed)"),
    ],
}

# 2023-2026: arXiv's published lists, as last amended (arXiv/arxiv-docs,
# source/help/availability.md: 2023 from commits 5bf2461b, 5d5a52ed and 5f9f48f0; 2024 from
# 24cbaac1, fc5e1cee and 20e652c5; 2025 from 46793211 and 95c71658; 2026 from 574c5a44).
# High confidence. 2023-01-02 (New Year's Day observed) is our reconstruction: the 2023 list
# was first published on 11 January, after that date.
_PUBLISHED: dict[int, list[tuple[date, str]]] = {
    2023: [
        (D(2023, 1, 2), "New Year's Day (observed; reconstructed, see above)"),
        (D(2023, 1, 16), "Martin Luther King Jr. Day"),
        (D(2023, 6, 14), "arXiv admin meetup"),
        (D(2023, 6, 19), "Juneteenth"),
        (D(2023, 7, 4), "Independence Day"),
        (D(2023, 8, 17), "deferred mailing"),
        (D(2023, 9, 4), "Labor Day"),
        (D(2023, 11, 23), "Thanksgiving"),
        (D(2023, 12, 25), "Christmas"),
        (D(2023, 12, 27), "winter break"),
    ],
    2024: [
        (D(2024, 1, 15), "Martin Luther King Jr. Day"),
        (D(2024, 5, 22), "deferred mailing"),
        (D(2024, 6, 19), "Juneteenth"),
        (D(2024, 7, 4), "Independence Day"),
        (D(2024, 9, 2), "Labor Day"),
        (D(2024, 10, 8), "deferred mailing"),
        (D(2024, 11, 28), "Thanksgiving"),
        (D(2024, 12, 25), "Christmas"),
        (D(2024, 12, 26), "winter break"),
        (D(2024, 12, 31), "New Year's Eve"),
    ],
    2025: [
        (D(2025, 1, 1), "New Year's Day"),
        (D(2025, 1, 20), "Martin Luther King Jr. Day"),
        (D(2025, 6, 19), "Juneteenth"),
        (D(2025, 7, 6), "deferred mailing (a Sunday)"),
        (D(2025, 9, 1), "Labor Day"),
        (D(2025, 11, 27), "Thanksgiving"),
        (D(2025, 12, 25), "Christmas"),
        (D(2025, 12, 30), "winter break"),
    ],
    2026: [
        (D(2026, 1, 1), "New Year's Day"),
        (D(2026, 1, 19), "Martin Luther King Jr. Day"),
        (D(2026, 6, 19), "Juneteenth (a Friday: no effect)"),
        (D(2026, 7, 3), "Independence Day observed (a Friday: no effect)"),
        (D(2026, 9, 7), "Labor Day"),
        (D(2026, 11, 26), "Thanksgiving"),
        (D(2026, 12, 25), "Christmas (a Friday: no effect)"),
        (D(2026, 12, 29), "winter break"),
        (D(2026, 12, 31), "New Year's Eve"),
    ],
}

# 2027: NOT published yet (the arxiv-docs history we could read ends with the 2026 list). A
# projection: the holidays on every published list (2023-2026) that fall on an announcement
# evening. New Year's Day 2027, Juneteenth, Christmas and New Year's Day 2028 fall or are
# observed on Fridays (no effect). Independence Day is observed on Monday 5 July, as in 2021,
# when arXiv did announce that evening, so it is left out. The Christmas-week closures arXiv
# announces late in the year are unknown. Replace this once arXiv publishes its 2027 list.
_PROJECTED: dict[int, list[tuple[date, str]]] = {
    2027: [
        (D(2027, 1, 18), "Martin Luther King Jr. Day"),
        (D(2027, 9, 6), "Labor Day"),
        (D(2027, 11, 25), "Thanksgiving"),
    ],
}

HOLIDAYS_BY_YEAR: dict[int, list[tuple[date, str]]] = {
    **_RECONSTRUCTED,
    **_PUBLISHED,
    **_PROJECTED,
}
# The config's default for `[arxiv] holidays`.
ARXIV_HOLIDAYS: list[date] = sorted(day for days in HOLIDAYS_BY_YEAR.values() for day, _ in days)
