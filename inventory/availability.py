"""Available-to-promise policy: a pure core (no Django), used by every door.

Location ATP = on hand - reserved - damaged - quality control - safety stock, published as
max(0, ATP). Channel ATP = network ATP over the channel's locations, minus a buffer (units and
percent, per product or category, else the channel default), rationed to a share of the
network, and published as 0 under the last-unit threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StockFigures:
    """The counters of one stock level that ATP depends on."""

    on_hand: int
    reserved: int = 0
    damaged: int = 0
    quality_control: int = 0
    safety_stock: int = 0

    @property
    def free(self) -> int:
        """Physical units not promised or set aside (safety stock included)."""
        return self.on_hand - self.reserved - self.damaged - self.quality_control

    @property
    def atp_raw(self) -> int:
        """ATP before publication; negative when safety stock exceeds the free units."""
        return self.free - self.safety_stock

    @property
    def atp(self) -> int:
        return max(0, self.atp_raw)


@dataclass(frozen=True)
class BufferRule:
    units: int = 0
    percent: int = 0

    def held_back(self, network_atp: int) -> int:
        """Units kept from a channel out of ``network_atp`` (percent rounded up)."""
        if network_atp <= 0:
            return 0
        return self.units + -(-network_atp * self.percent // 100)


@dataclass(frozen=True)
class ChannelPolicy:
    """What a channel may see of the network's stock."""

    default_buffer: BufferRule = BufferRule()
    rationing_percent: int = 100
    last_unit_threshold: int = 0
    product_buffers: Mapping[int, BufferRule] = field(default_factory=dict)
    category_buffers: Mapping[str, BufferRule] = field(default_factory=dict)

    def buffer_for(self, *, product_id: int, category: str) -> BufferRule:
        """Product rule, else category rule, else the channel default."""
        if product_id in self.product_buffers:
            return self.product_buffers[product_id]
        if category in self.category_buffers:
            return self.category_buffers[category]
        return self.default_buffer


def network_atp(levels: Iterable[StockFigures]) -> int:
    """Sum of published location ATPs (a location's shortfall never hides another's stock)."""
    return sum(level.atp for level in levels)


def channel_atp(*, network: int, buffer: BufferRule, policy: ChannelPolicy) -> int:
    """The channel's published ATP for one product, given the network ATP.

    >>> channel_atp(network=100, buffer=BufferRule(units=2, percent=10), policy=ChannelPolicy())
    88
    """
    after_buffer = max(0, network - buffer.held_back(network))
    rationed = min(after_buffer, network * policy.rationing_percent // 100)
    if rationed < policy.last_unit_threshold:
        return 0
    return rationed
