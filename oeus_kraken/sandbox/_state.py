"""Everything one sandbox server knows: seeded data, tokens, faults, counters, the usage knobs,
the points budgets, what mutations stored, and its clock."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._auth import (
    DEFAULT_ACCESS_TOKEN_LIFETIME,
    DEFAULT_REFRESH_TOKEN_LIFETIME,
    SANDBOX_ISSUER,
    SANDBOX_SIGNING_KEY,
    TokenService,
)
from ._charges import monthly_charge
from ._data import SandboxData
from ._faults import Faults, FaultSwitches, SandboxStats
from ._limits import PointsBudget
from ._quotes import QuoteBook
from ._stores import DeviceLinks, MetadataStore
from ._usage import FeedSettings, Meter, UsageFeed, meters

__all__ = ["SandboxState"]


class SandboxState:
    """Shared by the ASGI app (server thread) and whoever controls it (test thread)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        access_token_lifetime: float = DEFAULT_ACCESS_TOKEN_LIFETIME,
        refresh_token_lifetime: float = DEFAULT_REFRESH_TOKEN_LIFETIME,
        signing_key: str = SANDBOX_SIGNING_KEY,
        issuer: str = SANDBOX_ISSUER,
        data: SandboxData | None = None,
    ) -> None:
        self.clock: Callable[[], float] = clock or time.time
        self.data = data or SandboxData.seeded(monthly_charge)
        # The token service reads the clock through this object, so `state.clock = ...` moves both.
        self.tokens = TokenService(
            self.data,
            clock=lambda: self.clock(),
            signing_key=signing_key,
            issuer=issuer,
            access_token_lifetime=access_token_lifetime,
            refresh_token_lifetime=refresh_token_lifetime,
        )
        self.switches = FaultSwitches()
        self.meters: dict[str, Meter] = meters(self.data)
        self.usage = UsageFeed()
        self.budget = PointsBudget()
        self.quotes = QuoteBook(self.data)
        self.metadata = MetadataStore()
        self.devices = DeviceLinks()

    @property
    def faults(self) -> Faults:
        return self.switches.faults

    def set_faults(self, **changes: object) -> Faults:
        """Change fault switches, e.g. `set_faults(token_rate_limit=1, delay=0.5)`."""
        return self.switches.set(**changes)

    @property
    def stats(self) -> SandboxStats:
        return self.switches.stats

    def expire_tokens(self, code: str = "KT-CT-1124") -> None:
        """Every access token issued so far now gets `code` (KT-CT-1124 or KT-CT-1120)."""
        self.tokens.expire_access_tokens(code)

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far now gets KT-CT-1135."""
        self.tokens.revoke_refresh_tokens()

    def set_usage_churn(
        self, *, late_share: float = 0.05, revised_share: float = 0.05
    ) -> FeedSettings:
        """From now (sandbox time) on, `late_share` of intervals arrive two days late and
        `revised_share` arrive as estimates and are revised two days later (see `_usage.py`)."""
        return self.usage.set_churn(
            self.clock(), late_share=late_share, revised_share=revised_share
        )

    def fill_usage_gap(self) -> FeedSettings:
        """Deliver the seeded gap's intervals now (sandbox time)."""
        return self.usage.fill_gap(self.clock())

    def reset(self) -> None:
        """Faults off, counters zero, issued tokens forgotten, usage knobs and points budgets
        back to their seeded state, stored metadata and device links gone."""
        self.switches.reset()
        self.tokens.reset()
        self.usage.reset()
        self.budget.reset()
        self.quotes.reset()
        self.metadata.reset()
        self.devices.reset()
