"""Upper bounds on the numbers the fulfillment APIs accept.

The columns are PostgreSQL integers: without a bound, a large number is a database error (a 500)
instead of a field error. The bounds are far above any real parcel or shipment.
"""

from __future__ import annotations

MAX_UNITS = 1_000_000  # units of one line in one request
MAX_WEIGHT_GRAMS = 1_000_000  # one parcel: a tonne
MAX_DIMENSION_MM = 10_000  # one parcel side: ten metres
MAX_TOTE = 10_000  # a cluster tote number
