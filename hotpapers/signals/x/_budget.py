"""The read budget: before each request a full page is reserved from the day's budget (the
answer settles it to the posts that came back; see the package docstring on money)."""

from __future__ import annotations

from hotpapers.signals.base import Budget
from hotpapers.signals.x._search import Stop

MIN_RESULTS, MAX_RESULTS = 10, 100  # the page sizes recent search accepts


def usd(amount: float) -> str:
    return f"${amount:.2f}" if amount >= 0.01 or amount == 0 else f"${amount:g}"


async def reserve_page(budget: Budget, price: int, largest: int, daily_budget_usd: float) -> int:
    """Reserve the largest page (up to `largest` posts at `price` micro-dollars each) the
    budget still pays for in full and return its size; stop when not even MIN_RESULTS posts
    are left. When another process takes the money between the look and the reservation,
    ask again for less (so this ends)."""
    size = largest
    while True:
        if price > 0:
            size = min(size, await budget.available() // price)
        if size < MIN_RESULTS:
            raise Stop(reason=f"daily X budget of {usd(daily_budget_usd)} reached")
        if await budget.reserve(size * price):
            return size
        size -= 1
