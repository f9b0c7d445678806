"""The optimiser: which eligible sites serve which units, at the lowest cost to serve.

Plans are ranked by a key, smallest first: (units short, cost rounded to 1e-6, number of
locations, sorted location ids). Serving more units always wins; among plans serving as much,
the cheapest; ties go to fewer locations, then to the smaller location ids. The rank of a plan
depends on nothing but its content, so the result never depends on the candidates' order.

``solve_subset`` finds the best plan that uses *exactly* a given set of sites (every site ships
something) by branch and bound over each line's split between them. Over all sets of at most
``max_locations`` sites that is the optimum over every assignment of units:

- ``exact_search`` enumerates the sets depth-first, sites sorted by the least they can cost
  (``Site.base``), and stops extending a set as soon as a lower bound (fixed costs, split
  penalty, and the units still short even with every later site) cannot beat the best plan;
  as later sites only cost more, the loop over them stops too.
- ``greedy_local_search`` starts from the best single site and a greedy cover (most units for
  the money), then improves by moves (drop/merge a site into the others, swap one for a
  shortlisted site, add one) until no move improves.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from fulfillment.routing.costs import Problem, Site, shipping_price

Key = tuple[int, float, int, tuple[int, ...]]
Allocation = dict[tuple[int, int], int]  # (line index, site index) -> units
Solution = tuple[Key, Allocation]

_SHORTLIST_PER_PRODUCT = 8
_MAX_MOVES = 50


class Counter:
    """Plans costed (complete assignments reached by the search)."""

    __slots__ = ("plans",)

    def __init__(self) -> None:
        self.plans = 0


def empty_solution(problem: Problem) -> Solution:
    return (sum(line.quantity for line in problem.lines), 0.0, 0, ()), {}


def _coverage(demand: Sequence[int], stock: Sequence[int]) -> int:
    """Units of ``demand`` that ``stock`` leaves short (same length, per product index)."""
    short = 0
    for need, units in zip(demand, stock, strict=True):
        if need > units:
            short += need - units
    return short


def solve_subset(
    problem: Problem, subset: Sequence[int], best: Key, counter: Counter
) -> Solution | None:
    """The best plan shipping from every site of ``subset`` (site indices) whose key is smaller
    than ``best``; None when there is none (infeasible, or it cannot beat ``best``)."""
    sites: list[Site] = [problem.sites[index] for index in subset]
    size = len(sites)
    products = len(problem.products)
    demand = problem.demand_per_product
    available = [sum(site.stock[p] for site in sites) for p in range(products)]
    cover = [min(need, units) for need, units in zip(demand, available, strict=True)]
    shortfall = sum(demand) - sum(cover)
    if shortfall > best[0]:
        return None
    if any(not any(site.stock[p] > 0 and cover[p] > 0 for p in range(products)) for site in sites):
        return None  # a site that can ship nothing useful
    remaining = list(cover)
    targets: list[int] = []
    for line, product in zip(problem.lines, problem.line_product, strict=True):
        target = min(line.quantity, remaining[product])
        remaining[product] -= target
        targets.append(target)
    if sum(targets) < size:
        return None
    ids = tuple(sorted(site.location_id for site in sites))
    tail = (size, ids)
    fixed = sum(site.fixed for site in sites) + problem.split_penalty * (size - 1)
    min_labour = min(site.labour for site in sites)
    rest_lower = [0.0] * (len(targets) + 1)
    for index in range(len(targets) - 1, -1, -1):
        rest_lower[index] = rest_lower[index + 1] + targets[index] * min_labour
    rest_units = [0] * (len(targets) + 1)
    for index in range(len(targets) - 1, -1, -1):
        rest_units[index] = rest_units[index + 1] + targets[index]

    # The bound: beat (limit, strict) - a cost rounded below limit, or equal when the tail wins.
    limit = best[1] if shortfall == best[0] else float("inf")
    strict = tail < (best[2], best[3]) if shortfall == best[0] else True
    found: list[Solution] = []
    grams = [0] * size
    units_at = [0] * size
    taken = [[0] * products for _ in sites]
    allocation = [[0] * size for _ in targets]
    lines = problem.lines
    line_product = problem.line_product

    def beats(cost: float) -> bool:
        rounded = round(cost, 6)
        return rounded < limit or (rounded == limit and strict)

    def at_line(index: int, unit_cost: float) -> None:
        nonlocal limit, strict
        shipping = sum(shipping_price(site.steps, grams[j]) for j, site in enumerate(sites))
        if index == len(targets):
            if 0 in units_at:
                return
            counter.plans += 1
            cost = fixed + shipping + unit_cost
            if beats(cost):
                limit, strict = round(cost, 6), False
                plan = {
                    (line_index, subset[j]): quantity
                    for line_index, row in enumerate(allocation)
                    for j, quantity in enumerate(row)
                    if quantity
                }
                found.append(((shortfall, limit, size, ids), plan))
            return
        if rest_units[index] < units_at.count(0):
            return
        if not beats(fixed + shipping + unit_cost + rest_lower[index]):
            return
        spread(index, 0, targets[index], unit_cost)

    def spread(index: int, j: int, left: int, unit_cost: float) -> None:
        product = line_product[index]
        site = sites[j]
        room = site.stock[product] - taken[j][product]
        if j == size - 1:
            amounts: Sequence[int] = (left,) if left <= room else ()
        else:
            if sum(sites[k].stock[product] - taken[k][product] for k in range(j, size)) < left:
                return
            amounts = range(min(left, room), -1, -1)
        weight = lines[index].weight_grams
        for amount in amounts:
            extra = site.unit_cost(product, taken[j][product], amount) if amount else 0.0
            taken[j][product] += amount
            grams[j] += amount * weight
            units_at[j] += amount
            allocation[index][j] = amount
            if j == size - 1 or amount == left:
                at_line(index + 1, unit_cost + extra)
            else:
                spread(index, j + 1, left - amount, unit_cost + extra)
            taken[j][product] -= amount
            grams[j] -= amount * weight
            units_at[j] -= amount
            allocation[index][j] = 0

    at_line(0, 0.0)
    return found[-1] if found else None


def _order(problem: Problem) -> list[int]:
    return sorted(
        range(len(problem.sites)),
        key=lambda i: (problem.sites[i].base, problem.sites[i].location_id),
    )


def exact_search(problem: Problem, start: Solution, counter: Counter) -> Solution:
    """The optimum over every plan using at most ``problem.max_locations`` sites (see module
    docstring); ``start`` (any feasible solution, e.g. the greedy one) seeds the bound."""
    order = _order(problem)
    demand = problem.demand_per_product
    products = len(demand)
    sites = problem.sites
    suffix = [[0] * products for _ in range(len(order) + 1)]
    for position in range(len(order) - 1, -1, -1):
        stock = sites[order[position]].stock
        suffix[position] = [a + b for a, b in zip(suffix[position + 1], stock, strict=True)]
    best = start

    def extend(begin: int, chosen: list[int], base: float, stock: list[int]) -> None:
        nonlocal best
        size = len(chosen) + 1
        for position in range(begin, len(order)):
            site = sites[order[position]]
            lower = round(base + site.base + problem.split_penalty * (size - 1), 6)
            reach = [a + b for a, b in zip(stock, suffix[position], strict=True)]
            short = _coverage(demand, reach)
            if (short, lower) > (best[0][0], best[0][1]):
                break  # every later site has a larger base and reaches no more units
            subset = sorted([*chosen, order[position]])
            found = solve_subset(problem, subset, best[0], counter)
            if found is not None:
                best = found
            if size < problem.max_locations:
                own = [a + b for a, b in zip(stock, site.stock, strict=True)]
                extend(position + 1, [*chosen, order[position]], base + site.base, own)

    extend(0, [], 0.0, [0] * products)
    return best


def _set_lower_key(problem: Problem, subset: Sequence[int]) -> tuple[int, float]:
    sites = [problem.sites[index] for index in subset]
    stock = [sum(site.stock[p] for site in sites) for p in range(len(problem.products))]
    base = sum(site.base for site in sites) + problem.split_penalty * (len(sites) - 1)
    return _coverage(problem.demand_per_product, stock), round(base, 6)


def greedy_local_search(problem: Problem, counter: Counter) -> Solution:
    """A good plan fast: best single site, greedy cover, then drop/swap/add moves."""
    demand = problem.demand_per_product
    sites = problem.sites
    best = empty_solution(problem)
    # 1. Single sites, cheapest lower bound first, until the bound cannot beat the best.
    # Each site's shortfall alone, worked out once (sort key and bound below).
    alone = [_coverage(demand, site.stock) for site in sites]
    singles = sorted(
        range(len(sites)), key=lambda i: (alone[i], sites[i].base, sites[i].location_id)
    )
    for index in singles:
        if (alone[index], round(sites[index].base, 6)) > best[0][:2]:
            break
        found = solve_subset(problem, [index], best[0], counter)
        if found is not None:
            best = found
    # 2. Greedy cover: the site with the lowest cost per newly covered unit, while units miss.
    if problem.max_locations > 1 and best[0][0] > 0:
        need = list(demand)
        chosen: list[int] = []
        while len(chosen) < problem.max_locations and sum(need) > 0:
            pick: tuple[float, float, int, int] | None = None
            for index, site in enumerate(sites):
                if index in chosen:
                    continue
                gain = 0
                for n, s in zip(need, site.stock, strict=True):
                    gain += n if n < s else s
                if gain:
                    score = (site.base + site.labour * gain) / gain
                    entry = (score, site.base, site.location_id, index)
                    pick = entry if pick is None or entry < pick else pick
            if pick is None:
                break
            chosen.append(pick[3])
            need = [max(0, n - s) for n, s in zip(need, sites[pick[3]].stock, strict=True)]
        found = solve_subset(problem, sorted(chosen), best[0], counter)
        if found is not None:
            best = found
    if problem.max_locations == 1:
        return best
    # 3. Local search over a shortlist: the cheapest sites holding each product.
    shortlist: set[int] = set()
    for product in range(len(problem.products)):
        holders = (i for i, site in enumerate(sites) if site.stock[product] > 0)
        shortlist.update(
            heapq.nsmallest(
                _SHORTLIST_PER_PRODUCT,
                holders,
                key=lambda i: (sites[i].base, sites[i].location_id),
            )
        )
    ordered = sorted(shortlist, key=lambda i: (sites[i].base, sites[i].location_id))
    for _ in range(_MAX_MOVES):
        current = sorted({site for _line, site in best[1]})
        moves: list[list[int]] = []
        if len(current) > 1:
            moves += [[s for s in current if s != out] for out in current]
        for out in current:
            moves += [sorted([*(s for s in current if s != out), new]) for new in ordered]
        if len(current) < problem.max_locations:
            moves += [sorted([*current, new]) for new in ordered]
        improved = False
        for move in moves:
            if len(set(move)) != len(move) or not move:
                continue
            if _set_lower_key(problem, move) > best[0][:2]:
                continue
            found = solve_subset(problem, move, best[0], counter)
            if found is not None:
                best, improved = found, True
                break
        if not improved:
            break
    return best
