"""The exact (Decimal) price of one request under one price version: the request, one pricer
per billing unit, and the line items. The reference every other path agrees with."""
