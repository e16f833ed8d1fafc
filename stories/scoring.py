"""Goal attainment scaling (Kiresuk and Sherman), as pure functions."""

import math
from collections.abc import Sequence

RHO = 0.3  # the conventional inter-goal correlation


def gas_t_score(
    ratings: Sequence[int], weights: Sequence[float] | None = None, rho: float = RHO
) -> float | None:
    """T = 50 + 10·Σwx / √((1−ρ)Σw² + ρ(Σw)²) over each goal's latest rating (−2 … +2).

    Returns None when there is nothing to score. Raises ValueError on a rating outside −2 … +2
    or a weight that is not positive.
    """
    if not ratings:
        return None
    weights = list(weights) if weights is not None else [1.0] * len(ratings)
    if len(weights) != len(ratings):
        raise ValueError("One weight per rating.")
    for x in ratings:
        if x not in (-2, -1, 0, 1, 2):
            raise ValueError(f"A rating is a whole number from −2 to +2, not {x}.")
    for w in weights:
        if w <= 0:
            raise ValueError("Weights are positive.")
    weighted = sum(w * x for w, x in zip(weights, ratings, strict=True))
    denominator = math.sqrt((1 - rho) * sum(w * w for w in weights) + rho * sum(weights) ** 2)
    return 50 + 10 * weighted / denominator
