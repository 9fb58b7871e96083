"""Fixed choices that command-line help texts name: kept here, apart from the code that acts
on them, so that building ``pricing --help`` (typer builds every command) imports none of it."""

from __future__ import annotations

from typing import Literal

#: Where ``replay`` and ``price_requests`` price: this process, or a Ray cluster.
Engine = Literal["local", "ray"]
ENGINES: tuple[Engine, ...] = ("local", "ray")
#: The outside price maps ``pricing cards crosscheck`` compares the catalog with.
CROSSCHECK_SOURCES = ("litellm", "openrouter", "fal")
#: The clouds of SkyPilot's GPU catalog that ``pricing gpus pull`` reads.
SKYPILOT_CLOUDS = ("aws", "gcp", "lambda", "runpod")
